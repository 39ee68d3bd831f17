// Package apptest serves gateways built with app.Build on loopback test
// servers, and sends them requests, for the tests of app, contract, console
// and the command: what differs between those tests' gateways (the
// configuration, the build options, whether background work runs, a handler
// in front) is an Options field, not another fixture.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/providers"
)

// Options are what differs between the gateways tests start.
type Options struct {
	// Config is what the gateway is built from; nil is the no-config
	// sandbox (Sandbox).
	Config *config.Config
	// App are app.Build's options. Nil Providers are providers.All(), a
	// nil Logger discards; GatewayURL is always the test server's.
	App app.Options
	// Run runs the gateway's background work (field-configuration refresh,
	// event delivery, import jobs) until the gateway is shut down.
	Run bool
	// Wrap, when set, is given the built gateway (URL and App set) and its
	// handler, and returns the handler the test server serves.
	Wrap func(g *Gateway, h http.Handler) http.Handler
}

// Gateway is a gateway built with app.Build, served over real HTTP on a
// loopback port.
type Gateway struct {
	URL string // http://127.0.0.1:port
	App *app.App

	once sync.Once
	stop func()
}

// Start builds the gateway o describes and serves it until Shutdown, which
// the test's cleanup calls. A configuration app.Build refuses fails the
// test.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	cfg := o.Config
	if cfg == nil {
		cfg = Sandbox(t)
	}
	srv := httptest.NewUnstartedServer(nil)
	g := &Gateway{URL: "http://" + srv.Listener.Addr().String()}
	opts := o.App
	if opts.Providers == nil {
		opts.Providers = providers.All()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.GatewayURL = g.URL
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Build(ctx, cfg, opts)
	if err != nil {
		cancel()
		srv.Close()
		t.Fatalf("app.Build: %v", err)
	}
	g.App = a
	g.stop = func() {
		srv.Close()
		cancel()
		a.Close()
	}
	t.Cleanup(g.Shutdown)
	if o.Run {
		a.Run(ctx)
	}
	var h http.Handler = a.Handler
	if o.Wrap != nil {
		h = o.Wrap(g, h)
	}
	srv.Config.Handler = h
	srv.Start()
	return g
}

// Shutdown stops the server, the background work and the gateway, in that
// order, as the command does. Calls after the first do nothing.
func (g *Gateway) Shutdown() { g.once.Do(g.stop) }

// Token mints a token of the gateway's secret, issuer and audience (see
// Mint).
func (g *Gateway) Token(t testing.TB, sub string, scopes []string, conns ...string) string {
	t.Helper()
	jwt := g.App.Config.Auth.JWT
	return mint(t, g.App.Secret, jwt.Issuer, jwt.Audience, sub, scopes, conns)
}

// Sandbox is the configuration of the no-config sandbox, as the command
// builds it with nothing in its environment.
func Sandbox(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Sandbox(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config.Sandbox: %v", err)
	}
	return cfg
}

// Load reads a configuration document (YAML) against the providers table,
// its ${VAR}s taken from env alone; a document it refuses fails the test.
func Load(t testing.TB, doc string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(strings.NewReader(doc), ".", providers.Factories(), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	return cfg
}

// Mint is a token of secret with the default issuer and audience, for
// subject sub, with scopes on conns (none: every connection), valid for an
// hour.
func Mint(t testing.TB, secret []byte, sub string, scopes []string, conns ...string) string {
	t.Helper()
	return mint(t, secret, config.DefaultIssuer, config.DefaultAudience, sub, scopes, conns)
}

func mint(t testing.TB, secret []byte, iss, aud, sub string, scopes, conns []string) string {
	t.Helper()
	if len(conns) == 0 {
		conns = []string{auth.AllConnections}
	}
	tok, err := auth.Mint(auth.MintOptions{Secret: secret, Issuer: iss, Audience: aud, Subject: sub,
		Scopes: scopes, Connections: conns, TTL: time.Hour})
	if err != nil {
		t.Fatalf("auth.Mint: %v", err)
	}
	return tok
}

// Reply is an HTTP answer, read whole.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode reads the answer's JSON body into v, numbers as json.Number (so
// that a JSON number and a string of digits stay apart); a body that is not
// JSON fails the test.
func (r Reply) Decode(t testing.TB, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
}

// Send sends one request and reads its answer whole. tok, when not empty,
// goes as a bearer token. body nil sends none; a []byte or a string is sent
// as it is, anything else as its JSON; with a body the Content-Type is
// application/json unless header names another. header is name, value
// pairs. The error is the transport's (or ctx's).
func Send(ctx context.Context, method, url, tok string, body any, header ...string) (Reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Reply{}, fmt.Errorf("apptest.Send: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Reply{}, fmt.Errorf("apptest.Send: %w", err)
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
		return Reply{}, fmt.Errorf("apptest.Send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("apptest.Send: %s %s: %w", method, url, err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// Do is Send without a deadline, failing the test when no answer comes.
func Do(t testing.TB, method, url, tok string, body any, header ...string) Reply {
	t.Helper()
	r, err := Send(context.Background(), method, url, tok, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
