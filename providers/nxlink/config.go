package nxlink

import (
	"errors"
	"fmt"

	"crmgate/gateway"
	"crmgate/providers/internal/factory"
	"crmgate/secret"
)

// Name is the provider's name in configuration ("provider: nxlink").
const Name = "nxlink"

// Config is an NXLink connection's own keys (beside gateway.Common's).
type Config struct {
	// AccessKey identifies the account (header accessKey).
	AccessKey string `yaml:"access_key"`
	// AccessSecret signs every call; it never travels and is never logged.
	AccessSecret secret.Value `yaml:"access_secret"`
	// TenantID is the body's tenant_id.
	TenantID int64 `yaml:"tenant_id"`
	// AppKey is the body's app_key.
	AppKey secret.Value `yaml:"app_key"`
	// SignAlgorithm is md5 (default, also when empty) or sha256.
	SignAlgorithm string `yaml:"sign_algorithm"`
}

// Validate reports every problem at once, each message starting with the key
// it is about. A nil Config reports every required key.
func (c *Config) Validate() error {
	if c == nil {
		c = &Config{}
	}
	var errs []error
	if c.AccessKey == "" {
		errs = append(errs, errors.New("access_key: required"))
	}
	if c.AccessSecret == "" {
		errs = append(errs, errors.New("access_secret: required"))
	}
	if c.TenantID <= 0 {
		errs = append(errs, errors.New("tenant_id: required (a positive tenant id)"))
	}
	if c.AppKey == "" {
		errs = append(errs, errors.New("app_key: required"))
	}
	switch c.SignAlgorithm {
	case "", AlgorithmMD5, AlgorithmSHA256:
	default:
		errs = append(errs, fmt.Errorf("sign_algorithm: %q is not md5 or sha256", c.SignAlgorithm))
	}
	return errors.Join(errs...)
}

// algorithm is the configured signing algorithm with its default.
func (c *Config) algorithm() string {
	if c.SignAlgorithm == "" {
		return AlgorithmMD5
	}
	return c.SignAlgorithm
}

// Factory returns NXLink's row of the providers table. Its New refuses a
// configuration that is not *Config, and whatever New refuses.
func Factory() gateway.Factory { return factory.Of(Name, New) }
