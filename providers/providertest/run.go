package providertest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/schema"
)

// mergeImport is the operation every provider honours (gateway.md §5).
var mergeImport = gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}

// Run runs the conformance suite against the provider h describes, as
// parallel subtests of t (see the package comment for what each checks). An
// incomplete Harness fails t at once, naming every missing part.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if err := h.validate(); err != nil {
		t.Fatal(err)
	}
	t.Run("Sandbox", func(t *testing.T) { t.Parallel(); h.testSandbox(t) })
	t.Run("Capabilities", func(t *testing.T) { t.Parallel(); h.testCapabilities(t) })
	t.Run("Golden", func(t *testing.T) {
		for _, g := range h.Golden {
			t.Run(g.Name, func(t *testing.T) { t.Parallel(); h.testGolden(t, g) })
		}
	})
	t.Run("Caps", func(t *testing.T) {
		for _, c := range h.Caps {
			t.Run(opName(c.Op), func(t *testing.T) { t.Parallel(); h.testCap(t, c) })
		}
	})
	t.Run("WholeCallRefusal", func(t *testing.T) { t.Parallel(); h.testRefusal(t) })
	t.Run("PerRecord", func(t *testing.T) {
		for _, m := range h.Mixed {
			t.Run(m.Name, func(t *testing.T) { t.Parallel(); h.testMixed(t, m, 0) })
			if c, ok := h.capOf(m.Op); ok {
				t.Run(m.Name+" after a full call", func(t *testing.T) { t.Parallel(); h.testMixed(t, m, c.Max) })
			}
		}
	})
	t.Run("Retryable", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			status     int
			retryAfter string
			want       int // the results' retry_after
		}{
			{"503 with Retry-After", http.StatusServiceUnavailable, "7", 7},
			{"429 with Retry-After", http.StatusTooManyRequests, "7", 7},
			{"500", http.StatusInternalServerError, "", 0},
		} {
			t.Run(tc.name, func(t *testing.T) { t.Parallel(); h.testUnavailable(t, tc.status, tc.retryAfter, tc.want) })
		}
		t.Run("503 then the simulator", func(t *testing.T) { t.Parallel(); h.testRecovers(t) })
	})
	t.Run("Final", func(t *testing.T) {
		t.Run("400", func(t *testing.T) { t.Parallel(); h.testBadRequest(t) })
		t.Run("302", func(t *testing.T) { t.Parallel(); h.testRedirect(t) })
	})
}

// capOf is the harness's cap for op's kind and mode (a cap does not depend
// on strict or strict_owner).
func (h *Harness) capOf(op gateway.Op) (Cap, bool) {
	for _, c := range h.Caps {
		if c.Op.Kind == op.Kind && c.Op.Mode == op.Mode {
			return c, true
		}
	}
	return Cap{}, false
}

// testSandbox: the sandbox's connection is one the factory makes, of the
// factory's provider, and it stores a valid record as it is.
func (h *Harness) testSandbox(t *testing.T) {
	sb := h.startSandbox(t)
	if sb.Common.Provider != h.Factory.Name {
		t.Errorf("the sandbox's connection is of provider %q, the factory's is %q", sb.Common.Provider, h.Factory.Name)
	}
	if got, want := reflect.TypeOf(sb.Config), reflect.TypeOf(h.Factory.NewConfig()); got != want {
		t.Errorf("the sandbox's configuration is a %v, the factory's a %v", got, want)
	}
	conn := h.connect(t, sb.Common, sb.Common.BaseURL, 0, sb.Config, sb.FieldConfig)
	recs := h.valid(0, 1)
	ans := send(t, conn, mergeImport, recs)
	if ans.Succeeded != 1 {
		t.Errorf("a valid record into the sandbox as it is: %+v", ans.Results)
	}
	h.checkStored(t, sb, recs, ans)
}

// testCapabilities: Connection.Capabilities is what the harness declares,
// with the field configuration's custom fields.
func (h *Harness) testCapabilities(t *testing.T) {
	sb := h.startSandbox(t)
	conn := h.connect(t, sb.Common, sb.Common.BaseURL, 0, sb.Config, sb.FieldConfig)
	want := h.Capabilities
	want.CustomFields = make([]string, 0, len(sb.FieldConfig.CustomFields))
	for _, f := range sb.FieldConfig.CustomFields {
		want.CustomFields = append(want.CustomFields, f.Name)
	}
	if diff := cmp.Diff(want, conn.Capabilities()); diff != "" {
		t.Errorf("Capabilities (-declared +reported):\n%s", diff)
	}
}

