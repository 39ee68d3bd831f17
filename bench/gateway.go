package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/gateway"
	"crmgate/providers"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
)

// Connections of the benchmark gateway.
const (
	ConnSlow = "nx-slow" // NXLink, to the simulator answering after SimDelay
	ConnFast = "nx-fast" // NXLink, to the instant simulator
	ConnLean = "nx-lean" // NXLink, to LeanNXLink
	// ConnJob (job.go): NXLink, to the simulator answering after SimDelay,
	// JobConcurrency calls in flight.
)

// Concurrency is the calls in flight per connection of the benchmark gateway:
// the contract's default.
const Concurrency = gateway.DefaultConcurrency

const jwtSecret = "bench-hs256-secret-of-at-least-32-bytes"

// Gateway is a gateway built with app.Build, served on a loopback httptest
// server, with a token for every connection.
type Gateway struct {
	URL   string
	Token string

	app *app.App
	srv *httptest.Server
}

// StartGateway builds the gateway from a configuration document naming the
// peer's two NXLink simulators (ConnSlow, ConnFast, ConnJob) and its lean
// fake (ConnLean, when urls has one), with the NXLink sandbox field
// configuration, starts its background work (app.App.Run: the import jobs'
// engine among it) and serves it. Close stops both.
func StartGateway(urls PeerURLs) (*Gateway, error) {
	fc, err := json.Marshal(nxlinksim.SampleFieldConfig())
	if err != nil {
		return nil, err
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, "auth: {jwt: {hs256_secret: %q}}\nconnections:\n", jwtSecret)
	for _, c := range []struct {
		id, url     string
		concurrency int
	}{{ConnSlow, urls.Slow, Concurrency}, {ConnFast, urls.Fast, Concurrency}, {ConnJob, urls.Slow, JobConcurrency}, {ConnLean, urls.Lean, Concurrency}} {
		if c.url == "" {
			continue
		}
		fmt.Fprintf(&doc, `  - id: %s
    provider: nxlink
    base_url: %q
    access_key: %q
    access_secret: "${BENCH_NX_SECRET}"
    tenant_id: %d
    app_key: %q
    concurrency: %d
    field_config: %s
`, c.id, c.url, NXAccessKey, NXTenantID, NXAppKey, c.concurrency, fc)
	}
	cfg, err := config.Load(strings.NewReader(doc.String()), ".", providers.Factories(), func(k string) (string, bool) {
		if k == "BENCH_NX_SECRET" {
			return NXAccessSecret, true
		}
		return "", false
	})
	if err != nil {
		return nil, fmt.Errorf("bench.StartGateway: %w", err)
	}
	a, err := app.Build(context.Background(), cfg, app.Options{
		Providers: providers.All(),
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, fmt.Errorf("bench.StartGateway: %w", err)
	}
	tok, err := auth.Mint(auth.MintOptions{Secret: []byte(jwtSecret), Issuer: config.DefaultIssuer, Audience: config.DefaultAudience,
		Subject: "bench", Scopes: auth.Scopes, Connections: []string{auth.AllConnections}, TTL: time.Hour})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("bench.StartGateway: %w", err)
	}
	// The background work: without it an import job is queued and never sent.
	a.Run(context.Background())
	srv := httptest.NewServer(a.Handler)
	return &Gateway{URL: srv.URL, Token: tok, app: a, srv: srv}, nil
}

// Close stops the server and the gateway.
func (g *Gateway) Close() {
	g.srv.Close()
	g.app.Close()
}

// ImportRequest is POST /v1/customers with body, as the peer sends it.
func (g *Gateway) ImportRequest(body []byte) Request {
	return Request{URL: g.URL + "/v1/customers", Body: body, Header: map[string][]string{
		"Content-Type":  {"application/json"},
		"Authorization": {"Bearer " + g.Token},
	}}
}

// DirectRequest is an NXLink batch create call carrying body, signed now, to
// the server at base (a simulator or a proxy in front of one).
func DirectRequest(base string, body []byte) Request {
	return Request{URL: strings.TrimRight(base, "/") + nxlink.BatchCreatePath, Body: body, Header: SignedHeader(body)}
}

// StartProxy serves a bare httputil reverse proxy to target on a loopback
// httptest server, with the gateway's own outbound transport
// (app.NewHTTPClient). The caller closes the server.
func StartProxy(target string) (*httptest.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("bench.StartProxy: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = app.NewHTTPClient().Transport
	rp.ErrorLog = nil
	return httptest.NewServer(rp), nil
}
