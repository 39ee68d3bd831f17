package fieldconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPollInterval is how often a Cache compares versions with its Store
// when CacheOptions.PollInterval is not set.
const DefaultPollInterval = 2 * time.Second

// ErrUnknownConnection: the connection is not one the Cache was built for.
var ErrUnknownConnection = errors.New("fieldconfig: unknown connection")

// CacheOptions configures a Cache.
type CacheOptions struct {
	// PollInterval is how often versions are compared with the store, as a
	// fallback to change notices, and how long to wait before subscribing
	// again after a subscription failed. Default DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives a line when the store becomes unreachable or reachable
	// again, and when a stored document cannot be used. Default slog.Default().
	Logger *slog.Logger
}

// Cache is the in-process copy of the field configuration of a fixed set of
// connections, in front of a Store. Rules answers from memory only, so
// checking records never waits on the network; Run keeps the copy fresh. When
// the store cannot be reached the last good copy goes on being served and
// Healthy reports degraded.
//
// Before the store has been reached a connection is served from its
// configuration-file document, with version 0.
type Cache struct {
	store Store
	seeds map[string]Config
	conns []string
	opts  CacheOptions

	cur atomic.Pointer[map[string]*entry] // copy-on-write; writers hold mu
	mu  sync.Mutex

	hmu       sync.Mutex
	loaded    bool      // the store was reached at least once
	storeErr  error     // last failure to reach the store, nil when fine
	failSince time.Time // when storeErr started
	bad       map[string]string
	watching  bool
}

type entry struct {
	v     Versioned
	rules *Rules
}

// NewCache returns a Cache for the connections of seeds, each seeded from
// its document (the configuration file's). It refuses a nil store and
// reports every invalid seed document at once, each naming its connection.
// The Cache serves the seed documents until Load reaches the store.
func NewCache(store Store, seeds map[string]Config, opts CacheOptions) (*Cache, error) {
	if store == nil {
		return nil, errors.New("fieldconfig.NewCache: a store is required")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Cache{store: store, seeds: make(map[string]Config, len(seeds)), opts: opts, bad: map[string]string{}}
	initial := make(map[string]*entry, len(seeds))
	var errs []error
	for _, conn := range slices.Sorted(maps.Keys(seeds)) {
		cfg := clone(seeds[conn])
		r, err := Compile(cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("connections[%s].field_config: %w", conn, err))
			continue
		}
		c.seeds[conn] = cfg
		c.conns = append(c.conns, conn)
		initial[conn] = &entry{v: Versioned{Config: cfg}, rules: r}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.cur.Store(&initial)
	return c, nil
}

// Rules returns the connection's current rules from memory, or nil for a
// connection the Cache was not built for. It never touches the store.
func (c *Cache) Rules(conn string) *Rules {
	if e := (*c.cur.Load())[conn]; e != nil {
		return e.rules
	}
	return nil
}

// Current returns the connection's current document from memory (what GET
// answers), false for a connection the Cache was not built for. Version 0
// means the store has not been reached yet and the configuration file's
// document is served.
func (c *Cache) Current(conn string) (Versioned, bool) {
	e := (*c.cur.Load())[conn]
	if e == nil {
		return Versioned{}, false
	}
	v := e.v
	v.Config = clone(v.Config)
	return v, true
}

// Connections lists the connections of the Cache, sorted.
func (c *Cache) Connections() []string { return slices.Clone(c.conns) }

// Load seeds every connection in the store from its configuration-file
// document (Store.Seed: never overwriting what is stored) and loads what is
// stored. It returns the store's failures joined; the Cache stays usable
// with what it had, reports degraded, and Run goes on trying.
func (c *Cache) Load(ctx context.Context) error {
	var errs []error
	for _, conn := range c.conns {
		v, err := c.store.Seed(ctx, conn, c.seeds[conn])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.install(conn, v, false)
	}
	err := errors.Join(errs...)
	c.reached(err)
	return err
}

// Run keeps the Cache fresh until ctx is done, and then returns ctx.Err().
// When the store is a Notifier it subscribes to change notices and reloads a
// connection as soon as one announces a version it does not have,
// subscribing again after a failure; in any case it compares versions every
// PollInterval (see Refresh), so a lost notice or a store that announces
// nothing delays a change by one interval at most.
func (c *Cache) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if n, ok := c.store.(Notifier); ok {
		wg.Go(func() { c.watch(ctx, n) })
	}
	t := time.NewTicker(c.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-t.C:
			_ = c.Refresh(ctx)
		}
	}
}

