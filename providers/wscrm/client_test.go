package wscrm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
)

var importOp = gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}

func TestDoDocumentAnswers(t *testing.T) {
	t.Parallel()
	two := []schema.Customer{
		{Owner: "kubrick101", WhatsApp: "8615266667780"},
		{Owner: "kubrick101", WhatsApp: "8615266667781"},
	}
	unattributed := schema.Issue{Code: schema.CodeProviderRejected,
		Message:      `WSCRM reported an error (code 28) it did not attribute to a record of this call (errPhone ""); whether this record was stored is unknown`,
		ProviderCode: "28", ProviderMessage: "PHONE_ERROR"}
	countsUnconfirmed := schema.Issue{Code: schema.CodeProviderUnavailable,
		Message: "WSCRM's answer does not confirm this record (WSCRM counted 5 succeeded + 0 failed, but 2 records were sent); " +
			"whether it was stored is unknown, retry with the same Idempotency-Key"}
	tests := []struct {
		name     string
		answer   string
		statuses []gateway.Status
		errs     [][]schema.Issue
		note     string
		warnings bool
	}{
		{
			name:     "success example",
			answer:   string(testutil.ReadFile(t, "testdata", "import_success.json")),
			statuses: []gateway.Status{gateway.StatusSucceeded, gateway.StatusSucceeded},
			errs:     [][]schema.Issue{nil, nil},
		},
		{
			// The document's error example: errPhone "" cannot be attributed,
			// so no record may be reported a success.
			name:     "error example is unattributable",
			answer:   string(testutil.ReadFile(t, "testdata", "import_error.json")),
			statuses: []gateway.Status{gateway.StatusUnknown, gateway.StatusUnknown},
			errs:     [][]schema.Issue{{unattributed}, {unattributed}},
		},
		{
			name: "one attributed, one not",
			answer: `{"code":"200","message":"Success","data":{"successExcel":[],"errExcel":[
				{"errPhone":"8615266667780","errInfo":"Gender field sex format is invalid","errCode":10},
				{"errPhone":"999","errInfo":"PHONE_ERROR","errCode":"28"}],"successCount":0,"errCount":2}}`,
			statuses: []gateway.Status{gateway.StatusFailed, gateway.StatusUnknown},
			errs: [][]schema.Issue{
				{{Code: schema.CodeInvalidGender, Field: "gender", Message: "WSCRM refused the record: Gender field sex format is invalid",
					ProviderCode: "10", ProviderMessage: "Gender field sex format is invalid"}},
				{{Code: schema.CodeProviderRejected,
					Message:      `WSCRM reported an error (code 28) it did not attribute to a record of this call (errPhone "999"); whether this record was stored is unknown`,
					ProviderCode: "28", ProviderMessage: "PHONE_ERROR"}},
			},
		},
		{
			// More successes than records sent: nothing is confirmed.
			name:     "counts do not add up",
			answer:   `{"code":200,"message":"Success","data":{"successExcel":[],"errExcel":[],"successCount":5,"errCount":0,"notFollowSuccessCount":"","notFollowSuccessExcels":[]}}`,
			statuses: []gateway.Status{gateway.StatusUnknown, gateway.StatusUnknown},
			errs:     [][]schema.Issue{{countsUnconfirmed}, {countsUnconfirmed}},
			note:     "WSCRM counted 5 succeeded + 0 failed, but 2 records were sent; 2 record(s) it did not name are unknown",
			warnings: true,
		},
		{
			name:     "whole-call -1",
			answer:   `{"code":-1,"msg":"Admin Cannot import data","data":null}`,
			statuses: []gateway.Status{gateway.StatusFailed, gateway.StatusFailed},
			errs: [][]schema.Issue{
				{{Code: schema.CodeProviderRejected, Message: "WSCRM refused the whole call: Admin Cannot import data", ProviderCode: "-1", ProviderMessage: "Admin Cannot import data"}},
				{{Code: schema.CodeProviderRejected, Message: "WSCRM refused the whole call: Admin Cannot import data", ProviderCode: "-1", ProviderMessage: "Admin Cannot import data"}},
			},
		},
		{
			name:     "whole-call 19",
			answer:   `{"code":19,"message":"Exceeded 10,000 record limit","data":null}`,
			statuses: []gateway.Status{gateway.StatusFailed, gateway.StatusFailed},
			errs: [][]schema.Issue{
				{{Code: schema.CodeBatchTooLarge, Message: "WSCRM refused the whole call: Exceeded 10,000 record limit", ProviderCode: "19", ProviderMessage: "Exceeded 10,000 record limit"}},
				{{Code: schema.CodeBatchTooLarge, Message: "WSCRM refused the whole call: Exceeded 10,000 record limit", ProviderCode: "19", ProviderMessage: "Exceeded 10,000 record limit"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := cannedServer(t, http.StatusOK, []byte(tt.answer))
			a := testAdapter(t, srv.URL, "")
			res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), two...))
			if err != nil {
				t.Fatal(err)
			}
			if got := wiretest.Statuses(res); !reflect.DeepEqual(got, tt.statuses) {
				t.Fatalf("statuses = %v, want %v", got, tt.statuses)
			}
			for i, o := range res.Outcomes {
				if !reflect.DeepEqual(o.Errors, tt.errs[i]) {
					t.Errorf("record %d errors = %+v\nwant %+v", i, o.Errors, tt.errs[i])
				}
				hasWarn := len(o.Warnings) == 1 && o.Warnings[0].Code == schema.CodeCountMismatch
				if hasWarn != tt.warnings || (!tt.warnings && len(o.Warnings) > 0) {
					t.Errorf("record %d warnings = %+v, want count_mismatch: %v", i, o.Warnings, tt.warnings)
				}
			}
			if res.Report.Note != tt.note {
				t.Errorf("note = %q, want %q", res.Report.Note, tt.note)
			}
		})
	}
}

