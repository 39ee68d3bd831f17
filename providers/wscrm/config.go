package wscrm

import (
	"errors"
	"fmt"
	"time"

	"crmgate/secret"
)

// Webhook verification modes.
const (
	WebhookStatic = "static" // accessToken compared with Webhook.Token
	WebhookHMAC   = "hmac"   // accessToken = hex HMAC-SHA256(Webhook.Secret, tenantId + "." + timestamp)
)

// DefaultTolerance is how far a webhook's timestamp may be from the clock.
const DefaultTolerance = 5 * time.Minute

// Config is a WSCRM connection's own keys (beside gateway.Common's).
type Config struct {
	TenantID int64        `yaml:"tenant_id"`
	Token    secret.Value `yaml:"token"` // optional header "token"
	// ProviderTimeZone is how the provider's zone-less times are read (IANA
	// name, default UTC).
	ProviderTimeZone string  `yaml:"provider_time_zone"`
	Webhook          Webhook `yaml:"webhook"`
	// Agents maps agent accounts to their WhatsApp ids (optional): Query
	// takes an account listed here as well as a WhatsApp id.
	Agents []Agent `yaml:"agents"`
}

// Webhook is how the connection verifies the webhooks WSCRM sends.
type Webhook struct {
	Mode      string        `yaml:"mode"` // static (default) or hmac
	Token     secret.Value  `yaml:"token"`
	Secret    secret.Value  `yaml:"secret"`
	Tolerance time.Duration `yaml:"tolerance"`
}

// Agent is one agent account of the provider's backend.
type Agent struct {
	Account string `yaml:"account"`
	WhatsID string `yaml:"whats_id"`
}

// Location returns the provider's time zone (UTC when unset or unknown;
// Validate reports an unknown one).
func (c *Config) Location() *time.Location {
	if c.ProviderTimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.ProviderTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate reports every problem at once, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	if c.TenantID <= 0 {
		errs = append(errs, errors.New("tenant_id: required (a positive company id)"))
	}
	if c.ProviderTimeZone != "" {
		if _, err := time.LoadLocation(c.ProviderTimeZone); err != nil {
			errs = append(errs, fmt.Errorf("provider_time_zone: %q is not an IANA time zone", c.ProviderTimeZone))
		}
	}
	switch c.Webhook.Mode {
	case "", WebhookStatic:
		// A static token is required only when webhooks are configured at all.
		if c.Webhook.Secret != "" {
			errs = append(errs, errors.New("webhook.secret: only mode hmac takes a secret"))
		}
	case WebhookHMAC:
		if c.Webhook.Secret == "" {
			errs = append(errs, errors.New("webhook.secret: required with mode hmac"))
		}
	default:
		errs = append(errs, fmt.Errorf("webhook.mode: %q is not static or hmac", c.Webhook.Mode))
	}
	if c.Webhook.Tolerance < 0 {
		errs = append(errs, errors.New("webhook.tolerance: must not be negative"))
	}
	for i, a := range c.Agents {
		if a.Account == "" || a.WhatsID == "" {
			errs = append(errs, fmt.Errorf("agents[%d]: account and whats_id are both required", i))
		}
	}
	return errors.Join(errs...)
}

// tolerance is the webhook timestamp tolerance with its default.
func (c *Config) tolerance() time.Duration {
	if c.Webhook.Tolerance == 0 {
		return DefaultTolerance
	}
	return c.Webhook.Tolerance
}
