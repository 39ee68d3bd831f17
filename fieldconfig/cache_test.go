package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
	"crmgate/redisclient"
	"crmgate/schema"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestCache(t *testing.T, s Store, seeds map[string]Config, poll time.Duration) *Cache {
	t.Helper()
	c, err := NewCache(s, seeds, CacheOptions{PollInterval: poll, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runCache runs c until t ends, and checks that Run returns then.
func runCache(t *testing.T, c *Cache) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of its context ending")
		}
	})
}

func version(c *Cache, conn string) int64 {
	v, _ := c.Current(conn)
	return v.Version
}

// vipOnly is sampleConfig with strict tags: a record tagged "New" fails it.
func vipOnly() Config {
	cfg := sampleConfig()
	cfg.Tags.Strict = true
	return cfg
}

func taggedNew() *schema.Customer {
	return &schema.Customer{Name: "n", Owner: "o", Tags: []string{"New"}}
}

func TestCacheMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCache(t, NewMemory(), map[string]Config{"a": sampleConfig(), "b": {}}, time.Hour)

	// Before Load: the file's documents, version 0, not healthy.
	if r := c.Rules("a"); r == nil || version(c, "a") != 0 {
		t.Fatalf("before Load: rules %v, version %d", r, version(c, "a"))
	}
	if ok, detail := c.Healthy(); ok || !strings.Contains(detail, "not reached") {
		t.Errorf("Healthy before Load = %v, %q", ok, detail)
	}
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if version(c, "a") != 1 || version(c, "b") != 1 {
		t.Errorf("after Load: versions a=%d b=%d, want 1", version(c, "a"), version(c, "b"))
	}
	if ok, detail := c.Healthy(); !ok || !strings.Contains(detail, "a=v1, b=v1") {
		t.Errorf("Healthy after Load = %v, %q", ok, detail)
	}
	if c.Rules("unknown") != nil {
		t.Error("Rules of an unknown connection is not nil")
	}
	if _, ok := c.Current("unknown"); ok {
		t.Error("Current of an unknown connection found")
	}

	if issues := issuesOf(c.Rules("a"), taggedNew()); len(issues) != 0 {
		t.Fatalf("v1 rejects the record: %v", issues)
	}
	v, err := c.Put(ctx, "a", vipOnly(), 1)
	if err != nil || v.Version != 2 {
		t.Fatalf("Put = %d, %v", v.Version, err)
	}
	// The local copy changed at once.
	if issues := issuesOf(c.Rules("a"), taggedNew()); len(issues) != 1 || issues[0].Code != schema.CodeInvalidOption {
		t.Errorf("v2 check = %v, want one invalid_option", issues)
	}
	if version(c, "a") != 2 {
		t.Errorf("Current version %d, want 2", version(c, "a"))
	}

	tests := []struct {
		name      string
		conn      string
		cfg       Config
		ifVersion int64
		want      error
	}{
		{"stale If-Match", "a", sampleConfig(), 1, ErrVersionMismatch},
		{"invalid document", "a", Config{Required: []string{"nope"}}, 2, ErrInvalid},
		{"unknown connection", "zzz", Config{}, 0, ErrUnknownConnection},
	}
	for _, tt := range tests {
		if _, err := c.Put(ctx, tt.conn, tt.cfg, tt.ifVersion); !errors.Is(err, tt.want) {
			t.Errorf("%s: Put = %v, want %v", tt.name, err, tt.want)
		}
	}
	if version(c, "a") != 2 || len(issuesOf(c.Rules("a"), taggedNew())) != 1 {
		t.Error("a refused Put changed the local copy")
	}
	if ok, detail := c.Healthy(); !ok {
		t.Errorf("refused Puts made the cache unhealthy: %s", detail)
	}
}