func TestDoUnavailable(t *testing.T) {
	t.Parallel()
	one := schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}
	tests := []struct {
		name  string
		setup func(t *testing.T) (*Adapter, context.Context)
	}{
		{"code 500", func(t *testing.T) (*Adapter, context.Context) {
			srv, _ := cannedServer(t, http.StatusOK, []byte(`{"code":500,"message":"Server error","msg":"Server error","data":null}`))
			return testAdapter(t, srv.URL, ""), context.Background()
		}},
		{"HTTP 503", func(t *testing.T) (*Adapter, context.Context) {
			srv, _ := cannedServer(t, http.StatusServiceUnavailable, []byte("service unavailable\n"))
			return testAdapter(t, srv.URL, ""), context.Background()
		}},
		{"HTTP 500 with code 200 body", func(t *testing.T) (*Adapter, context.Context) {
			srv, _ := cannedServer(t, http.StatusInternalServerError, testutil.ReadFile(t, "testdata", "import_success.json"))
			return testAdapter(t, srv.URL, ""), context.Background()
		}},
		{"transport error", func(t *testing.T) (*Adapter, context.Context) {
			srv := httptest.NewServer(http.NotFoundHandler())
			url := srv.URL
			srv.Close()
			return testAdapter(t, url, ""), context.Background()
		}},
		{"deadline passed", func(t *testing.T) (*Adapter, context.Context) {
			srv, _ := cannedServer(t, http.StatusOK, testutil.ReadFile(t, "testdata", "import_success.json"))
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			t.Cleanup(cancel)
			return testAdapter(t, srv.URL, ""), ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, ctx := tt.setup(t)
			calls, err := a.Plan(importOp, wiretest.Records(t, a, importOp, sampleRules(), one))
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Do(ctx, &calls[0])
			if !errors.Is(err, gateway.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if len(res.Outcomes) != 0 || res.Report.Error == "" {
				t.Fatalf("result = %+v, want no outcomes and a report error", res)
			}
			// Users read both (provider_calls, the records' messages).
			if strings.Contains(err.Error(), "wscrm.") || strings.Contains(res.Report.Error, "wscrm.") {
				t.Errorf("err %q / report error %q name Go code", err, res.Report.Error)
			}
		})
	}
}

func TestDoUnreadableAnswerIsNotSuccess(t *testing.T) {
	t.Parallel()
	srv, _ := cannedServer(t, http.StatusOK, []byte(`<html>proxy error</html>`))
	a := testAdapter(t, srv.URL, "")
	_, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "a", WhatsApp: "8615266667780"}))
	if err == nil || errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want a non-retryable error (records unknown)", err)
	}
}

func TestDoHTTP4xxFailsRecords(t *testing.T) {
	t.Parallel()
	srv, _ := cannedServer(t, http.StatusNotFound, []byte(`not found`))
	a := testAdapter(t, srv.URL, "")
	res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "a", WhatsApp: "8615266667780"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outcomes) != 1 || res.Outcomes[0].Status != gateway.StatusFailed || res.Outcomes[0].Errors[0].ProviderCode != "http_404" {
		t.Fatalf("outcomes = %+v", res.Outcomes)
	}
}

