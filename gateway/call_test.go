package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// canned is a CallFunc that answers err and counts its calls.
type canned struct {
	err   error
	calls atomic.Int32
}

func (a *canned) call(context.Context, *Call) (CallResult, error) {
	a.calls.Add(1)
	return CallResult{Report: CallReport{HTTPStatus: 200}}, a.err
}

// What each outcome of a call tells the breaker, and what an open circuit
// answers without calling next.
func TestWithBreaker(t *testing.T) {
	t.Parallel()
	throttled := WithRetryAfter(fmt.Errorf("fake: %w: HTTP 429", ErrUnavailable), http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}, time.Now())
	for _, tc := range []struct {
		name     string
		open     bool // the circuit is open before the call
		ended    bool // the request ended before the call came back
		err      error
		calls    int32
		state    string
		answered bool // the call counted as an answer (LastSuccessAt)
		failed   bool // the call counted as the provider's failure (LastFailureAt)
	}{
		{name: "answered", calls: 1, state: "closed", answered: true},
		{name: "unavailable opens", err: errDown, calls: 1, state: "open", failed: true},
		{name: "a 429 is an answer", err: throttled, calls: 1, state: "closed", answered: true},
		{name: "an unreadable answer is an answer", err: errRejected, calls: 1, state: "closed", answered: true},
		{name: "cut short by its caller: no verdict", ended: true, err: errDown, calls: 1, state: "closed"},
		{name: "not sent below: no verdict", err: &notSent{err: errors.Join(ErrUnavailable, errSlot), then: errSlot}, calls: 1, state: "closed"},
		{name: "open: refused, not sent", open: true, calls: 0, state: "open", failed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Unix(1000, 0)
			b := &Breaker{Threshold: 1, Cooldown: 10 * time.Second, Now: func() time.Time { return now }}
			if tc.open {
				tk, _, _ := b.Allow(context.Background())
				b.Record(tk, Unavailable)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			next := &canned{err: tc.err}
			send := withBreaker(b, func(ctx context.Context, call *Call) (CallResult, error) {
				if tc.ended {
					cancel()
				}
				return next.call(ctx, call)
			})
			_, err := send(ctx, &Call{})
			if next.calls.Load() != tc.calls {
				t.Errorf("next called %d times, want %d", next.calls.Load(), tc.calls)
			}
			c := b.Circuit()
			if c.State != tc.state || (c.LastSuccessAt != nil) != tc.answered || (c.LastFailureAt != nil) != tc.failed {
				t.Errorf("circuit %+v, want %s, answered %v, failed %v", c, tc.state, tc.answered, tc.failed)
			}
			if tc.open {
				if asNotSent(err) == nil || !errors.Is(err, ErrCircuitOpen) || RetryAfterOf(err) != 10*time.Second {
					t.Errorf("refused with %v (retry after %v)", err, RetryAfterOf(err))
				}
			} else if err != tc.err {
				t.Errorf("error %v, want next's %v", err, tc.err)
			}
		})
	}
}

// halfOpen is a breaker whose circuit opened and whose cool-down passed.
func halfOpen(t *testing.T) *Breaker {
	t.Helper()
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	b := &Breaker{Threshold: 1, Cooldown: 10 * time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	tk, _, _ := b.Allow(context.Background())
	b.Record(tk, Unavailable)
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if st := b.State(); st != "half_open" {
		t.Fatalf("state %s", st)
	}
	return b
}

// While the half-open trial is in flight the other calls wait for its
// outcome: sent once it was answered, refused once it failed, and given up
// alone by one whose request ends first.
func TestWithBreakerHalfOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		trial     error
		waiterEnd bool // the waiter's request has ended
		sent      bool // the waiter was sent
		message   string
		state     string
	}{
		{name: "the trial is answered", sent: true, state: "closed"},
		{name: "the trial fails", trial: errDown, message: "circuit open", state: "open"},
		{name: "the waiter's request ends", waiterEnd: true, message: "the circuit is half-open and its trial call had not answered before the request ended", state: "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := halfOpen(t)
			entered, release := make(chan struct{}), make(chan struct{})
			var trialDone atomic.Bool
			trial := withBreaker(b, func(context.Context, *Call) (CallResult, error) {
				close(entered)
				<-release
				trialDone.Store(true)
				return CallResult{}, tc.trial
			})
			trialErr := make(chan error, 1)
			go func() { _, err := trial(context.Background(), &Call{}); trialErr <- err }()
			<-entered

			var waiterSent atomic.Bool
			waiter := withBreaker(b, func(context.Context, *Call) (CallResult, error) {
				if !trialDone.Load() {
					t.Error("a waiter was sent while the trial was in flight")
				}
				waiterSent.Store(true)
				return CallResult{}, nil
			})
			ctx, cancel := context.WithCancel(context.Background())
			if tc.waiterEnd {
				cancel()
			}
			defer cancel()
			waiterErr := make(chan error, 1)
			go func() { _, err := waiter(ctx, &Call{}); waiterErr <- err }()
			if tc.waiterEnd {
				// It gave up before the trial answered.
				err := <-waiterErr
				if asNotSent(err) == nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.message) {
					t.Errorf("the waiter: %v", err)
				}
			}
			close(release)
			if err := <-trialErr; err != tc.trial {
				t.Errorf("the trial: %v", err)
			}
			if !tc.waiterEnd {
				err := <-waiterErr
				if tc.sent && err != nil || !tc.sent && (asNotSent(err) == nil || !strings.Contains(err.Error(), tc.message)) {
					t.Errorf("the waiter: %v", err)
				}
			}
			if waiterSent.Load() != tc.sent {
				t.Errorf("the waiter sent: %v, want %v", waiterSent.Load(), tc.sent)
			}
			if st := b.State(); st != tc.state {
				t.Errorf("state %s, want %s", st, tc.state)
			}
		})
	}
}

