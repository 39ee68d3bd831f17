package gateway

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goIdentifier is how a Go function or method shows in a wrapped error
// ("nxlink.Do:", "fieldconfig.Redis.Seed").
var goIdentifier = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[A-Z][A-Za-z0-9]*\b`)

func TestDescribe(t *testing.T) {
	t.Parallel()
	refused := &ProviderError{Provider: "NXLink", Path: "/admin/open_api/customer/import", Status: 200, Code: "31", Message: "tenant disabled"}
	tests := []struct {
		name string
		err  error
		want string // the whole description
	}{
		{"nil", nil, ""},
		{"a provider's refusal, wrapped by its adapter", fmt.Errorf("nxlink.Do: %w", refused),
			"NXLink: /admin/open_api/customer/import answered HTTP 200 code 31 (tenant disabled)"},
		{"a transport failure", fmt.Errorf("nxlink.Do: %w: %v", ErrUnavailable, errors.New(`Post "https://api-hk.nxlink.ai/x": dial tcp: connection refused`)),
			"the provider could not be reached, or did not answer in time"},
		{"the circuit open after a failure", fmt.Errorf("%w; then %w", fmt.Errorf("wscrm.Do: %w: reset", ErrUnavailable), circuitOpen(30*time.Second)),
			"the provider failed repeatedly, so calls to it are paused; retry in 30 s"},
		{"an answer too large", fmt.Errorf("wscrm.Do: %w", ErrAnswerTooLarge), "the provider's answer is too large: larger than any answer to this call can be"},
		{"the deadline", fmt.Errorf("nxlink.Do: %w", context.DeadlineExceeded), "the request's deadline passed before the provider answered"},
		{"the caller gone", fmt.Errorf("nxlink.Do: %w", context.Canceled), "the request ended before the provider answered"},
		{"an answer that is not JSON", errors.New("wscrm.Query: answer is not JSON: <html>"), "the provider's answer could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Describe(tt.err)
			if got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
			if goIdentifier.MatchString(got) || strings.Contains(got, "\n") {
				t.Errorf("Describe = %q names Go code or spans lines", got)
			}
		})
	}
}