func (c *Cache) watch(ctx context.Context, n Notifier) {
	warned := false // one log line per failure, not one per retry
	for ctx.Err() == nil {
		err := n.Watch(ctx, func() {
			_ = c.Refresh(ctx) // catch up on what was announced while not subscribed
			c.setWatching(true)
			warned = false
		}, func(conn string, version int64) {
			if e := (*c.cur.Load())[conn]; e != nil && e.v.Version != version {
				_ = c.reload(ctx, conn, false)
			}
		})
		c.setWatching(false)
		if ctx.Err() != nil {
			return
		}
		if !warned {
			c.opts.Logger.Warn("field configuration change notices unavailable; polling", "err", err)
			warned = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.opts.PollInterval):
		}
	}
}

// Refresh compares the stored versions with the in-process copy and reloads
// every connection whose version differs (also an older one: the store is
// the truth every instance follows). A connection with nothing stored is
// seeded again with the last good copy (the configuration file's document
// when the store was never reached), with a version above every one the
// store handed out (Store.Seed), so that no old ETag matches it. It makes no
// Get for a connection whose version did not change. A failure to reach the store is returned, keeps the last good
// copy and makes Healthy report degraded until a Refresh succeeds.
func (c *Cache) Refresh(ctx context.Context) error {
	vers, err := c.versions(ctx)
	if err != nil {
		c.reached(err)
		return err
	}
	var errs []error
	for _, conn := range c.conns {
		stored, ok := vers[conn]
		local := (*c.cur.Load())[conn].v.Version
		switch {
		case !ok:
			// Nothing stored (a Redis that restarted empty): store the last
			// good copy again rather than the configuration file's, so a
			// change made with Put is not lost.
			seed := c.seeds[conn]
			if cur := (*c.cur.Load())[conn]; cur != nil && cur.v.Version > 0 {
				seed = cur.v.Config
			}
			v, err := c.store.Seed(ctx, conn, seed)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			c.install(conn, v, true)
		case stored != local:
			// Only a store that went back (restarted empty, then seeded)
			// is followed to an older version; otherwise a slow read must
			// not undo a newer copy installed meanwhile.
			if err := c.reload(ctx, conn, stored < local); err != nil {
				errs = append(errs, err)
			}
		}
	}
	err = errors.Join(errs...)
	c.reached(err)
	return err
}

func (c *Cache) versions(ctx context.Context) (map[string]int64, error) {
	if vl, ok := c.store.(VersionLister); ok {
		return vl.Versions(ctx, c.conns)
	}
	out := make(map[string]int64, len(c.conns))
	for _, conn := range c.conns {
		v, err := c.store.Get(ctx, conn)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[conn] = v.Version
	}
	return out, nil
}

// reload fetches one connection's document and installs it: when it is
// newer than the in-process copy, or in any case with anyOrder.
func (c *Cache) reload(ctx context.Context, conn string, anyOrder bool) error {
	v, err := c.store.Get(ctx, conn)
	if errors.Is(err, ErrNotFound) {
		return nil // being seeded or deleted: the next Refresh sees it
	}
	if err != nil {
		return err
	}
	c.install(conn, v, anyOrder)
	return nil
}