// testGolden: the document's example records go out as its example body.
func (h *Harness) testGolden(t *testing.T, g Golden) {
	want, err := os.ReadFile(g.File)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := testutil.SortedJSON(t, want)
	p := newPeer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	common := gateway.Common{ID: "golden", Provider: h.Factory.Name}
	conn := h.connect(t, common, p.URL, 0, g.Config, g.FieldConfig)
	ans := send(t, conn, g.Op, g.Customers)
	reqs := p.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d calls went out, want 1; results %+v", len(reqs), ans.Results)
	}
	if reqs[0].Method != g.Method || reqs[0].Path != g.Path {
		t.Errorf("call %s %s, want %s %s", reqs[0].Method, reqs[0].Path, g.Method, g.Path)
	}
	got := testutil.SortedJSON(t, reqs[0].Body)
	if got != wantJSON {
		t.Errorf("the body sent differs from %s (-want +sent):\n%s", g.File, cmp.Diff(wantJSON, got))
	}
}

// testCap: one record more than the cap goes out in several calls, none
// above the cap, every one sent once and accepted by the simulator.
func (h *Harness) testCap(t *testing.T, c Cap) {
	sb := h.startSandbox(t)
	p := forward(t, sb)
	conn := h.connect(t, sb.Common, p.URL, 0, sb.Config, sb.FieldConfig)
	if ch, ok := conn.Provider.(gateway.Chunker); ok {
		if n := ch.ChunkSize(c.Op); n < 1 || n > c.Max {
			t.Errorf("ChunkSize(%s) = %d, the document's cap is %d", opName(c.Op), n, c.Max)
		}
	}
	n := c.Max + 1
	recs := h.valid(0, n)
	ans := send(t, conn, c.Op, recs)
	calls, total := ans.ProviderCalls, 0
	if len(calls) < 2 {
		t.Errorf("%d records went out in %d call(s); the cap is %d a call", n, len(calls), c.Max)
	}
	for i, pc := range calls {
		if pc.Records > c.Max {
			t.Errorf("call %d carried %d records; the cap is %d", i, pc.Records, c.Max)
		}
		total += pc.Records
	}
	if total != n {
		t.Errorf("the calls carried %d records of %d", total, n)
	}
	if reqs := p.requests(); len(reqs) != len(calls) {
		t.Errorf("the simulator got %d requests for %d calls", len(reqs), len(calls))
	}
	if ans.Succeeded != n {
		t.Errorf("%d of %d records succeeded: the simulator refused a call; %s", ans.Succeeded, n, notSucceeded(ans, 3))
	}
	held := h.checkStored(t, sb, recs, ans)
	if missing := countMissing(t, recs, held); missing > 0 {
		t.Errorf("the simulator holds %d records fewer than were sent", missing)
	}
}

// testRefusal: a call the simulator refuses for its credentials fails
// every record with the harness's code and the provider's own code beside
// it; it is not retried, and nothing is stored.
func (h *Harness) testRefusal(t *testing.T) {
	sb := h.startSandbox(t)
	cfg := h.BreakCredentials(sb.Config)
	if reflect.DeepEqual(cfg, sb.Config) {
		t.Fatal("BreakCredentials returned the configuration unchanged")
	}
	p := forward(t, sb)
	conn := h.connect(t, sb.Common, p.URL, 2, cfg, sb.FieldConfig)
	recs := h.valid(0, 3)
	ans := send(t, conn, mergeImport, recs)
	for i, r := range ans.Results {
		if r.Status != gateway.StatusFailed || !hasIssue(r.Errors, h.RefusedCode, "") {
			t.Errorf("record %d: %s %+v, want failed with %s", i, r.Status, r.Errors, h.RefusedCode)
			continue
		}
		if !providerSaid(r.Errors) {
			t.Errorf("record %d: %+v keeps no provider code", i, r.Errors)
		}
	}
	if reqs := p.requests(); len(reqs) != len(ans.ProviderCalls) {
		t.Errorf("the simulator got %d requests for %d calls: a refusal was retried", len(reqs), len(ans.ProviderCalls))
	}
	held := h.checkStored(t, sb, recs, ans)
	if missing := countMissing(t, recs, held); missing != len(recs) {
		t.Errorf("the simulator holds %d records of a refused call", len(recs)-missing)
	}
}

