package app_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"crmgate/api/answer"
	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/fieldconfig"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/schema"
)

// secret is the HS256 secret of the gateways the tests configure.
const secret = "an-hs256-secret-of-at-least-32-bytes"

// gwSetup is what differs between the gateways the tests start.
type gwSetup struct {
	// doc is the configuration document (YAML); "" is the no-config
	// sandbox. ${NX_SECRET} in it is the NXLink simulator's access secret.
	doc string
	// env holds the document's other ${VAR}s.
	env map[string]string
	// redis, when set, is the URL of the Redis the gateway keeps its state
	// in (redis_url), under options.RedisPrefix.
	redis string
	// options are app.Build's; see apptest.Options.App.
	options app.Options
	// run runs the gateway's background work (field-configuration refresh,
	// event delivery, import jobs) until the test ends.
	run bool
}

// startGW builds the gateway s describes and serves it over real HTTP on
// a loopback port until the test ends.
func startGW(t *testing.T, s gwSetup) *apptest.Gateway {
	t.Helper()
	var cfg *config.Config
	if s.doc != "" {
		doc := s.doc
		if s.redis != "" {
			doc = fmt.Sprintf("redis_url: %q\n", s.redis) + doc
		}
		env := map[string]string{"NX_SECRET": "s3cr3t"}
		maps.Copy(env, s.env)
		cfg = apptest.Load(t, doc, env)
	}
	return apptest.Start(t, apptest.Options{Config: cfg, App: s.options, Run: s.run})
}

// acmeDoc is a configuration document of the gateway's secret and the two
// connections to the simulators (see peers): acme-cdp (NXLink) and acme-wa
// (WSCRM).
type acmeDoc struct {
	top   string   // more top-level keys, YAML
	nxURL string   // acme-cdp's base_url
	nx    []string // more keys of acme-cdp, one "key: value" each
	wsURL string   // acme-wa's base_url; "" leaves acme-wa out
	ws    []string // more keys of acme-wa
}

func (d acmeDoc) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "auth: {jwt: {hs256_secret: %q}}\n", secret)
	if d.top != "" {
		b.WriteString(strings.TrimSpace(d.top) + "\n")
	}
	fmt.Fprintf(&b, `connections:
  - id: acme-cdp
    provider: nxlink
    base_url: %q
    access_key: fme2na3kdi3ki
    access_secret: "${NX_SECRET}"
    tenant_id: 123
    app_key: "46oKF=os"
`, d.nxURL)
	for _, k := range d.nx {
		b.WriteString("    " + k + "\n")
	}
	if d.wsURL == "" {
		return b.String()
	}
	fmt.Fprintf(&b, `  - id: acme-wa
    provider: wscrm
    base_url: %q
    tenant_id: 82
    token: ws-token
`, d.wsURL)
	for _, k := range d.ws {
		b.WriteString("    " + k + "\n")
	}
	return b.String()
}

// peers are the two provider simulators over real HTTP, with the accounts
// of acmeDoc's connections.
type peers struct {
	nx    *nxlinksim.Simulator
	ws    *wscrmsim.Simulator
	nxURL string
	wsURL string
}

// kubrick101 is the WSCRM agent every simulator has.
var kubrick101 = wscrmsim.Agent{Account: "kubrick101", WhatsID: "86187272722"}

// newPeers serves the simulators on loopback ports until the test ends:
// NXLink with the seat agent1@example.com, WSCRM with agents and its
// backend holding fields.
func newPeers(t *testing.T, fields fieldconfig.Config, agents ...wscrmsim.Agent) *peers {
	t.Helper()
	p := &peers{
		nx: nxlinksim.New(nxlinksim.Config{Accounts: []nxlinksim.Account{{AccessKey: "fme2na3kdi3ki", AccessSecret: "s3cr3t",
			TenantID: 123, AppKey: "46oKF=os", Seats: []string{"agent1@example.com"}}}}),
		ws: wscrmsim.New(wscrmsim.Config{TenantID: 82, Token: "ws-token", Agents: agents, Fields: fields}),
	}
	nxs := httptest.NewServer(p.nx)
	wss := httptest.NewServer(p.ws)
	t.Cleanup(nxs.Close)
	t.Cleanup(wss.Close)
	p.nxURL, p.wsURL = nxs.URL, wss.URL
	return p
}

