package nxlink

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"crmgate/providers/nxlink/internal/nxlinktest"

	"gopkg.in/yaml.v3"

	"crmgate/gateway"
)

func TestConfigFromYAML(t *testing.T) {
	t.Parallel()
	const doc = `
access_key: fme2na3kdi3ki
access_secret: s3cr3t
tenant_id: 123
app_key: "46oKF=os"
sign_algorithm: sha256
`
	cfg := Factory().NewConfig().(*Config)
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{AccessKey: nxlinktest.AccessKey, AccessSecret: nxlinktest.Secret, TenantID: 123, AppKey: nxlinktest.AppKey, SignAlgorithm: "sha256"}
	if *cfg != want {
		t.Errorf("got %#v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, nxlinktest.Secret) || strings.Contains(s, nxlinktest.AppKey) {
		t.Errorf("a secret prints: %s", s)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"valid", func(c *Config) {}, nil},
		{"md5", func(c *Config) { c.SignAlgorithm = "md5" }, nil},
		{"everything missing", func(c *Config) { *c = Config{} }, []string{"access_key: required", "access_secret: required", "tenant_id: required", "app_key: required"}},
		{"negative tenant", func(c *Config) { c.TenantID = -1 }, []string{"tenant_id: required"}},
		{"bad algorithm", func(c *Config) { c.SignAlgorithm = "sha1" }, []string{`sign_algorithm: "sha1" is not md5 or sha256`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("unexpected %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %q, want %q", lines, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestFactoryNew(t *testing.T) {
	t.Parallel()
	f := Factory()
	if f.Name != "nxlink" {
		t.Errorf("name %q", f.Name)
	}
	common := gateway.Common{ID: "acme-cdp", Provider: "nxlink", BaseURL: "https://api-hk.nxlink.ai/"}
	cfg := testConfig()
	p, err := f.New(common, &cfg, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*Adapter)
	if a.url != "https://api-hk.nxlink.ai" || a.common.Timeout != gateway.DefaultTimeout {
		t.Errorf("adapter %+v", a.common)
	}
	if _, ok := p.(gateway.Redactor); !ok {
		t.Error("not a Redactor")
	}
	if _, ok := p.(gateway.PoolImporter); ok {
		t.Error("NXLink has no import pool")
	}
	bad := []struct {
		name   string
		common gateway.Common
		cfg    any
		hc     *http.Client
	}{
		{"config of another type", common, cfg, &http.Client{}},
		{"nil config", common, (*Config)(nil), &http.Client{}},
		{"invalid config", common, &Config{}, &http.Client{}},
		{"no base url", gateway.Common{ID: "x"}, &cfg, &http.Client{}},
		{"no http client", common, &cfg, nil},
	}
	for _, b := range bad {
		if _, err := f.New(b.common, b.cfg, b.hc); err == nil {
			t.Errorf("%s: accepted", b.name)
		} else if strings.Contains(err.Error(), nxlinktest.Secret) {
			t.Errorf("%s: the error shows the secret: %v", b.name, err)
		}
	}
}
