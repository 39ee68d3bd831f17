package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CallFunc sends one provider call and answers as Provider.Do does: one
// Outcome per record, or an error that wraps ErrUnavailable when a later
// attempt may succeed.
//
// The service sends every call through decorators of the adapter's Do,
// one concern each, composed once per connection (caller):
//
//	withRetry → withBreaker → withLimit → withGate → withDeadline → withSpan → Provider.Do
//
// A decorator that does not send an attempt (the circuit refused it, no
// call slot came before the request ended) fails it with a *notSent error,
// which the breaker takes for no verdict and the retry loop does not count
// as an attempt.
type CallFunc func(ctx context.Context, call *Call) (CallResult, error)

// composed is a connection's caller as one Service composed it around one
// Breaker.
type composed struct {
	svc     *Service
	breaker *Breaker
	send    CallFunc
}

// caller is how s sends conn's calls: the adapter's Do, its span (when s
// traces), the per-call timeout, the slot of a limit shared beyond the
// process (when the call's context has one, WithGate), the connection's
// own slot, its circuit breaker, and the retries. It is composed once and
// kept on conn, again only when another Service sends to conn or conn's
// Breaker was replaced.
func (s *Service) caller(conn *Connection) CallFunc {
	if c := conn.caller.Load(); c != nil && c.svc == s && c.breaker == conn.Breaker {
		return c.send
	}
	b := conn.Breaker
	send := conn.Provider.Do
	if s.Tracer != nil {
		send = s.withSpan(conn, send)
	}
	send = withBreaker(b, withLimit(conn.sem, withGate(withDeadline(conn.Timeout, send))))
	policy := s.Retry
	if policy.Base == 0 {
		policy = DefaultRetryPolicy
	}
	send = withRetry(policy, conn.MaxRetries(), b.refusal, wallClock{}, send)
	conn.caller.Store(&composed{svc: s, breaker: b, send: send})
	return send
}

// notSent is the error of an attempt that a decorator did not send. err
// is the call's error when no earlier attempt went out. After an attempt
// that failed with prev it is said after prev (after).
type notSent struct {
	err error
	// then follows "prev; then "; nil: the request ended before the
	// attempt could go out, and prev says that no further attempt was made.
	then error
}

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }

// asNotSent is err's *notSent, nil when err is none (or nil). It costs an
// allocation: call it with an error only.
func asNotSent(err error) *notSent {
	var ns *notSent
	if errors.As(err, &ns) {
		return ns
	}
	return nil
}

// after is the call's error when an earlier attempt had failed with prev.
func (e *notSent) after(prev error) error {
	if e.then == nil {
		return fmt.Errorf("%w (no further attempt before the request ended)", prev)
	}
	return fmt.Errorf("%w; then %w", prev, e.then)
}

// withLimit sends a call through next holding one of sem's slots (the
// connection's concurrency within this process), waiting for one as long
// as ctx lasts. A call whose ctx has ended is never sent, even when a slot
// came at the same moment: a *notSent error.
func withLimit(sem chan struct{}, next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		slot := false
		select {
		case sem <- struct{}{}:
			slot = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// Both may be ready at once and select picks either.
			if slot {
				<-sem
			}
			return CallResult{}, &notSent{err: fmt.Errorf("%w: not sent before the request ended: %v", ErrUnavailable, ctx.Err())}
		}
		res, err := next(ctx, call)
		<-sem
		return res, err
	}
}

// withGate sends a call through next holding a slot of the Gate of ctx
// (WithGate: a connection's concurrency shared beyond this process), given
// back once next has answered; without one, through next alone. When the
// Gate gives no slot the call is not sent: a *notSent error.
func withGate(next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		g := gateOf(ctx)
		if g == nil {
			return next(ctx, call)
		}
		release, err := g(ctx)
		if err != nil {
			return CallResult{}, &notSent{err: fmt.Errorf("%w: no call slot: %v", ErrUnavailable, err), then: fmt.Errorf("no call slot: %v", err)}
		}
		res, err := next(ctx, call)
		release()
		return res, err
	}
}

// withDeadline sends a call through next within timeout (the connection's
// per-call timeout), inside ctx's own deadline.
func withDeadline(timeout time.Duration, next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		res, err := next(cctx, call)
		cancel()
		return res, err
	}
}
