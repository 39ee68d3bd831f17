// Package redisreset notices a Redis that lost its data set while gateways
// run on it: restarted without persistence, flushed, or failed over to an
// empty replica. What such a Redis held is gone for good (events answered to
// the provider, subscriptions, completed Idempotency-Keys, field-configuration
// versions); the gateway cannot bring it back, but it must not carry on as if
// nothing happened.
//
// Every instance keeps a marker key, <prefix>dataset, holding the id of the
// data set (random) and when it was first written. The first instance to
// find it absent writes it; every instance remembers the id it found. When
// the marker is absent later, or names another id (another instance found it
// absent first and wrote a new one), the data set was lost: the Marker logs it
// as an error, counts it and reports it for a while (see Marker.Reset).
//
// An instance that starts on an empty Redis cannot tell a first start from a
// loss that happened while no instance ran: it writes the marker and says so
// at level INFO only.
package redisreset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// DefaultPrefix starts the marker's key when Options.Prefix is empty, as it
// starts every other key of the gateway.
const DefaultPrefix = redisclient.DefaultPrefix

// DefaultInterval is how often Run checks the marker when Options.Interval is
// not set: as often as the field configuration is compared with Redis.
const DefaultInterval = 2 * time.Second

// DefaultRemember is how long Reset reports a reset when Options.Remember is
// not set.
const DefaultRemember = time.Hour

// Lost names what a Redis that lost its data set took with it.
const Lost = "events answered to the provider, subscriptions, completed idempotency keys, field-configuration versions"

// Options configures a Marker.
type Options struct {
	// Prefix starts the marker's key (default DefaultPrefix): instances that
	// share data use the same prefix.
	Prefix string
	// Interval is how often Run checks the marker (default DefaultInterval).
	Interval time.Duration
	// Remember is how long after noticing a reset Reset reports it (default
	// DefaultRemember).
	Remember time.Duration
	// Logger gets the ERROR line of a reset (default slog.Default()).
	Logger *slog.Logger
}

// Marker watches one Redis data set for a loss. Its methods are safe for
// concurrent use.
type Marker struct {
	rdb  redis.UniversalClient
	key  string
	opts Options

	check  sync.Mutex // held through a Check, so that checks do not interleave
	mu     sync.Mutex // guards what follows
	seen   dataset    // the data set this instance knows; zero before the first Check that reached Redis
	last   time.Time  // when a reset was last noticed
	resets uint64
}

// dataset is the marker's value, as JSON.
type dataset struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// New returns a Marker on rdb. It refuses a nil client; the caller keeps
// ownership of rdb. Nothing is sent to Redis before the first Check.
func New(rdb redis.UniversalClient, o Options) (*Marker, error) {
	if rdb == nil {
		return nil, errors.New("redisreset.New: a Redis client is required")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Remember <= 0 {
		o.Remember = DefaultRemember
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Marker{rdb: rdb, key: o.Prefix + "dataset", opts: o}, nil
}

// Key is the marker's Redis key.
func (m *Marker) Key() string { return m.key }

// getOrSet: KEYS[1] the marker; ARGV[1] a new marker. Returns {1, ARGV[1]}
// when the marker was absent and is now ARGV[1], {0, current} otherwise.
var getOrSet = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[1])
return {1, ARGV[1]}
`)

// Check writes the marker when it is absent and compares the data set it
// names with the one this instance saw before. It reports whether this call
// noticed a reset: the marker was absent, or names a data set other than the
// one seen (another instance noticed first). The first Check that reaches
// Redis only learns the data set. A Redis that cannot be reached is an error
// and changes nothing.
func (m *Marker) Check(ctx context.Context) (reset bool, err error) {
	m.check.Lock()
	defer m.check.Unlock()
	fresh, err := newDataset()
	if err != nil {
		return false, fmt.Errorf("redisreset.Check: %w", err)
	}
	res, err := getOrSet.Run(ctx, m.rdb, []string{m.key}, fresh).Slice()
	if err != nil {
		return false, fmt.Errorf("redisreset.Check: %w", err)
	}
	if len(res) != 2 {
		return false, fmt.Errorf("redisreset.Check: unexpected script answer %v", res)
	}
	created, _ := res[0].(int64)
	raw, _ := res[1].(string)
	var cur dataset
	if json.Unmarshal([]byte(raw), &cur) != nil || cur.ID == "" {
		cur = dataset{ID: raw} // not written by a Marker: its bytes are its id
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.seen
	m.seen = cur
	switch {
	case prev.ID == "" && created == 1:
		m.opts.Logger.Info("Redis data set marker written: a new Redis, or one that lost its data while no gateway ran",
			"key", m.key, "dataset", cur.ID)
		return false, nil
	case prev.ID == "" || prev.ID == cur.ID:
		return false, nil
	}
	how := "the data-set marker was missing; this instance wrote a new one"
	if created == 0 {
		how = "the data-set marker names another data set: another instance found it missing first"
	}
	m.last = time.Now()
	m.resets++
	m.opts.Logger.Error("Redis lost its data set (restarted empty or flushed): what it held before is gone",
		"lost", Lost, "how", how, "key", m.key,
		"previous_dataset", prev.ID, "previous_dataset_since", prev.CreatedAt, "dataset", cur.ID,
		"remedy", "run Redis with AOF persistence (appendonly yes, appendfsync everysec) and maxmemory-policy noeviction")
	return true, nil
}

// Run checks the marker every Interval until ctx is done, and then returns
// ctx.Err(). A failed check is left to the next one (the readiness check
// reports an unreachable Redis).
func (m *Marker) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, max(m.opts.Interval, time.Second))
			_, _ = m.Check(cctx)
			cancel()
		}
	}
}

// Resets is how many resets this instance has noticed.
func (m *Marker) Resets() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resets
}

// Reset reports when this instance last noticed a reset, while that is less
// than Remember ago; ok is false otherwise.
func (m *Marker) Reset() (at time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last.IsZero() || time.Since(m.last) >= m.opts.Remember {
		return time.Time{}, false
	}
	return m.last, true
}

func newDataset() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	v, err := json.Marshal(dataset{ID: hex.EncodeToString(b[:]), CreatedAt: time.Now().UTC()})
	return string(v), err
}
