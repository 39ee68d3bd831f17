package gateway

import (
	"fmt"
	"strings"
)

// ProviderError is a provider's refusal or failure of a whole call, as its
// adapter read it: every adapter answers with this one type, so the service,
// the API and the logs read one shape. Its message names the provider and
// the path, never a credential or a Go identifier.
type ProviderError struct {
	Provider  string // the provider's name as users know it, e.g. "WSCRM"
	Path      string // the provider path called
	Status    int    // the HTTP status, 0 when no answer came
	Code      string // the provider's own code, "" when none was read
	Message   string // the provider's message, or a description
	Location  string // a redirect's Location (never followed), "" otherwise
	Retryable bool   // a later attempt may succeed (5xx, 429, the provider's own server-error code)
}

// Error describes the failure.
func (e *ProviderError) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Retryable {
		b.WriteString(ErrUnavailable.Error())
		b.WriteString(": ")
	}
	if e.Path != "" {
		fmt.Fprintf(&b, "%s answered", e.Path)
	} else {
		b.WriteString("answered")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " HTTP %d", e.Status)
	}
	if e.Location != "" {
		fmt.Fprintf(&b, " redirecting to %s (redirects are not followed)", e.Location)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	return b.String()
}

// Unwrap returns ErrUnavailable for a retryable error, nil otherwise, so
// errors.Is(err, ErrUnavailable) tells the service to retry.
func (e *ProviderError) Unwrap() error {
	if e.Retryable {
		return ErrUnavailable
	}
	return nil
}
