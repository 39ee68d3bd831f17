package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every instance on one Redis.
//
// A key is three Redis keys sharing one hash tag (so each script touches one
// slot, as Redis Cluster requires): the record, a hash of fp, owner, done
// and answer, kept for the TTL; the lease, the owner's token, expiring after
// the lease unless renewed; and the journal, a list kept as long as the
// record. Every operation is one Lua script, atomic.
type Redis struct {
	rdb redis.UniversalClient
	o   Options
}

// NewRedis returns a Store on rdb; it refuses a nil client.
func NewRedis(rdb redis.UniversalClient, o Options) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("idempotency.NewRedis: a Redis client is required")
	}
	return &Redis{rdb: rdb, o: o.withDefaults()}, nil
}

// keys returns the record, lease and journal keys of key.
func (s *Redis) keys(key string) []string {
	sum := sha256.Sum256([]byte(key))
	r := s.o.Prefix + "idem:{" + hex.EncodeToString(sum[:16]) + "}"
	return []string{r, r + ":lease", r + ":journal"}
}

// beginScript: KEYS record, lease, journal; ARGV fp, owner, lease ms, ttl ms.
var beginScript = redis.NewScript(`
local st = redis.call("HMGET", KEYS[1], "fp", "done", "answer")
if st[1] then
  if st[2] == "1" then
    if st[1] == ARGV[1] then return {"done", st[3]} end
    return {"mismatch"}
  end
  if redis.call("EXISTS", KEYS[2]) == 1 then
    if st[1] == ARGV[1] then return {"inflight"} end
    return {"mismatch"}
  end
  if st[1] ~= ARGV[1] then redis.call("DEL", KEYS[3]) end
else
  redis.call("DEL", KEYS[3])
end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "fp", ARGV[1], "owner", ARGV[2], "done", "0")
redis.call("PEXPIRE", KEYS[1], ARGV[4])
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
if redis.call("EXISTS", KEYS[3]) == 1 then redis.call("PEXPIRE", KEYS[3], ARGV[4]) end
return {"held", redis.call("LRANGE", KEYS[3], 0, -1)}`)

// heldLua is true while ARGV[1] (the owner) holds KEYS[1].
const heldLua = `
local function held()
  local st = redis.call("HMGET", KEYS[1], "owner", "done")
  return st[1] == ARGV[1] and st[2] == "0"
end
`

// renewScript: KEYS record, lease; ARGV owner, lease ms.
var renewScript = redis.NewScript(heldLua + `
if not held() then return 0 end
redis.call("SET", KEYS[2], ARGV[1], "PX", ARGV[2])
return 1`)

// recordScript: KEYS record, lease, journal; ARGV owner, entry.
var recordScript = redis.NewScript(heldLua + `
if not held() then return 0 end
redis.call("RPUSH", KEYS[3], ARGV[2])
local ttl = redis.call("PTTL", KEYS[1])
if ttl > 0 then redis.call("PEXPIRE", KEYS[3], ttl) end
return 1`)

// completeScript: KEYS record, lease, journal; ARGV owner, fp, answer, ttl ms.
var completeScript = redis.NewScript(heldLua + `
if redis.call("EXISTS", KEYS[1]) == 1 and not held() then return 0 end
redis.call("DEL", KEYS[1], KEYS[2], KEYS[3])
redis.call("HSET", KEYS[1], "fp", ARGV[2], "done", "1", "answer", ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
return 1`)

// releaseScript: KEYS record, lease, journal; ARGV owner.
var releaseScript = redis.NewScript(heldLua + `
if not held() then return 0 end
return redis.call("DEL", KEYS[1], KEYS[2], KEYS[3])`)

// legacyRecord is a key as versions before leases kept it: one JSON value
// at prefix + "idem:" + key. Begin still honours such keys (an answer to
// replay, a claim of an older instance still running), so that an upgrade
// sends nothing twice; they are gone a TTL after the upgrade.
type legacyRecord struct {
	Fingerprint string  `json:"fp"`
	Done        bool    `json:"done"`
	Answer      *Answer `json:"answer,omitempty"`
}

// legacy answers Begin from a legacy key; found is false when there is none.
func (s *Redis) legacy(ctx context.Context, key, fp string) (a *Answer, found bool, err error) {
	raw, err := s.rdb.Get(ctx, s.o.Prefix+"idem:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("idempotency.Redis.Begin: %w", err)
	}
	var r legacyRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, false, nil
	}
	switch {
	case r.Fingerprint != fp:
		return nil, true, ErrMismatch
	case !r.Done || r.Answer == nil:
		return nil, true, ErrInFlight
	}
	return r.Answer, true, nil
}

// Begin implements Store.
func (s *Redis) Begin(ctx context.Context, key, fp string) (*Answer, *Claim, error) {
	if a, found, err := s.legacy(ctx, key, fp); found {
		return a, nil, err
	}
	owner := newOwner()
	v, err := beginScript.Run(ctx, s.rdb, s.keys(key), fp, owner, s.o.Lease.Milliseconds(), s.o.TTL.Milliseconds()).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("idempotency.Redis.Begin: %w", err)
	}
	state, _ := v[0].(string)
	switch state {
	case "done":
		raw, _ := v[1].(string)
		var a Answer
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, nil, fmt.Errorf("idempotency.Redis.Begin: stored answer: %w", err)
		}
		return &a, nil, nil
	case "mismatch":
		return nil, nil, ErrMismatch
	case "inflight":
		return nil, nil, ErrInFlight
	case "held":
		c := &Claim{Key: key, FP: fp, Owner: owner, Lease: s.o.Lease}
		list, _ := v[1].([]any)
		for _, e := range list {
			str, _ := e.(string)
			c.Journal = append(c.Journal, []byte(str))
		}
		return nil, c, nil
	}
	return nil, nil, fmt.Errorf("idempotency.Redis.Begin: unexpected answer %v", v)
}

func notHeld(n int, err error, op string) error {
	if err != nil {
		return fmt.Errorf("idempotency.Redis.%s: %w", op, err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// Renew implements Store.
func (s *Redis) Renew(ctx context.Context, c *Claim) error {
	n, err := renewScript.Run(ctx, s.rdb, s.keys(c.Key)[:2], c.Owner, s.o.Lease.Milliseconds()).Int()
	return notHeld(n, err, "Renew")
}

// Record implements Store.
func (s *Redis) Record(ctx context.Context, c *Claim, entry []byte) error {
	n, err := recordScript.Run(ctx, s.rdb, s.keys(c.Key), c.Owner, entry).Int()
	return notHeld(n, err, "Record")
}

// Complete implements Store.
func (s *Redis) Complete(ctx context.Context, c *Claim, a Answer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("idempotency.Redis.Complete: %w", err)
	}
	n, err := completeScript.Run(ctx, s.rdb, s.keys(c.Key), c.Owner, c.FP, b, s.o.TTL.Milliseconds()).Int()
	return notHeld(n, err, "Complete")
}

// Release implements Store.
func (s *Redis) Release(ctx context.Context, c *Claim) error {
	return releaseScript.Run(ctx, s.rdb, s.keys(c.Key), c.Owner).Err()
}
