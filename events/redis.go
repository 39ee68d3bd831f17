package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisStore is the Store shared by every gateway instance, kept in Redis
// (version 6.2 or later): one stream "<prefix>events" holds every event in
// order (the field "e" is the event's JSON) and positions are the stream's
// entry ids; "<prefix>seen:<len>:<connection>:<id>" marks a (connection, id)
// as stored for the retention window. Entries older than the retention are
// trimmed (approximately) as new ones arrive. It is safe for concurrent use
// by any number of processes.
type RedisStore struct {
	rdb  *redis.Client
	opts Options
}

// NewRedisStore returns a Store on rdb; zero Options fields take their
// defaults. It does not contact Redis; a nil rdb is refused.
func NewRedisStore(rdb *redis.Client, opts Options) (*RedisStore, error) {
	if rdb == nil {
		return nil, fmt.Errorf("events.NewRedisStore: nil redis client")
	}
	return &RedisStore{rdb: rdb, opts: opts.withDefaults()}, nil
}

func (s *RedisStore) streamKey() string { return s.opts.Prefix + "events" }

func (s *RedisStore) seenKey(connection, id string) string {
	return s.opts.Prefix + "seen:" + strconv.Itoa(len(connection)) + ":" + connection + ":" + id
}

// appendScript stores events whose dedupe key it can claim, atomically with
// the claim. KEYS[1] is the stream, KEYS[i] (i ≥ 2) the dedupe key of the
// event ARGV[i]; ARGV[1] is the retention in ms. Returns how many were added.
var appendScript = redis.NewScript(`
local ttl = tonumber(ARGV[1])
local t = redis.call('TIME')
local minid = string.format('%d', math.max(0, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl))
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'e', ARGV[i])
    added = added + 1
  end
end
return added
`)

// Append implements Store: one script call stores the whole batch and its
// dedupe marks atomically, so a failed call stores either everything new or
// nothing.
func (s *RedisStore) Append(ctx context.Context, evs []Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	keys := make([]string, 0, len(evs)+1)
	args := make([]any, 0, len(evs)+1)
	keys = append(keys, s.streamKey())
	args = append(args, s.opts.Retention.Milliseconds())
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return 0, fmt.Errorf("events.RedisStore.Append: event %q: %w", evs[i].ID, err)
		}
		keys = append(keys, s.seenKey(evs[i].Connection, evs[i].ID))
		args = append(args, b)
	}
	n, err := appendScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("events.RedisStore.Append: %w", err)
	}
	return n, nil
}

// List implements Store: it reads the stream after the cursor in batches
// until Limit events match or the stream ends, so a filtered listing's
// NextCursor also moves past the events it skipped.
func (s *RedisStore) List(ctx context.Context, q Query) (Page, error) {
	after, err := parseStreamCursor(q.After)
	if err != nil {
		return Page{}, fmt.Errorf("events.RedisStore.List: %w", err)
	}
	page := Page{Events: []Event{}, NextCursor: q.After}
	if page.NextCursor == "" {
		page.NextCursor = BeginCursor
	}
	m := newMatcher(q)
	if m.none {
		return page, nil
	}
	limit := limitOf(q)
	batch := int64(limit)
	if batch < 100 && (len(q.Types) > 0 || q.Connection != "" || q.Connections != nil) {
		batch = 100
	}
	start := "(" + after
	for {
		msgs, err := s.rdb.XRangeN(ctx, s.streamKey(), start, "+", batch).Result()
		if err != nil {
			return Page{}, fmt.Errorf("events.RedisStore.List: %w", err)
		}
		for _, msg := range msgs {
			page.NextCursor = msg.ID
			raw, _ := msg.Values["e"].(string)
			var e Event
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return Page{}, fmt.Errorf("events.RedisStore.List: entry %s: %w", msg.ID, err)
			}
			if m.match(&e) {
				page.Events = append(page.Events, e)
				if len(page.Events) == limit {
					return page, nil
				}
			}
		}
		if int64(len(msgs)) < batch {
			return page, nil
		}
		start = "(" + page.NextCursor
	}
}

// parseStreamCursor turns a cursor into a stream id: "" and "0" are "0-0",
// otherwise "<ms>" or "<ms>-<seq>" in decimal.
func parseStreamCursor(c string) (string, error) {
	if c == "" {
		return "0-0", nil
	}
	ms, seq, hasSeq := strings.Cut(c, "-")
	if !isDecimal(ms) || (hasSeq && !isDecimal(seq)) {
		return "", fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	if !hasSeq {
		seq = "0"
	}
	return ms + "-" + seq, nil
}

func isDecimal(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
