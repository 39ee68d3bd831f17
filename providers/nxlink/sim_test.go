package nxlink_test

// The adapter against the simulator: what one sends, the other accepts, and
// what the simulator answers, the adapter reads. Neither is written from the
// other, so a mistake in either shows here.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/internal/nxlinktest"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/schema"
)

// newSim starts a simulator with the document's account on an httptest
// server and returns it with an adapter of cfg that reaches it through hc
// (nil: the server's client).
func newSim(t *testing.T, cfg nxlink.Config, hc *http.Client) (*nxlinksim.Simulator, *nxlink.Adapter) {
	t.Helper()
	sim := nxlinksim.New(nxlinksim.Config{
		Now: nxlinktest.Clock,
		Accounts: []nxlinksim.Account{{
			AccessKey: nxlinktest.AccessKey, AccessSecret: nxlinktest.Secret, TenantID: nxlinktest.TenantID, AppKey: nxlinktest.AppKey,
			Seats: []string{"agent1@example.com", "kubrick101"},
		}},
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if hc == nil {
		hc = srv.Client()
	}
	return sim, nxlink.NewTestAdapter(t, srv.URL, cfg, hc)
}

func TestDoAgainstSimulator(t *testing.T) {
	t.Parallel()
	ownerIssue := func(seat string) schema.Issue {
		return schema.Issue{Code: schema.CodeOwnerNotFound, Field: schema.FieldOwner,
			Message:         "the owner is not a seat of this NXLink account",
			ProviderCode:    "12148",
			ProviderMessage: fmt.Sprintf("The belonging seat %s does not exist. Please go to Management->Members to confirm", seat)}
	}
	tests := []struct {
		name       string
		strict     bool
		owners     [2]string
		want       []gateway.Outcome
		wantCode   string
		wantStored int
	}{
		{
			name:   "all succeed",
			owners: [2]string{"agent1@example.com", ""},
			want: []gateway.Outcome{
				{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"},
				{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775937"},
			},
			wantCode: "0", wantStored: 2,
		},
		{
			name:   "strict binding: unknown seat fails its record only",
			strict: true,
			owners: [2]string{"kubrick101", "agent9"},
			want: []gateway.Outcome{
				{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"},
				{Status: gateway.StatusFailed, Errors: []schema.Issue{ownerIssue("agent9")}},
			},
			wantCode: "0", wantStored: 1,
		},
		{
			name:   "no strict binding: unknown seat fails the whole call",
			owners: [2]string{"kubrick101", "agent9"},
			want: []gateway.Outcome{
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeOwnerNotFound, Field: schema.FieldOwner,
					Message:      "NXLink refused the whole call: a seat (owner) of the call does not exist",
					ProviderCode: "12148", ProviderMessage: "The belonging seat agent9 does not exist. Please go to Management->Members to confirm"}}},
			},
			wantCode: "12148", wantStored: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, a := newSim(t, nxlink.TestConfig(), nil)
			op := nxlink.ImportOp
			op.StrictOwner = tt.strict
			call := nxlink.PlanOne(t, a, op, nxlink.TwoCustomers(tt.owners[0], tt.owners[1]))
			res, err := a.Do(context.Background(), call)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if len(want) == 1 { // a whole-call refusal: the same outcome for both
				want = []gateway.Outcome{want[0], want[0]}
			}
			if !reflect.DeepEqual(res.Outcomes, want) {
				t.Errorf("outcomes\ngot:  %+v\nwant: %+v", res.Outcomes, want)
			}
			r := res.Report
			if r.Path != nxlink.BatchCreatePath || r.HTTPStatus != 200 || r.ProviderCode != tt.wantCode || r.Records != 2 || !nxlinktest.TraceID.MatchString(r.TraceID) {
				t.Errorf("report %+v", r)
			}
			if n := len(sim.Customers()); n != tt.wantStored {
				t.Errorf("simulator stores %d customers, want %d", n, tt.wantStored)
			}
		})
	}
}

// A 503 is retryable, and the same call then goes through.
func TestDoAfter503(t *testing.T) {
	t.Parallel()
	sim, a := newSim(t, nxlink.TestConfig(), nil)
	sim.FailNext(1)
	call := nxlink.PlanOne(t, a, nxlink.ImportOp, nxlink.TwoCustomers("", ""))
	res, err := a.Do(context.Background(), call)
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	var pe *gateway.ProviderError
	if !errors.As(err, &pe) || pe.Status != http.StatusServiceUnavailable || pe.Provider != "NXLink" || pe.Path != nxlink.BatchCreatePath {
		t.Errorf("err = %#v, want the *gateway.ProviderError of HTTP 503", err)
	}
	nxlink.UserMessage(t, err)
	if res.Report.HTTPStatus != http.StatusServiceUnavailable {
		t.Errorf("report %+v", res.Report)
	}
	res, err = a.Do(context.Background(), call)
	if err != nil || res.Outcomes[0].Status != gateway.StatusSucceeded || res.Outcomes[1].Status != gateway.StatusSucceeded {
		t.Fatalf("second attempt: %v %+v", err, res)
	}
	if n := len(sim.Calls()); n != 2 {
		t.Errorf("simulator saw %d calls, want 2", n)
	}
}

// A batch larger than 100 is split; each call's indexes are its own and the
// records carry the caller's indexes.
func TestChunksMapBack(t *testing.T) {
	t.Parallel()
	sim, a := newSim(t, nxlink.TestConfig(), nil)
	cs := make([]schema.Customer, 150)
	for i := range cs {
		cs[i] = schema.Customer{Name: "c" + strconv.Itoa(i), Email: fmt.Sprintf("c%d@example.com", i)}
	}
	calls, err := a.Plan(nxlink.ImportOp, nxlink.Records(t, a, nxlink.ImportOp, cs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || len(calls[0].Records) != 100 || len(calls[1].Records) != 50 {
		t.Fatalf("chunks %d", len(calls))
	}
	for k, call := range calls {
		res, err := a.Do(context.Background(), &call)
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range res.Outcomes {
			idx := call.Records[j].Index
			if idx != k*100+j || o.Status != gateway.StatusSucceeded || o.ProviderID != strconv.FormatInt(nxlinksim.FirstCustomerID+int64(idx), 10) {
				t.Fatalf("call %d record %d (index %d): %+v", k, j, idx, o)
			}
		}
	}
	if n := len(sim.Customers()); n != 150 {
		t.Errorf("stored %d", n)
	}
}

// captureTransport records the request exactly as the client hands it to
// the transport, then passes it on.
type captureTransport struct {
	header http.Header
	next   http.RoundTripper
}

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.header = r.Header.Clone()
	return c.next.RoundTrip(r)
}

// Do sends the planned bytes unchanged with the five documented headers, as
// the document spells them, signed with the documented formula.
func TestDoSendsSignedHeaders(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"", "md5", "sha256"} {
		t.Run("algorithm="+algo, func(t *testing.T) {
			t.Parallel()
			cfg := nxlink.TestConfig()
			cfg.SignAlgorithm = algo
			capture := &captureTransport{next: http.DefaultTransport}
			sim, a := newSim(t, cfg, &http.Client{Transport: capture})
			op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeReplace, StrictOwner: true}
			calls, err := a.Plan(op, nxlink.Records(t, a, op, nxlink.DocCustomers()...))
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Do(context.Background(), &calls[0])
			if err != nil {
				t.Fatal(err)
			}
			if res.Report.ProviderCode != "0" {
				t.Fatalf("simulator refused the call: %+v", res.Report)
			}
			got := sim.Calls()
			if len(got) != 1 {
				t.Fatalf("simulator saw %d calls", len(got))
			}
			if string(got[0].Body) != string(calls[0].Body) {
				t.Errorf("sent body differs from the planned bytes")
			}
			ts := strconv.FormatInt(nxlinktest.TS, 10)
			want := map[string]string{
				"accessKey": nxlinktest.AccessKey,
				"ts":        ts,
				"bizType":   "2",
				"action":    "mt",
				"sign":      nxlink.DocSign(algo, ts, calls[0].Body),
				"algorithm": "",
			}
			if algo == "sha256" {
				want["algorithm"] = "sha256"
			}
			for name, v := range want {
				if g := got[0].Header.Get(name); g != v {
					t.Errorf("header %s = %q, want %q", name, g, v)
				}
				if v != "" && capture.header[name] == nil {
					t.Errorf("header %s not spelled as the document spells it: %v", name, capture.header)
				}
			}
			if ct := got[0].Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// A record with every field NXLink has, each at the document's limit (in
// characters, not bytes; phones as long as a phone number can be), passes
// the checks and Translate and is stored by the simulator:
// the adapter is no stricter than the document, and sends what it allows in
// the types the document gives.
func TestRecordAtTheLimitsIsStored(t *testing.T) {
	t.Parallel()
	sim, a := newSim(t, nxlink.TestConfig(), nil)
	long := func(n int) string { return strings.Repeat("é", n) }
	digits := func(n int) string { return strings.Repeat("1", n) }
	five := 5
	c := schema.Customer{
		Name: long(255), FirstName: long(128), LastName: long(128), Phone: "8618163725558", WhatsApp: "8618163725558",
		Viber: "8618163725558", Messenger: digits(32), Instagram: digits(32), Zalo: digits(32), Line: long(50),
		Country: long(50), Email: strings.Repeat("a", 38) + "@example.com", Address: long(100),
		Remarks: long(2000), Owner: "agent1@example.com", Birthday: "1976-04-12", Gender: "female", Level: &five,
		Tags: []string{"test", "99"}, TimeZone: "GMT+8", CustomFields: map[string]any{"Nickname": "aa"},
	}
	op := nxlink.ImportOp
	op.StrictOwner = true
	res, err := a.Do(context.Background(), nxlink.PlanOne(t, a, op, []schema.Customer{c}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []gateway.Outcome{{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"}}; !reflect.DeepEqual(res.Outcomes, want) {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	stored := sim.Customers()
	if len(stored) != 1 || len(stored[0].Fields) != 21 || stored[0].Fields["full_name"] != c.Name || stored[0].Fields["gender"] != json.Number("0") {
		t.Errorf("stored %+v", stored)
	}
}
