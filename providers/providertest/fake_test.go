package providertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/providertest"
	"crmgate/sandbox"
	"crmgate/schema"
)

// A fake provider, small enough to read at a glance, to show what the suite
// catches: its document says POST /v1/import takes {"key", "records":
// [{"phone", "owner"}]}, at most fakeCap records a call, and answers HTTP 200
// {"code": "ok", "items": [{"index", "id"} or {"index", "error"}]} (the
// stored records listed first), or a code other than "ok" for the whole
// call ("denied": a wrong key; "too_many": more than fakeCap records). An
// owner "ghost" does not exist: error "no_owner".

const (
	fakeName = "fake"
	fakePath = "/v1/import"
	fakeCap  = 3
)

// flaw is a mistake a fake adapter can be built with.
type flaw string

const (
	flawless            flaw = ""
	flawSucceedsRefused flaw = "succeeds-refused"  // a record the peer refused is succeeded
	flawIgnoresCap      flaw = "ignores-cap"       // one call, however many records
	flawAnswerOrder     flaw = "answer-order"      // outcomes in the answer's order, not by its index
	flawAcceptsRefusal  flaw = "accepts-refusal"   // a refusal of the whole call is taken for success
	flawRetries400      flaw = "retries-400"       // a 4xx is retried like a 5xx
	flawDropsRetryAfter flaw = "drops-retry-after" // a 429 or 503's Retry-After is not passed on
	flawFollowsRedirect flaw = "follows-redirect"  // the client follows redirects
	flawExtraField      flaw = "extra-field"       // the wire record carries a key the document has not
	flawClaimsReplace   flaw = "claims-replace"    // Modes lists replace, which the provider has not
)

type fakeConfig struct{ Key string }

type fakeRecord struct {
	Phone string `json:"phone"`
	Owner string `json:"owner,omitempty"`
	Note  string `json:"note,omitempty"`
}

type fakeBody struct {
	Key     string       `json:"key"`
	Records []fakeRecord `json:"records"`
}

type fakeAnswer struct {
	Code  string     `json:"code"`
	Items []fakeItem `json:"items"`
}

