// Package app wires crmgate together from its configuration: connections and
// their adapters, the field-configuration store and cache, the event store and
// delivery, and the HTTP server. In sandbox mode it starts the providers'
// simulators first and serves their connections.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"crmgate/api"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/console"
	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/idempotency"
	"crmgate/jobs"
	"crmgate/providers"
	"crmgate/ratelimit"
	"crmgate/redisreset"
	"crmgate/sandbox"
	"crmgate/schema"
	"crmgate/telemetry"
)

// App is a built gateway, ready to serve.
type App struct {
	Handler http.Handler
	Server  *api.Server
	Config  *config.Config
	// DevToken is, in sandbox mode, a token for every scope and connection.
	DevToken string
	// Secret is the HS256 secret in use (generated in sandbox mode when none
	// is configured).
	Secret []byte

	// Jobs runs the import jobs.
	Jobs *jobs.Engine

	background []func(ctx context.Context) error
	closers    []func()
	stop       context.CancelFunc // ends what Run started
	running    sync.WaitGroup     // what Run started
}

// Options are what Build needs besides the configuration.
type Options struct {
	// Providers is the providers table (providers.All()): the sandbox
	// starts each row's simulator.
	Providers []providers.Provider
	Logger    *slog.Logger
	// GatewayURL is where this gateway can be reached by the simulators
	// (sandbox webhooks).
	GatewayURL string
	// HTTPClient makes outbound provider calls (a default is built when nil).
	HTTPClient *http.Client
	// RedisPrefix starts every Redis key (field configuration, events,
	// Idempotency-Keys, rate limits); empty means the configuration's
	// redis.prefix (redisclient.DefaultPrefix by default). Gateways that
	// share state use the same prefix; distinct prefixes never see each
	// other's data. Ignored without Redis.
	RedisPrefix string
	// DeliverySchedule is the wait before each retry of a subscription
	// delivery (before jitter); nil means events.DefaultSchedule.
	DeliverySchedule []time.Duration
	// DeliveryPoll is how often delivery looks for work it was not told
	// about; zero means events.DefaultPollInterval.
	DeliveryPoll time.Duration
	// TracerProvider, when set, traces requests, validation passes and
	// provider calls (telemetry.SetupTracing); nil: tracing is off.
	TracerProvider trace.TracerProvider
	// OpenAPI is the OpenAPI 3 document to serve at GET /openapi.yaml, with
	// Swagger UI at /swagger/ (the binary passes openapi.yaml); nil: neither
	// is served.
	OpenAPI []byte
}

