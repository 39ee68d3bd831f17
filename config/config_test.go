package config

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmgate/gateway"
)

type fakeCfg struct {
	TenantID int64          `yaml:"tenant_id"`
	Secret   gateway.Secret `yaml:"secret"`
	Nested   struct {
		Mode string `yaml:"mode"`
	} `yaml:"nested"`
}

func (f *fakeCfg) Validate() error {
	if f.Secret == "" {
		return errors.New("secret: required")
	}
	return nil
}

var fakeFactories = []gateway.Factory{{
	Name:      "fake",
	NewConfig: func() any { return &fakeCfg{} },
	New: func(gateway.Common, any, *http.Client) (gateway.Provider, error) {
		return nil, nil
	},
}}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const good = `
listen: ":9090"
request_timeout: 30s
auth:
  jwt:
    hs256_secret: "${SECRET}"
connections:
  - id: a
    provider: fake
    base_url: "https://fake.example.com"
    tenant_id: 82
    secret: "${FAKE_SECRET}"
    timeout: 3s
    nested: {mode: x}
    field_config:
      required: [name]
      custom_fields:
        - {name: Faction, type: single_select, options: [A, B], provider_key: customize_1_14}
`

func TestLoadGood(t *testing.T) {
	t.Parallel()
	c, err := Load(strings.NewReader(good), ".", fakeFactories, env(map[string]string{
		"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "hush", EnvListen: "127.0.0.1:7000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" {
		t.Errorf("listen %q: the environment should win over the file", c.Listen)
	}
	if c.RequestTimeout != 30*time.Second || c.Limits.MaxRecords != DefaultMaxRecords || c.Auth.JWT.Audience != "crmgate" {
		t.Errorf("defaults/values wrong: %+v", c)
	}
	conn := c.Connections[0]
	if conn.Common.Timeout != 3*time.Second || conn.Common.Retries != gateway.DefaultRetries || conn.Common.Concurrency != gateway.DefaultConcurrency {
		t.Errorf("common %+v", conn.Common)
	}
	fc := conn.Extra.(*fakeCfg)
	if fc.TenantID != 82 || fc.Secret.Reveal() != "hush" || fc.Nested.Mode != "x" {
		t.Errorf("provider config %+v", fc)
	}
	if len(conn.FieldConfig.CustomFields) != 1 || conn.FieldConfig.CustomFields[0].ProviderKey != "customize_1_14" {
		t.Errorf("field config %+v", conn.FieldConfig)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string
	}{
		{"unknown top-level key", "listn: x\n" + good, map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{"listn: unknown key"}},
		{"unknown nested key", strings.Replace(good, "nested: {mode: x}", "nested: {mood: x}", 1), map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{"connections[0].nested.mood: unknown key"}},
		{"unknown provider key", strings.Replace(good, "tenant_id: 82", "tenant: 82", 1), map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{"connections[0].tenant: unknown key"}},
		{"unset variable and missing secret", good, map[string]string{"SECRET": strings.Repeat("s", 32)}, []string{"connections[0].secret: environment variable FAKE_SECRET is not set", "connections[0].secret: required"}},
		{"short jwt secret", good, map[string]string{"SECRET": "short", "FAKE_SECRET": "x"}, []string{"auth.jwt.hs256_secret: must be at least 32 bytes"}},
		{"unknown provider", strings.Replace(good, "provider: fake", "provider: acme", 1), map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{`connections[0].provider: unknown provider "acme"`}},
		{"bad field config", strings.Replace(good, "type: single_select", "type: colour", 1), map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{"connections[0].field_config.custom_fields[0].type"}},
		{"bad base url", strings.Replace(good, "https://fake.example.com", "fake", 1), map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}, []string{"connections[0].base_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.doc), ".", fakeFactories, env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.Repeat("s", 32)) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestSandboxTakesEnvironment(t *testing.T) {
	t.Parallel()
	c, err := Sandbox(env(map[string]string{EnvRedisURL: "redis://127.0.0.1:1/0", EnvJWTSecret: strings.Repeat("k", 32)}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox || c.RedisURL.Reveal() != "redis://127.0.0.1:1/0" || c.Auth.JWT.HS256Secret.Reveal() == "" || c.Listen != DefaultListen {
		t.Errorf("%+v", c)
	}
	if c.RedisURL.String() != "***" {
		t.Errorf("redis_url prints as %q", c.RedisURL.String())
	}
}

func TestEventsSection(t *testing.T) {
	t.Parallel()
	doc := good + "events:\n  retention: 48h\n  delivery_schedule: [1s, 1m]\n"
	c, err := Load(strings.NewReader(doc), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Events.Retention != 48*time.Hour || len(c.Events.DeliverySchedule) != 2 || c.Events.DeliverySchedule[1] != time.Minute {
		t.Errorf("%+v", c.Events)
	}
	_, err = Load(strings.NewReader(good+"events:\n  delivery_schedule: [0s]\n"), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
	if err == nil || !strings.Contains(err.Error(), "events.delivery_schedule[0]") {
		t.Errorf("err = %v", err)
	}
}

// The server's connection limits default sensibly (write_timeout past the
// request deadline) and a write_timeout that would cut answers is refused.
func TestServerSection(t *testing.T) {
	t.Parallel()
	vars := env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"})
	c, err := Load(strings.NewReader(good), ".", fakeFactories, vars)
	if err != nil {
		t.Fatal(err)
	}
	want := Server{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 45 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 1 << 20}
	if c.Server != want {
		t.Errorf("defaults %+v, want %+v", c.Server, want)
	}
	c, err = Load(strings.NewReader(good+"server: {read_timeout: 5s, write_timeout: 31s, idle_timeout: 1m, read_header_timeout: 2s, max_header_bytes: 8192}\n"), ".", fakeFactories, vars)
	if err != nil {
		t.Fatal(err)
	}
	want = Server{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 31 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8192}
	if c.Server != want {
		t.Errorf("set %+v, want %+v", c.Server, want)
	}
	_, err = Load(strings.NewReader(good+"server: {write_timeout: 30s, read_timeout: -1s}\n"), ".", fakeFactories, vars)
	if err == nil || !strings.Contains(err.Error(), "server.write_timeout: must exceed request_timeout") || !strings.Contains(err.Error(), "server.read_timeout: must not be negative") {
		t.Errorf("err = %v", err)
	}
}
