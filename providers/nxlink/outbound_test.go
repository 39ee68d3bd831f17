package nxlink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"crmgate/providers/internal/wiretest"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/api/answer"
	"crmgate/gateway"
)

// importThrough imports two customers through the import service over a.
func importThrough(t *testing.T, a *Adapter) *answer.Answer {
	t.Helper()
	return wiretest.ImportThrough(t, a.common, a, a.cfg, testRules, importOp,
		`{"name":"zhang san","whatsapp":"8618163725558"}`, `{"name":"li si","whatsapp":"8618135539411"}`)
}

// A 302 or 307 from NXLink is not followed: the other host gets nothing (no
// accessKey, no sign, no signed body), the records are unknown with the
// status and Location, and the call is made once.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, fmt.Sprintf("%s sign=%q accessKey=%q body=%s", r.Method, r.Header.Get("sign"), r.Header.Get("accessKey"), b))
				mu.Unlock()
				_, _ = w.Write(nxlinktest.Example(t, "answer_success.json"))
			}))
			t.Cleanup(other.Close)
			target := other.URL + "/saas/cdp/openapi/customers/batch_create"
			provider, calls := wiretest.Redirecting(t, status, target)
			a := newTestAdapter(t, provider.URL, testConfig(), &http.Client{}) // a plain client follows redirects
			ans := importThrough(t, a)
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 0 {
				t.Fatalf("the redirect target got %v, want nothing", got)
			}
			wiretest.CheckRedirected(t, ans, calls.Load(), status, target)
		})
	}
}

// An answer longer than the call can hold fails the call, read no further.
func TestOversizedAnswerIsBounded(t *testing.T) {
	t.Parallel()
	provider, calls := wiretest.Streaming(t, `{"code":0,"message":"`)
	ct := &wiretest.CountingTransport{}
	a := newTestAdapter(t, provider.URL, testConfig(), &http.Client{Transport: ct})
	call := planOne(t, a, importOp, twoCustomers("", ""))
	_, err := a.Do(context.Background(), call)
	wiretest.CheckAnswerBounded(t, err, answerLimit(len(call.Records)), ct.N.Load())
	wiretest.CheckOversizedImport(t, importThrough(t, a), calls.Load())
}

// A 429 or 503 with Retry-After is a *gateway.RetryAfterError carrying the
// wait, still retryable; a 429 without it is retryable too.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range wiretest.RetryAfterCases() {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			a := newTestAdapter(t, tt.Serve(t).URL, testConfig(), nil)
			res, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
			tt.Check(t, res, err)
		})
	}
}

// A provider that keeps answering 429 is up and asking for fewer calls: it
// never opens the connection's circuit, whereas as many 503s do.
func TestThrottlingDoesNotOpenTheCircuit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		open   bool
	}{{http.StatusTooManyRequests, false}, {http.StatusServiceUnavailable, true}} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "busy", tt.status)
			}))
			t.Cleanup(provider.Close)
			a := newTestAdapter(t, provider.URL, testConfig(), nil)
			conn, err := gateway.NewConnection(a.common, a, a.cfg, wiretest.RulesOf{R: testRules})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2*gateway.DefaultBreakerThreshold; i++ {
				ans := wiretest.Import(t, conn, importOp, []json.RawMessage{json.RawMessage(`{"name":"zhang san","whatsapp":"8618163725558"}`)})
				if r := ans.Results[0]; r.Status != gateway.StatusUnknown && !tt.open {
					t.Fatalf("import %d: %+v", i, r)
				}
			}
			if open := conn.Breaker.State() == "open"; open != tt.open {
				t.Errorf("after %d answers %d the circuit is %s", 2*gateway.DefaultBreakerThreshold, tt.status, conn.Breaker.State())
			}
		})
	}
}
