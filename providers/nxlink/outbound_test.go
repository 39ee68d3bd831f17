package nxlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/providers/internal/wiretest"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/api/answer"
	"crmgate/gateway"
)

// importThrough imports two customers through the import service over a.
func importThrough(t *testing.T, a *Adapter) *answer.Answer {
	t.Helper()
	conn, err := gateway.NewConnection(a.common, a, a.cfg, wiretest.RulesOf{R: testRules})
	if err != nil {
		t.Fatal(err)
	}
	custs := []json.RawMessage{
		json.RawMessage(`{"name":"zhang san","whatsapp":"8618163725558"}`),
		json.RawMessage(`{"name":"li si","whatsapp":"8618135539411"}`),
	}
	svc := &gateway.Service{Retry: gateway.RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ans, err := svc.Import(ctx, conn, gateway.Request{Op: importOp, Customers: custs})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Results) != len(custs) {
		t.Fatalf("%d results", len(ans.Results))
	}
	return ans
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
			var calls atomic.Int32
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, target, status)
			}))
			t.Cleanup(provider.Close)
			a := newTestAdapter(t, provider.URL, testConfig(), &http.Client{}) // a plain client follows redirects
			ans := importThrough(t, a)
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 0 {
				t.Fatalf("the redirect target got %v, want nothing", got)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the provider got %d calls, want 1 (a redirect is not retried)", n)
			}
			if ans.Unknown != 2 {
				t.Fatalf("answer %+v, want 2 unknown", ans)
			}
			for _, r := range ans.Results {
				if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("HTTP %d", status)) ||
					!strings.Contains(r.Errors[0].Message, target) {
					t.Errorf("result %+v, want an error naming HTTP %d and %s", r, status, target)
				}
			}
			if rep := ans.ProviderCalls[0]; rep.HTTPStatus != status || !strings.Contains(rep.Error, target) {
				t.Errorf("call report %+v", rep)
			}
		})
	}
}

// An answer longer than the call can hold fails the call, read no further.
func TestOversizedAnswerIsBounded(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		wiretest.StreamForever(`{"code":0,"message":"`)(w, r)
	}))
	t.Cleanup(provider.Close)
	ct := &wiretest.CountingTransport{}
	a := newTestAdapter(t, provider.URL, testConfig(), &http.Client{Transport: ct})
	call := planOne(t, a, importOp, twoCustomers("", ""))
	limit := answerLimit(len(call.Records))
	_, err := a.Do(context.Background(), call)
	if !errors.Is(err, gateway.ErrAnswerTooLarge) || errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrAnswerTooLarge, not retryable", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(limit)) {
		t.Errorf("err = %v, want the bound named", err)
	}
	if n := ct.N.Load(); n > limit+1 {
		t.Errorf("read %d bytes of the answer, want at most the bound %d + 1", n, limit)
	}
	ans := importThrough(t, a)
	if ans.Unknown != 2 || !strings.Contains(ans.Results[0].Errors[0].Message, "too large") {
		t.Fatalf("results %+v, want 2 unknown naming the oversized answer", ans.Results)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2 (an oversized answer is not retried)", n)
	}
}

// A 429 or 503 with Retry-After is a *gateway.RetryAfterError carrying the
// wait, still retryable; a 429 without it is retryable too.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		min, max   time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, "3", 3 * time.Second, 3 * time.Second},
		{"503 date", http.StatusServiceUnavailable, date, 60 * time.Second, 91 * time.Second},
		{"503 seconds", http.StatusServiceUnavailable, "30", 30 * time.Second, 30 * time.Second},
		{"429 without", http.StatusTooManyRequests, "", 0, 0},
		{"503 in the past", http.StatusServiceUnavailable, "Wed, 21 Oct 2015 07:28:00 GMT", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "busy", tt.status)
			}))
			t.Cleanup(provider.Close)
			a := newTestAdapter(t, provider.URL, testConfig(), nil)
			_, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
			if !errors.Is(err, gateway.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			var ra *gateway.RetryAfterError
			got := errors.As(err, &ra)
			if tt.max == 0 {
				if got {
					t.Fatalf("err = %#v, want no RetryAfterError", err)
				}
				return
			}
			if !got || ra.After < tt.min || ra.After > tt.max {
				t.Fatalf("err = %v (%#v), want a RetryAfterError of %s..%s", err, ra, tt.min, tt.max)
			}
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
			svc := &gateway.Service{Retry: gateway.RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}
			for i := 0; i < 2*gateway.DefaultBreakerThreshold; i++ {
				ans, err := svc.Import(context.Background(), conn, gateway.Request{Op: importOp, Customers: []json.RawMessage{
					json.RawMessage(`{"name":"zhang san","whatsapp":"8618163725558"}`)}})
				if err != nil {
					t.Fatal(err)
				}
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