func TestNewCacheRefuses(t *testing.T) {
	t.Parallel()
	if _, err := NewCache(nil, nil, CacheOptions{}); err == nil {
		t.Error("NewCache(nil store) accepted")
	}
	_, err := NewCache(NewMemory(), map[string]Config{
		"good": {}, "bad1": {Required: []string{"x"}}, "bad2": {Stages: []Option{{}}},
	}, CacheOptions{})
	if err == nil {
		t.Fatal("NewCache accepted invalid documents")
	}
	for _, want := range []string{"connections[bad1].field_config", "required[0]", "connections[bad2].field_config", "stages[0].label"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// A restart with another configuration file does not overwrite what was
// stored by a Put.
func TestCacheLoadKeepsStoredVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemory()
	first := newTestCache(t, s, map[string]Config{"a": sampleConfig()}, time.Hour)
	if err := first.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Put(ctx, "a", vipOnly(), 0); err != nil {
		t.Fatal(err)
	}
	second := newTestCache(t, s, map[string]Config{"a": {Required: []string{"email"}}}, time.Hour)
	if err := second.Load(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := second.Current("a")
	if got.Version != 2 {
		t.Fatalf("version %d after restart, want 2", got.Version)
	}
	jsonEqual(t, "config after restart", got.Config, vipOnly())
}

// countingStore counts Get calls and fails every call while down is set.
type countingStore struct {
	*Memory
	gets atomic.Int64
	down atomic.Bool
	// corrupt, when set, is returned by Get instead of the stored document.
	corrupt atomic.Pointer[Versioned]
}

var errDown = errors.New("store down")

func (s *countingStore) Get(ctx context.Context, conn string) (Versioned, error) {
	s.gets.Add(1)
	if s.down.Load() {
		return Versioned{}, errDown
	}
	if v := s.corrupt.Load(); v != nil {
		return *v, nil
	}
	return s.Memory.Get(ctx, conn)
}

func (s *countingStore) Put(ctx context.Context, conn string, cfg Config, ifVersion int64) (Versioned, error) {
	if s.down.Load() {
		return Versioned{}, errDown
	}
	return s.Memory.Put(ctx, conn, cfg, ifVersion)
}

func (s *countingStore) Seed(ctx context.Context, conn string, cfg Config) (Versioned, error) {
	if s.down.Load() {
		return Versioned{}, errDown
	}
	return s.Memory.Seed(ctx, conn, cfg)
}

func (s *countingStore) Versions(ctx context.Context, conns []string) (map[string]int64, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Memory.Versions(ctx, conns)
}

func TestCacheRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &countingStore{Memory: NewMemory()}
	c := newTestCache(t, s, map[string]Config{"a": sampleConfig(), "b": {}}, time.Hour)
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.gets.Load(); n != 0 {
		t.Errorf("%d Gets while no version changed, want 0", n)
	}

	// Another instance changes a.
	if _, err := s.Memory.Put(ctx, "a", vipOnly(), 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.gets.Load(); n != 1 {
		t.Errorf("%d Gets for one changed connection, want 1", n)
	}
	if version(c, "a") != 2 || len(issuesOf(c.Rules("a"), taggedNew())) != 1 {
		t.Errorf("Refresh did not load version 2 (have %d)", version(c, "a"))
	}

	// The store goes away: the last good copy stays, degraded.
	s.down.Store(true)
	if err := c.Refresh(ctx); !errors.Is(err, errDown) {
		t.Fatalf("Refresh with the store down = %v", err)
	}
	if ok, detail := c.Healthy(); ok || !strings.Contains(detail, "unreachable") || !strings.Contains(detail, "a=v2") {
		t.Errorf("Healthy while down = %v, %q", ok, detail)
	}
	if _, err := c.Put(ctx, "a", sampleConfig(), 0); !errors.Is(err, errDown) {
		t.Errorf("Put while down = %v", err)
	}
	if version(c, "a") != 2 || len(issuesOf(c.Rules("a"), taggedNew())) != 1 {
		t.Error("the last good copy was not kept")
	}
	s.down.Store(false)
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, detail := c.Healthy(); !ok {
		t.Errorf("Healthy after recovery = false, %q", detail)
	}

	// A stored document that does not compile is not served.
	s.corrupt.Store(&Versioned{Version: 9, Config: Config{Required: []string{"nope"}}})
	if _, err := s.Memory.Put(ctx, "b", Config{}, 0); err != nil { // b's version changes: Refresh reads it
		t.Fatal(err)
	}
	_ = c.Refresh(ctx)
	if version(c, "b") != 1 {
		t.Errorf("an invalid stored document replaced version 1 (now %d)", version(c, "b"))
	}
	if ok, detail := c.Healthy(); ok || !strings.Contains(detail, "b: stored version 9 is invalid") {
		t.Errorf("Healthy with an invalid stored document = %v, %q", ok, detail)
	}
	s.corrupt.Store(nil)
	_ = c.Refresh(ctx)
	if ok, detail := c.Healthy(); !ok || version(c, "b") != 2 {
		t.Errorf("after the document was fixed: Healthy %v %q, version %d", ok, detail, version(c, "b"))
	}
}

// A cache whose store is down at start serves the configuration file and
// catches up when the store is back.
func TestCacheStartsWithStoreDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &countingStore{Memory: NewMemory()}
	if _, err := s.Memory.Put(ctx, "a", vipOnly(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Memory.Put(ctx, "a", vipOnly(), 0); err != nil {
		t.Fatal(err)
	}
	s.down.Store(true)
	c := newTestCache(t, s, map[string]Config{"a": sampleConfig(), "b": {}}, time.Hour)
	if err := c.Load(ctx); !errors.Is(err, errDown) {
		t.Fatalf("Load with the store down = %v", err)
	}
	if c.Rules("a") == nil || version(c, "a") != 0 {
		t.Fatal("the configuration file's document is not served")
	}
	if ok, _ := c.Healthy(); ok {
		t.Error("healthy with the store down")
	}
	s.down.Store(false)
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if version(c, "a") != 2 || version(c, "b") != 1 {
		t.Errorf("after the store came back: a=v%d b=v%d, want a=v2 (stored) b=v1 (seeded)", version(c, "a"), version(c, "b"))
	}
}

// hideNotifier hides Watch, so a Cache on it can only poll.
type hideNotifier struct {
	Store
	VersionLister
}

// Two instances on one Redis: a Put through one is seen by the other, by
// change notice and, without notices, by polling.
func TestCacheTwoInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		poll time.Duration // of the instance that must see the change
		wrap func(*Redis) Store
	}{
		{"change notice", time.Hour, func(s *Redis) Store { return s }},
		{"polling", 50 * time.Millisecond, func(s *Redis) Store { return hideNotifier{s, s} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newRedisStore(t)
			seeds := map[string]Config{"acme": sampleConfig(), "other": {}}
			a := newTestCache(t, s, seeds, time.Hour)
			b := newTestCache(t, tt.wrap(s), seeds, tt.poll)
			for _, c := range []*Cache{a, b} {
				if err := c.Load(ctx); err != nil {
					t.Fatal(err)
				}
			}
			runCache(t, b)
			if _, ok := tt.wrap(s).(Notifier); ok {
				// A change is announced only to a subscriber: wait for it.
				testutil.Eventually(t, 10*time.Second, "b subscribed", func() bool {
					_, detail := b.Healthy()
					return !strings.Contains(detail, "polling")
				})
			}
			for want := int64(2); want <= 3; want++ {
				if _, err := a.Put(ctx, "acme", vipOnly(), want-1); err != nil {
					t.Fatal(err)
				}
				testutil.Eventually(t, 5*time.Second, fmt.Sprintf("b sees version %d", want), func() bool {
					return version(b, "acme") == want
				})
			}
			if len(issuesOf(b.Rules("acme"), taggedNew())) != 1 {
				t.Error("b's rules are not the new document's")
			}
			if version(b, "other") != 1 {
				t.Errorf("other: version %d, want 1", version(b, "other"))
			}
		})
	}
}

// Redis stops: the last good copy goes on being served and Healthy says
// degraded; Redis starts again: Healthy recovers.
func TestCacheRedisOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartProcess(t)
	// Built as the gateway builds its client, with no retries, so that the
	// outage shows at once.
	rdb, err := redisclient.FromURL(srv.URL() + "?max_retries=-1&dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := NewRedis(rdb, RedisOptions{Prefix: "outage:"})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCache(t, s, map[string]Config{"acme": sampleConfig()}, 100*time.Millisecond)
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "acme", vipOnly(), 1); err != nil {
		t.Fatal(err)
	}
	runCache(t, c)
	if ok, detail := c.Healthy(); !ok {
		t.Fatalf("not healthy with Redis up: %s", detail)
	}

	srv.Stop()
	testutil.Eventually(t, 10*time.Second, "Healthy reports degraded", func() bool { ok, _ := c.Healthy(); return !ok })
	if _, detail := c.Healthy(); !strings.Contains(detail, "unreachable") || !strings.Contains(detail, "acme=v2") {
		t.Errorf("degraded detail = %q", detail)
	}
	if version(c, "acme") != 2 {
		t.Errorf("serving version %d during the outage, want 2", version(c, "acme"))
	}
	if issues := issuesOf(c.Rules("acme"), taggedNew()); len(issues) != 1 {
		t.Errorf("checks during the outage = %v, want version 2's invalid_option", issues)
	}
	if _, err := c.Put(ctx, "acme", sampleConfig(), 0); err == nil {
		t.Error("Put succeeded with Redis down")
	}
	if version(c, "acme") != 2 {
		t.Error("a failed Put changed the local copy")
	}

	srv.Start() // the same port, empty: it kept nothing
	testutil.Eventually(t, 15*time.Second, "Healthy recovers", func() bool { ok, _ := c.Healthy(); return ok })
	stored, err := s.Get(ctx, "acme")
	if err != nil {
		t.Fatalf("not seeded again after the restart: %v", err)
	}
	testutil.Eventually(t, 5*time.Second, "the stored version is served", func() bool { return version(c, "acme") == stored.Version })
	// What was stored before the outage is what Redis holds again, not the
	// configuration file's document.
	if !reflect.DeepEqual(stored.Config, vipOnly()) {
		t.Errorf("re-seeded with %+v, want the last good copy (version 2's document)", stored.Config)
	}
	if issues := issuesOf(c.Rules("acme"), taggedNew()); len(issues) != 1 {
		t.Errorf("checks after the restart = %v, want version 2's invalid_option", issues)
	}
	// Change notices work again too.
	testutil.Eventually(t, 10*time.Second, "subscribed again", func() bool {
		_, detail := c.Healthy()
		return !strings.Contains(detail, "polling")
	})
}