// testMixed: each record's result is what the simulator made of it, also
// when pad records the simulator stores go first and fill a whole call.
func (h *Harness) testMixed(t *testing.T, m Mixed, pad int) {
	sb := h.startSandbox(t)
	if m.Setup != nil {
		if err := m.Setup(sb); err != nil {
			t.Fatalf("Setup: %v", err)
		}
	}
	fc := sb.FieldConfig
	if m.FieldConfig != nil {
		fc = *m.FieldConfig
	}
	recs := h.valid(0, pad)
	seen := make(map[string]bool, pad+len(m.Records))
	for _, c := range recs {
		seen[whatsapp(t, c)] = true
	}
	for j, e := range m.Records {
		n := whatsapp(t, e.Customer)
		if seen[n] {
			t.Fatalf("harness: record %d's number %s is used twice in the batch", j, n)
		}
		seen[n] = true
		recs = append(recs, e.Customer)
	}
	p := forward(t, sb)
	conn := h.connect(t, sb.Common, p.URL, 0, sb.Config, fc)
	ans := send(t, conn, m.Op, recs)
	for i := range pad {
		if r := ans.Results[i]; r.Status != gateway.StatusSucceeded {
			t.Errorf("padding record %d: %s %+v, want succeeded", i, r.Status, r.Errors)
		}
	}
	held := h.checkStored(t, sb, recs, ans)
	for j, e := range m.Records {
		i, r := pad+j, ans.Results[pad+j]
		if r.Status != e.Status {
			t.Errorf("record %d (%s): %s %+v, want %s", i, e.Customer.WhatsApp, r.Status, r.Errors, e.Status)
		} else if e.Code != "" && !hasIssue(r.Errors, e.Code, e.ProviderCode) {
			t.Errorf("record %d (%s): errors %+v, want one with code %s and provider code %q", i, e.Customer.WhatsApp, r.Errors, e.Code, e.ProviderCode)
		}
		if r.RetryAfter != e.RetryAfter {
			t.Errorf("record %d (%s): retry_after %d, want %d", i, e.Customer.WhatsApp, r.RetryAfter, e.RetryAfter)
		}
		if has := held[whatsapp(t, e.Customer)]; has != (e.Status == gateway.StatusSucceeded) {
			t.Errorf("record %d (%s): the simulator holds it: %v, yet the harness expects it %s", i, e.Customer.WhatsApp, has, e.Status)
		}
	}
}

// testUnavailable: a peer that keeps answering status is asked again as
// many times as the connection's retries allow, the same body each time;
// the records end unknown with provider_unavailable and the peer's
// Retry-After.
func (h *Harness) testUnavailable(t *testing.T, status int, retryAfter string, want int) {
	sb := h.startSandbox(t)
	p := newPeer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, http.StatusText(status), status)
	})
	const retries = 2
	conn := h.connect(t, sb.Common, p.URL, retries, sb.Config, sb.FieldConfig)
	ans := send(t, conn, mergeImport, h.valid(0, 2))
	for i, r := range ans.Results {
		if r.Status != gateway.StatusUnknown || !hasIssue(r.Errors, schema.CodeProviderUnavailable, "") {
			t.Errorf("record %d: %s %+v, want unknown with %s", i, r.Status, r.Errors, schema.CodeProviderUnavailable)
		}
		if r.RetryAfter != want {
			t.Errorf("record %d: retry_after %d, want %d", i, r.RetryAfter, want)
		}
	}
	checkResent(t, ans, p.requests(), retries+1)
}

// testRecovers: a call answered 503 once and then by the simulator
// succeeds on its second attempt.
func (h *Harness) testRecovers(t *testing.T) {
	sb := h.startSandbox(t)
	p := newPeer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		sb.Handler.ServeHTTP(w, r)
	})
	conn := h.connect(t, sb.Common, p.URL, 2, sb.Config, sb.FieldConfig)
	recs := h.valid(0, 2)
	ans := send(t, conn, mergeImport, recs)
	if ans.Succeeded != len(recs) {
		t.Errorf("after one 503 the simulator answered, yet: %s", notSucceeded(ans, 3))
	}
	checkResent(t, ans, p.requests(), 2)
	held := h.checkStored(t, sb, recs, ans)
	if missing := countMissing(t, recs, held); missing > 0 {
		t.Errorf("the simulator holds %d records fewer than were sent", missing)
	}
}

