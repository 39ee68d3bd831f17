// Package config reads crmgate's configuration: one YAML file whose ${VAR}
// references are replaced from the environment, with the top-level scalars
// overridable by CRMGATE_* variables. Every problem is reported at once, each
// naming its key. No file at all means the sandbox.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/idempotency"
	"crmgate/redisclient"
	"crmgate/secret"
)

// Defaults.
const (
	DefaultListen = ":8080"
	// SandboxListen is where the sandbox listens unless CRMGATE_LISTEN says
	// otherwise: loopback only, since it prints a token of every scope.
	SandboxListen         = "127.0.0.1:8080"
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxBodyBytes   = 16 << 20
	DefaultMaxRecords     = 10000
	DefaultMaxJobRows     = 1 << 20
	DefaultMaxUploadBytes = 512 << 20
	DefaultJobLease       = 30 * time.Second
	DefaultJobRetention   = 7 * 24 * time.Hour
	DefaultJobWorkers     = 16
	DefaultIssuer         = "crmgate"
	DefaultAudience       = "crmgate"
	MinSecretBytes        = 32
	// DefaultShutdownTimeout bounds how long the requests in flight at a
	// shutdown may finish: below Kubernetes' default grace of 30 s.
	DefaultShutdownTimeout = 25 * time.Second

	// The HTTP server's connection limits (see Server).
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 1 << 20
	// DefaultWriteTimeout is added to request_timeout when write_timeout is
	// absent: the time to write an answer once the deadline is reached.
	DefaultWriteTimeoutMargin = 15 * time.Second
)

// Environment variables that win over the file (and work in sandbox mode).
const (
	EnvConfig    = "CRMGATE_CONFIG"
	EnvListen    = "CRMGATE_LISTEN"
	EnvRedisURL  = "CRMGATE_REDIS_URL"
	EnvJWTSecret = "CRMGATE_AUTH_JWT_HS256_SECRET"
)

