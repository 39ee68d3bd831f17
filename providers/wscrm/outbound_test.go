package wscrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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
	custs := make([]string, n)
	for i := range custs {
		custs[i] = fmt.Sprintf(`{"owner":"kubrick101","whatsapp":"8615266667%03d"}`, 800+i)
	}
	return wiretest.ImportThrough(t, common, a, a.cfg, sampleRules(), importOp, custs...)
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
			target := other.URL + PathBatchImport
			provider, calls := wiretest.Redirecting(t, status, target)
			// A plain client follows redirects: the adapter must not.
			a := testAdapter(t, provider.URL, "s3cret-token")
			ans := importThrough(t, a, 2, 2)
			if n := other.count(); n != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v), want none", n, other.headers)
			}
			wiretest.CheckRedirected(t, ans, calls.Load(), status, target)
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
	provider, calls := wiretest.Streaming(t, `{"code":200,"message":"`)
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
	wiretest.CheckAnswerBounded(t, err, limit, ct.N.Load())
	wiretest.CheckOversizedImport(t, importThrough(t, a, 2, 2), calls.Load())
}

// A 429 or 503 with Retry-After (seconds or an HTTP-date) is a
// *gateway.RetryAfterError carrying the wait, still retryable; a 429 without
// it is retryable too.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range wiretest.RetryAfterCases() {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			a := testAdapter(t, tt.Serve(t).URL, "")
			res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, sampleRules(), schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}))
			tt.Check(t, res, err)
		})
	}
}
