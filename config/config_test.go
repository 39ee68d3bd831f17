package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
	"crmgate/secret"
)

type fakeCfg struct {
	TenantID int64        `yaml:"tenant_id"`
	Secret   secret.Value `yaml:"secret"`
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
	if conn.Common.Timeout != 3*time.Second || conn.Common.MaxRetries() != gateway.DefaultRetries || conn.Common.Concurrency != gateway.DefaultConcurrency {
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
	if !c.Sandbox || c.RedisURL.Reveal() != "redis://127.0.0.1:1/0" || c.Auth.JWT.HS256Secret.Reveal() == "" || c.Listen != SandboxListen {
		t.Errorf("%+v", c)
	}
	if c.RedisURL.String() != "***" {
		t.Errorf("redis_url prints as %q", c.RedisURL.String())
	}
	c, err = Sandbox(env(map[string]string{EnvListen: ":9090"}))
	if err != nil || c.Listen != ":9090" {
		t.Errorf("CRMGATE_LISTEN in sandbox mode: listen = %q, %v", c.Listen, err)
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

// A value of the wrong form names its key and the form it takes, and is not
// contradicted by a "required" for the same key.
func TestTypeErrorsNameTheKeyAndTheForm(t *testing.T) {
	t.Parallel()
	doc := strings.NewReplacer("tenant_id: 82", "tenant_id: \"eighty-two\"", "request_timeout: 30s", "request_timeout: 60",
		"timeout: 3s", "timeout: 10\n    concurrency: [1]").Replace(good) + "limits: {max_records: lots}\n"
	_, err := Load(strings.NewReader(doc), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`request_timeout: "60" is not a duration (a number with its unit: 500ms, 10s, 5m, 1h)`,
		`connections[0].timeout: "10" is not a duration`,
		`connections[0].tenant_id: "eighty-two" is not a whole number`,
		`connections[0].concurrency: must be a whole number, not a list`,
		`limits.max_records: "lots" is not a whole number`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
	for _, unwanted := range []string{"tenant_id: required", "cannot unmarshal"} {
		if strings.Contains(err.Error(), unwanted) {
			t.Errorf("error says %q:\n%v", unwanted, err)
		}
	}
}

// unavailable is a provider whose every call is an HTTP request to a server
// answering 503.
type unavailable struct{ url string }

func (unavailable) Modes() []string { return []string{gateway.ModeMerge} }
func (unavailable) Translate(gateway.Op, fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return nil, nil, nil
}
func (unavailable) Plan(_ gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	return []gateway.Call{{Method: "POST", Path: "/x", Body: []byte("{}"), Records: recs}}, nil
}
func (u unavailable) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	req, err := http.NewRequestWithContext(ctx, call.Method, u.url+call.Path, bytes.NewReader(call.Body))
	if err != nil {
		return gateway.CallResult{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gateway.CallResult{}, fmt.Errorf("%w: %v", gateway.ErrUnavailable, err)
	}
	resp.Body.Close()
	return gateway.CallResult{}, fmt.Errorf("%w: HTTP %d", gateway.ErrUnavailable, resp.StatusCode)
}

type noRules struct{}

func (noRules) Rules(string) *fieldconfig.Rules { return nil }

// retries: 0 means no retry; only an absent key takes the default.
func TestRetriesZeroMeansNoRetry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		key   string
		calls int32
	}{
		{"zero", "    retries: 0\n", 1},
		{"absent", "", 1 + gateway.DefaultRetries},
		{"one", "    retries: 1\n", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			defer srv.Close()
			doc := strings.Replace(good, "    timeout: 3s\n", "    timeout: 3s\n"+tt.key, 1)
			c, err := Load(strings.NewReader(doc), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
			if err != nil {
				t.Fatal(err)
			}
			conn, err := gateway.NewConnection(c.Connections[0].Common, unavailable{srv.URL}, nil, noRules{})
			if err != nil {
				t.Fatal(err)
			}
			svc := &gateway.Service{Retry: gateway.RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}
			ans, err := svc.Import(context.Background(), conn, gateway.Request{Op: gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge},
				Customers: []json.RawMessage{json.RawMessage(`{"ref":"a"}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if n := calls.Load(); n != tt.calls || ans.ProviderCalls[0].Attempts != int(tt.calls) || ans.Unknown != 1 {
				t.Fatalf("%d calls (%d attempts reported), want %d: %+v", n, ans.ProviderCalls[0].Attempts, tt.calls, ans)
			}
		})
	}
	_, err := Load(strings.NewReader(strings.Replace(good, "    timeout: 3s\n", "    timeout: 3s\n    retries: -1\n", 1)), ".", fakeFactories,
		env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
	if err == nil || !strings.Contains(err.Error(), "connections[0].retries: must not be negative") {
		t.Errorf("retries: -1 gave %v", err)
	}
}

// request_timeout stays below how long an Idempotency-Key is kept: a
// request outliving its key could be sent again under the same key.
func TestRequestTimeoutBelowTheKeyTTL(t *testing.T) {
	doc := strings.Replace(good, "request_timeout: 30s", "request_timeout: 24h", 1)
	_, err := Load(strings.NewReader(doc), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"}))
	if err == nil || !strings.Contains(err.Error(), "request_timeout: must be below 24h") {
		t.Fatalf("err = %v", err)
	}
	doc = strings.Replace(good, "request_timeout: 30s", "request_timeout: 23h", 1)
	if _, err := Load(strings.NewReader(doc), ".", fakeFactories, env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"})); err != nil {
		t.Fatalf("23h: %v", err)
	}
}

func TestEventsDestinations(t *testing.T) {
	t.Parallel()
	secrets := env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"})
	c, err := Load(strings.NewReader(good+"events:\n  subscriber_networks: [10.20.0.0/16, \"fd00::/8\"]\n  allow_loopback: true\n"), ".", fakeFactories, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Events.AllowLoopback || len(c.Events.Networks()) != 2 || c.Events.Networks()[0].String() != "10.20.0.0/16" || c.Events.Networks()[1].String() != "fd00::/8" {
		t.Errorf("%+v %v", c.Events, c.Events.Networks())
	}
	c, err = Load(strings.NewReader(good), ".", fakeFactories, secrets)
	if err != nil || c.Events.AllowLoopback || c.Events.Networks() != nil {
		t.Errorf("defaults: %+v, %v", c.Events, err)
	}
	_, err = Load(strings.NewReader(good+"events:\n  subscriber_networks: [10.0.0.0/8, 10.0.0.1]\n"), ".", fakeFactories, secrets)
	if err == nil || !strings.Contains(err.Error(), "events.subscriber_networks[1]") {
		t.Errorf("a bare address: err = %v", err)
	}
	sb, err := Sandbox(env(nil))
	if err != nil || !sb.Events.AllowLoopback {
		t.Errorf("the sandbox allows loopback: %+v, %v", sb.Events, err)
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

func TestRequestsRetention(t *testing.T) {
	t.Parallel()
	vars := env(map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "x"})
	c, err := Load(strings.NewReader(good), ".", fakeFactories, vars)
	if err != nil || c.Requests.Retention != 168*time.Hour {
		t.Errorf("default requests.retention = %v, %v; want 168h", c.Requests.Retention, err)
	}
	c, err = Load(strings.NewReader(good+"requests:\n  retention: 24h\n"), ".", fakeFactories, vars)
	if err != nil || c.Requests.Retention != 24*time.Hour {
		t.Errorf("requests.retention: 24h = %v, %v", c.Requests.Retention, err)
	}
	_, err = Load(strings.NewReader(good+"requests:\n  retention: -1h\n"), ".", fakeFactories, vars)
	if err == nil || !strings.Contains(err.Error(), "requests.retention") {
		t.Errorf("a negative requests.retention: err = %v", err)
	}
}

func TestShutdownTimeoutAndLogLevel(t *testing.T) {
	c, err := Sandbox(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownTimeout != DefaultShutdownTimeout || c.LogLevel != "info" {
		t.Fatalf("defaults: %v %q", c.ShutdownTimeout, c.LogLevel)
	}
	for _, lv := range []string{"debug", "info", "warn", "error"} {
		if _, err := ParseLogLevel(lv); err != nil {
			t.Errorf("%s: %v", lv, err)
		}
	}
	if _, err := ParseLogLevel("verbose"); err == nil || !strings.Contains(err.Error(), "log_level") {
		t.Errorf("verbose: %v", err)
	}
}
