package nxlink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
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
	want := Config{AccessKey: testAccessKey, AccessSecret: testSecret, TenantID: 123, AppKey: testAppKey, SignAlgorithm: "sha256"}
	if *cfg != want {
		t.Errorf("got %#v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, testSecret) || strings.Contains(s, testAppKey) {
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
		} else if strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: the error shows the secret: %v", b.name, err)
		}
	}
}

// The sandbox serves a working account: a record checked against the sample
// field configuration is stored, and the simulator stops with Close.
func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := StartSandbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if sb.Common.ID != "sandbox-nxlink" || sb.Common.Provider != "nxlink" || !strings.HasPrefix(sb.Common.BaseURL, "http://127.0.0.1:") ||
		sb.Common.Concurrency != gateway.DefaultConcurrency {
		t.Errorf("common %+v", sb.Common)
	}
	cfg := sb.Config.(*Config)
	if err := cfg.Validate(); err != nil || cfg.TenantID != 123 {
		t.Errorf("config %v %v", cfg, err)
	}
	rules, err := fieldconfig.Compile(sb.FieldConfig)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"Faction": "customize_1_14", "Level": "customize_1_15", "Joined": "customize_1_16"} {
		if f, ok := rules.Field(name); !ok || f.Key() != key {
			t.Errorf("custom field %s: %v", name, f)
		}
	}

	p, err := Factory().New(sb.Common, sb.Config, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.Customer{Name: "Li Heng", WhatsApp: "+86 152 6666 7780", Owner: "kubrick101",
		CustomFields: map[string]any{"Faction": "Royal Family", "Level": float64(3), "Joined": "2024-01-02"}}
	errs, _ := schema.Check(c)
	errs = append(errs, rules.Check(c)...)
	op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge, StrictOwner: true}
	wire, terrs, _ := p.Translate(op, c, rules)
	if errs = append(errs, terrs...); len(errs) > 0 {
		t.Fatalf("%+v", errs)
	}
	calls, err := p.Plan(op, []gateway.Record{{Index: 0, Customer: c, Wire: wire}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Do(ctx, &calls[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := []gateway.Outcome{{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"}}; !reflect.DeepEqual(res.Outcomes, want) {
		t.Errorf("outcomes %+v", res.Outcomes)
	}
	stored := sb.Handler.(*Simulator).Customers()
	if len(stored) != 1 || stored[0].Fields["customize_field"] != `{"customize_1_14":"Royal Family","customize_1_15":3,"customize_1_16":"2024-01-02"}` ||
		stored[0].Fields["whats_app_phone"] != "8615266667780" {
		t.Errorf("stored %+v", stored)
	}

	sb.Close()
	sb.Close()
	if _, err := p.Do(ctx, &calls[0]); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("after Close: %v, want ErrUnavailable", err)
	}
}

// Ending the context stops the sandbox too.
func TestSandboxStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := StartSandbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Factory().New(sb.Common, sb.Config, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	call := gateway.Call{Method: http.MethodPost, Path: BatchCreatePath, Body: []byte(`{}`)}
	if _, err := p.Do(context.Background(), &call); err != nil {
		t.Fatalf("before cancel: %v", err)
	}
	defer sb.Close()
	cancel()
	// The server stops in the background once ctx ends: wait for it.
	for i := 0; ; i++ {
		_, err := p.Do(context.Background(), &call)
		if errors.Is(err, gateway.ErrUnavailable) {
			break
		}
		if i == 500 {
			t.Fatalf("the sandbox still answers after its context ended: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