// testBadRequest: an HTTP 400 is final: not retried, no record succeeded,
// each the harness's status with provider_rejected.
func (h *Harness) testBadRequest(t *testing.T) {
	sb := h.startSandbox(t)
	p := newPeer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad request", http.StatusBadRequest)
	})
	conn := h.connect(t, sb.Common, p.URL, 2, sb.Config, sb.FieldConfig)
	ans := send(t, conn, mergeImport, h.valid(0, 2))
	for i, r := range ans.Results {
		if r.Status != h.BadRequest || !hasIssue(r.Errors, schema.CodeProviderRejected, "") {
			t.Errorf("record %d: %s %+v, want %s with %s", i, r.Status, r.Errors, h.BadRequest, schema.CodeProviderRejected)
		}
	}
	checkResent(t, ans, p.requests(), 1)
}

// testRedirect: a redirect is neither followed nor retried; the records are
// unknown (a 302 may come after the call was processed), with an error
// naming the status and where it pointed.
func (h *Harness) testRedirect(t *testing.T) {
	sb := h.startSandbox(t)
	target := newPeer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	p := newPeer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
	})
	conn := h.connect(t, sb.Common, p.URL, 2, sb.Config, sb.FieldConfig)
	ans := send(t, conn, mergeImport, h.valid(0, 2))
	if got := target.requests(); len(got) != 0 {
		t.Errorf("the redirect was followed: its target got %d request(s)", len(got))
	}
	for i, r := range ans.Results {
		if r.Status != gateway.StatusUnknown || !hasIssue(r.Errors, schema.CodeProviderRejected, "") {
			t.Errorf("record %d: %s %+v, want unknown with %s", i, r.Status, r.Errors, schema.CodeProviderRejected)
			continue
		}
		if !mentions(r.Errors, "302") || !mentions(r.Errors, target.URL) {
			t.Errorf("record %d: %+v, want an error naming HTTP 302 and %s", i, r.Errors, target.URL)
		}
	}
	checkResent(t, ans, p.requests(), 1)
}

// checkResent checks that a one-call answer's call was sent attempts times,
// the same body each time.
func checkResent(t *testing.T, ans *answer.Answer, reqs []request, attempts int) {
	t.Helper()
	if len(ans.ProviderCalls) != 1 {
		t.Fatalf("%d calls for two records, want 1", len(ans.ProviderCalls))
	}
	if len(reqs) != attempts || ans.ProviderCalls[0].Attempts != attempts {
		t.Errorf("the call was sent %d time(s) (%d attempts reported), want %d", len(reqs), ans.ProviderCalls[0].Attempts, attempts)
	}
	for i := 1; i < len(reqs); i++ {
		if string(reqs[i].Body) != string(reqs[0].Body) || reqs[i].Path != reqs[0].Path {
			t.Errorf("attempt %d sent another body or path than the first", i+1)
		}
	}
}

// notSucceeded describes up to n results that did not succeed.
func notSucceeded(ans *answer.Answer, n int) string {
	var b strings.Builder
	for _, r := range ans.Results {
		if r.Status == gateway.StatusSucceeded {
			continue
		}
		if n == 0 {
			b.WriteString(" …")
			break
		}
		n--
		fmt.Fprintf(&b, " [%d %s %+v]", r.Index, r.Status, r.Errors)
	}
	return "not succeeded:" + b.String()
}

// countMissing counts the records the simulator does not hold.
func countMissing(t *testing.T, recs []schema.Customer, held map[string]bool) int {
	t.Helper()
	n := 0
	for _, c := range recs {
		if !held[whatsapp(t, c)] {
			n++
		}
	}
	return n
}

// providerSaid reports whether an issue keeps the provider's own code.
func providerSaid(issues []schema.Issue) bool {
	for _, is := range issues {
		if is.ProviderCode != "" {
			return true
		}
	}
	return false
}

// mentions reports whether an issue's message holds s.
func mentions(issues []schema.Issue, s string) bool {
	for _, is := range issues {
		if strings.Contains(is.Message, s) {
			return true
		}
	}
	return false
}
