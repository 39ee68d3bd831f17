package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSubscriptions is the DeliveryStore that goes with a RedisStore and
// shares its client and key prefix, so every gateway instance sees the same
// subscriptions and a restarted Dispatcher resumes where the last one
// stopped. Keys: "<prefix>{events}:subs" (hash id → subscription JSON) and,
// per subscription, "<prefix>{events}:sub:<id>:secret", ":state" (progress
// JSON), ":failures" (hash), ":redeliver" (list) and ":lease": the hash tag
// of the event store's keys, since creating a subscription reads the
// stream's end in the same script, and deleting one removes its keys and
// its entry in one transaction.
type RedisSubscriptions struct {
	rdb    redis.UniversalClient
	events *RedisStore
}

// NewRedisSubscriptions returns the subscription store of events; it does
// not contact Redis. A nil events is refused.
func NewRedisSubscriptions(events *RedisStore) (*RedisSubscriptions, error) {
	if events == nil {
		return nil, fmt.Errorf("events.NewRedisSubscriptions: nil event store")
	}
	return &RedisSubscriptions{rdb: events.rdb, events: events}, nil
}

func (r *RedisSubscriptions) subsKey() string         { return r.events.tag() + ":subs" }
func (r *RedisSubscriptions) key(id, k string) string { return r.events.tag() + ":sub:" + id + ":" + k }

// createScript stores a subscription with its secret and a cursor at the
// stream's last entry, atomically with respect to appends.
// KEYS: subs, secret, state, stream. ARGV: id, subscription JSON, secret.
var createScript = redis.NewScript(`
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
local cursor = '0'
if #last > 0 then cursor = last[1][1] end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], cjson.encode({cursor = cursor}))
return cursor
`)

// Create implements SubscriptionStore.
func (r *RedisSubscriptions) Create(ctx context.Context, s Subscription) (Subscription, string, error) {
	s, secret, err := prepare(s, r.events.opts.Now())
	if err != nil {
		return Subscription{}, "", fmt.Errorf("events.RedisSubscriptions.Create: %w", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return Subscription{}, "", fmt.Errorf("events.RedisSubscriptions.Create: %w", err)
	}
	keys := []string{r.subsKey(), r.key(s.ID, "secret"), r.key(s.ID, "state"), r.events.streamKey()}
	if err := createScript.Run(ctx, r.rdb, keys, s.ID, b, secret).Err(); err != nil {
		return Subscription{}, "", fmt.Errorf("events.RedisSubscriptions.Create: %w", err)
	}
	return s, secret, nil
}

// List implements SubscriptionStore.
func (r *RedisSubscriptions) List(ctx context.Context) ([]Subscription, error) {
	vals, err := r.rdb.HVals(ctx, r.subsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("events.RedisSubscriptions.List: %w", err)
	}
	out := make([]Subscription, 0, len(vals))
	for _, v := range vals {
		var s Subscription
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return nil, fmt.Errorf("events.RedisSubscriptions.List: %w", err)
		}
		out = append(out, s)
	}
	sortSubscriptions(out)
	return out, nil
}

// Get implements SubscriptionStore.
func (r *RedisSubscriptions) Get(ctx context.Context, id string) (Subscription, error) {
	v, err := r.rdb.HGet(ctx, r.subsKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		return Subscription{}, fmt.Errorf("events.RedisSubscriptions.Get: subscription %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("events.RedisSubscriptions.Get: %w", err)
	}
	var s Subscription
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return Subscription{}, fmt.Errorf("events.RedisSubscriptions.Get: %w", err)
	}
	return s, nil
}

// Delete implements SubscriptionStore.
func (r *RedisSubscriptions) Delete(ctx context.Context, id string) error {
	var hdel *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hdel = p.HDel(ctx, r.subsKey(), id)
		p.Del(ctx, r.key(id, "secret"), r.key(id, "state"), r.key(id, "failures"), r.key(id, "redeliver"), r.key(id, "lease"))
		return nil
	})
	if err != nil {
		return fmt.Errorf("events.RedisSubscriptions.Delete: %w", err)
	}
	if hdel.Val() == 0 {
		return fmt.Errorf("events.RedisSubscriptions.Delete: subscription %q: %w", id, ErrNotFound)
	}
	return nil
}

func (r *RedisSubscriptions) exists(ctx context.Context, op, id string) error {
	ok, err := r.rdb.HExists(ctx, r.subsKey(), id).Result()
	if err != nil {
		return fmt.Errorf("events.RedisSubscriptions.%s: %w", op, err)
	}
	if !ok {
		return fmt.Errorf("events.RedisSubscriptions.%s: subscription %q: %w", op, id, ErrNotFound)
	}
	return nil
}

