// Command crmgate is one REST API in front of the WSCRM and NXLink customer
// providers. With no configuration it serves a sandbox: both providers'
// simulators, an in-process store, and a development token printed at start.
//
//	crmgate [--config FILE]          serve (CRMGATE_CONFIG also names the file)
//	crmgate token --sub APP --scope "customers:write" --connections a,b --ttl 1h
//	crmgate check-config --config FILE   validate, print the connections with secrets redacted
//	crmgate import FILE --connection ID   upload a CSV or XLSX file as an import job and follow it
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"crmgate/api"
	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/importcli"
	"crmgate/providers"
	"crmgate/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crmgate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return mintToken(args[1:], stdout, stderr)
		case "check-config":
			return checkConfig(args[1:], stdout, stderr)
		case "import":
			os.Exit(importcli.Main(ctx, args[1:], stdout, stderr))
		}
	}
	fs := flag.NewFlagSet("crmgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv(config.EnvConfig), "configuration file (none: sandbox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout, stderr)
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Sandbox(os.LookupEnv)
	}
	return config.LoadFile(path, providers.Factories(), os.LookupEnv)
}

func serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer) error {
	level, err := config.ParseLogLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	// What go-redis logs itself goes into the same JSON stream.
	redis.SetLogger(telemetry.RedisLogger{Logger: logger})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	base := localURL(ln.Addr())
	tracing, err := telemetry.SetupTracing(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := app.Build(ctx, cfg, app.Options{Providers: providers.All(), Logger: logger, GatewayURL: base, TracerProvider: tracing.Provider,
		OpenAPI: openAPI})
	if err != nil {
		ln.Close()
		_ = tracing.Shutdown(context.Background())
		return err
	}
	defer a.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.Run(runCtx)

	srv := api.NewHTTPServer(a.Handler, api.HTTPOptions{
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout, ReadTimeout: cfg.Server.ReadTimeout,
		WriteTimeout: cfg.Server.WriteTimeout, IdleTimeout: cfg.Server.IdleTimeout, MaxHeaderBytes: cfg.Server.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(api.ProblemListener(ln)) }()
	banner(stdout, cfg, a, base)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutdown(srv, a, cfg, logger, errc, cancel, tracing)
}

// shutdown stops the gateway in order: readiness off (/readyz 503, so that
// load balancers take the instance out of rotation), requests still served
// while some are in flight, then no new connection accepted and the rest
// drained, all within shutdown_timeout; then the background work stops
// (event delivery hands its subscriptions back) and the stores close
// (deferred a.Close in serve). The spans of the drained requests are
// exported (the tracer provider flushed) after the drain. A request still running at shutdown_timeout
// is cut: an import's Idempotency-Key journal lets its caller retry it.
func shutdown(srv *http.Server, a *app.App, cfg *config.Config, logger *slog.Logger, errc chan error, stopBackground context.CancelFunc, tracing *telemetry.Tracing) error {
	start := time.Now()
	a.Server.Drain()
	logger.Info("shutting down", "in_flight", a.Server.InFlight(), "shutdown_timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, done := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer done()
	tick := time.NewTicker(50 * time.Millisecond)
	for a.Server.InFlight() > 0 && shutdownCtx.Err() == nil {
		select {
		case <-tick.C:
		case <-shutdownCtx.Done():
		}
	}
	tick.Stop()
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		logger.Warn("requests still running at shutdown_timeout were cut", "err", err.Error(), "shutdown_timeout", cfg.ShutdownTimeout.String())
		_ = srv.Close()
	}
	stopBackground()
	if tracing.Enabled() {
		flushCtx, flushed := context.WithTimeout(context.Background(), 5*time.Second)
		if ferr := tracing.Shutdown(flushCtx); ferr != nil {
			logger.Warn("traces not all exported at shutdown", "err", ferr.Error())
		}
		flushed()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	logger.Info("stopped", "duration_ms", time.Since(start).Milliseconds())
	return nil
}

func localURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func banner(w io.Writer, cfg *config.Config, a *app.App, base string) {
	fmt.Fprintf(w, "crmgate listening on %s\n", base)
	for _, c := range a.Server.Connections() {
		fmt.Fprintf(w, "  connection %-16s provider %-7s %s\n", c.ID, c.Common.Provider, c.BaseURL)
	}
	fmt.Fprintf(w, "  Swagger UI   %s/swagger/index.html\n", base)
	fmt.Fprintf(w, "  Console      %s/console/\n", base)
	if !cfg.Sandbox {
		return
	}
	fmt.Fprintf(w, "\nSandbox mode: the providers above are built-in simulators; the store is in-process.\n")
	fmt.Fprintf(w, "Development token (every scope, every connection, 24 h):\n\n")
	fmt.Fprintf(w, "export CRMGATE_TOKEN=%s\n\n", a.DevToken)
	fmt.Fprintf(w, "Try:\n  curl -s %s/v1/customers -H \"Authorization: Bearer $CRMGATE_TOKEN\" -H 'Content-Type: application/json' \\\n", base)
	fmt.Fprintf(w, "    -d '{\"connection\":\"sandbox-nxlink\",\"customers\":[{\"ref\":\"crm-17\",\"name\":\"Li Heng\",\"whatsapp\":\"+86 152 6666 7780\",\"tags\":[\"VIP\"]}]}'\n")
}

func mintToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crmgate token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv(config.EnvConfig), "configuration file (its auth.jwt section is used)")
	sub := fs.String("sub", "", "the calling app (required)")
	scope := fs.String("scope", "", "space-separated scopes: "+strings.Join(auth.Scopes, " "))
	conns := fs.String("connections", "", "comma-separated connection ids, or *")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	secret := cfg.Auth.JWT.HS256Secret.Reveal()
	if secret == "" {
		return fmt.Errorf("token: no HS256 secret: set auth.jwt.hs256_secret in --config or %s", config.EnvJWTSecret)
	}
	var list []string
	for _, c := range strings.Split(*conns, ",") {
		if c = strings.TrimSpace(c); c != "" {
			list = append(list, c)
		}
	}
	if len(list) == 0 {
		return errors.New("token: --connections is required (ids, or *)")
	}
	if err := knownConnections(cfg, list); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tok, err := auth.Mint(auth.MintOptions{Secret: []byte(secret), Issuer: cfg.Auth.JWT.Issuer, Audience: cfg.Auth.JWT.Audience,
		Subject: *sub, Scopes: strings.Fields(*scope), Connections: list, TTL: *ttl})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// knownConnections refuses ids that are not connections of cfg (in sandbox
// mode: of the sandbox), so that a token is never minted for a typo.
func knownConnections(cfg *config.Config, ids []string) error {
	if len(ids) == 1 && ids[0] == "*" {
		return nil
	}
	var known []string
	if cfg.Sandbox {
		for _, f := range providers.Factories() {
			known = append(known, sandboxConnectionID(f.Name))
		}
	}
	for _, c := range cfg.Connections {
		known = append(known, c.Common.ID)
	}
	var unknown []string
	for _, id := range ids {
		if id == "*" {
			return errors.New(`--connections: "*" stands alone (every connection), not beside ids`)
		}
		if !slices.Contains(known, id) {
			unknown = append(unknown, strconv.Quote(id))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--connections: no connection %s in this configuration (it has %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// sandboxConnectionID is the id of a provider's sandbox connection.
func sandboxConnectionID(provider string) string { return "sandbox-" + provider }

// checkConfig loads a configuration as serving it would (every problem
// reported at once, each naming its key) and prints its connections with
// secrets redacted. The file is --config, the one argument, or
// CRMGATE_CONFIG.
func checkConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("crmgate check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv(config.EnvConfig), "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 1:
		*path = fs.Arg(0)
	case fs.NArg() > 1:
		return errors.New("check-config: one configuration file at most")
	}
	if *path == "" {
		return errors.New("check-config: no file: give --config FILE (or set " + config.EnvConfig + ")")
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok, %d connection(s)\n", *path, len(cfg.Connections))
	for _, c := range cfg.Connections {
		doc, err := redactedConnection(c)
		if err != nil {
			return fmt.Errorf("check-config: connection %s: %w", c.Common.ID, err)
		}
		fmt.Fprintf(stdout, "\n%s", doc)
	}
	return nil
}

// redactedConnection is one connection as YAML: its common keys, its
// provider's own (secrets shown as ***) and a summary of its field
// configuration.
func redactedConnection(c config.Connection) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, v := range []any{c.Common, c.Extra} {
		var n yaml.Node
		if err := n.Encode(v); err != nil {
			return nil, err
		}
		doc.Content = append(doc.Content, n.Content...)
	}
	var fc yaml.Node
	if err := fc.Encode(map[string]any{"required": c.FieldConfig.Required, "custom_fields": len(c.FieldConfig.CustomFields)}); err != nil {
		return nil, err
	}
	doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "field_config"}, &fc)
	return yaml.Marshal(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{doc}})
}
