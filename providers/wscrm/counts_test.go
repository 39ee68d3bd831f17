package wscrm

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"crmgate/gateway"
	"crmgate/schema"
)

// Only records WSCRM positively confirmed are succeeded: when its counts do
// not match what its answer attributes per record, the records it did not
// name are unknown, and its counts are in the call report. Five records
// (phones 8615266667800 … 804) go through the import service to a fake
// WSCRM answering each body.
func TestCountsMustConfirmSuccess(t *testing.T) {
	t.Parallel()
	u, s, f := gateway.StatusUnknown, gateway.StatusSucceeded, gateway.StatusFailed
	tests := []struct {
		name     string
		answer   string
		statuses []gateway.Status
		counts   string // the call report's provider_counts as JSON, "" for none
		warn     bool   // a count_mismatch warning on every record
	}{
		{
			name:     "errCount 5 with errExcel empty",
			answer:   `{"code":200,"data":{"successCount":0,"errCount":5,"errExcel":[]}}`,
			statuses: []gateway.Status{u, u, u, u, u},
			counts:   `{"succeeded":0,"failed":5}`,
			warn:     true,
		},
		{
			name:     "data empty string",
			answer:   `{"code":200,"message":"Success","data":""}`,
			statuses: []gateway.Status{u, u, u, u, u},
			warn:     true,
		},
		{
			name:     "data without counts",
			answer:   `{"code":200,"message":"Success","data":{"successExcel":[],"errExcel":[]}}`,
			statuses: []gateway.Status{u, u, u, u, u},
			warn:     true,
		},
		{
			name:     "data null",
			answer:   `{"code":200,"message":"Success","data":null}`,
			statuses: []gateway.Status{u, u, u, u, u},
			warn:     true,
		},
		{
			name:     "fewer successes counted than records left",
			answer:   `{"code":200,"data":{"successCount":3,"errCount":2,"errExcel":[{"errPhone":"8615266667801","errInfo":"PHONE_ERROR","errCode":28}]}}`,
			statuses: []gateway.Status{u, f, u, u, u},
			counts:   `{"succeeded":3,"failed":2}`,
			warn:     true,
		},
		{
			name:     "all confirmed by the counts",
			answer:   `{"code":200,"data":{"successExcel":[],"errExcel":[],"successCount":5,"errCount":0}}`,
			statuses: []gateway.Status{s, s, s, s, s},
			counts:   `{"succeeded":5,"failed":0}`,
		},
		{
			name:     "counts as strings, one failure listed",
			answer:   `{"code":"200","data":{"errExcel":[{"errPhone":"8615266667803","errInfo":"Gender field sex format is invalid","errCode":10}],"successCount":"4","errCount":"1"}}`,
			statuses: []gateway.Status{s, s, s, f, s},
			counts:   `{"succeeded":4,"failed":1}`,
		},
		{
			// Two errors of one record, its phone spelled two ways: one failure.
			name: "one record failed twice",
			answer: `{"code":200,"data":{"errExcel":[{"errPhone":"8615266667803","errInfo":"Gender field sex format is invalid","errCode":10},` +
				`{"errPhone":"+8615266667803","errInfo":"PHONE_ERROR","errCode":28}],"successCount":4,"errCount":1}}`,
			statuses: []gateway.Status{s, s, s, f, s},
			counts:   `{"succeeded":4,"failed":1}`,
		},
		{
			name:     "successExcel confirms what it lists",
			answer:   `{"code":200,"data":{"successExcel":["8615266667800",{"whatsApp":"8615266667804"}],"errExcel":[]}}`,
			statuses: []gateway.Status{s, u, u, u, s},
			warn:     true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, got := cannedServer(t, http.StatusOK, []byte(tt.answer))
			a := testAdapter(t, srv.URL, "")
			ans := importThrough(t, a, 2, 5)
			if n := len(got()); n != 1 {
				t.Fatalf("%d calls, want 1", n)
			}
			var statuses []gateway.Status
			for _, r := range ans.Results {
				statuses = append(statuses, r.Status)
			}
			if !reflect.DeepEqual(statuses, tt.statuses) {
				t.Fatalf("statuses = %v, want %v\n%+v", statuses, tt.statuses, ans.Results)
			}
			for _, r := range ans.Results {
				if r.Status == gateway.StatusUnknown {
					if len(r.Errors) != 1 || r.Errors[0].Code != schema.CodeProviderUnavailable ||
						!strings.Contains(r.Errors[0].Message, "does not confirm this record") {
						t.Errorf("unknown result %+v, want a provider_unavailable error saying why", r)
					}
				}
				hasWarn := len(r.Warnings) == 1 && r.Warnings[0].Code == schema.CodeCountMismatch
				if hasWarn != tt.warn || (!tt.warn && len(r.Warnings) > 0) {
					t.Errorf("result %d warnings = %+v, want count_mismatch: %v", r.Index, r.Warnings, tt.warn)
				}
			}
			rep, err := json.Marshal(ans.ProviderCalls[0])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rep, &m); err != nil {
				t.Fatal(err)
			}
			if string(m["provider_counts"]) != tt.counts {
				t.Errorf("provider_counts = %s, want %q (report %s)", m["provider_counts"], tt.counts, rep)
			}
			if tt.warn && ans.ProviderCalls[0].Note == "" {
				t.Errorf("report %s, want a note", rep)
			}
		})
	}
}