// commandCounter is a go-redis hook counting every command sent.
type commandCounter struct{ n atomic.Int64 }

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// benchConfig has 20 custom fields, of every type.
func benchConfig() Config {
	cfg := sampleConfig()
	cfg.CustomFields = nil
	for i := range 20 {
		f := CustomField{Name: fmt.Sprintf("f%02d", i), Type: Types[i%len(Types)]}
		switch f.Type {
		case TypeSingleSelect, TypeMultiSelect:
			f.Options = []string{"alpha", "beta", "gamma"}
		case TypeText, TypeTextarea:
			f.MaxLength = 64
		case TypeDate:
			f.Format = "2006/01/02"
		}
		cfg.CustomFields = append(cfg.CustomFields, f)
	}
	return cfg
}

var benchValues = map[string]any{
	TypeText: "some text", TypeTextarea: "more\ntext", TypeNumber: json.Number("42.5"), TypeDate: "2024-03-09",
	TypeTime: "09:30:00", TypeSingleSelect: "beta", TypeMultiSelect: []any{"alpha", "gamma"},
	TypeAttachment: []any{"https://files.example.com/a.pdf", "https://files.example.com/b.pdf"},
}

// benchRecords are n valid records, each with every custom field of
// benchConfig set.
func benchRecords(n int) []*schema.Customer {
	cfg := benchConfig()
	out := make([]*schema.Customer, n)
	for i := range out {
		cf := make(map[string]any, len(cfg.CustomFields))
		for _, f := range cfg.CustomFields {
			cf[f.Name] = benchValues[f.Type]
		}
		out[i] = &schema.Customer{Name: fmt.Sprint("customer ", i), Owner: "agent", Stage: "New customer",
			Source: "Default", Tags: []string{"VIP"}, CustomFields: cf}
	}
	return out
}

