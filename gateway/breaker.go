package gateway

import (
	"errors"
	"sync"
	"time"
)

// ErrCircuitOpen: the connection's provider failed too often in a row; calls
// are not sent until the cool-down has passed. It wraps ErrUnavailable.
var ErrCircuitOpen = errors.Join(ErrUnavailable, errors.New("circuit open: the provider failed repeatedly, calls are paused"))

// Breaker is a per-connection circuit breaker: after Threshold calls in a row
// that ended unavailable it opens for Cooldown, during which calls fail fast
// without being sent; then one trial call is let through (half-open), and its
// outcome closes or reopens the circuit.
type Breaker struct {
	Threshold int
	Cooldown  time.Duration
	Now       func() time.Time

	mu       sync.Mutex
	failures int
	openTill time.Time
	trial    bool // a half-open trial call is in flight
}

// Defaults of a Breaker.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Allow reports whether a call may be sent now; when not, how long until one
// may.
func (b *Breaker) Allow() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold() {
		return true, 0
	}
	now := b.now()
	if now.Before(b.openTill) {
		return false, b.openTill.Sub(now)
	}
	if b.trial {
		return false, b.cooldown()
	}
	b.trial = true
	return true, 0
}

// Record notes the outcome of a call that was sent: unavailable or not.
func (b *Breaker) Record(unavailable bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if !unavailable {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= b.threshold() {
		b.openTill = b.now().Add(b.cooldown())
	}
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
