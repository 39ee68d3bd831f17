// Package factory is what every adapter's constructor shares: the row of
// the providers table made from the adapter's typed New, and the check of
// New's arguments.
package factory

import (
	"errors"
	"fmt"
	"net/http"

	"crmgate/gateway"
)

// Config is a provider's own configuration, *C: it validates itself,
// reporting every problem at once.
type Config[C any] interface {
	*C
	Validate() error
}

// Of returns the gateway.Factory of provider name around its constructor:
// NewConfig returns a zero *C, and New refuses a configuration of another
// type (an error naming both types) before it calls newAdapter.
func Of[C any, P gateway.Provider](name string, newAdapter func(gateway.Common, *C, *http.Client) (P, error)) gateway.Factory {
	return gateway.Factory{
		Name:      name,
		NewConfig: func() any { return new(C) },
		New: func(common gateway.Common, cfg any, hc *http.Client) (gateway.Provider, error) {
			c, ok := cfg.(*C)
			if !ok {
				return nil, fmt.Errorf("%s.New: configuration is %T, not %T", name, cfg, c)
			}
			p, err := newAdapter(common, c, hc)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
	}
}

// Check reports every problem of a constructor's arguments at once: cfg
// missing or invalid (its Validate), common invalid (gateway.Common.Validate:
// id, base_url, limits), hc missing. nil means the adapter can be built.
func Check[C any, PC Config[C]](common gateway.Common, cfg PC, hc *http.Client) error {
	var errs []error
	if cfg == nil {
		errs = append(errs, errors.New("configuration missing"))
	} else if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := common.Validate(); err != nil {
		errs = append(errs, err)
	}
	if hc == nil {
		errs = append(errs, errors.New("http client missing"))
	}
	return errors.Join(errs...)
}