type fakeItem struct {
	Index int    `json:"index"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

// fakeFactory makes fake adapters with flaw f.
func fakeFactory(f flaw) gateway.Factory {
	return gateway.Factory{
		Name:      fakeName,
		NewConfig: func() any { return &fakeConfig{} },
		New: func(common gateway.Common, cfg any, hc *http.Client) (gateway.Provider, error) {
			c, ok := cfg.(*fakeConfig)
			if !ok {
				return nil, fmt.Errorf("fake.New: configuration is %T", cfg)
			}
			if f != flawFollowsRedirect {
				hc = gateway.NoRedirect(hc)
			}
			return &fakeAdapter{base: strings.TrimRight(common.BaseURL, "/"), key: c.Key, hc: hc, flaw: f}, nil
		},
	}
}

type fakeAdapter struct {
	base, key string
	hc        *http.Client
	flaw      flaw
}

func (a *fakeAdapter) Modes() []string {
	if a.flaw == flawClaimsReplace {
		return []string{gateway.ModeMerge, gateway.ModeReplace}
	}
	return []string{gateway.ModeMerge}
}

func (a *fakeAdapter) Translate(_ gateway.Op, k fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	c := k.Customer()
	r := fakeRecord{Phone: c.WhatsApp, Owner: c.Owner}
	if a.flaw == flawExtraField {
		r.Note = "imported by crmgate"
	}
	return r, nil, nil
}

func (a *fakeAdapter) Plan(_ gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	size := fakeCap
	if a.flaw == flawIgnoresCap {
		size = max(len(recs), 1)
	}
	var calls []gateway.Call
	for start := 0; start < len(recs); start += size {
		chunk := recs[start:min(start+size, len(recs))]
		body := fakeBody{Key: a.key}
		for _, r := range chunk {
			body.Records = append(body.Records, r.Wire.(fakeRecord))
		}
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		calls = append(calls, gateway.Call{Method: http.MethodPost, Path: fakePath, Body: b, Records: chunk})
	}
	return calls, nil
}

func (a *fakeAdapter) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	rep := gateway.CallReport{Path: call.Path, Records: len(call.Records)}
	req, err := http.NewRequestWithContext(ctx, call.Method, a.base+call.Path, bytes.NewReader(call.Body))
	if err != nil {
		return gateway.CallResult{Report: rep}, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return gateway.CallResult{Report: rep}, fmt.Errorf("fake.Do: %w: %v", gateway.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	rep.HTTPStatus = resp.StatusCode
	n := len(call.Records)
	pe := &gateway.ProviderError{Provider: "Fake", Path: call.Path, Status: resp.StatusCode}
	switch st := resp.StatusCode; {
	case st >= 500 || st == http.StatusTooManyRequests || (a.flaw == flawRetries400 && st >= 400):
		pe.Retryable = true
		if a.flaw == flawDropsRetryAfter {
			return gateway.CallResult{Report: rep}, pe
		}
		return gateway.CallResult{Report: rep}, gateway.WithRetryAfter(pe, st, resp.Header, time.Now())
	case gateway.IsRedirect(st):
		pe.Location = gateway.RedirectLocation(resp)
		return gateway.CallResult{Outcomes: all(n, gateway.StatusUnknown, schema.Issue{Code: schema.CodeProviderRejected, Message: pe.Error()}), Report: rep}, nil
	case st != http.StatusOK:
		return gateway.CallResult{Outcomes: all(n, gateway.StatusFailed, schema.Issue{Code: schema.CodeProviderRejected, Message: pe.Error()}), Report: rep}, nil
	}
	var ans fakeAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return gateway.CallResult{Report: rep}, fmt.Errorf("fake.Do: unreadable answer: %v", err)
	}
	rep.ProviderCode = ans.Code
	if ans.Code != "ok" && a.flaw != flawAcceptsRefusal {
		is := schema.Issue{Code: schema.CodeProviderRejected, Message: "the whole call was refused", ProviderCode: ans.Code}
		return gateway.CallResult{Outcomes: all(n, gateway.StatusFailed, is), Report: rep}, nil
	}
	out := all(n, gateway.StatusUnknown, schema.Issue{Code: schema.CodeProviderUnavailable, Message: "not in the answer"})
	if ans.Code != "ok" {
		out = all(n, gateway.StatusSucceeded, schema.Issue{})
	}
	for k, it := range ans.Items {
		i := it.Index
		if a.flaw == flawAnswerOrder {
			i = k
		}
		if i < 0 || i >= n {
			continue
		}
		if it.Error != "" && a.flaw != flawSucceedsRefused {
			out[i] = gateway.Outcome{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: fakeCodes[it.Error], Message: "refused", ProviderCode: it.Error}}}
			continue
		}
		out[i] = gateway.Outcome{Status: gateway.StatusSucceeded, ProviderID: it.ID}
	}
	return gateway.CallResult{Outcomes: out, Report: rep}, nil
}

// fakeCodes maps the fake provider's per-record errors to canonical codes.
var fakeCodes = map[string]schema.Code{"no_owner": schema.CodeOwnerNotFound}

// all is n outcomes of status st, each with issue is (none when is is zero).
func all(n int, st gateway.Status, is schema.Issue) []gateway.Outcome {
	out := make([]gateway.Outcome, n)
	for i := range out {
		out[i].Status = st
		if is.Code != "" {
			out[i].Errors = []schema.Issue{is}
		}
	}
	return out
}

// fakeSim is the fake provider's simulator, as its document says.
type fakeSim struct {
	key    string
	mu     sync.Mutex
	stored map[string]string // phone → id
}

func (s *fakeSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != fakePath {
		http.NotFound(w, r)
		return
	}
	var body fakeBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	ans := fakeAnswer{Code: "ok"}
	switch {
	case body.Key != s.key:
		ans.Code = "denied"
	case len(body.Records) == 0 || len(body.Records) > fakeCap:
		ans.Code = "too_many"
	default:
		s.mu.Lock()
		var refused []fakeItem
		for i, rec := range body.Records {
			if rec.Owner == "ghost" {
				refused = append(refused, fakeItem{Index: i, Error: "no_owner"})
				continue
			}
			id := fmt.Sprintf("id-%d", len(s.stored)+1)
			s.stored[rec.Phone] = id
			ans.Items = append(ans.Items, fakeItem{Index: i, ID: id})
		}
		s.mu.Unlock()
		ans.Items = append(ans.Items, refused...)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// fakeSandbox starts the simulator on a loopback port.
func fakeSandbox(ctx context.Context, _ string) (*sandbox.Sandbox, error) {
	sim := &fakeSim{key: fmt.Sprintf("key-%d", time.Now().UnixNano()), stored: map[string]string{}}
	srv := httptest.NewServer(sim)
	var once sync.Once
	shut := func() { once.Do(srv.Close) }
	stop := context.AfterFunc(ctx, shut)
	return &sandbox.Sandbox{
		Common:      gateway.Common{ID: "sandbox-fake", Provider: fakeName, BaseURL: srv.URL}.WithDefaults(),
		Config:      &fakeConfig{Key: sim.key},
		FieldConfig: fieldconfig.Config{CustomFields: []fieldconfig.CustomField{{Name: "Colour", Type: fieldconfig.TypeText}}},
		Handler:     sim,
		Close:       func() { stop(); shut() },
	}, nil
}

// fakeHarness is the fake provider's harness, its facts from the fake's
// document; only the adapter varies with f.
func fakeHarness(f flaw) providertest.Harness {
	merge := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	return providertest.Harness{
		Factory: fakeFactory(f),
		Sandbox: fakeSandbox,
		Stored: func(_ context.Context, sb *sandbox.Sandbox) ([]string, error) {
			sim := sb.Handler.(*fakeSim)
			sim.mu.Lock()
			defer sim.mu.Unlock()
			out := make([]string, 0, len(sim.stored))
			for p := range sim.stored {
				out = append(out, p)
			}
			sort.Strings(out)
			return out, nil
		},
		Capabilities: gateway.Capabilities{Import: true, Modes: []string{gateway.ModeMerge}},
		Valid:        func(i int) schema.Customer { return schema.Customer{WhatsApp: fmt.Sprintf("86152%08d", i)} },
		Caps:         []providertest.Cap{{Op: merge, Max: fakeCap}},
		Golden: []providertest.Golden{{
			Name: "import", Op: merge, Config: &fakeConfig{Key: "golden-key"},
			Customers: []schema.Customer{{WhatsApp: "+86 152 6666 7780", Owner: "kubrick101"}, {WhatsApp: "8618135539411"}},
			Method:    http.MethodPost, Path: fakePath, File: "testdata/fake_import.json",
		}},
		BreakCredentials: func(cfg any) any {
			c := *cfg.(*fakeConfig)
			c.Key = "not-the-key"
			return &c
		},
		RefusedCode: schema.CodeProviderRejected,
		Mixed: []providertest.Mixed{{
			Name: "a ghost owner",
			Op:   merge,
			Records: []providertest.Expect{
				{Customer: schema.Customer{WhatsApp: "8613800000001"}, Status: gateway.StatusSucceeded},
				{Customer: schema.Customer{WhatsApp: "8613800000002", Owner: "ghost"}, Status: gateway.StatusFailed,
					Code: schema.CodeOwnerNotFound, ProviderCode: "no_owner"},
				{Customer: schema.Customer{WhatsApp: "8613800000003"}, Status: gateway.StatusSucceeded},
			},
		}},
		BadRequest: gateway.StatusFailed,
	}
}