func TestPlanChunksAndOrdering(t *testing.T) {
	t.Parallel()
	a := testAdapter(t, "http://wscrm.invalid", "")
	rules := sampleRules()
	mk := func(op gateway.Op, agent string, n, from int) []gateway.Record {
		out := make([]gateway.Record, n)
		for i := range out {
			k := wiretest.Prepared(t, schema.Customer{Owner: agent, WhatsApp: fmt.Sprintf("86152%08d", from+i)}, rules)
			w, errs, _ := a.Translate(op, k)
			if errs != nil {
				t.Fatal(errs)
			}
			out[i] = gateway.Record{Index: from + i, Customer: k.Customer(), Wire: w}
		}
		return out
	}
	type call struct {
		path   string
		agents string
		n      int
		seq    string
	}
	rep := gateway.Op{Kind: gateway.KindPoolReplace}
	app := gateway.Op{Kind: gateway.KindPoolAppend}
	tests := []struct {
		name string
		op   gateway.Op
		recs []gateway.Record
		want []call
	}{
		{"import at the cap", importOp, mk(importOp, "a", 10000, 0), []call{{PathBatchImport, "a", 10000, ""}}},
		{"import over the cap", importOp, mk(importOp, "a", 10001, 0),
			[]call{{PathBatchImport, "a", 10000, ""}, {PathBatchImport, "a", 1, ""}}},
		{"append over the cap", app, mk(app, "a", 10001, 0),
			[]call{{PathPoolAppend, "a", 10000, ""}, {PathPoolAppend, "a", 1, ""}}},
		{"replace packs small agents", rep, append(mk(rep, "a", 2, 0), append(mk(rep, "b", 3, 100), mk(rep, "a", 1, 200)...)...),
			[]call{{PathPoolReplace, "a,b", 6, ""}}},
		{"replace of a large agent", rep, append(mk(rep, "b", 3, 0), append(mk(rep, "a", 20001, 100), mk(rep, "c", 9999, 50000)...)...),
			[]call{{PathPoolReplace, "a", 10000, "agent:a"}, {PathPoolAppend, "a", 10000, "agent:a"}, {PathPoolAppend, "a", 1, "agent:a"},
				{PathPoolReplace, "b", 3, ""}, {PathPoolReplace, "c", 9999, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls, err := a.Plan(tt.op, tt.recs)
			if err != nil {
				t.Fatal(err)
			}
			var got []call
			total := 0
			for _, c := range calls {
				var body struct {
					TenantID int64            `json:"tenantId"`
					Data     []map[string]any `json:"data"`
				}
				if err := json.Unmarshal(c.Body, &body); err != nil {
					t.Fatal(err)
				}
				if len(body.Data) != len(c.Records) || body.TenantID != 82 {
					t.Fatalf("body holds %d records of tenant %d, call %d", len(body.Data), body.TenantID, len(c.Records))
				}
				for i, r := range c.Records {
					if body.Data[i]["whatsApp"] != r.Customer.WhatsApp {
						t.Fatalf("body record %d is not the call's record %d", i, r.Index)
					}
				}
				total += len(c.Records)
				got = append(got, call{c.Path, strings.Join(callAgents(&c), ","), len(c.Records), c.Sequence})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("calls = %v, want %v", got, tt.want)
			}
			if total != len(tt.recs) {
				t.Fatalf("%d records planned, want %d", total, len(tt.recs))
			}
		})
	}
}

func TestPlanRefuses(t *testing.T) {
	t.Parallel()
	a := testAdapter(t, "http://wscrm.invalid", "")
	rec := wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "a", WhatsApp: "8615266667780"})
	if _, err := a.Plan(importOp, []gateway.Record{{Wire: map[string]any{"x": 1}}}); err == nil {
		t.Error("foreign wire: no error")
	}
	// Modes and kinds WSCRM does not have are refused by the import
	// service's gate, with nothing planned: Plan trusts it.
	conn, err := gateway.NewConnection(gateway.Common{ID: "test-wscrm", Provider: Name, BaseURL: "http://wscrm.invalid"}, a, a.cfg, wiretest.RulesOf{R: sampleRules()})
	if err != nil {
		t.Fatal(err)
	}
	raw := []json.RawMessage{json.RawMessage(`{"owner":"a","whatsapp":"8615266667780"}`)}
	for _, tt := range []struct {
		name string
		op   gateway.Op
	}{
		{"replace mode", gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeReplace}},
		{"keep_existing mode", gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeKeepExisting}},
		{"unknown kind", gateway.Op{Kind: "export"}},
	} {
		if ans, err := (&gateway.Service{}).Import(t.Context(), conn, gateway.Request{Op: tt.op, Customers: raw}); !errors.Is(err, gateway.ErrUnsupported) || ans != nil {
			t.Errorf("%s: %v, %+v", tt.name, err, ans)
		}
	}
	if calls, err := a.Plan(importOp, rec); err != nil || len(calls) != 1 {
		t.Errorf("merge: %v, %d calls", err, len(calls))
	}
	if got := a.Modes(); !reflect.DeepEqual(got, []string{gateway.ModeMerge}) {
		t.Errorf("Modes = %v", got)
	}
}

