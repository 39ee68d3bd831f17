package history

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every instance on one Redis (a single server,
// Sentinel or Cluster).
//
// An answer is one hash, prefix+"req:{h}" (h a digest of the request id),
// expiring after the retention. A customer's history is one sorted set,
// prefix+"hist:{h}" (h a digest of connection and number or ref), scored by
// the entry's time in milliseconds and trimmed to the retention window and
// MaxPerCustomer on every write. No command touches two keys, so nothing
// crosses a Cluster slot; Put sends all of an import's commands in one
// pipeline.
type Redis struct {
	rdb redis.UniversalClient
	o   Options
}

// NewRedis returns a Store on rdb; it refuses a nil client.
func NewRedis(rdb redis.UniversalClient, o Options) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("history.NewRedis: a Redis client is required")
	}
	return &Redis{rdb: rdb, o: o.withDefaults()}, nil
}

func (s *Redis) answerKey(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return s.o.Prefix + "req:{" + hex.EncodeToString(sum[:16]) + "}"
}

func (s *Redis) historyKey(c Customer) string {
	return s.o.Prefix + "hist:{" + c.hashTag() + "}"
}

// Put implements Store: one pipelined round trip, within PutTimeout.
func (s *Redis) Put(ctx context.Context, imp Import) error {
	ctx, cancel := context.WithTimeout(ctx, PutTimeout)
	defer cancel()
	now := s.o.Now()
	if imp.At.IsZero() {
		imp.At = now
	}
	ttl := s.o.Retention - now.Sub(imp.At)
	if ttl <= 0 {
		return nil
	}
	members := map[string][]redis.Z{}
	var order []string
	for _, r := range imp.Records {
		b, err := json.Marshal(storedOf(imp, r))
		if err != nil {
			return fmt.Errorf("history.Put: %w", err)
		}
		z := redis.Z{Score: float64(imp.At.UnixMilli()), Member: b}
		for _, c := range customers(imp.Connection, r) {
			k := s.historyKey(c)
			if _, ok := members[k]; !ok {
				order = append(order, k)
			}
			members[k] = append(members[k], z)
		}
	}
	cut := strconv.FormatInt(now.Add(-s.o.Retention).UnixMilli(), 10)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if imp.RequestID != "" && imp.Answer != nil {
			k := s.answerKey(imp.RequestID)
			p.HSet(ctx, k, "id", imp.RequestID, "app", imp.App, "connection", imp.Connection,
				"at", imp.At.UTC().Format(time.RFC3339Nano), "content_type", imp.ContentType, "body", imp.Answer)
			p.PExpire(ctx, k, ttl)
		}
		for _, k := range order {
			p.ZAdd(ctx, k, members[k]...)
			p.ZRemRangeByScore(ctx, k, "-inf", cut)
			p.ZRemRangeByRank(ctx, k, 0, -MaxPerCustomer-1)
			p.PExpire(ctx, k, s.o.Retention)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history.Put: %w", err)
	}
	return nil
}

// Answer implements Store.
func (s *Redis) Answer(ctx context.Context, requestID string) (*Answer, error) {
	v, err := s.rdb.HGetAll(ctx, s.answerKey(requestID)).Result()
	if err != nil {
		return nil, fmt.Errorf("history.Answer: %w", err)
	}
	if len(v) == 0 || v["id"] != requestID {
		return nil, ErrNotFound
	}
	at, err := time.Parse(time.RFC3339Nano, v["at"])
	if err != nil {
		return nil, fmt.Errorf("history.Answer: %q: at: %w", requestID, err)
	}
	if !at.After(s.o.Now().Add(-s.o.Retention)) {
		return nil, ErrNotFound
	}
	return &Answer{RequestID: requestID, App: v["app"], Connection: v["connection"], At: at,
		ContentType: v["content_type"], Body: []byte(v["body"])}, nil
}

// History implements Store.
func (s *Redis) History(ctx context.Context, c Customer) ([]Entry, error) {
	cut := "(" + strconv.FormatInt(s.o.Now().Add(-s.o.Retention).UnixMilli(), 10)
	list, err := s.rdb.ZRevRangeByScore(ctx, s.historyKey(c), &redis.ZRangeBy{Min: cut, Max: "+inf", Count: MaxPerCustomer}).Result()
	if err != nil {
		return nil, fmt.Errorf("history.History: %w", err)
	}
	out := make([]Entry, 0, len(list))
	for _, m := range list {
		var st stored
		if err := json.Unmarshal([]byte(m), &st); err != nil {
			continue // not an entry this version wrote
		}
		out = append(out, st.entry())
	}
	return out, nil
}
