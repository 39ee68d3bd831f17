package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/internal/testutil"
	"crmgate/schema"
)

// httpFake is a provider whose calls are real HTTP requests to a fake
// provider server, in chunks of per records (NXLink's are of 100). A 5xx is
// unavailable (with the server's Retry-After, when it sent one); a 200 stores
// every record of the call.
type httpFake struct {
	url string
	per int
}

func (*httpFake) Modes() []string { return []string{ModeMerge} }
func (*httpFake) Translate(Op, fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return nil, nil, nil
}
func (h *httpFake) Plan(_ Op, recs []Record) ([]Call, error) {
	per := max(h.per, 1)
	var calls []Call
	for i := 0; i < len(recs); i += per {
		chunk := recs[i:min(i+per, len(recs))]
		refs := make([]string, len(chunk))
		for k, r := range chunk {
			refs[k] = r.Customer.Ref
		}
		body, _ := json.Marshal(map[string]any{"refs": refs})
		calls = append(calls, Call{Method: "POST", Path: "/batch_create", Body: body, Records: chunk})
	}
	return calls, nil
}
func (h *httpFake) Do(ctx context.Context, call *Call) (CallResult, error) {
	req, err := http.NewRequestWithContext(ctx, call.Method, h.url+call.Path, bytes.NewReader(call.Body))
	if err != nil {
		return CallResult{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return CallResult{}, fmt.Errorf("fake: %w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 500 {
		err := fmt.Errorf("fake: %w: HTTP %d", ErrUnavailable, resp.StatusCode)
		if s, e := strconv.Atoi(resp.Header.Get("Retry-After")); e == nil {
			return CallResult{}, &RetryAfterError{Err: err, After: time.Duration(s) * time.Second}
		}
		return CallResult{}, err
	}
	out := make([]Outcome, len(call.Records))
	for i := range out {
		out[i] = Outcome{Status: StatusSucceeded}
	}
	return CallResult{Outcomes: out}, nil
}

// fakeServer is the fake provider: slow or failing as the test says.
type fakeServer struct {
	*httptest.Server
	calls atomic.Int32
	down  atomic.Bool  // answer 503
	delay atomic.Int64 // wait before answering, unless the caller hangs up
	// firstDelay, when set, is the wait of the next call only.
	firstDelay atomic.Int64
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		d := time.Duration(f.firstDelay.Swap(0))
		if d == 0 {
			d = time.Duration(f.delay.Load())
		}
		if d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if f.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(f.Close)
	return f
}

// Callers that hang up, or whose deadline passes, while a healthy but slow
// provider works do not open the circuit for everyone else.
func TestCallerCancellationDoesNotOpenTheCircuit(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	srv.delay.Store(int64(5 * time.Second))
	conn := newConn(t, &httpFake{url: srv.URL, per: 100}, Common{ID: "c", Provider: "fake", BaseURL: srv.URL})
	req := Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(3)}
	for i := 0; i < 2*DefaultBreakerThreshold; i++ {
		var (
			ctx    context.Context
			cancel context.CancelFunc
		)
		if i%2 == 0 {
			ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		} else {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		ans, err := fast.Import(ctx, conn, req)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		// Sent and cut short (unknown), or on a very loaded machine not
		// even sent in time (not_sent); never refused by the circuit.
		if ans.Unknown+ans.Failed != 3 || ans.Results[0].RetryAfter != 0 || ans.ProviderCalls[0].Attempts > 1 {
			t.Fatalf("request %d cut short: %+v", i, ans)
		}
	}
	if st := conn.Breaker.State(); st != "closed" {
		t.Fatalf("after %d requests cut short by their callers the circuit is %s", 2*DefaultBreakerThreshold, st)
	}
	srv.delay.Store(0)
	ans, err := fast.Import(context.Background(), conn, req)
	if err != nil || ans.Succeeded != 3 {
		t.Fatalf("the next request: %+v %v", ans, err)
	}
}

// The call's own timeout expiring is the provider's failure: it counts.
func TestProviderTimeoutsOpenTheCircuit(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	srv.delay.Store(int64(5 * time.Second))
	conn := newConn(t, &httpFake{url: srv.URL, per: 100}, Common{ID: "c", Provider: "fake", BaseURL: srv.URL,
		Timeout: 50 * time.Millisecond, Retries: new(0)})
	req := Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)}
	for i := 0; i < DefaultBreakerThreshold; i++ {
		if ans, _ := fast.Import(context.Background(), conn, req); ans.Unknown != 1 {
			t.Fatalf("call %d: %+v", i, ans)
		}
	}
	if st := conn.Breaker.State(); st != "open" {
		t.Fatalf("after %d provider timeouts in a row the circuit is %s", DefaultBreakerThreshold, st)
	}
	calls := srv.calls.Load()
	ans, _ := fast.Import(context.Background(), conn, req)
	r := ans.Results[0]
	if srv.calls.Load() != calls || r.Status != StatusFailed || r.Errors[0].Code != schema.CodeNotSent || r.RetryAfter != 30 {
		t.Fatalf("while open: %d calls, %+v", srv.calls.Load()-calls, r)
	}
}

