package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrCircuitOpen: the connection's provider failed too often in a row; calls
// are not sent until the cool-down has passed. It wraps ErrUnavailable.
var ErrCircuitOpen = errors.Join(ErrUnavailable, errors.New("circuit open: the provider failed repeatedly, calls are paused"))

// Breaker is a per-connection circuit breaker: after Threshold calls in a row
// that found the provider unavailable it opens for Cooldown, during which
// calls fail fast without being sent; then one trial call is let through
// (half-open) while the other calls wait for its outcome: a trial the
// provider answered closes the circuit and they all go on, a failed one
// reopens it and they fail fast again.
//
// Only the provider's own failures count (Unavailable): a call cut short by
// its caller, or never sent, tells nothing of the provider (NoVerdict).
//
// It is not sony/gobreaker: there the calls beyond a half-open circuit's
// MaxRequests fail at once (ErrTooManyRequests) where these wait for the
// trial's outcome, the time is read from time.Now with no clock to inject
// (the cool-down could not be driven by a test's clock), and how long the
// circuit stays open, the retry_after of the records it refuses, is not
// told. A wrapper adding the three would be this type again around it.
type Breaker struct {
	Threshold int
	Cooldown  time.Duration
	Now       func() time.Time
	// OnChange, when set, is called (outside the breaker's lock) each time
	// the circuit opens ("open", also again after a failed trial) or
	// closes ("closed"), with the state before.
	OnChange func(from, to string)

	mu       sync.Mutex
	failures int
	openTill time.Time
	trial    chan struct{} // while a half-open trial is in flight; closed once its outcome is recorded
	// When a call was last answered, and last found the provider unavailable.
	lastSuccess, lastFailure time.Time
}

// Defaults of a Breaker.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

// Verdict is what the outcome of a call says of the provider's health.
type Verdict int

// Verdicts.
const (
	// Answered: the provider answered, whatever it said.
	Answered Verdict = iota
	// Unavailable: the provider failed (HTTP 5xx, its own timeout — the
	// call's timeout —, a connection refused or reset).
	Unavailable
	// NoVerdict: the call was not sent, or its caller gave up on it (the
	// request was cancelled or its deadline passed).
	NoVerdict
)

// Ticket is the permission to send one call; give it back to Record.
type Ticket struct {
	trial chan struct{} // the half-open trial's, when the call is the trial
}

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Allow reports whether a call may be sent now; when not, how long until one
// may (0 when ctx ended first). While a half-open trial is in flight it waits,
// bounded by ctx, for the trial's outcome. Every ticket of an allowed call
// must be given back to Record.
func (b *Breaker) Allow(ctx context.Context) (Ticket, time.Duration, bool) {
	for {
		b.mu.Lock()
		if b.failures < b.threshold() {
			b.mu.Unlock()
			return Ticket{}, 0, true
		}
		now := b.now()
		if now.Before(b.openTill) {
			b.mu.Unlock()
			return Ticket{}, b.openTill.Sub(now), false
		}
		if b.trial == nil {
			b.trial = make(chan struct{})
			b.mu.Unlock()
			return Ticket{trial: b.trial}, 0, true
		}
		done := b.trial
		b.mu.Unlock()
		select {
		case <-done:
			// Closed, reopened, or the trial said nothing: look again.
		case <-ctx.Done():
			return Ticket{}, 0, false
		}
	}
}

// Record notes the outcome of a call that Allow let through.
func (b *Breaker) Record(t Ticket, v Verdict) {
	b.mu.Lock()
	from := b.stateLocked()
	switch v {
	case Answered:
		b.lastSuccess = b.now()
		b.failures = 0
		b.endTrial() // the provider is back: whoever waits goes on
	case Unavailable:
		b.lastFailure = b.now()
		b.failures++
		if b.failures >= b.threshold() {
			b.openTill = b.now().Add(b.cooldown())
		}
	}
	if t.trial != nil && t.trial == b.trial {
		b.endTrial()
	}
	to := b.stateLocked()
	hook := b.OnChange
	b.mu.Unlock()
	if hook != nil && from != to && (to == "open" || to == "closed") {
		hook(from, to)
	}
}

