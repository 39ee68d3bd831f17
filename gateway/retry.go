package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy shapes the backoff between attempts of one call: capped
// exponential with full jitter.
type RetryPolicy struct {
	Base time.Duration
	Cap  time.Duration
}

// DefaultRetryPolicy waits up to 250 ms, 500 ms, 1 s … capped at 5 s.
var DefaultRetryPolicy = RetryPolicy{Base: 250 * time.Millisecond, Cap: 5 * time.Second}

// wait is the jittered backoff before the retry that follows attempt
// (1 for the first retry): uniform in [0, min(Base·2^(attempt-1), Cap)].
func (p RetryPolicy) wait(attempt int) time.Duration {
	d := p.Base << (attempt - 1)
	if d > p.Cap || d <= 0 {
		d = p.Cap
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// clock is what the retry loop reads the time from and waits on.
type clock interface {
	Now() time.Time
	// Sleep waits d; it returns false, sooner, when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) bool
}

// wallClock is the real time.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// withRetry sends a call through next until the provider answers, the
// error is not retryable (does not wrap ErrUnavailable), retries extra
// attempts are spent (0: none), next did not send it (a *notSent error),
// stop refuses a retry or ctx ends. The result is the last attempt that
// was sent, with Report.Attempts set to the number of attempts sent; with
// 0 nothing went out and the result is empty.
//
// Before a retry it asks stop (nil when it has nothing against one): its
// error ends the call at once, rather than after the backoff, said after
// the last attempt's error ("…; then …"). Then it waits the provider's
// Retry-After when the failed attempt carried one (RetryAfterOf), else the
// policy's jittered backoff; never more than the policy's Cap, and no retry
// is started when ctx's deadline comes before the wait is over.
//
// Every attempt after the first runs with its number in its context
// (attemptOf), for the attempt's span.
func withRetry(policy RetryPolicy, retries int, stop func() error, clk clock, next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		var (
			res      CallResult
			err      error
			attempts int
		)
		for {
			actx := ctx
			if attempts > 0 {
				if serr := stop(); serr != nil {
					return sent(res, attempts), fmt.Errorf("%w; then %w", err, serr)
				}
				wait := policy.wait(attempts)
				if ra := RetryAfterOf(err); ra > 0 {
					wait = min(ra, policy.Cap)
				}
				if dl, ok := ctx.Deadline(); ok && dl.Sub(clk.Now()) <= wait {
					return sent(res, attempts), fmt.Errorf("%w (no further attempt before the request deadline)", err)
				}
				if !clk.Sleep(ctx, wait) {
					return sent(res, attempts), fmt.Errorf("%w (no further attempt before the request deadline)", err)
				}
				actx = withAttempt(ctx, attempts+1)
			}
			r, e := next(actx, call)
			if e != nil {
				if ns := asNotSent(e); ns != nil {
					if attempts == 0 {
						return CallResult{}, ns.err
					}
					return sent(res, attempts), ns.after(err)
				}
			}
			attempts++
			res, err = r, e
			if err == nil || !errors.Is(err, ErrUnavailable) || attempts > retries || ctx.Err() != nil {
				return sent(res, attempts), err
			}
		}
	}
}

// sent is res reporting attempts attempts.
func sent(res CallResult, attempts int) CallResult {
	res.Report.Attempts = attempts
	return res
}

type attemptKey struct{}

// withAttempt is ctx of the attempt numbered n (2 for the first retry).
func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// attemptOf is the number of the attempt ctx belongs to: 1 unless withRetry
// said otherwise, so that a first attempt costs no context of its own.
func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}
