package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/idempotency"
	"crmgate/ratelimit"
)

func postWithKey(t *testing.T, srv http.Handler, tok, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/customers", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	return w
}

func TestIdempotencyKeyReplays(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemory(idempotency.Options{})
	srv, fp := newTestServerWith(t, 1<<20, func(o *Options) { o.Idempotency = store })
	tok := token(t, nil, nil, nil)

	first := postWithKey(t, srv, tok, "k-1", oneRecord)
	if first.Code != 200 || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	again := postWithKey(t, srv, tok, "k-1", oneRecord)
	if again.Code != 200 || again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %q\n%s\nwant byte for byte\n%s", again.Code, again.Header().Get("Idempotent-Replayed"), again.Body, first.Body)
	}
	if len(fp.sent) != 1 {
		t.Errorf("the provider was called %d times; a replay must not call it", len(fp.sent))
	}
	other := postWithKey(t, srv, tok, "k-1", strings.Replace(oneRecord, "7780", "7781", 1))
	if other.Code != 422 {
		t.Fatalf("same key, other body: %d %s", other.Code, other.Body)
	}
	decodeProblem(t, other)
	// Another app's key space is its own.
	tok2 := token(t, func(c jwt.MapClaims) { c["sub"] = "app2" }, nil, nil)
	if w := postWithKey(t, srv, tok2, "k-1", oneRecord); w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("another app with the same key: %d %v", w.Code, w.Header())
	}
	// A whole-request problem is not remembered: the key can be used again.
	if w := postWithKey(t, srv, tok, "k-2", `{"connection":"c1"}`); w.Code != 422 {
		t.Fatalf("%d", w.Code)
	}
	if w := postWithKey(t, srv, tok, "k-2", oneRecord); w.Code != 200 || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("key reused after a problem: %d %v", w.Code, w.Header())
	}
}

func TestIdempotencyKeyInFlight(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemory(idempotency.Options{})
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.Idempotency = store })
	tok := token(t, nil, nil, nil)
	// Claim the key as a running request would.
	fpr := idempotency.Fingerprint([]byte("app1"), []byte("/v1/customers"), []byte(oneRecord))
	if _, _, err := store.Begin(t.Context(), "app1\x00/v1/customers\x00k-3", fpr); err != nil {
		t.Fatal(err)
	}
	w := postWithKey(t, srv, tok, "k-3", oneRecord)
	if w.Code != 409 {
		t.Fatalf("while the first runs: %d %s", w.Code, w.Body)
	}
	decodeProblem(t, w)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	lim, err := ratelimit.NewMemory(ratelimit.Limit{Rate: 1, Burst: 2}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.RateLimiter = lim })
	tok := token(t, nil, nil, nil)
	for i := 0; i < 2; i++ {
		w := do(t, srv, call{method: "GET", path: "/v1/connections", token: tok})
		if w.Code != 200 || w.Header().Get("X-RateLimit-Limit") != "2" || w.Header().Get("X-RateLimit-Remaining") != []string{"1", "0"}[i] {
			t.Fatalf("request %d: %d %v", i, w.Code, w.Header())
		}
	}
	w := do(t, srv, call{method: "GET", path: "/v1/connections", token: tok})
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d %v", w.Code, w.Header())
	}
	decodeProblem(t, w)
	if w := do(t, srv, call{method: "GET", path: "/v1/connections", token: token(t, func(c jwt.MapClaims) { c["sub"] = "app2" }, nil, nil)}); w.Code != 200 {
		t.Fatalf("another app has its own budget: %d", w.Code)
	}
}