// startPeers are simulators whose WSCRM backend knows one stage, "New
// customer" (10), and the agent kubrick101.
func startPeers(t *testing.T) *peers {
	t.Helper()
	return newPeers(t, fieldconfig.Config{Stages: []fieldconfig.Option{{Label: "New customer", ID: ptr(int64(10))}}}, kubrick101)
}

func ptr[T any](v T) *T { return &v }

// fcYAML parses a field configuration written in YAML.
func fcYAML(t *testing.T, doc string) fieldconfig.Config {
	t.Helper()
	var c fieldconfig.Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// fcFlow writes a field configuration in YAML flow style (JSON is YAML), to be
// placed after "field_config:" in a configuration document.
func fcFlow(t *testing.T, c fieldconfig.Config) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tokenAs mints a token of secret for the app sub with scopes on conns
// (none: every connection).
func tokenAs(t *testing.T, sub string, scopes []string, conns ...string) string {
	t.Helper()
	return apptest.Mint(t, []byte(secret), sub, scopes, conns...)
}

// scopedToken mints a token with the given scopes for the given connections.
func scopedToken(t *testing.T, scopes []string, conns ...string) string {
	t.Helper()
	return tokenAs(t, "e2e", scopes, conns...)
}

// adminBearer may do everything on every connection.
func adminBearer(t *testing.T) string { return scopedToken(t, auth.Scopes) }

// bearer may write and read customers on every connection.
func bearer(t *testing.T) string {
	t.Helper()
	return scopedToken(t, []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead})
}

// post sends an import-shaped request and decodes a 200 answer (another
// status is logged, with its body).
func post(t *testing.T, url, tok string, body any) (int, answer.Answer) {
	t.Helper()
	r := apptest.Do(t, http.MethodPost, url, tok, body)
	var a answer.Answer
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &a); err != nil {
			t.Fatalf("%v: %s", err, r.Body)
		}
	} else {
		t.Logf("answer %d: %s", r.Status, r.Body)
	}
	return r.Status, a
}

func checkCounts(t *testing.T, a answer.Answer, n int) {
	t.Helper()
	if a.Total != n || len(a.Results) != n || a.Succeeded+a.Failed+a.Unknown != n {
		t.Fatalf("total %d results %d: %d+%d+%d", a.Total, len(a.Results), a.Succeeded, a.Failed, a.Unknown)
	}
	for i, r := range a.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
	}
}

// problemBody is an application/problem+json answer.
type problemBody struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Errors []schema.Issue `json:"errors"`
}

// expectProblem checks that r is a problem+json answer with the status, and
// returns it.
func expectProblem(t *testing.T, r apptest.Reply, status int) problemBody {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if !json.Valid(r.Body) {
		t.Errorf("the problem is not one JSON document: %s", r.Body)
	}
	var p problemBody
	r.Decode(t, &p)
	if p.Status != status {
		t.Errorf("problem status %d, want %d", p.Status, status)
	}
	return p
}

// issueKey is what a test asserts of an issue: its code and field.
type issueKey struct {
	Code  schema.Code
	Field string
}

func issueKeys(list []schema.Issue) []issueKey {
	out := make([]issueKey, 0, len(list))
	for _, is := range list {
		out = append(out, issueKey{is.Code, is.Field})
	}
	return out
}

// matchGolden compares a wire body with testdata/<name> after decoding both
// (so key order does not matter, and value types do).
func matchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	want := testutil.ReadFile(t, "testdata", name)
	if d := cmp.Diff(testutil.DecodeJSON(t, want), testutil.DecodeJSON(t, got)); d != "" {
		t.Errorf("body differs from testdata/%s (-want +got):\n%s\ngot: %s", name, d, got)
	}
}

// sharedRedis is REDIS_URL (without it the test fails under CI=true and is
// skipped elsewhere) and a key prefix of the test's own, whose keys are
// removed when the test ends.
func sharedRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	_, prefix = redistest.Client(t)
	return redistest.URL(t), prefix
}
