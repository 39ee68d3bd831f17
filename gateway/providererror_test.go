package gateway

import (
	"errors"
	"testing"
)

func TestProviderErrorReadsAsOneSentence(t *testing.T) {
	e := &ProviderError{Provider: "WSCRM", Path: "/import", Status: 503, Code: "500", Message: "busy", Retryable: true}
	if got, want := e.Error(), "WSCRM: provider unavailable: /import answered HTTP 503 code 500 (busy)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrUnavailable) {
		t.Error("a retryable provider error is ErrUnavailable")
	}
	final := &ProviderError{Provider: "NXLink", Path: "/batch", Status: 302, Location: "https://elsewhere/"}
	if errors.Is(final, ErrUnavailable) {
		t.Error("a final provider error is not ErrUnavailable")
	}
	if got, want := final.Error(), "NXLink: /batch answered HTTP 302 redirecting to https://elsewhere/ (redirects are not followed)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
