// Package ratelimit limits requests per calling app: GCRA (a token bucket
// without a timer), in Redis with go-redis/redis_rate when Redis is
// configured so that every instance shares one budget, in process otherwise.
package ratelimit

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// Limit is a rate: Rate requests per second with bursts of up to Burst.
type Limit struct {
	Rate  int
	Burst int
}

// Result of one Allow.
type Result struct {
	Allowed    bool
	Limit      int           // the burst, the most requests that can be made at once
	Remaining  int           // requests that can still be made at once
	RetryAfter time.Duration // when not allowed: how long until one request is
}

// Limiter decides whether a key may make one more request.
type Limiter interface {
	Allow(ctx context.Context, key string) (Result, error)
}

// Memory is an in-process Limiter.
type Memory struct {
	limit Limit
	now   func() time.Time
	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per key
	swept time.Time
}

// NewMemory returns an in-process limiter; it refuses a non-positive rate.
func NewMemory(l Limit, now func() time.Time) (*Memory, error) {
	if l.Rate <= 0 {
		return nil, errors.New("ratelimit.NewMemory: a positive rate is required")
	}
	if l.Burst <= 0 {
		l.Burst = l.Rate
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{limit: l, now: now, tat: map[string]time.Time{}}, nil
}

// Allow implements Limiter with GCRA.
func (m *Memory) Allow(_ context.Context, key string) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	interval := time.Second / time.Duration(m.limit.Rate)
	tolerance := interval * time.Duration(m.limit.Burst)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	allowAt := next.Add(-tolerance)
	if now.Before(allowAt) {
		remaining := 0
		return Result{Allowed: false, Limit: m.limit.Burst, Remaining: remaining, RetryAfter: allowAt.Sub(now)}, nil
	}
	m.tat[key] = next
	if now.Sub(m.swept) > time.Minute {
		// Keys whose budget is whole again hold nothing worth keeping.
		m.swept = now
		for k, t := range m.tat {
			if t.Before(now) {
				delete(m.tat, k)
			}
		}
	}
	remaining := int(math.Floor(float64(tolerance-next.Sub(now)) / float64(interval)))
	return Result{Allowed: true, Limit: m.limit.Burst, Remaining: max(remaining, 0)}, nil
}

// Redis is a Limiter shared by every instance on one Redis.
type Redis struct {
	l      *redis_rate.Limiter
	limit  redis_rate.Limit
	prefix string
}

// NewRedis returns a limiter on rdb; it refuses a nil client or a
// non-positive rate.
func NewRedis(rdb redis.UniversalClient, l Limit, prefix string) (*Redis, error) {
	if rdb == nil || l.Rate <= 0 {
		return nil, errors.New("ratelimit.NewRedis: a Redis client and a positive rate are required")
	}
	if l.Burst <= 0 {
		l.Burst = l.Rate
	}
	prefix = redisclient.Prefix(prefix)
	return &Redis{l: redis_rate.NewLimiter(rdb), limit: redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: time.Second}, prefix: prefix + "rate:"}, nil
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string) (Result, error) {
	res, err := r.l.Allow(ctx, r.prefix+key, r.limit)
	if err != nil {
		return Result{}, err
	}
	out := Result{Allowed: res.Allowed > 0, Limit: r.limit.Burst, Remaining: res.Remaining}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}
