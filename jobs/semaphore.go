package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Semaphore is a limit shared by every process on one Redis: at most n
// holders at once. Holders are tokens in one ZSET per name, scored by the
// expiry of their lease (Redis's clock): a holder that died stops counting
// when its lease runs out; a live one renews it while it holds.
type Semaphore struct {
	rdb    redis.UniversalClient
	prefix string
	lease  time.Duration
}

// NewSemaphore returns the semaphores under prefix; lease is how long a
// slot outlives its holder (DefaultLease when 0).
func NewSemaphore(rdb redis.UniversalClient, prefix string, lease time.Duration) *Semaphore {
	if lease <= 0 {
		lease = DefaultLease
	}
	return &Semaphore{rdb: rdb, prefix: prefix, lease: lease}
}

func (s *Semaphore) key(name string) string { return s.prefix + "{sem:" + name + "}" }

// KEYS[1] the ZSET; ARGV token, limit, lease ms. 1 when the token holds a
// slot (taken or renewed), 0 when all n are held.
var semAcquire = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
  return 1
end
return 0
`)

// KEYS[1] the ZSET; ARGV token, lease ms. 1 when the token still held its
// slot (renewed), 0 when it had lost it.
var semRenew = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) <= now then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`)

// Acquire waits for one of name's n slots (polling) until ctx ends. The
// slot's lease is renewed until release is called.
func (s *Semaphore) Acquire(ctx context.Context, name string, n int) (release func(), err error) {
	if n <= 0 {
		n = 1
	}
	token := NewID(time.Now())
	key := s.key(name)
	wait := 5 * time.Millisecond
	for {
		ok, err := semAcquire.Run(ctx, s.rdb, []string{key}, token, n, s.lease.Milliseconds()).Int()
		if err != nil {
			return nil, fmt.Errorf("semaphore %s: %w", name, err)
		}
		if ok == 1 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rctx, cancel := context.WithTimeout(context.Background(), s.lease/3)
				_ = semRenew.Run(rctx, s.rdb, []string{key}, token, s.lease.Milliseconds()).Err()
				cancel()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.rdb.ZRem(ctx, key, token).Err()
		})
	}, nil
}

// Held is how many of name's slots are held now (for tests and metrics).
func (s *Semaphore) Held(ctx context.Context, name string) (int, error) {
	t, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return 0, err
	}
	n, err := s.rdb.ZCount(ctx, s.key(name), "("+strconv.FormatInt(t.UnixMilli(), 10), "+inf").Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return int(n), err
}