// openCircuit makes the provider fail until conn's circuit opens.
func openCircuit(t *testing.T, srv *fakeServer, conn *Connection) {
	t.Helper()
	srv.down.Store(true)
	for i := 0; conn.Breaker.State() != "open"; i++ {
		if i > 2*DefaultBreakerThreshold {
			t.Fatalf("the circuit did not open: %s", conn.Breaker.State())
		}
		_, _ = fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)})
	}
}

// openOnClock opens the circuit of a connection to srv (httpFake, up to per
// records a call) whose breaker reads a clock of the test's, and returns the
// connection and what moves that clock past the cooldown, after which the
// circuit lets one trial call through.
func openOnClock(t *testing.T, srv *fakeServer, per int) (conn *Connection, cooldownPasses func()) {
	t.Helper()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	conn = newConn(t, &httpFake{url: srv.URL, per: per}, Common{ID: "c", Provider: "fake", BaseURL: srv.URL})
	conn.Breaker = &Breaker{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	openCircuit(t, srv, conn)
	return conn, func() {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(DefaultBreakerCooldown + time.Second)
	}
}

// A provider that recovers while the circuit is half-open: once the one
// trial call succeeds, every other chunk of a large import goes on.
func TestHalfOpenTrialSuccessLetsTheRestGoOn(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	conn, cooldownPasses := openOnClock(t, srv, 100)

	srv.down.Store(false)
	srv.delay.Store(int64(5 * time.Millisecond))
	srv.firstDelay.Store(int64(300 * time.Millisecond)) // the trial is in flight while the other chunks come
	cooldownPasses()
	before := srv.calls.Load()
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(10000)})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Succeeded != 10000 || len(ans.ProviderCalls) != 100 {
		lost := 0
		for _, c := range ans.ProviderCalls {
			if c.Error != "" {
				lost++
			}
		}
		t.Fatalf("%d of 10000 succeeded; %d of %d chunks lost", ans.Succeeded, lost, len(ans.ProviderCalls))
	}
	if n := srv.calls.Load() - before; n != 100 {
		t.Errorf("%d calls for 100 chunks", n)
	}
	if st := conn.Breaker.State(); st != "closed" {
		t.Errorf("after the trial succeeded the circuit is %s", st)
	}
}

// A trial that fails reopens the circuit: the calls that waited for it are
// not sent, and say when to retry.
func TestHalfOpenTrialFailureFailsTheWaiters(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	conn, cooldownPasses := openOnClock(t, srv, 1)

	srv.firstDelay.Store(int64(200 * time.Millisecond))
	cooldownPasses()
	before := srv.calls.Load()
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(10)})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.calls.Load() - before; n != 1 {
		t.Fatalf("%d calls sent while half-open, want the one trial", n)
	}
	if ans.Unknown != 1 || ans.Failed != 9 {
		t.Fatalf("%+v", ans.Results)
	}
	for _, r := range ans.Results {
		if r.Status == StatusFailed && (r.Errors[0].Code != schema.CodeNotSent || r.RetryAfter != 30) {
			t.Errorf("a waiter of the failed trial: %+v", r)
		}
	}
}

// A waiter whose own deadline passes before the trial answers gives up
// alone: not sent, and the trial's success still closes the circuit.
func TestHalfOpenWaiterBoundedByItsDeadline(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	conn, cooldownPasses := openOnClock(t, srv, 1)
	srv.down.Store(false)
	cooldownPasses()

	srv.firstDelay.Store(int64(time.Minute)) // the trial hangs until the test lets it go
	trial := make(chan *answer.Answer)
	go func() {
		ans, _ := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)})
		trial <- ans
	}()
	testutil.Eventually(t, 30*time.Second, "the trial is sent", conn.Breaker.trialInFlight)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	ans, _ := fast.Import(ctx, conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)})
	cancel()
	if r := ans.Results[0]; r.Status != StatusFailed || r.Errors[0].Code != schema.CodeNotSent {
		t.Fatalf("a waiter past its deadline: %+v", r)
	}
	srv.CloseClientConnections() // the trial's connection: an unavailable provider reopens the circuit
	if a := <-trial; a.Unknown != 1 {
		t.Fatalf("trial %+v", a.Results)
	}
	if st := conn.Breaker.State(); st != "open" {
		t.Errorf("after the trial failed the circuit is %s", st)
	}
}

