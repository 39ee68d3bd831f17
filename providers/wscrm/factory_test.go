package wscrm

import (
	"net/http"
	"strings"
	"testing"

	"crmgate/gateway"
)

func TestFactoryNew(t *testing.T) {
	t.Parallel()
	f := Factory()
	common := gateway.Common{ID: "x", BaseURL: "http://127.0.0.1:1"}
	if _, ok := f.NewConfig().(*Config); !ok {
		t.Fatal("NewConfig is not *Config")
	}
	for name, tt := range map[string]struct {
		common gateway.Common
		cfg    any
		hc     *http.Client
	}{
		"wrong type": {common, Config{TenantID: 1}, &http.Client{}},
		"nil config": {common, (*Config)(nil), &http.Client{}},
		"nil client": {common, &Config{TenantID: 1}, nil},
		"no base":    {gateway.Common{ID: "x"}, &Config{TenantID: 1}, &http.Client{}},
		"no tenant":  {common, &Config{}, &http.Client{}},
		"bad zone":   {common, &Config{TenantID: 1, ProviderTimeZone: "Mars/Olympus"}, &http.Client{}},
	} {
		if _, err := f.New(tt.common, tt.cfg, tt.hc); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	p, err := f.New(common, &Config{TenantID: 1}, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(gateway.PoolImporter); !ok {
		t.Error("not a PoolImporter")
	}
	if _, ok := p.(gateway.Querier); !ok {
		t.Error("not a Querier")
	}
}

// New reports every problem of its arguments at once, each by its key.
func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(gateway.Common{}, &Config{Webhook: Webhook{Mode: "magic"}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"tenant_id", "webhook.mode", "id: required", "base_url", "http client"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := New(gateway.Common{ID: "x", BaseURL: "http://127.0.0.1:1"}, nil, &http.Client{}); err == nil ||
		!strings.Contains(err.Error(), "configuration missing") {
		t.Errorf("nil configuration: err = %v", err)
	}
}
