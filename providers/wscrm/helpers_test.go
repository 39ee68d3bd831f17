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
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
	"crmgate/secret"
)

// testFields is the test connection's field configuration
// (testdata/field_config.json, after the provider document's examples):
// WhatsApp number and owner required; stages New customer (10) and
// Requirement match (20); sources System assignment (10) and Default (11);
// languages Auto and Simplified Chinese (ZH); extension fields Faction
// (single-select), extensionField1 (text, ≤64), Level (number), Joined
// (date), Meeting (time), Interests (multi-select) and Attachment. Each call
// returns a fresh copy.
func testFields() fieldconfig.Config {
	var cfg fieldconfig.Config
	if err := json.Unmarshal(testFieldsJSON(), &cfg); err != nil {
		panic(err)
	}
	return cfg
}

var testFieldsJSON = sync.OnceValue(func() []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "field_config.json"))
	if err != nil {
		panic(err)
	}
	return b
})

// sampleRules are the test connection's field rules.
func sampleRules() *fieldconfig.Rules { return fieldconfig.MustCompile(testFields()) }

// testAgents are the test connection's agents.
var testAgents = []Agent{
	{Account: "kubrick101", WhatsID: "86187272722"},
	{Account: "wangwu", WhatsID: "861821733100"},
}

// testAdapter is an adapter for tenant 82 pointed at base.
func testAdapter(t *testing.T, base, token string) *Adapter {
	t.Helper()
	a, err := New(gateway.Common{ID: "test-wscrm", Provider: Name, BaseURL: base},
		&Config{TenantID: 82, Token: secret.Value(token), ProviderTimeZone: "Asia/Shanghai", Agents: testAgents},
		&http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return a
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

// callAgents lists the agents of a call's records.
func callAgents(c *gateway.Call) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.Records {
		w, _ := r.Wire.(*wireRecord)
		ag := w.basic[keyAgentAccount]
		if !seen[ag] {
			seen[ag] = true
			out = append(out, ag)
		}
	}
	return out
}

// str returns the value of a key ("" when absent); an extension value that
// is a number is returned as its text.
func (r *wireRecord) str(key string) string {
	v, _ := r.get(key)
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return ""
}

// throughChecks is what the import service does with a record: schema.Check
// and rules.Check, then translate when both passed. It returns the wire form
// and the errors and warnings of translate, or the checks' errors.
func throughChecks(op gateway.Op, c schema.Customer, rules *fieldconfig.Rules) (*wireRecord, []schema.Issue, []schema.Issue) {
	k, errs := wiretest.Check(c, rules)
	if len(errs) > 0 {
		return nil, errs, nil
	}
	return translate(op, k)
}
