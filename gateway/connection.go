package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"crmgate/schema"
)

// Defaults of Common.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultRetries     = 2
	DefaultConcurrency = 4
)

// Common is the part of a connection's configuration that every provider has.
type Common struct {
	ID       string        `yaml:"id"`
	Provider string        `yaml:"provider"`
	BaseURL  string        `yaml:"base_url"`
	Timeout  time.Duration `yaml:"timeout"` // per outbound call
	// Retries is the number of extra attempts after the first: 0 means no
	// retry; nil (the key absent) means DefaultRetries.
	Retries     *int `yaml:"retries"`
	Concurrency int  `yaml:"concurrency"` // calls in flight per connection
	// DefaultRegion (ISO 3166-1 alpha-2) is how a phone written without a
	// country code is read when the request names no region (gateway.md §7).
	DefaultRegion string `yaml:"default_region"`
}

// WithDefaults fills zero values with the defaults; Retries only when it is
// unset (nil), since 0 retries is a setting of its own.
func (c Common) WithDefaults() Common {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries == nil {
		c.Retries = new(DefaultRetries)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	return c
}

// MaxRetries is the number of extra attempts after the first.
func (c Common) MaxRetries() int {
	if c.Retries == nil {
		return DefaultRetries
	}
	return *c.Retries
}

// Validate reports every problem at once, each naming its key.
func (c Common) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("id: required"))
	}
	if c.BaseURL == "" {
		errs = append(errs, errors.New("base_url: required"))
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base_url: %q is not an http(s) URL", c.BaseURL))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	if c.Retries != nil && *c.Retries < 0 {
		errs = append(errs, errors.New("retries: must not be negative"))
	}
	if c.Concurrency < 0 {
		errs = append(errs, errors.New("concurrency: must not be negative"))
	}
	if _, err := schema.ParseRegion(c.DefaultRegion); err != nil {
		errs = append(errs, fmt.Errorf("default_region: %w", err))
	}
	return errors.Join(errs...)
}
