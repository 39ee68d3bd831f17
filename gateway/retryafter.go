package gateway

import (
	"errors"
	"time"
)

// RetryAfterError is a provider error that came with the provider's own
// word on when to try again (an HTTP Retry-After on a 429 or 503). It wraps
// the call's error, so errors.Is(err, ErrUnavailable) still tells whether
// the call may be retried.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfterOf returns the wait the provider asked for in err, or 0 when it
// asked for none.
func RetryAfterOf(err error) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return ra.After
	}
	return 0
}