func TestQueryDocumentExample(t *testing.T) {
	t.Parallel()
	srv, bodies := cannedServer(t, http.StatusOK, testutil.ReadFile(t, "testdata", "query_response.json"))
	a := testAdapter(t, srv.URL, "tok")
	a.cfg.TenantID = 520274
	cfg := testFields()
	cfg.CustomFields = append(cfg.CustomFields, fieldconfig.CustomField{Name: "Date", Type: fieldconfig.TypeDate})
	got, report, err := a.Query(context.Background(), "86187272722", fieldconfig.MustCompile(cfg))
	if err != nil {
		t.Fatal(err)
	}
	wiretest.SameJSON(t, bodies()[0], testutil.ReadFile(t, "testdata", "query_request.json"))
	want := []gateway.Contact{{Customer: schema.Customer{WhatsApp: "86187272722", Stage: "New customer", Source: "System assignment",
		CustomFields: map[string]any{"Date": "2024-07-08"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("customers = %#v\nwant %#v", got, want)
	}
	if report.Path != PathQuery || report.HTTPStatus != 200 || report.ProviderCode != "200" || report.Records != 1 {
		t.Errorf("report = %+v", report)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		answer      string
		unavailable bool
		code        string
	}{
		{"-1", 200, `{"code":-1,"msg":"TenantId Is Null","data":null}`, false, "-1"},
		{"500", 200, `{"code":500,"message":"Server error","data":null}`, true, "500"},
		{"503", 503, `busy`, true, ""},
		{"not JSON", 200, `oops`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := cannedServer(t, tt.status, []byte(tt.answer))
			a := testAdapter(t, srv.URL, "")
			_, _, err := a.Query(context.Background(), "86187272722", sampleRules())
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, gateway.ErrUnavailable) != tt.unavailable {
				t.Fatalf("err = %v, unavailable want %v", err, tt.unavailable)
			}
			var pe *gateway.ProviderError
			if tt.code != "" && (!errors.As(err, &pe) || pe.Code != tt.code) {
				t.Fatalf("err = %#v, want provider code %s", err, tt.code)
			}
		})
	}
	a := testAdapter(t, "http://wscrm.invalid", "")
	if _, _, err := a.Query(context.Background(), " ", nil); err == nil {
		t.Error("empty agent: no error")
	}
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	srv, _ := cannedServer(t, http.StatusServiceUnavailable, []byte(`down`))
	a := testAdapter(t, srv.URL, "very-secret-token")
	res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "a", WhatsApp: "8615266667780"}))
	if err == nil || strings.Contains(err.Error(), "very-secret-token") || strings.Contains(res.Report.Error, "very-secret-token") {
		t.Fatalf("err = %v, report = %+v", err, res.Report)
	}
}

// A number field the provider answers with a value that is no JSON number
// (NaN, Inf, a hex float) is kept as the provider's text, so the contact
// can still be written as JSON.
func TestQueryKeepsNonJSONNumbersAsText(t *testing.T) {
	t.Parallel()
	answer := `{"code":200,"message":"Success","data":[{"whatsId":"86187272722","extendMap":{"Level":"NaN"}},{"whatsId":"86187272723","extendMap":{"Level":"12.5"}}]}`
	srv, _ := cannedServer(t, http.StatusOK, []byte(answer))
	a := testAdapter(t, srv.URL, "tok")
	got, _, err := a.Query(context.Background(), "86187272722", fieldconfig.MustCompile(testFields()))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].CustomFields["Level"] != "NaN" || got[1].CustomFields["Level"] != json.Number("12.5") {
		t.Fatalf("%#v / %#v", got[0].CustomFields, got[1].CustomFields)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Fatalf("the contacts cannot be written as JSON: %v", err)
	}
}
