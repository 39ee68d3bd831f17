package wiretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/gateway"
)

// ImportThrough imports custs (raw records) through the import service over
// a connection of p (Import).
func ImportThrough(t testing.TB, common gateway.Common, p gateway.Provider, cfg any, rules *fieldconfig.Rules, op gateway.Op, custs ...string) *answer.Answer {
	t.Helper()
	conn, err := gateway.NewConnection(common, p, cfg, RulesOf{R: rules})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]json.RawMessage, len(custs))
	for i, c := range custs {
		raw[i] = json.RawMessage(c)
	}
	return Import(t, conn, op, raw)
}

// Import imports raw records through the import service over conn, retries
// backing off by a millisecond or two (a Retry-After is waited up to that
// cap too), and fails the test unless it answers with one result per
// record.
func Import(t testing.TB, conn *gateway.Connection, op gateway.Op, raw []json.RawMessage) *answer.Answer {
	t.Helper()
	svc := &gateway.Service{Retry: gateway.RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ans, err := svc.Import(ctx, conn, gateway.Request{Op: op, Customers: raw})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(ans.Results) != len(raw) {
		t.Fatalf("%d results for %d records", len(ans.Results), len(raw))
	}
	return ans
}

// Redirecting is a provider that answers every request with a redirect of
// status to target, counting the requests.
func Redirecting(t testing.TB, status int, target string) (*httptest.Server, *atomic.Int32) {
	return counting(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, status) })
}

// counting starts a provider that answers with h, counting the requests.
func counting(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

// CheckRedirected checks the answer of an import whose provider redirected
// its one call with status to target, and how many calls it got: the call
// was made once (a redirect is not retried), and every record is unknown
// with one error naming the status and the Location, as is the call's
// report.
func CheckRedirected(t testing.TB, ans *answer.Answer, calls int32, status int, target string) {
	t.Helper()
	if calls != 1 {
		t.Errorf("the provider got %d calls, want 1 (a redirect is not retried)", calls)
	}
	if ans.Unknown != len(ans.Results) {
		t.Fatalf("answer %+v, want every record unknown", ans)
	}
	for _, r := range ans.Results {
		if len(r.Errors) != 1 {
			t.Fatalf("result %+v, want one error", r)
		}
		e := r.Errors[0]
		if !strings.Contains(e.Message, fmt.Sprintf("HTTP %d", status)) || !strings.Contains(e.Message, target) {
			t.Errorf("error %q does not name HTTP %d and %s", e.Message, status, target)
		}
		if e.ProviderCode != fmt.Sprintf("http_%d", status) {
			t.Errorf("provider code %q, want http_%d", e.ProviderCode, status)
		}
	}
	if rep := ans.ProviderCalls[0]; rep.HTTPStatus != status || !strings.Contains(rep.Error, target) {
		t.Errorf("call report %+v", rep)
	}
}

// Streaming is a provider whose every answer is 200 with prefix and then
// bytes without end (StreamForever), counting the requests.
func Streaming(t testing.TB, prefix string) (*httptest.Server, *atomic.Int32) {
	return counting(t, StreamForever(prefix))
}

// CheckAnswerBounded checks the error of one call to a Streaming provider,
// whose answer is bounded at limit bytes, of which read were read: the
// answer is too large, which is not retryable, the bound is named, and no
// more than the bound and a byte were read.
func CheckAnswerBounded(t testing.TB, err error, limit, read int64) {
	t.Helper()
	if !errors.Is(err, gateway.ErrAnswerTooLarge) || errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrAnswerTooLarge, not retryable", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(limit)) {
		t.Errorf("err = %v, want the bound named", err)
	}
	if read > limit+1 {
		t.Errorf("read %d bytes of the answer, want at most the bound %d + 1", read, limit)
	}
}

// CheckOversizedImport checks the answer of an import to a Streaming
// provider made after one call of the adapter's Do, and how many calls the
// provider got in all (calls): every record is unknown, naming the answer
// too large, and the import's call was made once (an oversized answer is
// not retried), two calls in all.
func CheckOversizedImport(t testing.TB, ans *answer.Answer, calls int32) {
	t.Helper()
	if ans.Unknown != len(ans.Results) || !strings.Contains(ans.Results[0].Errors[0].Message, "too large") {
		t.Fatalf("results %+v, want every record unknown, naming the oversized answer", ans.Results)
	}
	if calls != 2 {
		t.Errorf("%d calls, want 2 (one per Do: an oversized answer is not retried)", calls)
	}
}

// RetryAfterCase is a provider answer with a status and Retry-After, and
// the wait the call's error is to carry: from Min to Max, or none when Max
// is zero.
type RetryAfterCase struct {
	Name       string
	Status     int
	RetryAfter string
	Min, Max   time.Duration
}

// RetryAfterCases are the answers every adapter reads alike: a 429 or 503
// with Retry-After in seconds or as an HTTP-date carries the wait; a 429
// without one, or with one unreadable or past, a 502 with one, carry none.
func RetryAfterCases() []RetryAfterCase {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	return []RetryAfterCase{
		{"429 seconds", http.StatusTooManyRequests, "7", 7 * time.Second, 7 * time.Second},
		{"503 seconds", http.StatusServiceUnavailable, "120", 2 * time.Minute, 2 * time.Minute},
		{"503 date", http.StatusServiceUnavailable, date, 60 * time.Second, 91 * time.Second},
		{"503 in the past", http.StatusServiceUnavailable, "Wed, 21 Oct 2015 07:28:00 GMT", 0, 0},
		{"429 without", http.StatusTooManyRequests, "", 0, 0},
		{"429 unreadable", http.StatusTooManyRequests, "soon", 0, 0},
		{"502 ignores it", http.StatusBadGateway, "7", 0, 0},
	}
}

// Serve starts a provider that answers every request as c says.
func (c RetryAfterCase) Serve(t testing.TB) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.RetryAfter != "" {
			w.Header().Set("Retry-After", c.RetryAfter)
		}
		http.Error(w, "slow down", c.Status)
	}))
	t.Cleanup(s.Close)
	return s
}

// Check checks the result of one call to c's provider: no outcome, an
// error that is retryable, carrying c's wait (gateway.RetryAfterError, and
// gateway.RetryAfterOf agreeing) or none.
func (c RetryAfterCase) Check(t testing.TB, res gateway.CallResult, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if len(res.Outcomes) != 0 {
		t.Fatalf("outcomes %+v, want none", res.Outcomes)
	}
	var ra *gateway.RetryAfterError
	got := errors.As(err, &ra)
	if c.Max == 0 {
		if got {
			t.Fatalf("err = %#v, want no RetryAfterError", err)
		}
		return
	}
	if !got || ra.After < c.Min || ra.After > c.Max {
		t.Fatalf("err = %v (%#v), want a RetryAfterError of %s..%s", err, ra, c.Min, c.Max)
	}
	if gateway.RetryAfterOf(err) != ra.After {
		t.Errorf("RetryAfterOf = %s, want %s", gateway.RetryAfterOf(err), ra.After)
	}
}
