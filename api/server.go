// Package api is crmgate's HTTP edge: gin routing, middleware (one concern per
// file) and handlers that decode, call the core and encode. Business logic
// lives in the core packages; this package maps their errors to problem+json
// in one place (problem.go).
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"

	"crmgate/auth"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/idempotency"
	"crmgate/ratelimit"
	"crmgate/sandbox"
	"crmgate/schema"
	"crmgate/telemetry"
)

// Check is a readiness check.
type Check func(ctx context.Context) CheckResult

// CheckResult is what a readiness check found: ok, a short detail, and, for
// the check named "redis", State: one word for it that /readyz also shows at
// its top level ("redis": "ok", "unreachable" or "reset"; empty: not shown).
// Other checks' State is not shown.
type CheckResult struct {
	OK     bool
	Detail string
	State  string
	// Unready makes /readyz answer 503: the instance should get no traffic
	// (no field configuration was ever loaded). A check that is only !OK
	// makes it degraded, still 200.
	Unready bool
}

// Options are what the Server needs. Connections, Service and Verifier are
// required.
type Options struct {
	Connections    []*gateway.Connection
	Service        *gateway.Service
	Verifier       *auth.Verifier
	Logger         *slog.Logger
	MaxBodyBytes   int64
	MaxRecords     int
	RequestTimeout time.Duration
	// Ready lists the readiness checks by name ("redis", "config").
	Ready map[string]Check
	// RedisResets, when set, counts the resets of Redis (a data set lost)
	// this instance noticed: the metric crmgate_redis_resets_total.
	RedisResets func() uint64
	// Sandbox enables POST /v1/sandbox/{connection}/changes.
	Sandbox bool
	// Changes are the sandbox simulators that can send webhooks, by connection.
	Changes map[string]sandbox.ChangeSimulator
	// Idempotency keeps the answers of writes by Idempotency-Key (nil: the
	// header is ignored).
	Idempotency idempotency.Store
	// RateLimiter limits requests per app (nil: unlimited).
	RateLimiter ratelimit.Limiter
	// History keeps processed imports' answers and each customer's history
	// (nil: GET /v1/requests/{id} and GET /v1/customers/history are absent).
	History history.Store
	// Imports, when set, serves the import jobs (/v1/imports).
	Imports *ImportsOptions
	// Extra lets other parts register routes on the authenticated /v1 group
	// and the root router (field configuration, events, subscriptions).
	Extra []func(r *gin.Engine, v1 *gin.RouterGroup, s *Server)
	// Console, when set, serves /console/ (the web page of the console,
	// which calls the public API like any other client).
	Console http.Handler
	// TracerProvider, when set, traces every request (a server span named
	// by its route, parented on the caller's W3C traceparent); nil: off.
	TracerProvider trace.TracerProvider
	// OpenAPI, when set, is the OpenAPI 3 document served at GET
	// /openapi.yaml, which Swagger UI at /swagger/ loads; nil: neither is
	// served.
	OpenAPI []byte
}

// Server is the gateway's HTTP handler.
type Server struct {
	opts     Options
	conns    map[string]*gateway.Connection
	order    []*gateway.Connection
	service  *gateway.Service
	verifier *auth.Verifier
	log      *slog.Logger
	engine   *gin.Engine
	metrics  *metrics

	draining atomic.Bool  // a shutdown started: /readyz answers 503
	inflight atomic.Int64 // requests being served
}

