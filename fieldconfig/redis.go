package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// DefaultRedisPrefix is the key prefix of a Redis store when none is given.
const DefaultRedisPrefix = redisclient.DefaultPrefix

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Prefix starts every key and the change channel (default
	// DefaultRedisPrefix). Instances that share a configuration use the same
	// prefix; tests use one of their own.
	Prefix string
}

// Redis is a Store in Redis, shared by every gateway instance that uses the
// same Redis and prefix. Each connection is one hash, <prefix>fieldconfig:<id>,
// with the fields "version" (an integer) and "doc" (the Versioned document as
// JSON, the same bytes GET answers with). Writes run as Lua scripts, so a Put
// is atomic: a reader sees the old document or the new one, never a mix, and
// of two conditional Puts naming the same version exactly one wins. After each
// write a change notice {"connection": id, "version": n} is published on
// <prefix>fieldconfig:changes.
//
// A Redis that lost its data set (restarted empty, flushed) does not make
// versions repeat: the store remembers the highest version of each connection
// it has read or written, and a Put or Seed never stores one at or below it.
// What it writes into an emptied hash takes its version from the clock
// (milliseconds since 1970) when that is above what it remembers. Versions
// count up by one a change, from 1 or from such a clock reading, so the clock
// is ahead of every version of the lost data set, also of one that another
// instance saw and this one had not yet: an ETag of the lost data set never
// matches a document of the new one.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string

	mu   sync.Mutex
	seen map[string]int64 // highest version read or written, by connection
}

var (
	_ Store         = (*Redis)(nil)
	_ VersionLister = (*Redis)(nil)
	_ Notifier      = (*Redis)(nil)
)

// NewRedis returns a Store on rdb. It refuses a nil client. The caller keeps
// ownership of rdb and closes it.
func NewRedis(rdb redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("fieldconfig.NewRedis: a Redis client is required")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	return &Redis{rdb: rdb, prefix: opts.Prefix, seen: map[string]int64{}}, nil
}

// OpenRedis parses rawURL (redis://[user:password@]host:port/db, or rediss://
// for TLS) and returns a Store with a client of its own, and that client for
// the caller to close. It connects lazily: an unreachable server is not an
// error here but on first use. A malformed URL is an error that does not
// repeat the URL (it may hold a password).
func OpenRedis(rawURL string, opts RedisOptions) (*Redis, redis.UniversalClient, error) {
	c, err := redisclient.FromURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("fieldconfig.OpenRedis: %w", err)
	}
	s, err := NewRedis(c, opts)
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	return s, c, nil
}

func (s *Redis) key(conn string) string { return s.prefix + "fieldconfig:" + conn }

// Channel is the Pub/Sub channel the change notices go to.
func (s *Redis) Channel() string { return s.prefix + "fieldconfig:changes" }

// notice is the payload of a change notice.
type notice struct {
	Connection string `json:"connection"`
	Version    int64  `json:"version"`
}

// putScript: KEYS[1] the hash; ARGV: ifVersion, updated_at as a JSON string,
// config as JSON, channel, connection id as a JSON string, the lowest
// version to store over a stored one, the lowest version to store into an
// empty hash (see floors). Returns {1, version} when stored, {0, current} on
// a version mismatch.
var putScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local want = tonumber(ARGV[1])
if want ~= 0 and want ~= cur then
  return {0, cur}
end
local n = cur + 1
if cur == 0 then
  n = math.max(n, tonumber(ARGV[7]))
else
  n = math.max(n, tonumber(ARGV[6]))
end
local v = string.format('%d', n)
local doc = '{"version":' .. v .. ',"updated_at":' .. ARGV[2] .. ',"config":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], 'version', v, 'doc', doc)
redis.call('PUBLISH', ARGV[4], '{"connection":' .. ARGV[5] .. ',"version":' .. v .. '}')
return {1, n}
`)

// seedScript: KEYS[1] the hash; ARGV: updated_at as a JSON string, config as
// JSON, channel, connection id as a JSON string, the lowest version to store
// into an empty hash (see floors). Returns the stored document.
var seedScript = redis.NewScript(`
local doc = redis.call('HGET', KEYS[1], 'doc')
if doc then
  return doc