// A retry with the same key and body after the first request died (its
// lease lapsed, its journal holding one answered call) takes the key over,
// answers the journaled records without sending them again, and sends only
// the rest.
func TestIdempotencyKeyResumesAnInterruptedImport(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	store := idempotency.NewMemory(idempotency.Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	srv, fp := newTestServerWith(t, 1<<20, func(o *Options) { o.Idempotency = store })
	tok := token(t, nil, nil, nil)
	body := `{"connection":"c1","customers":[{"whatsapp":"+86 152 6666 7780"},{"whatsapp":"+86 152 6666 7781"},{"whatsapp":"+86 152 6666 7782"},{"whatsapp":"+86 152 6666 7783"}]}`
	// The first request: it claimed the key, its first call was answered
	// and journaled, then it died.
	fpr := idempotency.Fingerprint([]byte("app1"), []byte("/v1/customers"), []byte(body))
	_, claim, err := store.Begin(t.Context(), "app1\x00/v1/customers\x00k-9", fpr)
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := json.Marshal(journalEntry{Report: answer.CallReport{Path: "/import", HTTPStatus: 200, Records: 2, Attempts: 1},
		Results: []answer.Result{{Index: 0, Status: answer.StatusSucceeded, ProviderID: "old-0"}, {Index: 1, Status: answer.StatusSucceeded, ProviderID: "old-1"}}})
	if err := store.Record(t.Context(), claim, entry); err != nil {
		t.Fatal(err)
	}
	if w := postWithKey(t, srv, tok, "k-9", body); w.Code != 409 {
		t.Fatalf("while the lease lives: %d %s", w.Code, w.Body)
	}
	mu.Lock()
	now = now.Add(idempotency.DefaultLease + time.Second)
	mu.Unlock()

	w := postWithKey(t, srv, tok, "k-9", body)
	if w.Code != 200 {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	if len(fp.sent) != 2 || fp.sent[0] != 2 || fp.sent[1] != 3 {
		t.Fatalf("sent %v, want only records 2 and 3", fp.sent)
	}
	var ans answer.Answer
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Total != 4 || ans.Succeeded != 4 || ans.Results[0].ProviderID != "old-0" || ans.Results[1].ProviderID != "old-1" || ans.Results[3].Index != 3 {
		t.Fatalf("answer %s", w.Body)
	}
	if len(ans.ProviderCalls) != 2 || !strings.Contains(ans.ProviderCalls[0].Note, "interrupted") || ans.ProviderCalls[1].Note != "" {
		t.Fatalf("provider_calls %+v", ans.ProviderCalls)
	}
	// The old request can no longer write under the key; the answer is kept.
	if err := store.Record(t.Context(), claim, entry); err == nil {
		t.Error("the dead request's claim still records")
	}
	again := postWithKey(t, srv, tok, "k-9", body)
	if again.Code != 200 || again.Body.String() != w.Body.String() || len(fp.sent) != 2 {
		t.Fatalf("replay: %d, %d sent", again.Code, len(fp.sent))
	}
}

// ownConnection sends one request to hs, with tok and the header's name and
// value pairs, on a connection of its own, and reads its whole answer. On a
// kept-alive connection, the server would read the next request only once
// the previous handler returned.
func ownConnection(t *testing.T, hs *httptest.Server, tok, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	// The timeout is a guard only: an answer that never ends fails the test
	// instead of hanging it.
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// recordsBody is the body of an import of n records to c1, each its own
// customer.
func recordsBody(n int) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"whatsapp":"+86 152 6666 %04d"}`, i)
	}
	return `{"connection":"c1","customers":[` + strings.Join(recs, ",") + `]}`
}

// checkWholeAnswer checks the answer to an import of n records (recordsBody):
// 200, with its length, and for more than one record larger than net/http's
// buffers (2 and 4 KB), which would send it as it is written.
func checkWholeAnswer(t *testing.T, n int, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d records: %d %s", n, resp.StatusCode, body)
	}
	if n > 1 && len(body) <= 8<<10 {
		t.Fatalf("%d records answer in %d bytes: within net/http's buffers (2 and 4 KB), so not the case under test", n, len(body))
	}
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
		t.Errorf("%d records: Content-Length %q for %d bytes", n, got, len(body))
	}
}

// slowComplete is an idempotency store whose Complete takes a while, as a
// Redis round trip can.
type slowComplete struct {
	idempotency.Store
	delay time.Duration
}

func (s slowComplete) Complete(ctx context.Context, c *idempotency.Claim, a idempotency.Answer) error {
	time.Sleep(s.delay)
	return s.Store.Complete(ctx, c, a)
}

// A caller that has read its whole answer, over a real connection, and sends
// the same key again gets the replay, never a 409: the answer, with its
// length, goes out once the key's answer is stored, for an answer larger
// than net/http's buffers (which would go out as it is written) as for a
// small one.
func TestIdempotencyKeyStoredBeforeTheAnswerEnds(t *testing.T) {
	t.Parallel()
	store := slowComplete{Store: idempotency.NewMemory(idempotency.Options{}), delay: 200 * time.Millisecond}
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.Idempotency = store; o.MaxRecords = 100 })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok := token(t, nil, nil, nil)
	for _, n := range []int{1, 100} {
		body := recordsBody(n)
		key := fmt.Sprintf("ends-%d", n)
		post := func() (*http.Response, []byte) {
			return ownConnection(t, hs, tok, http.MethodPost, "/v1/customers", body, "Idempotency-Key", key)
		}
		first, b1 := post()
		checkWholeAnswer(t, n, first, b1)
		again, b2 := post()
		if again.StatusCode != 200 || again.Header.Get("Idempotent-Replayed") != "true" || string(b2) != string(b1) {
			t.Errorf("%d records, the same key once the answer was read: %d replayed=%q %.200s", n, again.StatusCode, again.Header.Get("Idempotent-Replayed"), b2)
		}
	}
}

// panickingProvider panics in its provider call.
type panickingProvider struct{ fakeProvider }

func (*panickingProvider) Do(context.Context, *gateway.Call) (gateway.CallResult, error) {
	panic("provider adapter bug")
}

// A request with an Idempotency-Key whose handler panics gets the recovered
// panic's problem, though its answer is held until stored: the recorder
// gives the answer back to the caller's writer whatever happens.
func TestIdempotencyKeyPanicIsAnswered(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) {
		o.Idempotency = idempotency.NewMemory(idempotency.Options{})
		withProvider(t, o, &panickingProvider{})
	})
	w := postWithKey(t, srv, token(t, nil, nil, nil), "k-panic", oneRecord)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"status":500`) {
		t.Fatalf("%d %q, want the panic's 500 problem", w.Code, w.Body)
	}
}
