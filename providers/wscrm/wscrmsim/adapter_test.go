package wscrmsim

// The adapter against the simulator: what the adapter sends, the simulator
// checks as the provider document says, and what it answers, the adapter
// reads back.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
)

func TestDoAgainstSimulator(t *testing.T) {
	t.Parallel()
	// The adapter's rules know no stages, so a stage the backend lacks
	// reaches the simulator, which answers code 15 for that phone.
	loose := fieldconfig.MustCompile(fieldconfig.Config{CustomFields: SampleFieldConfig().CustomFields})
	a, sim := simServer(t, "s3cret")
	sim.SetBusy("8615266667782")
	recs := wiretest.Records(t, a, importOp, loose,
		schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780", Name: "Li Heng"},
		schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667781", Stage: "Emperor"},
		schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667782"},
		schema.Customer{Owner: "wangwu", WhatsApp: "8615266667781", Name: "same phone as #1"},
	)
	res, err := wiretest.DoOne(t, a, importOp, recs)
	if err != nil {
		t.Fatal(err)
	}
	want := []gateway.Status{gateway.StatusSucceeded, gateway.StatusFailed, gateway.StatusFailed, gateway.StatusFailed}
	if got := wiretest.Statuses(res); !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	stageErr := schema.Issue{Code: schema.CodeInvalidOption, Field: schema.FieldStage,
		Message:      "WSCRM refused the record: Stage field value does not exist",
		ProviderCode: "15", ProviderMessage: "Stage field value does not exist"}
	// Errors come back by phone: both records with that number carry it.
	for _, i := range []int{1, 3} {
		if !reflect.DeepEqual(res.Outcomes[i].Errors, []schema.Issue{stageErr}) {
			t.Errorf("record %d errors = %+v, want %+v", i, res.Outcomes[i].Errors, stageErr)
		}
	}
	busy := res.Outcomes[2]
	if busy.RetryAfter != 60 || len(busy.Errors) != 1 || busy.Errors[0].Code != schema.CodeRecordBusy || busy.Errors[0].ProviderCode != "56" {
		t.Errorf("busy outcome = %+v, want record_busy 56 retry after 60", busy)
	}
	if res.Outcomes[0].Errors != nil || res.Outcomes[0].Warnings != nil || res.Outcomes[0].RetryAfter != 0 {
		t.Errorf("success outcome = %+v, want no issues", res.Outcomes[0])
	}
	// The simulator counts per record (1 + 3): the counts add up.
	if res.Report.Note != "" {
		t.Errorf("note = %q, want none", res.Report.Note)
	}
	wantReport := gateway.CallReport{Path: PathBatchImport, HTTPStatus: 200, ProviderCode: "200", Records: 4,
		ProviderCounts: &gateway.ProviderCounts{Succeeded: 2, Failed: 2},
		Extra:          map[string]json.RawMessage{"notFollowSuccessCount": json.RawMessage(`""`), "notFollowSuccessExcels": json.RawMessage(`[]`)}}
	if !reflect.DeepEqual(res.Report, wantReport) {
		t.Errorf("report = %+v\nwant     %+v", res.Report, wantReport)
	}
	calls := sim.Calls()
	if len(calls) != 1 || calls[0].Header.Get("token") != "s3cret" || calls[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("request headers = %v", calls[0].Header)
	}
}

func TestDoTokenAndTenantErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, adapterToken, msg string
		tenant                  int64
	}{
		{"wrong token", "nope", "token error", 82},
		{"missing token", "", "token error", 82},
		{"other tenant", "s3cret", "token error", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := New(Config{TenantID: 82, Token: "s3cret", Fields: SampleFieldConfig()})
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			a := testAdapter(t, srv.URL, tt.adapterToken, tt.tenant)
			res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}))
			if err != nil {
				t.Fatal(err)
			}
			want := []gateway.Outcome{{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeProviderRejected,
				Message: "WSCRM refused the whole call: " + tt.msg, ProviderCode: "-1", ProviderMessage: tt.msg}}}}
			if !reflect.DeepEqual(res.Outcomes, want) {
				t.Fatalf("outcomes = %+v, want %+v", res.Outcomes, want)
			}
			if res.Report.ProviderCode != "-1" {
				t.Errorf("provider code = %q", res.Report.ProviderCode)
			}
		})
	}
}

// A call FailNext fails is answered without being looked at: HTTP 503, or
// code 500 for the whole call; the adapter retries either, and the
// simulator's state is unchanged.
func TestDoAgainstSimulatorFailures(t *testing.T) {
	t.Parallel()
	for _, mode := range []FailMode{FailHTTP503, FailCode500} {
		a, sim := simServer(t, "")
		sim.FailNext(1, mode)
		recs := wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"})
		calls, err := a.Plan(importOp, recs)
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Do(context.Background(), &calls[0])
		if !errors.Is(err, gateway.ErrUnavailable) || len(res.Outcomes) != 0 || res.Report.Error == "" {
			t.Fatalf("mode %d: result %+v, err %v; want no outcomes, a report error and ErrUnavailable", mode, res, err)
		}
		if got := queryPhones(t, a, "kubrick101"); len(got) != 0 {
			t.Fatalf("mode %d: the failed call stored %v", mode, got)
		}
		if res, err := a.Do(context.Background(), &calls[0]); err != nil || res.Outcomes[0].Status != gateway.StatusSucceeded {
			t.Fatalf("mode %d: the next call: %+v, %v", mode, res, err)
		}
		if n := len(sim.Calls()); n != 3 {
			t.Errorf("mode %d: %d calls recorded, want 3 (the failed one too)", mode, n)
		}
	}
}