// Config is the whole configuration.
type Config struct {
	Listen   string       `yaml:"listen"`
	RedisURL secret.Value `yaml:"redis_url"`
	// Redis is the `redis` block (nil when absent): Cluster, Sentinel, TLS
	// and credentials, and the key prefix. Never set together with RedisURL.
	Redis          *Redis        `yaml:"redis"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	Auth           Auth          `yaml:"auth"`
	Limits         Limits        `yaml:"limits"`
	Events         Events        `yaml:"events"`
	Server         Server        `yaml:"server"`
	Requests       Requests      `yaml:"requests"`
	Jobs           Jobs          `yaml:"jobs"`
	// ShutdownTimeout bounds how long the requests in flight at a SIGTERM
	// may finish; /readyz answers 503 meanwhile.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// Connections are the provider accounts; decoded by hand (see Connection).
	Connections []Connection `yaml:"-"`

	// Sandbox is true when no configuration file was given: the connections
	// are the providers' simulators, started at run time.
	Sandbox bool `yaml:"-"`
}

// Redis is the `redis` block: go-redis's universal options. One address is
// one server; MasterName set means Sentinel (Addrs are the sentinels);
// several Addrs without MasterName are a Redis Cluster's seed nodes.
type Redis struct {
	Addrs      []string     `yaml:"addrs"`
	MasterName string       `yaml:"master_name"`
	Username   string       `yaml:"username"`
	Password   secret.Value `yaml:"password"`
	DB         int          `yaml:"db"`
	TLS        bool         `yaml:"tls"`
	// Prefix starts every key (default redisclient.DefaultPrefix).
	Prefix string `yaml:"prefix"`
}

// Options are the client options of r.
func (r *Redis) Options() redisclient.Options {
	return redisclient.Options{Addrs: r.Addrs, MasterName: r.MasterName, Username: r.Username,
		Password: r.Password.Reveal(), DB: r.DB, TLS: r.TLS}
}

// UsesRedis says whether the stores are in Redis (redis_url or redis).
func (c *Config) UsesRedis() bool { return c.RedisURL != "" || c.Redis != nil }

// RedisPrefix is the key prefix in use: the redis block's, or
// redisclient.DefaultPrefix.
func (c *Config) RedisPrefix() string {
	if c.Redis != nil {
		return redisclient.Prefix(c.Redis.Prefix)
	}
	return redisclient.DefaultPrefix
}

// RedisClient opens the client the configuration names (nil, nil without
// Redis). It connects lazily.
func (c *Config) RedisClient() (redis.UniversalClient, error) {
	switch {
	case c.Redis != nil:
		return redisclient.New(c.Redis.Options())
	case c.RedisURL != "":
		return redisclient.FromURL(c.RedisURL.Reveal())
	}
	return nil, nil
}

// Auth configures how callers authenticate.
type Auth struct {
	JWT JWT `yaml:"jwt"`
}

// JWT configures token validation.
type JWT struct {
	HS256Secret secret.Value `yaml:"hs256_secret"`
	JWKSURL     string       `yaml:"jwks_url"`
	Issuer      string       `yaml:"issuer"`
	Audience    string       `yaml:"audience"`
}

// Limits bound a request.
type Limits struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxRecords   int   `yaml:"max_records"`
	// MaxJobRows and MaxUploadBytes bound one import job (POST /v1/imports):
	// data rows and bytes of the request body.
	MaxJobRows     int   `yaml:"max_job_rows"`
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// RatePerApp is each app's (JWT sub's) request rate per second on /v1
	// (0: unlimited); RateBurst the most at once (default RatePerApp).
	RatePerApp int `yaml:"rate_per_app"`
	RateBurst  int `yaml:"rate_burst"`
}

// Server bounds what one client connection may take of the HTTP server. An
// absent (or zero) key takes its default.
type Server struct {
	// ReadHeaderTimeout bounds reading a request's header (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, header and body (default
	// 30s): a client that trickles its body is cut off.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds a request from the end of its header to the end of
	// its answer (default request_timeout + 15s); it must exceed
	// request_timeout, or answers reached at the deadline would be cut.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a kept-alive connection waits for its next
	// request (default 120s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's header (default 1 MiB); a larger one
	// is a 431.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

// Jobs configures import jobs (gateway.md §7).
type Jobs struct {
	// Lease is how long a replica's claim on a chunk lasts before another
	// takes it over (Redis only).
	Lease time.Duration `yaml:"lease"`
	// Retention is how long a job and its results are kept after it ended.
	Retention time.Duration `yaml:"retention"`
	// Workers is how many chunks one replica sends at once.
	Workers int `yaml:"workers"`
}

// Events configures event storage and subscription delivery.
type Events struct {
	// Retention is how long events stay listed and a provider item id is
	// stored once (default 168h).
	Retention time.Duration `yaml:"retention"`
	// DeliverySchedule is the wait before each retry of a delivery, before
	// jitter (default 1s, 5s, 30s, 2m, 10m, 1h, 6h); after the last the event
	// is listed as failed.
	DeliverySchedule []time.Duration `yaml:"delivery_schedule"`
	// SubscriberNetworks, when set, narrows the addresses deliveries may go
	// to to these CIDRs ("10.20.0.0/16"). Loopback, link-local, unspecified
	// and multicast addresses are refused whatever it says.
	SubscriberNetworks []string `yaml:"subscriber_networks"`
	// AllowLoopback allows subscriptions to loopback addresses (127.0.0.0/8,
	// ::1, localhost); the sandbox sets it.
	AllowLoopback bool `yaml:"allow_loopback"`
}

// Networks are SubscriberNetworks parsed (those that do not parse are left
// out; validation reports them).
func (e Events) Networks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range e.SubscriberNetworks {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// Requests configures what is kept of processed imports: their answers
// (GET /v1/requests/{request_id}) and each customer's history
// (GET /v1/customers/history).
type Requests struct {
	// Retention is how long they are kept (default 168h).
	Retention time.Duration `yaml:"retention"`
}

// DefaultRequestsRetention is requests.retention's default.
const DefaultRequestsRetention = 168 * time.Hour

// Connection is one configured provider account.
type Connection struct {
	Common      gateway.Common
	Extra       any // the provider's own configuration, as its Factory.NewConfig type
	FieldConfig fieldconfig.Config
	Factory     gateway.Factory
}

// file is the document's top level, for key checking and decoding.
type file struct {
	Listen          string        `yaml:"listen"`
	RedisURL        string        `yaml:"redis_url"`
	Redis           *Redis        `yaml:"redis"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	Auth            Auth          `yaml:"auth"`
	Limits          Limits        `yaml:"limits"`
	Events          Events        `yaml:"events"`
	Server          Server        `yaml:"server"`
	Requests        Requests      `yaml:"requests"`
	Jobs            Jobs          `yaml:"jobs"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	LogLevel        string        `yaml:"log_level"`
	Connections     []yaml.Node   `yaml:"connections"`
}

// connKeys are the connection keys every provider has.
type connKeys struct {
	gateway.Common `yaml:",inline"`
	FieldConfig    yaml.Node `yaml:"field_config"`
}

// Sandbox is the configuration with no file: defaults plus environment.
func Sandbox(env func(string) (string, bool)) (*Config, error) {
	c := &Config{Sandbox: true, Listen: SandboxListen}
	c.Events.AllowLoopback = true // the simulators and the subscribers a newcomer starts are on this host
	c.applyEnv(env)
	c.defaults()
	return c, c.validate()
}

// LoadFile reads the file at path; field_config paths are relative to its folder.
func LoadFile(path string, factories []gateway.Factory, env func(string) (string, bool)) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Load(f, filepath.Dir(path), factories, env)
}

// Load reads a configuration document from r. dir is where relative
// field_config paths are found; env looks variables up (os.LookupEnv).
func Load(r io.Reader, dir string, factories []gateway.Factory, env func(string) (string, bool)) (*Config, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(r).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config: the file is empty")
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	var errs []error
	errs = append(errs, expand(doc, "", env)...)
	var f file
	errs = append(errs, decodeStrict(doc, &f, "")...)
	c := &Config{Listen: f.Listen, RedisURL: secret.Value(f.RedisURL), Redis: f.Redis, RequestTimeout: f.RequestTimeout, Auth: f.Auth, Limits: f.Limits, Events: f.Events, Server: f.Server, Requests: f.Requests, Jobs: f.Jobs, ShutdownTimeout: f.ShutdownTimeout, LogLevel: f.LogLevel}
	ids := map[string]bool{}
	for i := range f.Connections {
		conn, cerrs := loadConnection(&f.Connections[i], fmt.Sprintf("connections[%d]", i), dir, factories)
		errs = append(errs, cerrs...)
		if conn == nil {
			continue
		}
		if ids[conn.Common.ID] {
			errs = append(errs, fmt.Errorf("connections[%d].id: %q is used twice", i, conn.Common.ID))
		}
		ids[conn.Common.ID] = true
		c.Connections = append(c.Connections, *conn)
	}
	c.applyEnv(env)
	c.defaults()
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	if errs = withoutRepeats(errs); len(errs) > 0 {
		return nil, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return c, nil
}

// withoutRepeats flattens errs and drops the problems reported for a key
// whose value could not be read: the keyError already says what is wrong
// there, and a "required" beside it would contradict it.
func withoutRepeats(errs []error) []error {
	var flat []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		flat = append(flat, e)
	}
	for _, e := range errs {
		walk(e)
	}
	bad := map[string]bool{}
	for _, e := range flat {
		var ke *keyError
		if errors.As(e, &ke) {
			bad[ke.key] = true
		}
	}
	out := flat[:0]
	for _, e := range flat {
		var ke *keyError
		if !errors.As(e, &ke) {
			if key, _, ok := strings.Cut(e.Error(), ": "); ok && bad[key] {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func loadConnection(node *yaml.Node, at, dir string, factories []gateway.Factory) (*Connection, []error) {
	if node.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("%s: must be a mapping", at)}
	}
	// Split the keys: the common ones, and the provider's own.
	common := &yaml.Node{Kind: yaml.MappingNode}
	own := &yaml.Node{Kind: yaml.MappingNode}
	commonNames := yamlNames(reflect.TypeOf(connKeys{}))
	for i := 0; i+1 < len(node.Content); i += 2 {
		dst := own
		if slices.Contains(commonNames, node.Content[i].Value) {
			dst = common
		}
		dst.Content = append(dst.Content, node.Content[i], node.Content[i+1])
	}
	var keys connKeys
	errs := decodeStrict(common, &keys, at)
	if keys.Provider == "" {
		return nil, append(errs, fmt.Errorf("%s.provider: required (one of %s)", at, factoryNames(factories)))
	}
	idx := slices.IndexFunc(factories, func(f gateway.Factory) bool { return f.Name == keys.Provider })
	if idx < 0 {
		return nil, append(errs, fmt.Errorf("%s.provider: unknown provider %q (one of %s)", at, keys.Provider, factoryNames(factories)))
	}
	fac := factories[idx]
	extra := fac.NewConfig()
	errs = append(errs, decodeStrict(own, extra, at)...)
	if v, ok := extra.(interface{ Validate() error }); ok {
		errs = append(errs, prefixErrors(at, v.Validate())...)
	}
	errs = append(errs, prefixErrors(at, keys.Common.Validate())...)
	conn := &Connection{Common: keys.Common.WithDefaults(), Extra: extra, Factory: fac}
	fc, ferrs := loadFieldConfig(&keys.FieldConfig, at+".field_config", dir)
	errs = append(errs, ferrs...)
	conn.FieldConfig = fc
	return conn, errs
}

func loadFieldConfig(node *yaml.Node, at, dir string) (fieldconfig.Config, []error) {
	var fc fieldconfig.Config
	switch node.Kind {
	case 0:
		return fc, nil
	case yaml.ScalarNode:
		if node.Value == "" {
			return fc, nil
		}
		path := node.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fc, []error{fmt.Errorf("%s: %w", at, err)}
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fc, []error{fmt.Errorf("%s: %s: %w", at, node.Value, err)}
		}
		if len(doc.Content) == 0 {
			return fc, nil
		}
		node = doc.Content[0]
		at = at + "(" + node.Value + ")"
	}
	errs := decodeStrict(node, &fc, at)
	if len(errs) == 0 {
		errs = prefixErrors(at, fc.Validate())
	}
	return fc, errs
}

func (c *Config) applyEnv(env func(string) (string, bool)) {
	if env == nil {
		env = os.LookupEnv
	}
	if v, ok := env(EnvListen); ok && v != "" {
		c.Listen = v
	}
	if v, ok := env(EnvRedisURL); ok && v != "" {
		// It wins over both ways of naming Redis in the file.
		c.RedisURL, c.Redis = secret.Value(v), nil
	}
	if v, ok := env(EnvJWTSecret); ok && v != "" {
		c.Auth.JWT.HS256Secret = secret.Value(v)
	}
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Limits.MaxBodyBytes == 0 {
		c.Limits.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Limits.MaxRecords == 0 {
		c.Limits.MaxRecords = DefaultMaxRecords
	}
	if c.Limits.MaxJobRows == 0 {
		c.Limits.MaxJobRows = DefaultMaxJobRows
	}
	if c.Limits.MaxUploadBytes == 0 {
		c.Limits.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.Jobs.Lease == 0 {
		c.Jobs.Lease = DefaultJobLease
	}
	if c.Jobs.Retention == 0 {
		c.Jobs.Retention = DefaultJobRetention
	}
	if c.Jobs.Workers == 0 {
		c.Jobs.Workers = DefaultJobWorkers
	}
	if c.Server.ReadHeaderTimeout == 0 {
		c.Server.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.Server.ReadTimeout == 0 {
		c.Server.ReadTimeout = DefaultReadTimeout
	}
	if c.Server.WriteTimeout == 0 && c.RequestTimeout > 0 {
		c.Server.WriteTimeout = c.RequestTimeout + DefaultWriteTimeoutMargin
	}
	if c.Server.IdleTimeout == 0 {
		c.Server.IdleTimeout = DefaultIdleTimeout
	}
	if c.Server.MaxHeaderBytes == 0 {
		c.Server.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Requests.Retention == 0 {
		c.Requests.Retention = DefaultRequestsRetention
	}
	if c.Auth.JWT.Issuer == "" {
		c.Auth.JWT.Issuer = DefaultIssuer
	}
	if c.Auth.JWT.Audience == "" {
		c.Auth.JWT.Audience = DefaultAudience
	}
}

func (c *Config) validate() error {
	var errs []error
	s := c.Auth.JWT.HS256Secret.Reveal()
	switch {
	case !c.Sandbox && s == "" && c.Auth.JWT.JWKSURL == "":
		errs = append(errs, errors.New("auth.jwt.hs256_secret: required (or auth.jwt.jwks_url)"))
	case s != "" && len(s) < MinSecretBytes:
		errs = append(errs, fmt.Errorf("auth.jwt.hs256_secret: must be at least %d bytes", MinSecretBytes))
	}
	if c.RedisURL != "" && c.Redis != nil {
		errs = append(errs, errors.New("redis_url, redis: give one of them, not both (redis_url names one server; the redis block one server, a Sentinel group or a Cluster)"))
	}
	if c.Redis != nil {
		if err := c.Redis.Options().Validate("redis"); err != nil {
			errs = append(errs, err)
		}
		if err := redisclient.ValidPrefix(c.Redis.Prefix); err != nil {
			errs = append(errs, fmt.Errorf("redis.prefix: %w", err))
		}
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, errors.New("request_timeout: must not be negative"))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("shutdown_timeout: must not be negative"))
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	// An Idempotency-Key's claim is a lease its request renews as long as it
	// runs, so no lease bounds a request; the key itself (its journal of
	// answered calls included) is kept for idempotency.DefaultTTL from the
	// request's start, and a request running longer would outlive it.
	if c.RequestTimeout >= idempotency.DefaultTTL {
		errs = append(errs, fmt.Errorf("request_timeout: must be below %dh, how long an Idempotency-Key and its journal are kept", int(idempotency.DefaultTTL.Hours())))
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"read_header_timeout", c.Server.ReadHeaderTimeout}, {"read_timeout", c.Server.ReadTimeout},
		{"write_timeout", c.Server.WriteTimeout}, {"idle_timeout", c.Server.IdleTimeout}} {
		if t.d < 0 {
			errs = append(errs, fmt.Errorf("server.%s: must not be negative", t.key))
		}
	}
	if c.Server.WriteTimeout > 0 && c.Server.WriteTimeout <= c.RequestTimeout {
		errs = append(errs, fmt.Errorf("server.write_timeout: must exceed request_timeout (%v), or answers given at the deadline are cut off", c.RequestTimeout))
	}
	if c.Server.MaxHeaderBytes < 0 {
		errs = append(errs, errors.New("server.max_header_bytes: must not be negative"))
	}
	if c.Limits.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("limits.max_body_bytes: must not be negative"))
	}
	if c.Limits.MaxRecords < 0 {
		errs = append(errs, errors.New("limits.max_records: must not be negative"))
	}
	if c.Limits.MaxJobRows < 0 || c.Limits.MaxUploadBytes < 0 {
		errs = append(errs, errors.New("limits.max_job_rows, limits.max_upload_bytes: must not be negative"))
	}
	if c.Jobs.Lease < 0 || c.Jobs.Retention < 0 || c.Jobs.Workers < 0 {
		errs = append(errs, errors.New("jobs.lease, jobs.retention, jobs.workers: must not be negative"))
	}
	if c.Limits.RatePerApp < 0 || c.Limits.RateBurst < 0 {
		errs = append(errs, errors.New("limits.rate_per_app, limits.rate_burst: must not be negative"))
	}
	if c.Requests.Retention < 0 {
		errs = append(errs, errors.New("requests.retention: must not be negative"))
	}
	if c.Events.Retention < 0 {
		errs = append(errs, errors.New("events.retention: must not be negative"))
	}
	for i, d := range c.Events.DeliverySchedule {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("events.delivery_schedule[%d]: must be positive", i))
		}
	}
	for i, n := range c.Events.SubscriberNetworks {
		if _, err := netip.ParsePrefix(strings.TrimSpace(n)); err != nil {
			errs = append(errs, fmt.Errorf("events.subscriber_networks[%d]: %q is not a CIDR such as 10.20.0.0/16", i, n))
		}
	}
	if !c.Sandbox && len(c.Connections) == 0 {
		errs = append(errs, errors.New("connections: at least one connection is required"))
	}
	return errors.Join(errs...)
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} in every scalar value from env. An unset variable is
// an error naming the key and the variable.
func expand(n *yaml.Node, at string, env func(string) (string, bool)) []error {
	if env == nil {
		env = os.LookupEnv
	}
	var errs []error
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := env(name)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: environment variable %s is not set", strings.TrimPrefix(at, "."), name))
			}
			return v
		})
		n.Tag = "!!str"
		if n.Style == 0 {
			// Keep numbers and durations typed as written after expansion.
			n.Tag = ""
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, expand(n.Content[i+1], at+"."+n.Content[i].Value, env)...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			errs = append(errs, expand(c, fmt.Sprintf("%s[%d]", at, i), env)...)
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			errs = append(errs, expand(c, at, env)...)
		}
	}
	return errs
}

// decodeStrict decodes n into out, first reporting every key that out's type
// does not have, named by its path.
func decodeStrict(n *yaml.Node, out any, at string) []error {
	errs := unknownKeys(n, reflect.TypeOf(out), at)
	typed := len(errs)
	errs = append(errs, scalarTypes(n, reflect.TypeOf(out), at)...)
	typed = len(errs) - typed
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && typed > 0 {
			// scalarTypes named the keys already; the decoder's own
			// messages (a line number, a Go type) would only repeat them.
		} else if errors.As(err, &te) {
			for _, e := range te.Errors {
				errs = append(errs, fmt.Errorf("%s: %s", orRoot(at), e))
			}
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", orRoot(at), err))
		}
	}
	return errs
}

// keyError is a problem with the value of one key, such that other
// problems reported for that key (a "required" for a value that could not
// be read) only repeat it.
type keyError struct{ key, msg string }

func (e *keyError) Error() string { return e.key + ": " + e.msg }

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// scalarTypes reports every scalar of n that cannot be decoded into its
// key's type, naming the key and the form it takes ("10s", a whole number).
func scalarTypes(n *yaml.Node, t reflect.Type, at string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(yaml.Node{}) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ft, ok := fields[n.Content[i].Value]; ok {
				errs = append(errs, scalarTypes(n.Content[i+1], ft, join(at, n.Content[i].Value))...)
			}
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			return []error{&keyError{key: orRoot(at), msg: "must be " + expectedForm(t) + ", not a list"}}
		}
		for i, c := range n.Content {
			errs = append(errs, scalarTypes(c, t.Elem(), fmt.Sprintf("%s[%d]", at, i))...)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		if !scalarFits(n, t) {
			errs = append(errs, &keyError{key: orRoot(at), msg: fmt.Sprintf("%q is not %s", n.Value, expectedForm(t))})
		}
	}
	return errs
}

// scalarFits tells whether the scalar n decodes into t.
func scalarFits(n *yaml.Node, t reflect.Type) bool {
	if t == durationType {
		_, err := time.ParseDuration(n.Value)
		return err == nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var v int64
		return n.Decode(&v) == nil && !reflect.Zero(t).OverflowInt(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var v uint64
		return n.Decode(&v) == nil && !reflect.Zero(t).OverflowUint(v)
	case reflect.Float32, reflect.Float64:
		var v float64
		return n.Decode(&v) == nil
	case reflect.Bool:
		var v bool
		return n.Decode(&v) == nil
	case reflect.String, reflect.Interface:
		return true
	case reflect.Struct, reflect.Map, reflect.Slice:
		return n.Value == "" // an empty value stands for none
	}
	return true
}

// expectedForm says in words what a key of type t takes.
func expectedForm(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration (a number with its unit: 500ms, 10s, 5m, 1h)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping of keys"
	}
	return "text"
}

func unknownKeys(n *yaml.Node, t reflect.Type, at string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs []error
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{}) && t != reflect.TypeOf(yaml.Node{}):
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			ft, ok := fields[key]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown key (line %d)", join(at, key), n.Content[i].Line))
				continue
			}
			errs = append(errs, unknownKeys(n.Content[i+1], ft, join(at, key))...)
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			errs = append(errs, unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return errs
}

// yamlFields maps a struct's yaml keys to their types, following inline fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func yamlNames(t reflect.Type) []string {
	var names []string
	for k := range yamlFields(t) {
		names = append(names, k)
	}
	return names
}

func factoryNames(fs []gateway.Factory) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func prefixErrors(at string, err error) []error {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = fmt.Errorf("%s.%w", at, e)
	}
	return out
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func orRoot(at string) string {
	if at == "" {
		return "(top level)"
	}
	return at
}

// ParseLogLevel reads log_level: debug, info, warn or error.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: %q is none of debug, info, warn, error", s)
}
