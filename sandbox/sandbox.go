// Package sandbox is what the no-config sandbox needs of a provider's
// simulator: a running account that serves as one connection, and, where
// the simulator can send webhooks, the hook behind
// POST /v1/sandbox/{connection}/changes. The core gateway knows nothing of
// simulators; the providers table (package providers) pairs each adapter
// with its simulator's Start.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"crmgate/fieldconfig"
	"crmgate/gateway"
)

// Start starts a provider's simulator for the no-config sandbox and returns
// the connection it serves. gatewayURL is where the gateway listens (for
// simulators that call back, e.g. with webhooks).
type Start func(ctx context.Context, gatewayURL string) (*Sandbox, error)

// Sandbox is one simulated provider account of the no-config sandbox.
type Sandbox struct {
	Common      gateway.Common     // id, base URL (the simulator's), limits
	Config      any                // the provider-specific configuration, as NewConfig's type
	FieldConfig fieldconfig.Config // a sample field configuration
	Handler     http.Handler       // the simulator, already serving at Common.BaseURL
	Close       func()             // stops the simulator
	Changes     ChangeSimulator    // nil when the simulator cannot send webhooks
}

// ChangeSimulator is a simulator that can make the provider send a webhook,
// as if an agent had changed a customer (POST /v1/sandbox/{connection}/changes).
// rules are the connection's current field configuration: its custom fields
// are the extension fields a change may name (nil: none).
type ChangeSimulator interface {
	SimulateChange(ctx context.Context, change json.RawMessage, rules *fieldconfig.Rules) error
}

// ChangeFieldError is a sandbox change naming a field the simulator's
// webhook cannot carry. Accepted lists what it can: canonical names, the
// provider's own labels for them, and the connection's custom fields.
type ChangeFieldError struct {
	Field     string
	Canonical []string // canonical field names the webhook carries
	Labels    []string // the provider's labels for them, as its webhook writes them
	Custom    []string // the connection's configured custom fields
}

func (e *ChangeFieldError) Error() string {
	return fmt.Sprintf("field %q is not one this connection's webhook carries; accepted: %s", e.Field, e.AcceptedText())
}

// Accepted is every name a change may give as its field.
func (e *ChangeFieldError) Accepted() []string {
	out := make([]string, 0, len(e.Canonical)+len(e.Labels)+len(e.Custom))
	out = append(out, e.Canonical...)
	out = append(out, e.Labels...)
	return append(out, e.Custom...)
}

// AcceptedText says what Accepted holds, by kind.
func (e *ChangeFieldError) AcceptedText() string {
	custom := "none configured"
	if len(e.Custom) > 0 {
		custom = strings.Join(e.Custom, ", ")
	}
	return fmt.Sprintf("canonical fields %s; provider labels %s; custom fields %s",
		strings.Join(e.Canonical, ", "), strings.Join(e.Labels, ", "), custom)
}

// ErrBadChange marks a sandbox change that cannot become a webhook.
var ErrBadChange = errors.New("bad sandbox change")

// ChangeError is a sandbox change that cannot become a webhook; Reason says
// why in words for the caller ("to: required").
type ChangeError struct{ Reason string }

func (e *ChangeError) Error() string { return ErrBadChange.Error() + ": " + e.Reason }

// Unwrap returns ErrBadChange.
func (e *ChangeError) Unwrap() error { return ErrBadChange }