end
local v = string.format('%d', math.max(1, tonumber(ARGV[5])))
doc = '{"version":' .. v .. ',"updated_at":' .. ARGV[1] .. ',"config":' .. ARGV[2] .. '}'
redis.call('HSET', KEYS[1], 'version', v, 'doc', doc)
redis.call('PUBLISH', ARGV[3], '{"connection":' .. ARGV[4] .. ',"version":' .. v .. '}')
return doc
`)

// saw records that version of conn was read or written.
func (s *Redis) saw(conn string, version int64) {
	s.mu.Lock()
	if version > s.seen[conn] {
		s.seen[conn] = version
	}
	s.mu.Unlock()
}

// floors are the lowest versions a write of conn at time at may store: over
// a stored version (above every version seen), and into an empty hash
// (besides, the clock, once a version was seen: the hash was lost). Both are
// 0 when no version of conn was seen yet.
func (s *Redis) floors(conn string, at time.Time) (over, empty int64) {
	s.mu.Lock()
	seen := s.seen[conn]
	s.mu.Unlock()
	if seen == 0 {
		return 0, 0
	}
	return seen + 1, max(seen+1, at.UnixMilli())
}

// Get implements Store.
func (s *Redis) Get(ctx context.Context, conn string) (Versioned, error) {
	doc, err := s.rdb.HGet(ctx, s.key(conn), "doc").Result()
	if errors.Is(err, redis.Nil) {
		return Versioned{}, fmt.Errorf("fieldconfig.Redis.Get %q: %w", conn, ErrNotFound)
	}
	if err != nil {
		return Versioned{}, fmt.Errorf("fieldconfig.Redis.Get %q: %w", conn, err)
	}
	return s.decodeDoc("fieldconfig.Redis.Get", conn, doc)
}

func (s *Redis) decodeDoc(op, conn, doc string) (Versioned, error) {
	var v Versioned
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return Versioned{}, fmt.Errorf("%s %q: stored document is not valid: %w", op, conn, err)
	}
	s.saw(conn, v.Version)
	return v, nil
}

// Put implements Store.
func (s *Redis) Put(ctx context.Context, conn string, cfg Config, ifVersion int64) (Versioned, error) {
	op := fmt.Sprintf("fieldconfig.Redis.Put %q", conn)
	if err := validate(op, &cfg); err != nil {
		return Versioned{}, err
	}
	cfg = clone(cfg)
	at := now()
	args, err := jsonArgs(at, cfg, conn)
	if err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	over, empty := s.floors(conn, at)
	res, err := putScript.Run(ctx, s.rdb, []string{s.key(conn)},
		strconv.FormatInt(ifVersion, 10), args[0], args[1], s.Channel(), args[2], over, empty).Int64Slice()
	if err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(res) != 2 {
		return Versioned{}, fmt.Errorf("%s: unexpected script answer %v", op, res)
	}
	if res[0] == 0 {
		return Versioned{}, fmt.Errorf("%s: If-Match %d, current %d: %w", op, ifVersion, res[1], ErrVersionMismatch)
	}
	s.saw(conn, res[1])
	return Versioned{Version: res[1], UpdatedAt: at, Config: cfg}, nil
}

// Seed implements Store.
func (s *Redis) Seed(ctx context.Context, conn string, cfg Config) (Versioned, error) {
	op := fmt.Sprintf("fieldconfig.Redis.Seed %q", conn)
	if err := validate(op, &cfg); err != nil {
		return Versioned{}, err
	}
	at := now()
	args, err := jsonArgs(at, cfg, conn)
	if err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	_, empty := s.floors(conn, at)
	doc, err := seedScript.Run(ctx, s.rdb, []string{s.key(conn)}, args[0], args[1], s.Channel(), args[2], empty).Text()
	if err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.decodeDoc("fieldconfig.Redis.Seed", conn, doc)
}

// jsonArgs encodes the script arguments that are spliced into JSON text.
func jsonArgs(at any, cfg Config, conn string) ([3]string, error) {
	var out [3]string
	for i, v := range []any{at, cfg, conn} {
		b, err := json.Marshal(v)
		if err != nil {
			return out, err
		}
		out[i] = string(b)
	}
	return out, nil
}

// Versions implements VersionLister with one pipelined round trip.
func (s *Redis) Versions(ctx context.Context, conns []string) (map[string]int64, error) {
	if len(conns) == 0 {
		return map[string]int64{}, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(conns))
	for i, c := range conns {
		cmds[i] = pipe.HGet(ctx, s.key(c), "version")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("fieldconfig.Redis.Versions: %w", err)
	}
	out := make(map[string]int64, len(conns))
	for i, cmd := range cmds {
		v, err := cmd.Int64()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fieldconfig.Redis.Versions %q: %w", conns[i], err)
		}
		s.saw(conns[i], v)
		out[conns[i]] = v
	}
	return out, nil
}

// Watch implements Notifier with a Pub/Sub subscription to Channel. A notice
// that cannot be read is skipped; polling catches what it announced.
func (s *Redis) Watch(ctx context.Context, ready func(), changed func(conn string, version int64)) error {
	ps := s.rdb.Subscribe(ctx, s.Channel())
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks a pending receive
	defer func() {
		stop()
		_ = ps.Close()
	}()
	if _, err := ps.Receive(ctx); err != nil {
		return watchErr(ctx, err)
	}
	if ready != nil {
		ready()
	}
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			return watchErr(ctx, err)
		}
		var n notice
		if json.Unmarshal([]byte(msg.Payload), &n) != nil || n.Connection == "" {
			continue
		}
		changed(n.Connection, n.Version)
	}
}

func watchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("fieldconfig.Redis.Watch: %w", err)
}
