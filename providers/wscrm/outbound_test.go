package wscrm

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

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
)

// importThrough imports n customers of agent kubrick101 (phones
// 86152666677800, 86152666677801, …) through the import service over a.
func importThrough(t *testing.T, a *Adapter, retries, n int) *answer.Answer {
	t.Helper()
	common := a.common
	common.Retries = &retries
	conn, err := gateway.NewConnection(common, a, a.cfg, wiretest.RulesOf{R: sampleRules()})
	if err != nil {
		t.Fatal(err)
	}
	custs := make([]json.RawMessage, n)
	for i := range custs {
		custs[i] = json.RawMessage(fmt.Sprintf(`{"owner":"kubrick101","whatsapp":"8615266667%03d"}`, 800+i))
	}
	svc := &gateway.Service{Retry: gateway.RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ans, err := svc.Import(ctx, conn, gateway.Request{Op: importOp, Customers: custs})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Results) != n {
		t.Fatalf("%d results for %d records", len(ans.Results), n)
	}
	return ans
}

// recorder is an httptest server that counts what reaches it and keeps the
// headers and bodies.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(testutil.ReadFile(t, "testdata", "import_success.json"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// A 302 or 307 from WSCRM is not followed: the other host gets nothing (no
// token header), the records are unknown with the status and Location, and
// the call is made once (a redirect is not retried).
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			other := newRecorder(t)
			var calls atomic.Int32
			target := other.URL + PathBatchImport
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, target, status)
			}))
			t.Cleanup(provider.Close)
			// A plain client follows redirects: the adapter must not.
			a := testAdapter(t, provider.URL, "s3cret-token")
			ans := importThrough(t, a, 2, 2)
			if n := other.count(); n != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v), want none", n, other.headers)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("the provider got %d calls, want 1 (a redirect is not retried)", n)
			}
			if ans.Unknown != 2 {
				t.Fatalf("answer %+v, want 2 unknown", ans)
			}
			for _, r := range ans.Results {
				if len(r.Errors) != 1 {
					t.Fatalf("result %+v, want one error", r)
				}
				msg := r.Errors[0].Message
				if !strings.Contains(msg, fmt.Sprintf("HTTP %d", status)) || !strings.Contains(msg, target) {
					t.Errorf("error %q does not name HTTP %d and %s", msg, status, target)
				}
				if r.Errors[0].ProviderCode != fmt.Sprintf("http_%d", status) {
					t.Errorf("provider code %q", r.Errors[0].ProviderCode)
				}
			}
			if rep := ans.ProviderCalls[0]; rep.HTTPStatus != status || !strings.Contains(rep.Error, target) {
				t.Errorf("call report %+v", rep)
			}
		})
	}
}

// The query follows no redirect either.
func TestQueryRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	other := newRecorder(t)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+PathQuery, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(provider.Close)
	a := testAdapter(t, provider.URL, "s3cret-token")
	_, _, err := a.Query(context.Background(), "kubrick101", nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 307") || !strings.Contains(err.Error(), other.URL) {
		t.Fatalf("err = %v, want one naming HTTP 307 and the Location", err)
	}
	if errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("err = %v: a redirect is not retryable", err)
	}
	if n := other.count(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

// An answer longer than the call can hold fails the call, read no further:
// the records are unknown, the call is not retried.
func TestOversizedAnswerIsBounded(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		wiretest.StreamForever(`{"code":200,"message":"`)(w, r)
	}))
	t.Cleanup(provider.Close)
	a := testAdapter(t, provider.URL, "")
	ct := &wiretest.CountingTransport{}
	a.hc.Transport = ct

	recs := wiretest.Records(t, a, importOp, sampleRules(),
		schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"},
		schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667781"})
	calls0, err := a.Plan(importOp, recs)
	if err != nil {
		t.Fatal(err)
	}
	limit := importAnswerLimit(&calls0[0])
	if limit > 128<<10 {
		t.Fatalf("the bound of a 2-record call is %d bytes, want a few KiB per record", limit)
	}
	_, err = a.Do(context.Background(), &calls0[0])
	if !errors.Is(err, gateway.ErrAnswerTooLarge) || errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrAnswerTooLarge, not retryable", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(limit)) {
		t.Errorf("err = %v, want the bound named", err)
	}
	if n := ct.N.Load(); n > limit+1 {
		t.Errorf("read %d bytes of the answer, want at most the bound %d + 1", n, limit)
	}

	ans := importThrough(t, a, 2, 2)
	if ans.Unknown != 2 || !strings.Contains(ans.Results[0].Errors[0].Message, "too large") {
		t.Fatalf("answer %+v, want 2 unknown naming the oversized answer", ans.Results)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2 (one per Do: an oversized answer is not retried)", n)
	}
}

// A 429 or 503 with Retry-After (seconds or an HTTP-date) is a
// *gateway.RetryAfterError carrying the wait, still retryable; a 429 without
// it is retryable too.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		min, max   time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, "7", 7 * time.Second, 7 * time.Second},
		{"503 seconds", http.StatusServiceUnavailable, "120", 2 * time.Minute, 2 * time.Minute},
		{"503 date", http.StatusServiceUnavailable, date, 60 * time.Second, 91 * time.Second},
		{"429 without", http.StatusTooManyRequests, "", 0, 0},
		{"429 unreadable", http.StatusTooManyRequests, "soon", 0, 0},
		{"502 ignores it", http.StatusBadGateway, "7", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "slow down", tt.status)
			}))
			t.Cleanup(provider.Close)
			a := testAdapter(t, provider.URL, "")
			res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}))
			if !errors.Is(err, gateway.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if len(res.Outcomes) != 0 {
				t.Fatalf("outcomes %+v, want none", res.Outcomes)
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
			if gateway.RetryAfterOf(err) != ra.After {
				t.Errorf("RetryAfterOf = %s", gateway.RetryAfterOf(err))
			}
		})
	}
}