// Failures implements SubscriptionStore.
func (r *RedisSubscriptions) Failures(ctx context.Context, subID string) ([]Failure, error) {
	if err := r.exists(ctx, "Failures", subID); err != nil {
		return nil, err
	}
	vals, err := r.rdb.HVals(ctx, r.key(subID, "failures")).Result()
	if err != nil {
		return nil, fmt.Errorf("events.RedisSubscriptions.Failures: %w", err)
	}
	out := make([]Failure, 0, len(vals))
	for _, v := range vals {
		var f Failure
		if err := json.Unmarshal([]byte(v), &f); err != nil {
			return nil, fmt.Errorf("events.RedisSubscriptions.Failures: %w", err)
		}
		out = append(out, f)
	}
	sortFailures(out)
	return out, nil
}

// redeliverScript moves failures (ARGV: hash fields) from the failures hash
// (KEYS[1]) to the redelivery list (KEYS[2]); returns how many moved.
var redeliverScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('RPUSH', KEYS[2], v)
    n = n + 1
  end
end
return n
`)

// Redeliver implements SubscriptionStore.
func (r *RedisSubscriptions) Redeliver(ctx context.Context, subID, eventID string) error {
	fs, err := r.Failures(ctx, subID)
	if err != nil {
		return err
	}
	var fields []any
	for i := range fs {
		if fs[i].Event.ID == eventID {
			fields = append(fields, failureKey(&fs[i].Event))
		}
	}
	n := 0
	if len(fields) > 0 {
		n, err = redeliverScript.Run(ctx, r.rdb, []string{r.key(subID, "failures"), r.key(subID, "redeliver")}, fields...).Int()
		if err != nil {
			return fmt.Errorf("events.RedisSubscriptions.Redeliver: %w", err)
		}
	}
	if n == 0 {
		return fmt.Errorf("events.RedisSubscriptions.Redeliver: failed event %q: %w", eventID, ErrNotFound)
	}
	return nil
}

func (r *RedisSubscriptions) secret(ctx context.Context, subID string) (string, error) {
	v, err := r.rdb.Get(ctx, r.key(subID, "secret")).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("events.RedisSubscriptions: secret of %q: %w", subID, ErrNotFound)
	}
	return v, err
}

// acquireScript takes the lease KEYS[1] for token ARGV[1] or renews it;
// ARGV[2] is the TTL in ms. Returns 1 when the caller holds it.
var acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (r *RedisSubscriptions) acquire(ctx context.Context, subID, token string, ttl time.Duration) (bool, error) {
	n, err := acquireScript.Run(ctx, r.rdb, []string{r.key(subID, "lease")}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("events.RedisSubscriptions: lease: %w", err)
	}
	return n == 1, nil
}

func (r *RedisSubscriptions) release(ctx context.Context, subID, token string) error {
	return releaseScript.Run(ctx, r.rdb, []string{r.key(subID, "lease")}, token).Err()
}

func (r *RedisSubscriptions) load(ctx context.Context, subID string) (progress, *Failure, error) {
	var st *redis.StringCmd
	var head *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		st = p.Get(ctx, r.key(subID, "state"))
		head = p.LIndex(ctx, r.key(subID, "redeliver"), 0)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return progress{}, nil, fmt.Errorf("events.RedisSubscriptions: load: %w", err)
	}
	var p progress
	if raw, err := st.Result(); errors.Is(err, redis.Nil) {
		return progress{}, nil, fmt.Errorf("events.RedisSubscriptions: progress of %q: %w", subID, ErrNotFound)
	} else if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return progress{}, nil, fmt.Errorf("events.RedisSubscriptions: progress of %q: %w", subID, err)
	}
	raw, err := head.Result()
	if errors.Is(err, redis.Nil) {
		return p, nil, nil
	}
	var f Failure
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return progress{}, nil, fmt.Errorf("events.RedisSubscriptions: redelivery of %q: %w", subID, err)
	}
	return p, &f, nil
}

// commitScript stores one delivery step if the lease is still held.
// KEYS: lease, state, redeliver, failures. ARGV: token, state JSON,
// "1" to pop the redelivery head, failure field ("" for none), failure JSON.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[3] == '1' then redis.call('LPOP', KEYS[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[4], ARGV[5]) end
return 1
`)

func (r *RedisSubscriptions) commit(ctx context.Context, subID, token string, c commitOp) error {
	st, err := json.Marshal(c.state)
	if err != nil {
		return err
	}
	pop, field, failure := "0", "", []byte{}
	if c.popRedeliver {
		pop = "1"
	}
	if c.failure != nil {
		field = failureKey(&c.failure.Event)
		if failure, err = json.Marshal(c.failure); err != nil {
			return err
		}
	}
	keys := []string{r.key(subID, "lease"), r.key(subID, "state"), r.key(subID, "redeliver"), r.key(subID, "failures")}
	n, err := commitScript.Run(ctx, r.rdb, keys, token, st, pop, field, failure).Int()
	if err != nil {
		return fmt.Errorf("events.RedisSubscriptions: commit: %w", err)
	}
	if n == 0 {
		return errLeaseLost
	}
	return nil
}
