// Package idempotency remembers the answers of write requests by their
// Idempotency-Key, so that a caller retrying after a timeout gets the first
// answer again instead of a second import. Keys are kept for 24 hours.
//
// A key moves through two states: in flight (the first request is still
// running; its marker expires after InFlightTTL in case the process dies) and
// done (the answer is stored). The fingerprint of the request (a hash of its
// caller, path and body) is kept with it: the same key with another
// fingerprint is a conflict, never a replay.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults.
const (
	DefaultTTL         = 24 * time.Hour
	DefaultInFlightTTL = 5 * time.Minute
)

// Errors of Begin.
var (
	// ErrInFlight: the first request with this key is still running.
	ErrInFlight = errors.New("idempotency: a request with this key is still running")
	// ErrMismatch: the key was used with another request body.
	ErrMismatch = errors.New("idempotency: the key was used with a different request")
	// ErrNotHeld: Complete found the key claimed or answered by another
	// request (this one's claim expired meanwhile); nothing was stored.
	ErrNotHeld = errors.New("idempotency: the key is no longer held by this request")
)

// Answer is a stored response.
type Answer struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// record is what a key holds.
type record struct {
	Fingerprint string  `json:"fp"`
	Done        bool    `json:"done"`
	Answer      *Answer `json:"answer,omitempty"`
}

// Store remembers answers by key.
type Store interface {
	// Begin claims key for a request with fingerprint fp. It returns the
	// stored answer when the key is done with the same fp (replay), nil when
	// the caller now holds the key and must Complete or Release it, and
	// ErrInFlight or ErrMismatch otherwise.
	Begin(ctx context.Context, key, fp string) (*Answer, error)
	// Complete stores the answer for a key the caller holds, or whose claim
	// expired with nobody else claiming it; otherwise ErrNotHeld.
	Complete(ctx context.Context, key, fp string, a Answer) error
	// Release gives up a held key without an answer (the request failed as
	// a whole and may be sent again with the same key).
	Release(ctx context.Context, key, fp string) error
}

// Fingerprint hashes what makes two requests the same.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		for i, l := 0, len(p); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Options configure a store.
type Options struct {
	TTL         time.Duration // how long answers are kept (DefaultTTL)
	InFlightTTL time.Duration // how long an unfinished claim lasts (DefaultInFlightTTL)
	Prefix      string        // Redis key prefix ("crmgate:")
	Now         func() time.Time
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.InFlightTTL <= 0 {
		o.InFlightTTL = DefaultInFlightTTL
	}
	if o.Prefix == "" {
		o.Prefix = "crmgate:"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func decide(r record, fp string) (*Answer, error) {
	switch {
	case r.Fingerprint != fp:
		return nil, ErrMismatch
	case !r.Done:
		return nil, ErrInFlight
	}
	return r.Answer, nil
}

// Memory is an in-process Store (one instance only).
type Memory struct {
	o     Options
	mu    sync.Mutex
	m     map[string]memEntry
	swept time.Time
}

type memEntry struct {
	r       record
	expires time.Time
}

// NewMemory returns an in-process Store.
func NewMemory(o Options) *Memory { return &Memory{o: o.withDefaults(), m: map[string]memEntry{}} }

// Begin implements Store.
func (s *Memory) Begin(_ context.Context, key, fp string) (*Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if e, ok := s.m[key]; ok && now.Before(e.expires) {
		a, err := decide(e.r, fp)
		if a != nil {
			cp := *a
			cp.Body = slices.Clone(a.Body)
			a = &cp
		}
		return a, err
	}
	if now.Sub(s.swept) > time.Minute {
		s.swept = now
		for k, e := range s.m {
			if !now.Before(e.expires) {
				delete(s.m, k)
			}
		}
	}
	s.m[key] = memEntry{r: record{Fingerprint: fp}, expires: now.Add(s.o.InFlightTTL)}
	return nil, nil
}

// Complete implements Store.
func (s *Memory) Complete(_ context.Context, key, fp string, a Answer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if e, ok := s.m[key]; ok && now.Before(e.expires) && (e.r.Done || e.r.Fingerprint != fp) {
		return ErrNotHeld
	}
	a.Body = slices.Clone(a.Body)
	s.m[key] = memEntry{r: record{Fingerprint: fp, Done: true, Answer: &a}, expires: now.Add(s.o.TTL)}
	return nil
}

// Release implements Store.
func (s *Memory) Release(_ context.Context, key, fp string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok && !e.r.Done && e.r.Fingerprint == fp {
		delete(s.m, key)
	}
	return nil
}

// Redis is a Store shared by every instance on one Redis.
type Redis struct {
	rdb *redis.Client
	o   Options
}

// NewRedis returns a Store on rdb; it refuses a nil client.
func NewRedis(rdb *redis.Client, o Options) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("idempotency.NewRedis: a Redis client is required")
	}
	return &Redis{rdb: rdb, o: o.withDefaults()}, nil
}

func (s *Redis) key(k string) string { return s.o.Prefix + "idem:" + k }

// Begin implements Store.
func (s *Redis) Begin(ctx context.Context, key, fp string) (*Answer, error) {
	claim, _ := json.Marshal(record{Fingerprint: fp})
	ok, err := s.rdb.SetNX(ctx, s.key(key), claim, s.o.InFlightTTL).Result()
	if err != nil {
		return nil, err
	}
	if ok {
		return nil, nil
	}
	raw, err := s.rdb.Get(ctx, s.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		// Expired between the two calls: claim again.
		return s.Begin(ctx, key, fp)
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return decide(r, fp)
}

// Complete implements Store.
func (s *Redis) Complete(ctx context.Context, key, fp string, a Answer) error {
	b, err := json.Marshal(record{Fingerprint: fp, Done: true, Answer: &a})
	if err != nil {
		return fmt.Errorf("idempotency.Redis.Complete: %w", err)
	}
	claim, _ := json.Marshal(record{Fingerprint: fp})
	n, err := completeScript.Run(ctx, s.rdb, []string{s.key(key)}, string(claim), b, s.o.TTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("idempotency.Redis.Complete: %w", err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// completeScript stores the answer only while the key is this
// fingerprint's claim, or is gone.
var completeScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1`)

// releaseScript deletes the key only while it is this fingerprint's claim.
var releaseScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v and v == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// Release implements Store.
func (s *Redis) Release(ctx context.Context, key, fp string) error {
	claim, _ := json.Marshal(record{Fingerprint: fp})
	return releaseScript.Run(ctx, s.rdb, []string{s.key(key)}, string(claim)).Err()
}
