package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Helpers the adapters share for their outbound calls.

// NoRedirect returns a copy of hc that follows no redirect: a 3xx comes back
// to the caller as the answer. Provider calls carry credentials (WSCRM's
// token header, NXLink's signed body), which a followed redirect would hand
// to whatever host the Location names. The copy shares hc's Transport (and
// its connection pool).
func NoRedirect(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = refuseRedirect
	return &c
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// IsRedirect reports whether status is a 3xx.
func IsRedirect(status int) bool { return status >= 300 && status <= 399 }

// RedirectLocation is resp's Location header for error messages: without
// userinfo, and cut to 200 bytes.
func RedirectLocation(resp *http.Response) string {
	loc := strings.TrimSpace(resp.Header.Get("Location"))
	if loc == "" {
		return "(none)"
	}
	if u, err := url.Parse(loc); err == nil && u.User != nil {
		u.User = nil
		loc = u.String()
	}
	if len(loc) > 200 {
		loc = loc[:200] + "…"
	}
	return loc
}

// ErrAnswerTooLarge marks a provider answer longer than the call can
// legitimately return. The records were sent, so their outcome is unknown;
// it is not retried (the same call would get the same answer).
var ErrAnswerTooLarge = errors.New("provider answer too large")

// ReadAnswer reads r up to limit bytes. An answer longer than limit is an
// error wrapping ErrAnswerTooLarge, and no more than limit+1 bytes are read.
func ReadAnswer(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes, the most this call can legitimately return", ErrAnswerTooLarge, limit)
	}
	return b, nil
}

// maxRetryAfter bounds a provider's Retry-After (the retry loop caps it
// further).
const maxRetryAfter = 24 * time.Hour

// RetryAfterHeader reads the Retry-After header of an answer: delay-seconds
// or an HTTP-date (RFC 9110 §10.2.3), relative to now. It returns 0 when the
// header is absent, unreadable, or names no wait.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// WithRetryAfter wraps err, a retryable error of an answer with HTTP status
// 429 or 503, in a *RetryAfterError when the answer's Retry-After names a
// wait, and marks a 429 as ErrThrottled; otherwise it returns err unchanged.
func WithRetryAfter(err error, status int, h http.Header, now time.Time) error {
	if err == nil || (status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable) {
		return err
	}
	if status == http.StatusTooManyRequests {
		err = &throttled{err}
	}
	if d := RetryAfterHeader(h, now); d > 0 {
		return &RetryAfterError{Err: err, After: d}
	}
	return err
}

// ErrThrottled marks a call the provider refused with HTTP 429: it is
// retried like ErrUnavailable (errors.Is(err, ErrUnavailable) holds too),
// but it tells that the provider is up and asking for fewer calls, so it
// never counts towards opening the connection's circuit.
var ErrThrottled = errors.New("provider throttled the call")

type throttled struct{ err error }

func (t *throttled) Error() string   { return t.err.Error() }
func (t *throttled) Unwrap() []error { return []error{t.err, ErrThrottled} }