// Build makes the gateway from cfg. It starts the sandbox simulators when
// cfg.Sandbox is set; Close stops them.
func Build(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient()
	}
	a := &App{Config: cfg}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	conns := cfg.Connections
	changes := map[string]sandbox.ChangeSimulator{}
	if cfg.Sandbox {
		for _, p := range o.Providers {
			if p.Sandbox == nil {
				continue
			}
			f := p.Factory
			sb, err := p.Sandbox(ctx, o.GatewayURL)
			if err != nil {
				return nil, fmt.Errorf("app: sandbox %s: %w", f.Name, err)
			}
			a.closers = append(a.closers, sb.Close)
			conns = append(conns, config.Connection{Common: sb.Common, Extra: sb.Config, FieldConfig: sb.FieldConfig, Factory: f})
			if sb.Changes != nil {
				changes[sb.Common.ID] = sb.Changes
			}
		}
	}

	secret := []byte(cfg.Auth.JWT.HS256Secret.Reveal())
	if len(secret) == 0 && cfg.Sandbox {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		secret = []byte(base64.RawURLEncoding.EncodeToString(secret))
	}
	a.Secret = secret
	vo := auth.Options{Issuer: cfg.Auth.JWT.Issuer, Audience: cfg.Auth.JWT.Audience}
	if cfg.Auth.JWT.JWKSURL != "" {
		vo.JWKS = auth.NewJWKS(cfg.Auth.JWT.JWKSURL, nil)
	} else {
		vo.HS256Secret = secret
	}
	verifier, err := auth.NewVerifier(vo)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}

	// Stores: Redis when configured, in-process otherwise.
	var (
		fcStore fieldconfig.Store
		rdb     redis.UniversalClient
		resets  func() uint64
	)
	if o.RedisPrefix == "" {
		o.RedisPrefix = cfg.RedisPrefix()
	}
	ready := map[string]api.Check{}
	if cfg.UsesRedis() {
		client, err := cfg.RedisClient()
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		rdb = client
		a.closers = append(a.closers, func() { _ = rdb.Close() })
		s, err := fieldconfig.NewRedis(rdb, fieldconfig.RedisOptions{Prefix: o.RedisPrefix})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		fcStore = s
		marker, err := redisreset.New(rdb, redisreset.Options{Prefix: o.RedisPrefix, Interval: fieldconfig.DefaultPollInterval, Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		// Learn the data set now; an unreachable Redis is left to Run.
		mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _ = marker.Check(mctx)
		cancel()
		a.background = append(a.background, marker.Run)
		resets = marker.Resets
		ready["redis"] = redisReady(rdb, marker)
	} else {
		fcStore = fieldconfig.NewMemory()
	}
	seeds := map[string]fieldconfig.Config{}
	for _, c := range conns {
		seeds[c.Common.ID] = c.FieldConfig
	}
	cache, err := fieldconfig.NewCache(fcStore, seeds, fieldconfig.CacheOptions{Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err := cache.Load(ctx); err != nil {
		// Serve the configuration file's documents until the store answers.
		o.Logger.Warn("field configuration store not reachable at start; serving the configuration file's copy (/readyz 503 until it is reached)", "err", err.Error())
	}
	a.background = append(a.background, cache.Run)
	ready["config"] = func(context.Context) api.CheckResult {
		ok, detail := cache.Healthy()
		// Until the store was reached once, the documents served are the
		// configuration file's, perhaps older than what the other
		// instances validate with: no traffic yet.
		return api.CheckResult{OK: ok, Detail: detail, Unready: !cache.Loaded()}
	}

	built := make([]*gateway.Connection, 0, len(conns))
	for _, c := range conns {
		p, err := c.Factory.New(c.Common, c.Extra, o.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("app: connection %s: %w", c.Common.ID, err)
		}
		conn, err := gateway.NewConnection(c.Common, p, c.Extra, cache)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		id, logger := c.Common.ID, o.Logger
		conn.Breaker.OnChange = func(from, to string) {
			if to == "open" {
				logger.Warn("circuit opened: calls fail at once, not sent", "connection", id, "from", from, "cooldown", gateway.DefaultBreakerCooldown.String())
				return
			}
			logger.Info("circuit closed: the provider answers again", "connection", id, "from", from)
		}
		built = append(built, conn)
	}

	evStore, subs, err := eventStores(rdb, events.Options{Prefix: o.RedisPrefix, Retention: cfg.Events.Retention})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	schedule := o.DeliverySchedule
	if schedule == nil {
		schedule = cfg.Events.DeliverySchedule
	}
	dest := events.Destinations{AllowLoopback: cfg.Events.AllowLoopback, Networks: cfg.Events.Networks()}
	var observeDelivery func(events.Delivery) // the API server's, set below before anything runs
	dispatcher, err := events.NewDispatcher(evStore, subs, events.DispatcherOptions{
		Logger: o.Logger, Schedule: schedule, PollInterval: o.DeliveryPoll, Destinations: dest,
		Observe: func(d events.Delivery) { observeDelivery(d) },
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.background = append(a.background, dispatcher.Run)

	extra := []func(*gin.Engine, *gin.RouterGroup, *api.Server){
		api.FieldConfigRoutes(cache),
		api.EventRoutes(api.EventsOptions{Store: evStore, Subscriptions: subs, Notify: dispatcher.Notify, Destinations: dest}),
	}
	idem, limiter, err := requestStores(rdb, cfg.Limits, o.RedisPrefix)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if cfg.Sandbox {
		ids := make([]string, len(built))
		for i, c := range built {
			ids[i] = c.ID
		}
		tok, err := auth.Mint(auth.MintOptions{Secret: secret, Issuer: cfg.Auth.JWT.Issuer, Audience: cfg.Auth.JWT.Audience,
			Subject: "sandbox-dev", Scopes: auth.Scopes, Connections: []string{auth.AllConnections}, TTL: 24 * time.Hour})
		if err != nil {
			return nil, fmt.Errorf("app: dev token: %w", err)
		}
		a.DevToken = tok
	}
	// Answers and customer history: Redis when configured, in-process otherwise.
	hopts := history.Options{Prefix: o.RedisPrefix, Retention: cfg.Requests.Retention}
	var hist history.Store = history.NewMemory(hopts)
	if rdb != nil {
		if hist, err = history.NewRedis(rdb, hopts); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	svc := &gateway.Service{}
	if o.TracerProvider != nil {
		svc.Tracer = o.TracerProvider.Tracer(telemetry.ScopeName)
	}
	byID := make(map[string]*gateway.Connection, len(built))
	for _, c := range built {
		byID[c.ID] = c
	}
	engine := jobs.NewEngine(jobs.Options{
		Service:      svc,
		Connection:   func(id string) *gateway.Connection { return byID[id] },
		Workers:      cfg.Jobs.Workers,
		ChunkTimeout: cfg.RequestTimeout,
		Retention:    cfg.Jobs.Retention,
		OnEnd:        jobEvents(evStore, dispatcher.Notify, o.Logger),
		OnChunk:      jobHistory(hist, byID, o.Logger),
		Logger:       o.Logger,
		Redis:        rdb,
		RedisPrefix:  o.RedisPrefix,
		Lease:        cfg.Jobs.Lease,
	})
	a.background = append(a.background, engine.Run)
	a.Jobs = engine
	srv := api.New(api.Options{
		History:        hist,
		Imports:        &api.ImportsOptions{Engine: engine, MaxUploadBytes: cfg.Limits.MaxUploadBytes, MaxJobRows: cfg.Limits.MaxJobRows},
		Idempotency:    idem,
		RateLimiter:    limiter,
		Connections:    built,
		Service:        svc,
		Verifier:       verifier,
		Logger:         o.Logger,
		MaxBodyBytes:   cfg.Limits.MaxBodyBytes,
		MaxRecords:     cfg.Limits.MaxRecords,
		RequestTimeout: cfg.RequestTimeout,
		Ready:          ready,
		RedisResets:    resets,
		Sandbox:        cfg.Sandbox,
		Changes:        changes,
		Extra:          extra,
		Console:        console.Handler(console.Options{DevToken: a.DevToken}),
		OpenAPI:        o.OpenAPI,
		TracerProvider: o.TracerProvider,
	})
	svc.Observe = srv.ObserveCall
	observeDelivery = srv.ObserveDelivery
	a.Server, a.Handler = srv, srv

	ok = true
	return a, nil
}

// jobHistory files every row of a chunk a job sent in its customer's
// history (GET /v1/customers/history), under its WhatsApp number read as
// the job read it (the job's default_region, else the connection's: the
// item's Phone, which the job's builder normalised; the record's number
// when it could not) and its ref: one store round trip a chunk.
func jobHistory(hist history.Store, conns map[string]*gateway.Connection, log *slog.Logger) func(*jobs.Job, []jobs.Item, []jobs.Result) {
	return func(j *jobs.Job, items []jobs.Item, results []jobs.Result) {
		region := j.DefaultRegion
		if c := conns[j.Connection]; region == "" && c != nil {
			region = c.DefaultRegion
		}
		recs := make([]history.Record, 0, len(results))
		for i, r := range results {
			rec := history.Record{Ref: r.Ref, Index: r.Index, Status: string(r.Status), Errors: r.Errors, ProviderID: r.ProviderID}
			if i < len(items) && items[i].Phone != "" {
				rec.WhatsApp = items[i].Phone
			} else if i < len(items) && items[i].Record != nil {
				var id struct {
					WhatsApp string `json:"whatsapp"`
				}
				if json.Unmarshal(items[i].Record, &id) == nil && id.WhatsApp != "" {
					if d, _, err := schema.NormalizePhoneIn(id.WhatsApp, region); err == nil {
						rec.WhatsApp = d
					} else {
						rec.WhatsApp, _ = history.NormalizeWhatsApp(id.WhatsApp)
					}
				}
			}
			recs = append(recs, rec)
		}
		// The store bounds its own wait (history.PutTimeout).
		if err := hist.Put(context.Background(), history.Import{App: j.CreatedBy, Connection: j.Connection, JobID: j.ID, Records: recs}); err != nil {
			log.Error("history not kept for a chunk of an import job", "job", j.ID, "records", len(recs), "err", err.Error())
		}
	}
}

// jobEvents stores an import.completed, import.canceled or import.failed
// event for every job that ended, for subscriptions.
func jobEvents(st events.Store, notify func(), log *slog.Logger) func(*jobs.Job) {
	return func(j *jobs.Job) {
		typ := events.TypeImportCompleted
		switch j.Status {
		case jobs.StatusCanceled:
			typ = events.TypeImportCanceled
		case jobs.StatusFailed:
			typ = events.TypeImportFailed
		}
		body, err := json.Marshal(j)
		if err != nil {
			return
		}
		now := time.Now().UTC()
		at := now
		if j.FinishedAt != nil {
			at = *j.FinishedAt
		}
		ev := events.Event{ID: j.ID + "." + string(j.Status), Type: typ, Connection: j.Connection, OccurredAt: at, ReceivedAt: now, Job: body}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := st.Append(ctx, []events.Event{ev}); err != nil {
			log.Error("import job event not stored", "job", j.ID, "type", typ, "error", err.Error())
			return
		}
		if notify != nil {
			notify()
		}
	}
}

// redisReady is the "redis" readiness check: unreachable, reset (for
// redisreset.DefaultRemember after this instance noticed Redis had lost its
// data set; the gateway goes on with what it restored) or ok. Both of the
// first two make /readyz degraded, never 503.
func redisReady(rdb redis.UniversalClient, marker *redisreset.Marker) api.Check {
	return func(ctx context.Context) api.CheckResult {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return api.CheckResult{State: "unreachable", Detail: "unreachable: validating with the last good field configuration"}
		}
		if at, ok := marker.Reset(); ok {
			return api.CheckResult{State: "reset", Detail: fmt.Sprintf("reset: Redis lost its data set (restarted empty or flushed), noticed at %s: "+
				"what it held before (%s) is gone; the field configuration was restored from the gateways' copies with new versions",
				at.UTC().Format(time.RFC3339), redisreset.Lost)}
		}
		return api.CheckResult{OK: true, State: "ok", Detail: "ok"}
	}
}

// requestStores are the Idempotency-Key store and the per-app rate limiter
// (nil when no rate is configured): in Redis when it is configured.
func requestStores(rdb redis.UniversalClient, l config.Limits, prefix string) (idempotency.Store, ratelimit.Limiter, error) {
	var (
		idem    idempotency.Store
		limiter ratelimit.Limiter
		err     error
	)
	rate := ratelimit.Limit{Rate: l.RatePerApp, Burst: l.RateBurst}
	if rdb == nil {
		idem = idempotency.NewMemory(idempotency.Options{})
		if rate.Rate > 0 {
			limiter, err = ratelimit.NewMemory(rate, nil)
		}
		return idem, limiter, err
	}
	idem, err = idempotency.NewRedis(rdb, idempotency.Options{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	if rate.Rate > 0 {
		limiter, err = ratelimit.NewRedis(rdb, rate, prefix)
	}
	return idem, limiter, err
}

// eventStores are Redis Streams (keys starting with opts.Prefix) when Redis
// is configured, in-process otherwise.
func eventStores(rdb redis.UniversalClient, opts events.Options) (events.Store, events.DeliveryStore, error) {
	if rdb == nil {
		st := events.NewMemoryStore(opts)
		subs, err := events.NewMemorySubscriptions(st)
		return st, subs, err
	}
	st, err := events.NewRedisStore(rdb, opts)
	if err != nil {
		return nil, nil, err
	}
	subs, err := events.NewRedisSubscriptions(st)
	return st, subs, err
}

// Run starts the background work (cache refresh, event delivery), which
// goes on until ctx ends or Close is called. Call it at most once, and not
// concurrently with Close.
func (a *App) Run(ctx context.Context) {
	ctx, a.stop = context.WithCancel(ctx)
	for _, f := range a.background {
		a.running.Go(func() {
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				slog.Default().Error("background task stopped", "err", err.Error())
			}
		})
	}
}

// Close stops the background work Run started and waits for it to end, so
// that event delivery hands its subscriptions back (another instance takes
// them over at once) while the stores are still open; then it stops the
// simulators and closes the stores. Calling it again does nothing.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
	}
	a.running.Wait()
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// NewHTTPClient is the outbound client: connections kept alive, many idle
// connections per provider host. Deadlines come from each call's context. It
// follows no redirect: provider calls carry credentials (a 3xx is the
// adapter's to report).
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	// A provider call's body (100 NXLink records are about 48 KB) goes out in
	// one write instead of twelve through the default 4 KB buffer; answers
	// are smaller.
	t.WriteBufferSize, t.ReadBufferSize = 64<<10, 16<<10
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