// A call whose request has already ended when the connection's slot is free
// is never sent, and its records are failed (not_sent), never unknown.
func TestExpiredRequestSendsNothing(t *testing.T) {
	t.Parallel()
	f := &flaky{perCall: 1}
	conn := newConn(t, f, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Concurrency: 64})
	for _, expire := range []func() (context.Context, context.CancelFunc){
		func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		},
		func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		},
	} {
		ctx, cancel := expire()
		ans, err := fast.Import(ctx, conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(32)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if n := f.calls.Load(); n != 0 {
			t.Fatalf("%d calls sent for a request that had ended", n)
		}
		if ans.Failed != 32 || ans.Unknown != 0 {
			t.Fatalf("%+v", ans)
		}
		for _, r := range ans.Results {
			if r.Status != StatusFailed || r.Errors[0].Code != schema.CodeNotSent {
				t.Fatalf("%+v", r)
			}
		}
		for _, c := range ans.ProviderCalls {
			if c.Attempts != 0 {
				t.Fatalf("call report %+v: nothing was sent", c)
			}
		}
	}
	if st := conn.Breaker.State(); st != "closed" {
		t.Errorf("calls never sent moved the circuit to %s", st)
	}
}

// retryAfter fails its first call with the provider's Retry-After, then
// succeeds; it notes when each call came.
type retryAfter struct {
	flaky
	after time.Duration
	mu    sync.Mutex
	at    []time.Time
}

func (r *retryAfter) Do(ctx context.Context, call *Call) (CallResult, error) {
	r.mu.Lock()
	r.at = append(r.at, time.Now())
	n := len(r.at)
	r.mu.Unlock()
	if n == 1 {
		return CallResult{}, &RetryAfterError{Err: fmt.Errorf("fake: %w: HTTP 429", ErrUnavailable), After: r.after}
	}
	return r.flaky.Do(ctx, call)
}

func (r *retryAfter) gap() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.at) < 2 {
		return -1
	}
	return r.at[1].Sub(r.at[0])
}

func TestRetryAfterHonouredUpToTheCap(t *testing.T) {
	t.Parallel()
	req := Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)}
	t.Run("honoured", func(t *testing.T) {
		t.Parallel()
		p := &retryAfter{after: 400 * time.Millisecond}
		svc := &Service{Retry: RetryPolicy{Base: time.Millisecond, Cap: 5 * time.Second}}
		ans, err := svc.Import(context.Background(), newConn(t, p, Common{}), req)
		if err != nil || ans.Succeeded != 1 || ans.ProviderCalls[0].Attempts != 2 {
			t.Fatalf("%+v %v", ans, err)
		}
		if g := p.gap(); g < 350*time.Millisecond {
			t.Errorf("second attempt %v after the first; the provider asked for %v", g, p.after)
		}
	})
	t.Run("capped", func(t *testing.T) {
		t.Parallel()
		p := &retryAfter{after: time.Hour}
		svc := &Service{Retry: RetryPolicy{Base: time.Millisecond, Cap: 400 * time.Millisecond}}
		start := time.Now()
		ans, err := svc.Import(context.Background(), newConn(t, p, Common{}), req)
		if err != nil || ans.Succeeded != 1 {
			t.Fatalf("%+v %v", ans, err)
		}
		if g := p.gap(); g < 350*time.Millisecond || time.Since(start) > 30*time.Second {
			t.Errorf("second attempt %v after the first; the cap is 400ms", g)
		}
	})
	t.Run("deadline first", func(t *testing.T) {
		t.Parallel()
		p := &retryAfter{after: 10 * time.Second}
		svc := &Service{Retry: RetryPolicy{Base: time.Millisecond, Cap: time.Minute}}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		ans, err := svc.Import(ctx, newConn(t, p, Common{}), req)
		if err != nil {
			t.Fatal(err)
		}
		r := ans.Results[0]
		if r.Status != StatusUnknown || r.RetryAfter != 10 || ans.ProviderCalls[0].Attempts != 1 || p.gap() != -1 {
			t.Fatalf("%+v, %d attempts", r, ans.ProviderCalls[0].Attempts)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("answered after %v: past the request's deadline", el)
		}
	})
}

func (b *Breaker) trialInFlight() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.trial != nil
}
