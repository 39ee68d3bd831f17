package wscrm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"crmgate/gateway"
)

// Name is the provider's name in configuration ("provider: wscrm").
const Name = "wscrm"

// Factory returns WSCRM's row of the providers table. Its New refuses a
// configuration that is not *Config, and whatever New refuses.
func Factory() gateway.Factory {
	return gateway.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		New: func(common gateway.Common, cfg any, hc *http.Client) (gateway.Provider, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("wscrm.New: configuration is %T, not *wscrm.Config", cfg)
			}
			return New(common, c, hc)
		},
	}
}

// New makes the adapter of one WSCRM connection. It refuses a nil or invalid
// cfg (Config.Validate), an invalid common (gateway.Common.Validate: id,
// base_url, limits) and a nil hc, every problem at once. Zero values of
// common's limits take gateway's defaults. The adapter keeps a copy of cfg,
// and uses a copy of hc that follows no redirect (the token header would go
// along).
func New(common gateway.Common, cfg *Config, hc *http.Client) (*Adapter, error) {
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
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("wscrm.New: %w", err)
	}
	a := &Adapter{
		cfg:    *cfg,
		common: common.WithDefaults(),
		hc:     gateway.NoRedirect(hc),
		base:   strings.TrimRight(common.BaseURL, "/"),
		loc:    cfg.Location(),
		header: http.Header{"Content-Type": {contentTypeJSON}, "Accept": {contentTypeJSON}},
	}
	if cfg.Token != "" {
		a.header[headerToken] = []string{cfg.Token.Reveal()}
	}
	return a, nil
}