// The connection's slots bound the calls in flight; a call whose request
// has ended is never sent, and no slot stays taken.
func TestWithLimit(t *testing.T) {
	t.Parallel()
	t.Run("bound", func(t *testing.T) {
		t.Parallel()
		sem := make(chan struct{}, 2)
		var mu sync.Mutex
		inFlight, peak := 0, 0
		entered, release := make(chan struct{}), make(chan struct{})
		send := withLimit(sem, func(context.Context, *Call) (CallResult, error) {
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			entered <- struct{}{}
			<-release
			mu.Lock()
			inFlight--
			mu.Unlock()
			return CallResult{}, nil
		})
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if _, err := send(context.Background(), &Call{}); err != nil {
					t.Error(err)
				}
			})
		}
		for range 5 {
			<-entered
			release <- struct{}{}
		}
		wg.Wait()
		if peak > 2 || len(sem) != 0 {
			t.Fatalf("%d calls in flight at once, %d slots still taken; the limit is 2", peak, len(sem))
		}
	})
	for _, full := range []bool{false, true} {
		t.Run(fmt.Sprintf("ended, slots full %v", full), func(t *testing.T) {
			t.Parallel()
			sem := make(chan struct{}, 1)
			if full {
				sem <- struct{}{}
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			next := &canned{}
			send := withLimit(sem, next.call)
			// A free slot and the end are both ready: whichever the select
			// takes, nothing is sent and no slot stays taken.
			for range 64 {
				_, err := send(ctx, &Call{})
				ns := asNotSent(err)
				if next.calls.Load() != 0 || ns == nil || ns.then != nil || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not sent before the request ended") {
					t.Fatalf("%d calls, error %v", next.calls.Load(), err)
				}
				if want := map[bool]int{false: 0, true: 1}[full]; len(sem) != want {
					t.Fatalf("%d slots taken, want %d", len(sem), want)
				}
			}
		})
	}
}

// The Gate of the call's context is held while the call is in flight;
// without one the call goes through alone; a Gate that gives no slot sends
// nothing.
func TestWithGate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		gate    bool
		gateErr error
		calls   int32
	}{
		{name: "no gate", calls: 1},
		{name: "a slot", gate: true, calls: 1},
		{name: "no slot", gate: true, gateErr: errSlot, calls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var held, released atomic.Int32
			ctx := context.Background()
			if tc.gate {
				ctx = WithGate(ctx, func(context.Context) (func(), error) {
					if tc.gateErr != nil {
						return nil, tc.gateErr
					}
					held.Add(1)
					return func() { released.Add(1) }, nil
				})
			}
			var heldDuring int32
			next := &canned{}
			_, err := withGate(func(ctx context.Context, call *Call) (CallResult, error) {
				heldDuring = held.Load() - released.Load()
				return next.call(ctx, call)
			})(ctx, &Call{})
			if next.calls.Load() != tc.calls {
				t.Fatalf("%d calls, want %d", next.calls.Load(), tc.calls)
			}
			if tc.gateErr != nil {
				ns := asNotSent(err)
				if ns == nil || !errors.Is(err, ErrUnavailable) || err.Error() != "provider unavailable: no call slot: no slot" || ns.then.Error() != "no call slot: no slot" {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil || released.Load() != held.Load() || (tc.gate && heldDuring != 1) {
				t.Fatalf("error %v; %d slots taken, %d given back, %d held during the call", err, held.Load(), released.Load(), heldDuring)
			}
		})
	}
}

// Each attempt has the connection's timeout within the request's own
// deadline, and its context is done once it has answered.
func TestWithDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		request time.Duration // 0: no deadline
		timeout time.Duration
		want    time.Duration // the attempt's deadline, from its start
	}{
		{name: "the call's timeout", timeout: time.Minute, want: time.Minute},
		{name: "the request's deadline first", request: time.Second, timeout: time.Minute, want: time.Second},
		{name: "the call's timeout first", request: time.Hour, timeout: time.Minute, want: time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			start := time.Now()
			if tc.request > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.request))
				defer cancel()
			}
			var seen context.Context
			_, _ = withDeadline(tc.timeout, func(ctx context.Context, _ *Call) (CallResult, error) {
				seen = ctx
				return CallResult{}, nil
			})(ctx, &Call{})
			dl, ok := seen.Deadline()
			if !ok || dl.Before(start.Add(tc.want)) || dl.After(time.Now().Add(tc.want)) {
				t.Errorf("deadline %v after the start, want %v", dl.Sub(start), tc.want)
			}
			if seen.Err() == nil {
				t.Error("the attempt's context is not done once it answered")
			}
		})
	}
}

// An attempt's span carries the attempt's number from its context and the
// error status of a failed attempt.
func TestWithSpan(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	s := &Service{Tracer: tp.Tracer("test")}
	conn := newConn(t, &flaky{}, Common{})
	send := s.withSpan(conn, (&canned{err: errDown}).call)
	_, _ = send(context.Background(), &Call{Method: "POST", Path: "/x"})
	_, _ = send(withAttempt(context.Background(), 3), &Call{Method: "POST", Path: "/x"})
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, want := range []int64{1, 3} {
		var attempt int64
		for _, kv := range spans[i].Attributes {
			if kv.Key == AttrAttempt {
				attempt = kv.Value.AsInt64()
			}
		}
		if spans[i].Name != SpanProviderCall || attempt != want || spans[i].Status.Description != errDown.Error() {
			t.Errorf("span %d: %s, attempt %d, status %+v; want attempt %d", i, spans[i].Name, attempt, spans[i].Status, want)
		}
	}
}
