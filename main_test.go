package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/internal/apptest"
	"crmgate/internal/readme"
	"crmgate/internal/testbin"
	"crmgate/internal/testutil"
	"crmgate/providers/nxlink/nxlinksim"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// inProcess is the command's run, in this test process, as `go run .` would
// start it, on a free port.
type inProcess struct {
	base           string // http://127.0.0.1:port, from the banner
	stdout, stderr *testutil.SyncBuffer
	cancel         context.CancelFunc
	done           chan error
	stopped        bool
	err            error
}

// startGateway runs the command with args on a free port and waits for the
// banner's first line; the test's end stops it (see stop) and fails the
// test when run returned an error.
func startGateway(t *testing.T, args ...string) *inProcess {
	t.Helper()
	t.Setenv("CRMGATE_LISTEN", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	g := &inProcess{stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- run(ctx, args, g.stdout, g.stderr) }()
	t.Cleanup(func() {
		if g.stopped {
			return // the test stopped it and has seen what run returned
		}
		if err := g.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	g.base = g.printed(t, regexp.MustCompile(`crmgate listening on (http://\S+)`))[1]
	return g
}

// printed waits until stdout holds a match of re and returns it (its
// submatches after the whole); the test fails when run ends first, or after
// 20 seconds.
func (g *inProcess) printed(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if m := re.FindStringSubmatch(g.stdout.String()); m != nil {
			return m
		}
		select {
		case err := <-g.done:
			g.stopped, g.err = true, err
			t.Fatalf("run ended: %v\n%s", err, g.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not printed:\n%s\n%s", re, g.stdout, g.stderr)
	return nil
}

// stop cancels run's context, as SIGTERM does, and returns what run
// returned, or an error when it has not returned within 60 seconds. Later
// calls return the same.
func (g *inProcess) stop() error {
	if g.stopped {
		return g.err
	}
	g.stopped = true
	g.cancel()
	select {
	case g.err = <-g.done:
	case <-time.After(60 * time.Second):
		g.err = errors.New("the gateway did not shut down within 60s")
	}
	return g.err
}

// writeConfig writes a configuration document to a file of the test's own
// and returns its path.
func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crmgate.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readmeExamples returns the JSON bodies of the README's curl examples of
// POST /v1/customers.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	curls, err := readme.Curls(b)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, c := range curls {
		if c.Method == http.MethodPost && strings.HasSuffix(c.URL, "/v1/customers") {
			bodies = append(bodies, c.Body)
		}
	}
	return bodies
}

// The binary serves openapi.yaml, the repository's one copy of the
// document, at GET /openapi.yaml, and Swagger UI beside it.
func TestServesTheOpenAPIDocument(t *testing.T) {
	base := startGateway(t).base
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, check := range map[string]func(res *http.Response, body []byte) bool{
		"/openapi.yaml": func(res *http.Response, body []byte) bool {
			return res.Header.Get("Content-Type") == "application/yaml" && bytes.Equal(body, want)
		},
		"/swagger/index.html": func(res *http.Response, body []byte) bool {
			return bytes.Contains(body, []byte("swagger-ui"))
		},
	} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !check(res, body) {
			t.Errorf("GET %s: %d %s %.200s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}

// The README's two sandbox examples, sent as printed with the printed token,
// answer "succeeded": 1.
func TestSandboxServesTheREADMEExamples(t *testing.T) {
	g := startGateway(t)
	base := g.base
	tok := g.printed(t, regexp.MustCompile(`export CRMGATE_TOKEN=(\S+)`))[1]
	// The banner names the console, and it is served there.
	if !strings.Contains(g.stdout.String(), "Console      "+base+"/console/") {
		t.Errorf("the banner does not print the console's address:\n%s", g.stdout)
	} else if res, err := http.Get(base + "/console/"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("GET %s/console/: %v %v", base, res, err)
	} else {
		res.Body.Close()
	}
	examples := readmeExamples(t)
	if len(examples) < 2 {
		t.Fatalf("found %d curl examples in README.md", len(examples))
	}
	for _, body := range examples {
		r := apptest.Do(t, http.MethodPost, base+"/v1/customers", tok, body)
		var a struct{ Succeeded, Total int }
		_ = json.Unmarshal(r.Body, &a)
		if r.Status != 200 || a.Succeeded != 1 || a.Total != 1 {
			t.Errorf("%s\n→ %d %s", body, r.Status, r.Body)
		}
	}
	// The calls show in the metrics.
	raw := apptest.Do(t, http.MethodGet, base+"/metrics", "", nil).Body
	for _, want := range []string{
		`crmgate_provider_calls_total{connection="sandbox-nxlink",outcome="answered",provider="nxlink"} 1`,
		`crmgate_records_total{connection="sandbox-wscrm",provider="wscrm",status="succeeded"} 1`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

const secretsConfig = `
auth: {jwt: {hs256_secret: "${JWT}"}}
connections:
  - id: acme-cdp
    provider: nxlink
    base_url: "http://127.0.0.1:9"
    access_key: ak
    access_secret: "${NX_SECRET}"
    tenant_id: 123
    app_key: "${NX_APP}"
    retries: 0
    timeout: 1s
  - id: acme-wa
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: 82
    token: "${WS_TOKEN}"
    retries: 0
    webhook: {mode: static, token: "${WS_HOOK}"}
`

// No secret appears in a log line, an error message or a response, also
// when calls fail and webhooks are refused.
func TestNoSecretLeaks(t *testing.T) {
	secrets := map[string]string{"JWT": "jwt-secret-jwt-secret-jwt-secret-0001", "NX_SECRET": "nx-access-secret-0002",
		"NX_APP": "nx-app-key-0003", "WS_TOKEN": "ws-token-0004", "WS_HOOK": "ws-hook-token-0005"}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	g := startGateway(t, "--config", writeConfig(t, secretsConfig))
	tok := apptest.Mint(t, []byte(secrets["JWT"]), "app", auth.Scopes)
	var answers strings.Builder
	send := func(method, path, body, bearer string) {
		r := apptest.Do(t, method, g.base+path, bearer, body)
		answers.Write(r.Body)
		for k, v := range r.Header {
			answers.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
	}
	rec := `{"connection":"%s","customers":[{"name":"Li Heng","whatsapp":"8615266667780","owner":"kubrick101"}]}`
	send("POST", "/v1/customers", strings.Replace(rec, "%s", "acme-cdp", 1), tok)
	send("POST", "/v1/customers", strings.Replace(rec, "%s", "acme-wa", 1), tok)
	send("POST", "/v1/customers/validate", strings.Replace(rec, "%s", "acme-cdp", 1), tok)
	send("POST", "/v1/customers/validate", strings.Replace(rec, "%s", "acme-wa", 1), tok)
	send("GET", "/v1/connections", "", tok)
	send("GET", "/v1/customers?connection=acme-wa&agent=86187272722", "", tok)
	send("POST", "/v1/webhooks/wscrm/acme-wa", `{"accessToken":"wrong","tenantId":82,"timestamp":1,"data":[]}`, "")
	send("POST", "/v1/customers", "{}", secrets["WS_HOOK"])
	send("GET", "/readyz", "", "")
	time.Sleep(50 * time.Millisecond)
	all := g.stdout.String() + g.stderr.String() + answers.String()
	for k, v := range secrets {
		if strings.Contains(all, v) {
			t.Errorf("the secret %s appears in a log line or an answer", k)
		}
	}
	if !strings.Contains(answers.String(), `"unknown":1`) && !strings.Contains(answers.String(), `"failed":1`) {
		t.Errorf("the imports against a closed port should have answered per record:\n%s", answers.String())
	}
}

func TestTokenCommand(t *testing.T) {
	t.Setenv("CRMGATE_AUTH_JWT_HS256_SECRET", "token-secret-token-secret-token-secret")
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"token", "--sub", "billing", "--scope", "customers:write events:read", "--connections", "sandbox-wscrm,sandbox-nxlink", "--ttl", "1h"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v %s", err, errOut.String())
	}
	v, _ := auth.NewVerifier(auth.Options{HS256Secret: []byte("token-secret-token-secret-token-secret"), Issuer: "crmgate", Audience: "crmgate"})
	p, err := v.Verify(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "billing" || !p.Has("events:read") || !p.Allowed("sandbox-nxlink") || p.Allowed("c") {
		t.Errorf("%+v", p)
	}
	if err := run(context.Background(), []string{"token", "--sub", "x", "--scope", "everything", "--connections", "sandbox-wscrm"}, &out, &errOut); err == nil {
		t.Error("an unknown scope must be refused")
	}
}

// A token is never minted for a connection the configuration does not have.
func TestTokenRefusesUnknownConnections(t *testing.T) {
	exampleEnv(t)
	for _, conns := range []string{"acme-cdp,acme-cdq", "nope", "*,acme-wa"} {
		var out strings.Builder
		err := run(context.Background(), []string{"token", "--config", "examples/crmgate.yaml", "--sub", "billing", "--scope", "customers:write", "--connections", conns}, &out, io.Discard)
		if err == nil || out.Len() != 0 {
			t.Errorf("--connections %s: minted %q, err %v", conns, out.String(), err)
		}
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"token", "--config", "examples/crmgate.yaml", "--sub", "billing", "--scope", "customers:write", "--connections", "acme-cdp,acme-wa"}, &out, io.Discard); err != nil || out.Len() == 0 {
		t.Errorf("known connections: %v", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "--config", "examples/crmgate.yaml", "--sub", "billing", "--scope", "admin", "--connections", "*"}, &out, io.Discard); err != nil || out.Len() == 0 {
		t.Errorf("*: %v", err)
	}
}

// exampleEnv sets the placeholder secrets of examples/crmgate.env, as the
// README's commands do.
func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("examples/crmgate.env")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			t.Setenv(k, v)
			vars[k] = v
		}
	}
	return vars
}

// check-config, run as the built binary: the example configuration passes
// and is printed with every secret redacted; a broken one exits 1 naming
// the key.
func TestCheckConfigBinary(t *testing.T) {
	vars := exampleEnv(t)
	bin := testbin.Build(t)
	out, err := exec.Command(bin, "check-config", "--config", "examples/crmgate.yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("check-config examples/crmgate.yaml: %v\n%s", err, out)
	}
	for _, want := range []string{"ok, 2 connection(s)", "id: acme-wa", "provider: wscrm", "id: acme-cdp", "provider: nxlink", "access_secret: '***'", "custom_fields: 3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check-config output lacks %q:\n%s", want, out)
		}
	}
	for k, v := range vars {
		if k != "NXLINK_ACCESS_KEY" && strings.Contains(string(out), v) {
			t.Errorf("check-config shows the secret %s:\n%s", k, out)
		}
	}
	bad := writeConfig(t, "auth: {jwt: {hs256_secret: short}}\nconnections: []\n")
	cmd := exec.Command(bin, "check-config", bad)
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "auth.jwt.hs256_secret") {
		t.Errorf("check-config on a broken file: %v\n%s", err, out)
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	path := writeConfig(t, "listen: \":0\"\nauth: {jwt: {hs256_secret: short}}\nconections: []\n")
	err := run(context.Background(), []string{"--config", path}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "conections: unknown key") || !strings.Contains(err.Error(), "auth.jwt.hs256_secret") {
		t.Fatalf("err = %v", err)
	}
}

// Stopping the gateway lets an import already under way finish: its caller
// gets the whole answer, and run returns cleanly.
func TestShutdownFinishesInFlightImports(t *testing.T) {
	sim := nxlinksim.New(nxlinksim.Config{Delay: 500 * time.Millisecond, Accounts: []nxlinksim.Account{{
		AccessKey: "ak", AccessSecret: "sk", TenantID: 123, AppKey: "app"}}})
	peer := httptest.NewServer(sim)
	defer peer.Close()
	secret := "shutdown-secret-shutdown-secret-0001"
	cfg := "auth: {jwt: {hs256_secret: \"" + secret + "\"}}\nconnections:\n  - {id: cdp, provider: nxlink, base_url: \"" + peer.URL +
		"\", access_key: ak, access_secret: sk, tenant_id: 123, app_key: app}\n"
	g := startGateway(t, "--config", writeConfig(t, cfg))
	tok := apptest.Mint(t, []byte(secret), "app", []string{auth.ScopeCustomersWrite}, "cdp")
	type result struct {
		status int
		body   string
	}
	answered := make(chan result, 1)
	go func() {
		r, err := apptest.Send(context.Background(), http.MethodPost, g.base+"/v1/customers", tok, `{"customers":[{"name":"Li Heng","whatsapp":"8615266667780"}]}`)
		if err != nil {
			answered <- result{body: err.Error()}
			return
		}
		answered <- result{r.Status, string(r.Body)}
	}()
	// Stop once the provider has the call, while it is still answering.
	testutil.Eventually(t, 10*time.Second, "the import reaches the provider", func() bool { return len(sim.Calls()) > 0 })
	err := g.stop()
	r := <-answered
	if r.status != 200 || !strings.Contains(r.body, `"succeeded":1`) {
		t.Fatalf("in-flight import: %d %s", r.status, r.body)
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
}

const limitsConfig = `
auth: {jwt: {hs256_secret: "limits-secret-limits-secret-limits-0001"}}
limits: {max_body_bytes: 4096}
server: {read_timeout: 2s, max_header_bytes: 4096}
connections:
  - id: acme-wa
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: 82
    webhook: {mode: static, token: hook-token}
`

// rawRequest opens a TCP connection to base and writes head (the request
// line and headers, CRLF-terminated) without a body.
func rawRequest(t *testing.T, base, head string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	return conn
}

// The server bounds what one connection may take: a body trickled in is cut
// off at read_timeout, a declared body over the limit is refused before it
// is sent, and a header over the limit is a problem document too.
func TestServerLimitsOverRealConnections(t *testing.T) {
	base := startGateway(t, "--config", writeConfig(t, limitsConfig)).base

	t.Run("trickled body cut off", func(t *testing.T) {
		const clients = 5
		done := make(chan time.Duration, clients)
		start := time.Now()
		for range clients {
			conn := rawRequest(t, base, "POST /v1/webhooks/wscrm/acme-wa HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
			go func() {
				// A byte every 100 ms: the whole body would take 100 s.
				go func() {
					for range 1000 {
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
				}()
				_ = conn.SetReadDeadline(time.Now().Add(40 * time.Second))
				_, _ = io.Copy(io.Discard, conn)
				done <- time.Since(start)
			}()
		}
		for range clients {
			if d := <-done; d > 30*time.Second {
				t.Fatalf("a trickling connection was still open after %v (read_timeout 2s)", d)
			}
		}
	})

	t.Run("declared body over the limit", func(t *testing.T) {
		for _, p := range []string{"/v1/webhooks/wscrm/acme-wa", "/v1/customers"} {
			conn := rawRequest(t, base, "POST "+p+" HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 4097\r\n\r\n")
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s: no answer before the body was sent: %v", p, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(string(raw), "body-too-large") {
				t.Errorf("%s: %d %s %s", p, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
			}
		}
	})

	t.Run("header over the limit", func(t *testing.T) {
		conn := rawRequest(t, base, "GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Padding: "+strings.Repeat("a", 16<<10)+"\r\n\r\n")
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p struct {
			Type      string `json:"type"`
			Status    int    `json:"status"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge ||
			resp.Header.Get("Content-Type") != "application/problem+json" || p.Status != 431 ||
			p.Type != "https://crmgate.dev/problems/header-too-large" || p.RequestID == "" || resp.Header.Get("X-Request-ID") != p.RequestID {
			t.Errorf("%d %s %s (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), raw, err)
		}
		// A header within the limit is served as before.
		ok, err := http.Get(base + "/healthz")
		if err != nil || ok.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", ok, err)
		}
		ok.Body.Close()
	})
}
