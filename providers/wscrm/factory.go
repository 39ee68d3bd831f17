package wscrm

import (
	"fmt"
	"net/http"
	"strings"

	"crmgate/gateway"
	"crmgate/providers/internal/factory"
)

// Name is the provider's name in configuration ("provider: wscrm").
const Name = "wscrm"

// Factory returns WSCRM's row of the providers table. Its New refuses a
// configuration that is not *Config, and whatever New refuses.
func Factory() gateway.Factory { return factory.Of(Name, New) }

// New makes the adapter of one WSCRM connection. It refuses a nil or invalid
// cfg (Config.Validate), an invalid common (gateway.Common.Validate: id,
// base_url, limits) and a nil hc, every problem at once. Zero values of
// common's limits take gateway's defaults. The adapter keeps a copy of cfg,
// and uses a copy of hc that follows no redirect (the token header would go
// along).
func New(common gateway.Common, cfg *Config, hc *http.Client) (*Adapter, error) {
	if err := factory.Check(common, cfg, hc); err != nil {
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