func checkAll(tb testing.TB, c *Cache, conn string, recs []*schema.Customer) {
	for _, r := range recs {
		if issues := issuesOf(c.Rules(conn), r); len(issues) != 0 {
			tb.Fatalf("record rejected: %v", issues)
		}
	}
}

// Checking 10 000 records against a Redis-backed cache sends Redis nothing.
func TestCheck10kMakesNoRedisCommands(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Client(t)
	counter := &commandCounter{}
	rdb.AddHook(counter)
	s, err := NewRedis(rdb, RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCache(t, s, map[string]Config{"acme": benchConfig()}, time.Hour)
	if err := c.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	runCache(t, c)
	testutil.Eventually(t, 10*time.Second, "subscribed", func() bool {
		_, detail := c.Healthy()
		return !strings.Contains(detail, "polling")
	})
	if counter.n.Load() == 0 {
		t.Fatal("the hook counted nothing while loading: it does not see the store's commands")
	}
	recs := benchRecords(10_000)
	before := counter.n.Load()
	checkAll(t, c, "acme", recs)
	if n := counter.n.Load() - before; n != 0 {
		t.Errorf("checking 10 000 records sent %d Redis commands, want 0", n)
	}
}

func BenchmarkCheck10k(b *testing.B) {
	c, err := NewCache(NewMemory(), map[string]Config{"acme": benchConfig()}, CacheOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		recs := benchRecords(10_000)
		b.StartTimer()
		start := time.Now()
		checkAll(b, c, "acme", recs)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N)*10_000/elapsed.Seconds(), "records/s")
}

