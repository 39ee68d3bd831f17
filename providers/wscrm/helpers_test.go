package wscrm

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
	"crmgate/secret"
)

// loadGolden reads a file of testdata/.
func loadGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sortedJSON re-encodes JSON with sorted keys (numbers kept as written).
func sortedJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// requireSameJSON compares two JSON documents after key sorting.
func requireSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	if g, w := sortedJSON(t, got), sortedJSON(t, want); g != w {
		t.Errorf("JSON differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// sampleRules are the sandbox's field rules.
func sampleRules() *fieldconfig.Rules { return fieldconfig.MustCompile(SampleFieldConfig()) }

// prepared runs the checks the import service runs before Translate
// (schema.Check, Rules.Check) and fails the test on any error.
func prepared(t *testing.T, c schema.Customer, rules *fieldconfig.Rules) *schema.Customer {
	t.Helper()
	c = cloneCustomer(c)
	if errs, _ := schema.Check(&c); len(errs) > 0 {
		t.Fatalf("schema.Check: %+v", errs)
	}
	if errs := rules.Check(&c); len(errs) > 0 {
		t.Fatalf("Rules.Check: %+v", errs)
	}
	return &c
}

// records translates customers (without the canonical checks, so the
// provider's own checks can be reached) and fails the test on a Translate
// error.
func records(t *testing.T, a *Adapter, op gateway.Op, rules *fieldconfig.Rules, cs ...schema.Customer) []gateway.Record {
	t.Helper()
	out := make([]gateway.Record, len(cs))
	for i := range cs {
		c := cs[i]
		w, errs, _ := a.Translate(op, &c, rules)
		if len(errs) > 0 {
			t.Fatalf("Translate(%d): %+v", i, errs)
		}
		out[i] = gateway.Record{Index: i, Customer: &c, Wire: w}
	}
	return out
}

// testAdapter is an adapter for tenant 82 pointed at base.
func testAdapter(t *testing.T, base, token string) *Adapter {
	t.Helper()
	a, err := newAdapter(gateway.Common{ID: "test-wscrm", Provider: Name, BaseURL: base}.WithDefaults(),
		&Config{TenantID: 82, Token: secret.Value(token), ProviderTimeZone: "Asia/Shanghai", Agents: SandboxAgents},
		&http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// simServer starts a simulator with the sample backend behind an httptest
// server on loopback, and an adapter that talks to it.
func simServer(t *testing.T, token string) (*Adapter, *Simulator) {
	t.Helper()
	sim := NewSimulator(SimConfig{TenantID: 82, Token: token, Agents: SandboxAgents, Fields: SampleFieldConfig()})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return testAdapter(t, srv.URL, token), sim
}

// cannedServer answers every request with body (HTTP status code); the
// returned function lists the request bodies it got.
func cannedServer(t *testing.T, status int, body []byte) (*httptest.Server, func() [][]byte) {
	t.Helper()
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		mu.Lock()
		got = append(got, buf.Bytes())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}
}

// cloneCustomer copies c deeply enough that checks normalising it in place do
// not touch the original (custom-field values are replaced, not mutated).
func cloneCustomer(c schema.Customer) schema.Customer {
	c.Tags = append([]string(nil), c.Tags...)
	c.RemoveTags = append([]string(nil), c.RemoveTags...)
	if c.CustomFields != nil {
		m := make(map[string]any, len(c.CustomFields))
		for k, v := range c.CustomFields {
			m[k] = v
		}
		c.CustomFields = m
	}
	return c
}

// callAgents lists the agents of a call's records.
func callAgents(c *gateway.Call) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.Records {
		w, _ := r.Wire.(*wireRecord)
		ag := w.str(wireAgentAccount)
		if !seen[ag] {
			seen[ag] = true
			out = append(out, ag)
		}
	}
	return out
}