// Put stores cfg for the connection (see Store.Put) and makes it the
// in-process copy at once. A connection the Cache was not built for is
// refused with ErrUnknownConnection.
func (c *Cache) Put(ctx context.Context, conn string, cfg Config, ifVersion int64) (Versioned, error) {
	if _, ok := c.seeds[conn]; !ok {
		return Versioned{}, fmt.Errorf("fieldconfig.Cache.Put %q: %w", conn, ErrUnknownConnection)
	}
	v, err := c.store.Put(ctx, conn, cfg, ifVersion)
	if err != nil {
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrVersionMismatch) {
			c.reached(err)
		}
		return Versioned{}, err
	}
	c.install(conn, v, false)
	return v, nil
}

// install makes v the connection's in-process copy when it is newer than the
// current one, or differs from it and anyOrder is set (what the store holds
// now, older or not). A document that does not compile keeps the last good
// copy and is reported by Healthy.
func (c *Cache) install(conn string, v Versioned, anyOrder bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.cur.Load()
	cur := old[conn]
	if cur == nil {
		return
	}
	if cur.v.Version == v.Version && cur.v.UpdatedAt.Equal(v.UpdatedAt) {
		return
	}
	if v.Version < cur.v.Version && !anyOrder {
		return
	}
	r, err := Compile(v.Config)
	c.hmu.Lock()
	if err != nil {
		msg := fmt.Sprintf("stored version %d is invalid, serving version %d: %v", v.Version, cur.v.Version, err)
		if c.bad[conn] != msg {
			c.opts.Logger.Error("field configuration: stored document invalid", "connection", conn, "version", v.Version, "err", err)
		}
		c.bad[conn] = msg
		c.hmu.Unlock()
		return
	}
	delete(c.bad, conn)
	c.hmu.Unlock()
	next := maps.Clone(old)
	next[conn] = &entry{v: v, rules: r}
	c.cur.Store(&next)
}

// reached records the outcome of an attempt to reach the store.
func (c *Cache) reached(err error) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	switch {
	case err == nil:
		if c.storeErr != nil {
			c.opts.Logger.Info("field configuration store reachable again", "after", time.Since(c.failSince).Round(time.Millisecond))
		}
		c.loaded, c.storeErr = true, nil
	case c.storeErr == nil:
		c.opts.Logger.Warn("field configuration store unreachable; serving the last good copy", "err", err)
		c.storeErr, c.failSince = err, time.Now()
	default:
		c.storeErr = err
	}
}

func (c *Cache) setWatching(on bool) {
	c.hmu.Lock()
	c.watching = on
	c.hmu.Unlock()
}

// Loaded reports whether the store was ever reached, so that the copy
// served is the shared one and not only the configuration file's document.
func (c *Cache) Loaded() bool {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return c.loaded
}

// Healthy reports whether the in-process copy follows the store: false
// before the store was first reached, while it cannot be reached, and while
// a stored document cannot be used. detail says why, and which versions are
// served; it names no secret. Checking records goes on in every case.
func (c *Cache) Healthy() (ok bool, detail string) {
	cur := *c.cur.Load()
	var served []string
	for _, conn := range c.conns {
		served = append(served, fmt.Sprintf("%s=v%d", conn, cur[conn].v.Version))
	}
	serving := "serving " + strings.Join(served, ", ")
	c.hmu.Lock()
	defer c.hmu.Unlock()
	var problems []string
	switch {
	case c.storeErr != nil:
		// The error itself is logged (reached): it names this package's
		// operations, not words for whoever reads /readyz.
		problems = append(problems, "store unreachable since "+c.failSince.UTC().Format(time.RFC3339))
	case !c.loaded:
		problems = append(problems, "store not reached yet")
	}
	for _, conn := range slices.Sorted(maps.Keys(c.bad)) {
		problems = append(problems, conn+": "+c.bad[conn])
	}
	if len(problems) > 0 {
		return false, "degraded: " + strings.Join(problems, "; ") + "; " + serving
	}
	if _, ok := c.store.(Notifier); ok && !c.watching {
		serving += " (change notices unavailable: polling)"
	}
	return true, serving
}
