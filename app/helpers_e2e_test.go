package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/fieldconfig"
	"crmgate/providers"
	"crmgate/schema"
)

// gwInstance is one gateway built with app.Build and served over real HTTP.
type gwInstance struct {
	app *app.App
	url string
}

// startGW builds a gateway from a configuration document (YAML; the
// connections' secrets come from env) and serves it on a loopback httptest
// server. When run is set, its background work (field-configuration refresh,
// event delivery) runs until the test ends.
func startGW(t *testing.T, doc string, o app.Options, run bool) *gwInstance {
	t.Helper()
	cfg, err := config.Load(strings.NewReader(doc), ".", factories, func(k string) (string, bool) {
		if k == "NX_SECRET" {
			return "s3cr3t", true
		}
		return "", false
	})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	o.Providers = providers.All()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := app.Build(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel) // runs before a.Close: cleanups are last in, first out
		a.Run(ctx)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &gwInstance{app: a, url: srv.URL}
}

// servePeers serves p's simulators on loopback httptest servers.
func servePeers(t *testing.T, p *peers) {
	t.Helper()
	nxs := httptest.NewServer(p.nx)
	wss := httptest.NewServer(p.ws)
	t.Cleanup(nxs.Close)
	t.Cleanup(wss.Close)
	p.nxURL, p.wsURL = nxs.URL, wss.URL
}

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

// scopedToken mints a token with the given scopes for the given connections.
func scopedToken(t *testing.T, scopes []string, conns ...string) string {
	t.Helper()
	if len(conns) == 0 {
		conns = []string{auth.AllConnections}
	}
	tok, err := auth.Mint(auth.MintOptions{Secret: []byte(secret), Issuer: "crmgate", Audience: "crmgate", Subject: "e2e",
		Scopes: scopes, Connections: conns, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// adminBearer may do everything on every connection.
func adminBearer(t *testing.T) string { return scopedToken(t, auth.Scopes) }

// httpReply is an HTTP answer, read whole.
type httpReply struct {
	status int
	header http.Header
	body   []byte
}

// decode reads the answer's JSON body into v, numbers as json.Number.
func (r httpReply) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

// request sends a request with a bearer token (none when tok is empty), body as
// JSON when not nil, and the given extra headers.
func request(t *testing.T, method, url, tok string, body any, header ...string) httpReply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpReply{status: resp.StatusCode, header: resp.Header, body: raw}
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
func expectProblem(t *testing.T, r httpReply, status int) problemBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if !json.Valid(r.body) {
		t.Errorf("the problem is not one JSON document: %s", r.body)
	}
	var p problemBody
	r.decode(t, &p)
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

// decodeNumbers decodes b, numbers as json.Number so that a JSON number and a
// string holding digits stay different.
func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

// matchGolden compares a wire body with testdata/<name> after decoding both
// (so key order does not matter, and value types do).
func matchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(decodeNumbers(t, want), decodeNumbers(t, got)); d != "" {
		t.Errorf("body differs from testdata/%s (-want +got):\n%s\ngot: %s", name, d, got)
	}
}

// waitFor calls cond until it reports true, failing the test when the
// deadline passes first.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisMissing says why a Redis test cannot run: it fails under CI=true, where
// Redis must be there, and is skipped elsewhere.
func redisMissing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// sharedRedisURL is REDIS_URL, with the test failing (CI) or skipped without it.
func sharedRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		redisMissing(t, "REDIS_URL is not set: this test needs a real Redis (e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	return u
}

// redisTestPrefix is a Redis key prefix no other test run uses.
func redisTestPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "crmgate-e2e:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

// ownRedis is a redis-server process of the test's own, without
// persistence, that the test can stop and start again on the same port.
type ownRedis struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

// startOwnRedis starts redis-server on a free loopback port. Without the
// binary the test fails (CI) or is skipped.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		redisMissing(t, "redis-server is not installed: this test starts and stops its own Redis")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &ownRedis{t: t, bin: bin, port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs the server and waits until it accepts connections.
func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitFor(r.t, 10*time.Second, "redis-server accepts connections", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}

// stop kills the server and waits for it to exit.
func (r *ownRedis) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}