// Rules is read concurrently with installs.
func TestCacheConcurrentReadersAndWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newTestCache(t, NewMemory(), map[string]Config{"acme": sampleConfig()}, time.Hour)
	if err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c.Rules("acme") == nil {
					t.Error("Rules became nil")
					return
				}
			}
		})
	}
	for i := range 50 {
		cfg := sampleConfig()
		cfg.Tags.Strict = i%2 == 0
		if _, err := c.Put(ctx, "acme", cfg, 0); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if version(c, "acme") != 51 {
		t.Errorf("version %d after 50 Puts, want 51", version(c, "acme"))
	}
}

// Two instances on a Redis that lost its data set (the store's hash
// deleted) restore the last good document with a version above every old
// one, and agree on it.
func TestCacheRestoresAboveOldVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newRedisStore(t)
	other, err := NewRedis(c, RedisOptions{Prefix: s.prefix})
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string]Config{"acme": sampleConfig()}
	a := newTestCache(t, s, seeds, time.Hour)
	b := newTestCache(t, other, seeds, time.Hour)
	for _, x := range []*Cache{a, b} {
		if err := x.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old, err := a.Put(ctx, "acme", vipOnly(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil || version(b, "acme") != old.Version {
		t.Fatalf("b serves version %d (%v), want %d", version(b, "acme"), err, old.Version)
	}

	if err := c.Del(ctx, s.key("acme")).Err(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Cache{b, a} {
		if err := x.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	restored := version(a, "acme")
	if restored <= old.Version || version(b, "acme") != restored {
		t.Fatalf("after the wipe a serves version %d, b %d; want one version above %d", restored, version(b, "acme"), old.Version)
	}
	if issues := issuesOf(a.Rules("acme"), taggedNew()); len(issues) != 1 {
		t.Errorf("restored rules checks = %v, want the last good document's invalid_option", issues)
	}
	if _, err := a.Put(ctx, "acme", sampleConfig(), old.Version); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("Put with the old version %d = %v, want ErrVersionMismatch", old.Version, err)
	}
}