func (b *Breaker) endTrial() {
	if b.trial != nil {
		close(b.trial)
		b.trial = nil
	}
}

// withBreaker sends a call through next when b allows it (Allow: waiting,
// while a half-open trial is in flight, for its outcome) and records what
// the outcome says of the provider (verdict). A call b refuses is not sent,
// a *notSent error: a *RetryAfterError wrapping ErrCircuitOpen with the
// time the circuit stays open, or, when ctx ended while the call waited
// for the trial, ErrUnavailable saying so.
func withBreaker(b *Breaker, next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		ticket, wait, ok := b.Allow(ctx)
		if !ok {
			var stop error
			if ctx.Err() != nil {
				stop = fmt.Errorf("%w: the circuit is half-open and its trial call had not answered before the request ended: %v", ErrUnavailable, ctx.Err())
			} else {
				stop = circuitOpen(wait)
			}
			return CallResult{}, &notSent{err: stop, then: stop}
		}
		res, err := next(ctx, call)
		b.Record(ticket, verdict(ctx, err))
		return res, err
	}
}

// verdict says what a call's outcome tells of the provider. A call that was
// not sent (a *notSent error), or that failed while its request's context
// had ended, was cut short by the caller (who hung up, or whose deadline
// passed), not by the provider; the call's own timeout (the connection's
// Timeout) expiring is the provider's failure. A 429 is an answer: the
// provider is up, and the retry loop already slows down.
func verdict(ctx context.Context, err error) Verdict {
	switch {
	case err == nil:
		return Answered
	case asNotSent(err) != nil:
		return NoVerdict
	case !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrThrottled):
		return Answered
	case ctx.Err() != nil:
		return NoVerdict
	}
	return Unavailable
}

// circuitOpen is the error of a call not sent because the circuit is open
// for wait.
func circuitOpen(wait time.Duration) error {
	return &RetryAfterError{Err: fmt.Errorf("%w (retry in %ds)", ErrCircuitOpen, seconds(wait)), After: wait}
}

// refusal is circuitOpen of the time the circuit stays open, nil when it
// is not open: what the retry loop asks before it waits to retry.
func (b *Breaker) refusal() error {
	if wait := b.openFor(); wait > 0 {
		return circuitOpen(wait)
	}
	return nil
}

// openFor is how long the circuit stays open; 0 when it is not open.
func (b *Breaker) openFor() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold() {
		return 0
	}
	return max(b.openTill.Sub(b.now()), 0)
}

// Circuit is what a Breaker shows of itself: its state, and when a call was
// last answered by the provider and last found it unavailable (nil: never
// since the process started, and left out).
type Circuit struct {
	State         string     `json:"state" validate:"required" enums:"closed,open,half_open" example:"closed"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty" format:"date-time"`
	LastFailureAt *time.Time `json:"last_failure_at,omitempty" format:"date-time"`
} //	@name	Circuit

// Circuit reports the breaker's state and its last success and failure.
func (b *Breaker) Circuit() Circuit {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := Circuit{State: b.stateLocked()}
	if !b.lastSuccess.IsZero() {
		t := b.lastSuccess
		c.LastSuccessAt = &t
	}
	if !b.lastFailure.IsZero() {
		t := b.lastFailure
		c.LastFailureAt = &t
	}
	return c
}

// State is "closed", "open" or "half_open".
func (b *Breaker) State() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stateLocked()
}

func (b *Breaker) stateLocked() string {
	switch {
	case b.failures < b.threshold():
		return "closed"
	case b.now().Before(b.openTill):
		return "open"
	}
	return "half_open"
}

func (b *Breaker) threshold() int {
	if b.Threshold <= 0 {
		return DefaultBreakerThreshold
	}
	return b.Threshold
}

func (b *Breaker) cooldown() time.Duration {
	if b.Cooldown <= 0 {
		return DefaultBreakerCooldown
	}
	return b.Cooldown
}