// New builds the server and its routes. It panics on missing required
// options: they are wiring errors, not run-time conditions.
func New(o Options) *Server {
	if o.Service == nil || o.Verifier == nil {
		panic("api.New: Service and Verifier are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = 10000
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	s := &Server{opts: o, conns: map[string]*gateway.Connection{}, order: o.Connections, service: o.Service,
		verifier: o.Verifier, log: o.Logger, metrics: newMetrics(o.RedisResets)}
	for _, c := range o.Connections {
		s.conns[c.ID] = c
	}
	s.metrics.breakerStates(o.Connections)
	s.metrics.buildInfo()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if o.TracerProvider != nil {
		r.Use(otelgin.Middleware(telemetry.ServiceName, otelgin.WithTracerProvider(o.TracerProvider),
			otelgin.WithPropagators(telemetry.Propagator())))
	}
	r.Use(s.countInFlight, requestIDMiddleware)
	if o.TracerProvider != nil {
		r.Use(spanRequestID)
	}
	r.Use(s.recoverer, s.logRequests, s.metrics.middleware, s.limitBody)
	r.NoRoute(func(c *gin.Context) {
		fail(c, refuse(kindNotFound, "no such path: "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, refuse(kindMethod, "method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	if o.OpenAPI != nil {
		s.docsRoutes(r, o.OpenAPI)
	}
	if o.Console != nil {
		h := gin.WrapH(o.Console)
		for _, p := range []string{"/console", "/console/*file"} {
			r.GET(p, h)
			r.HEAD(p, h)
		}
	}

	v1 := r.Group("/v1", s.authenticate, s.rateLimit, s.deadline)
	v1.POST("/customers", require(auth.ScopeCustomersWrite), s.importCustomers)
	v1.POST("/customers/validate", require(auth.ScopeCustomersWrite), s.validateCustomers)
	v1.POST("/import-pool", require(auth.ScopeCustomersWrite), s.importPool)
	v1.GET("/customers", require(auth.ScopeCustomersRead), s.listCustomers)
	v1.GET("/connections", s.listConnections)
	s.historyRoutes(v1)
	if o.Sandbox {
		v1.POST("/sandbox/:connection/changes", s.sandboxChange)
	}
	if o.Imports != nil {
		s.importRoutes(v1, *o.Imports)
	}
	for _, f := range o.Extra {
		f(r, v1, s)
	}
	s.engine = r
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Engine exposes the router for routes registered after New.
func (s *Server) Engine() *gin.Engine { return s.engine }

// deadline bounds the whole request, retries included.
func (s *Server) deadline(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// recoverer turns a panic into a 500 problem and a log line.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic", "request_id", requestID(c), "path", c.Request.URL.Path, "panic", v)
			fail(c, fmt.Errorf("api: panic: %v", v))
		}
	}()
	c.Next()
}

// logRequests logs one line per request: no bodies, no headers, no secrets.
// A request answered with a problem (fail) logs the error behind it, its
// whole chain, at level error when the gateway or a dependency failed (5xx).
// The line is built of typed attributes (logLine), and not at all when its
// level is not logged.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	last := c.Errors.Last()
	level := slog.LevelInfo
	if last != nil && status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	sub := ""
	if p, ok := c.Get(ctxPrincipal); ok {
		sub = p.(*auth.Principal).Subject
	}
	path := c.FullPath()
	if path == "" {
		path = c.Request.URL.Path // no route matched: the path asked for
	}
	attrs := [...]slog.Attr{slog.String("request_id", requestID(c)), slog.String("method", c.Request.Method),
		slog.String("path", path), slog.Int("status", status),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()), slog.String("app", sub), {}}
	n := len(attrs) - 1
	if last != nil {
		attrs[n] = slog.String("err", last.Err.Error())
		n++
	}
	s.logLine(ctx, level, "request", attrs[:n]...)
}

// logLine writes one log line of attrs at level, which the caller found
// enabled, through the logger's handler: the time, level, message and
// attributes slog.Logger would give it, without the caller's pc. A handler
// shows the pc only with AddSource, which the gateway's logger does not set;
// slog.Logger takes it with a walk of the stack for every line, and the
// request and import lines are written for every request.
func (s *Server) logLine(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = s.log.Handler().Handle(ctx, r)
}

// Connection resolves the connection a request names for the caller, writing
// the problem itself when it cannot: a connection the token is not allowed is
// 403 (also when it does not exist); with a "*" token an unknown one is 404.
// An empty id is allowed when the token names exactly one connection.
func (s *Server) Connection(c *gin.Context, id string) (*gateway.Connection, bool) {
	p := principal(c)
	if id == "" {
		if !p.All() && len(p.Connections) == 1 {
			id = p.Connections[0]
		} else {
			fail(c, refuse(kindInvalid, "name the connection (\"connection\" in the body or query)",
				issue(schema.CodeRequired, "connection", "connection is required unless the token allows exactly one connection")))
			return nil, false
		}
	}
	if !p.Allowed(id) {
		fail(c, notAllowed(id))
		return nil, false
	}
	conn, ok := s.conns[id]
	if !ok {
		fail(c, refuse(kindNotFound, "no connection "+quote(id)))
		return nil, false
	}
	return conn, true
}

// notAllowed refuses a connection the token is not allowed (whether or not
// it exists).
func notAllowed(id string) error {
	return refuse(kindForbidden, "the token is not allowed the connection "+quote(id))
}

// Connections lists the configured connections in configuration order.
func (s *Server) Connections() []*gateway.Connection { return s.order }

// Health is the answer of GET /healthz.
type Health struct {
	// Always ok: the process serves (nothing else is checked).
	Status string `json:"status" enums:"ok" example:"ok"`
} //	@name	Health

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, Health{Status: "ok"}) }

// Drain makes /readyz answer 503 from now on ("status": "shutting_down"),
// so that load balancers take the instance out of rotation while the
// requests it is serving finish. Requests are still served.
func (s *Server) Drain() { s.draining.Store(true) }

// InFlight is the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

func (s *Server) countInFlight(c *gin.Context) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	c.Next()
}

// Readiness is the answer of GET /readyz. Its fields are written in this
// order (checks, redis, status).
type Readiness struct {
	// Each readiness check by name ("config", "redis").
	Checks map[string]ReadyCheck `json:"checks"`
	// With Redis only: ok, unreachable, or reset — Redis lost its data set (restarted empty or flushed) in the last hour; what it held is gone, the field configuration was restored with new versions, and the gateway goes on serving.
	Redis string `json:"redis,omitempty" enums:"ok,unreachable,reset" example:"ok"`
	// degraded: a check failed but the gateway goes on serving (with the last good field configuration when Redis is unreachable). shutting_down (503): a shutdown started, the requests in flight are finishing. not_ready (503): no field configuration was ever loaded from the store.
	Status string `json:"status" enums:"ready,degraded,shutting_down,not_ready" example:"ready"`
} //	@name	Readiness

// ReadyCheck is what one readiness check found.
type ReadyCheck struct {
	Detail string `json:"detail" example:"ok"`
	OK     bool   `json:"ok" example:"true"`
} //	@name	ReadyCheck

func (s *Server) readyz(c *gin.Context) {
	code := http.StatusOK
	body := Readiness{Checks: map[string]ReadyCheck{}, Status: "ready"}
	unready := false
	for name, check := range s.opts.Ready {
		r := check(c.Request.Context())
		body.Checks[name] = ReadyCheck{OK: r.OK, Detail: r.Detail}
		if name == "redis" {
			body.Redis = r.State
		}
		if !r.OK {
			// The gateway goes on validating with its last good copy (and,
			// after a Redis reset, with what it restored): it is degraded,
			// still serving.
			body.Status = "degraded"
		}
		unready = unready || r.Unready
	}
	switch {
	case s.draining.Load():
		body.Status, code = "shutting_down", http.StatusServiceUnavailable
	case unready:
		body.Status, code = "not_ready", http.StatusServiceUnavailable
	}
	c.JSON(code, body)
}
