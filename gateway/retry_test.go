package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// fakeClock is a clock the retry loop waits on without waiting: Sleep
// notes the wait and moves the clock on.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return true
}

// step is one attempt's answer in a script; after, when set, runs once
// the attempt is over.
type step struct {
	res   CallResult
	err   error
	after func()
}

// script is a CallFunc answering its steps in turn, the last one again
// once they are spent, and noting each attempt's number (attemptOf).
type script struct {
	steps []step
	seen  []int
}

func (s *script) call(ctx context.Context, _ *Call) (CallResult, error) {
	s.seen = append(s.seen, attemptOf(ctx))
	st := s.steps[min(len(s.seen), len(s.steps))-1]
	if st.after != nil {
		st.after()
	}
	return st.res, st.err
}

var (
	errDown     = fmt.Errorf("fake: %w: HTTP 503", ErrUnavailable)
	errRejected = errors.New("fake: the answer could not be read")
	errSlot     = errors.New("no slot")
)

func retryAfterOf(d time.Duration) error { return &RetryAfterError{Err: errDown, After: d} }

func TestWithRetry(t *testing.T) {
	t.Parallel()
	ok := step{res: CallResult{Report: CallReport{HTTPStatus: 200}}}
	down := step{res: CallResult{Report: CallReport{HTTPStatus: 503}}, err: errDown}
	throttled := WithRetryAfter(fmt.Errorf("fake: %w: HTTP 429", ErrUnavailable), http.StatusTooManyRequests, http.Header{}, time.Time{})
	policy := RetryPolicy{Base: 100 * time.Millisecond, Cap: time.Second}
	for _, tc := range []struct {
		name     string
		steps    []step
		retries  int
		stop     error         // what the circuit says before a retry
		deadline time.Duration // of the request, from the clock's now; 0: none
		cancel   bool          // the request ends during the first attempt
		attempts int
		status   int             // the result's HTTP status: the last attempt sent
		err      string          // the call's error, exactly; "" for none
		is       []error         // what the error wraps
		after    time.Duration   // RetryAfterOf the error
		slept    []time.Duration // exactly, unless jitter
		jitter   []time.Duration // the bounds of the jittered waits
		seen     []int           // the attempt numbers next saw
	}{
		{name: "answered at once", steps: []step{ok}, retries: 2, attempts: 1, status: 200, seen: []int{1}},
		{name: "retried until answered", steps: []step{down, down, ok}, retries: 2, attempts: 3, status: 200,
			jitter: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, seen: []int{1, 2, 3}},
		{name: "retries spent", steps: []step{down}, retries: 2, attempts: 3, status: 503, err: errDown.Error(), is: []error{ErrUnavailable},
			jitter: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, seen: []int{1, 2, 3}},
		{name: "retries 0 is none", steps: []step{down}, retries: 0, attempts: 1, status: 503, err: errDown.Error(), seen: []int{1}},
		{name: "not retryable", steps: []step{{err: errRejected}}, retries: 2, attempts: 1, err: errRejected.Error(), is: []error{errRejected}, seen: []int{1}},
		{name: "a 429 is retried", steps: []step{{err: throttled}, ok}, retries: 2, attempts: 2, status: 200,
			jitter: []time.Duration{100 * time.Millisecond}, seen: []int{1, 2}},
		{name: "Retry-After honoured", steps: []step{{err: retryAfterOf(400 * time.Millisecond)}, ok}, retries: 2, attempts: 2, status: 200,
			slept: []time.Duration{400 * time.Millisecond}, seen: []int{1, 2}},
		{name: "Retry-After capped", steps: []step{{err: retryAfterOf(time.Hour)}, ok}, retries: 2, attempts: 2, status: 200,
			slept: []time.Duration{time.Second}, seen: []int{1, 2}},
		{name: "the deadline comes before the wait is over", steps: []step{{err: retryAfterOf(400 * time.Millisecond)}, ok}, retries: 2,
			deadline: 300 * time.Millisecond, attempts: 1, err: errDown.Error() + " (no further attempt before the request deadline)",
			is: []error{ErrUnavailable}, after: 400 * time.Millisecond, seen: []int{1}},
		{name: "the request ends during an attempt", steps: []step{down}, retries: 2, cancel: true, attempts: 1, status: 503,
			err: errDown.Error(), seen: []int{1}},
		{name: "not sent at all", steps: []step{{err: &notSent{err: circuitOpen(10 * time.Second), then: errSlot}}}, retries: 2,
			attempts: 0, err: circuitOpen(10 * time.Second).Error(), is: []error{ErrCircuitOpen, ErrUnavailable}, after: 10 * time.Second, seen: []int{1}},
		{name: "a retry not sent", steps: []step{down, {err: &notSent{err: errors.Join(ErrUnavailable, errSlot), then: errSlot}}}, retries: 2,
			attempts: 1, status: 503, err: errDown.Error() + "; then " + errSlot.Error(), is: []error{ErrUnavailable, errSlot},
			jitter: []time.Duration{100 * time.Millisecond}, seen: []int{1, 2}},
		{name: "a retry not sent before the request ended", steps: []step{down, {err: &notSent{err: errors.Join(ErrUnavailable, errSlot)}}}, retries: 2,
			attempts: 1, status: 503, err: errDown.Error() + " (no further attempt before the request ended)", is: []error{ErrUnavailable},
			jitter: []time.Duration{100 * time.Millisecond}, seen: []int{1, 2}},
		{name: "the circuit opened: no wait, no retry", steps: []step{down}, retries: 2, stop: circuitOpen(10 * time.Second),
			attempts: 1, status: 503, err: errDown.Error() + "; then " + circuitOpen(10*time.Second).Error(), is: []error{ErrCircuitOpen},
			after: 10 * time.Second, seen: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{now: time.Now()}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.deadline > 0 {
				ctx, cancel = context.WithDeadline(ctx, clk.now.Add(tc.deadline))
				defer cancel()
			}
			steps := tc.steps
			if tc.cancel {
				steps = append([]step{{res: steps[0].res, err: steps[0].err, after: cancel}}, steps[1:]...)
			}
			next := &script{steps: steps}
			res, err := withRetry(policy, tc.retries, func() error { return tc.stop }, clk, next.call)(ctx, &Call{})

			if res.Report.Attempts != tc.attempts || res.Report.HTTPStatus != tc.status {
				t.Errorf("attempts %d, status %d; want %d, %d", res.Report.Attempts, res.Report.HTTPStatus, tc.attempts, tc.status)
			}
			if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
				t.Errorf("error %q, want %q", got, tc.err)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not wrap %v", err, target)
				}
			}
			if err != nil && asNotSent(err) != nil {
				t.Errorf("error %v still marks an attempt not sent", err)
			}
			if got := RetryAfterOf(err); got != tc.after {
				t.Errorf("RetryAfterOf %v, want %v", got, tc.after)
			}
			if tc.jitter != nil {
				if len(clk.slept) != len(tc.jitter) {
					t.Fatalf("waited %v, want %d waits", clk.slept, len(tc.jitter))
				}
				for i, d := range clk.slept {
					if d < 0 || d > tc.jitter[i] {
						t.Errorf("wait %d was %v, out of [0, %v]", i+1, d, tc.jitter[i])
					}
				}
			} else if fmt.Sprint(clk.slept) != fmt.Sprint(tc.slept) {
				t.Errorf("waited %v, want %v", clk.slept, tc.slept)
			}
			if fmt.Sprint(next.seen) != fmt.Sprint(tc.seen) {
				t.Errorf("attempt numbers %v, want %v", next.seen, tc.seen)
			}
		})
	}
}

// The backoff is capped exponential with full jitter: never above
// Base·2^(n-1) nor Cap.
func TestRetryPolicyWait(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Base: 250 * time.Millisecond, Cap: 5 * time.Second}
	for n, bound := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 6: 5 * time.Second, 80: 5 * time.Second} {
		for range 200 {
			if d := p.wait(n); d < 0 || d > bound {
				t.Fatalf("wait after attempt %d: %v, out of [0, %v]", n, d, bound)
			}
		}
	}
}
