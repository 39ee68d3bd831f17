package events

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// RedisStore is the Store shared by every gateway instance, kept in Redis
// (version 6.2 or later): one stream "<prefix>{events}" holds every event in
// order (the field "e" is the event's JSON) and positions are the stream's
// entry ids; each event is also added, with the same id, to its connection's
// stream "<prefix>{events}:conn:<len>:<connection>", so that a listing
// limited to some connections reads only theirs.
// "<prefix>{events}:indexed" is the position from which the connections'
// streams are complete (the end of the stream when the first event was
// stored by a gateway that keeps them; events before it are found by
// reading the whole stream, until they age out).
// "<prefix>{events}:seen:<len>:<connection>:<id>" marks a (connection, id)
// as stored for the retention window. Entries older than the retention are
// trimmed (approximately) as new ones arrive, and a connection's stream
// goes away a retention after its last event. It is safe for concurrent use
// by any number of processes.
//
// Every key of the events data set, the subscriptions' included, shares the
// hash tag {events}: one script appends to the stream of every event and to
// the connections' streams at once, and a subscription starts at the
// stream's end atomically, so on a Redis Cluster they are all in one slot
// (one master holds all events; the other features spread over the rest).
type RedisStore struct {
	rdb  redis.UniversalClient
	opts Options
}

// NewRedisStore returns a Store on rdb; zero Options fields take their
// defaults. It does not contact Redis; a nil rdb is refused.
func NewRedisStore(rdb redis.UniversalClient, opts Options) (*RedisStore, error) {
	if rdb == nil {
		return nil, fmt.Errorf("events.NewRedisStore: nil redis client")
	}
	return &RedisStore{rdb: rdb, opts: opts.withDefaults()}, nil
}

// tag starts every key of the events data set: one hash tag for all (see
// RedisStore).
func (s *RedisStore) tag() string { return redisclient.Tag(s.opts.Prefix, "events") }

func (s *RedisStore) streamKey() string  { return s.tag() }
func (s *RedisStore) indexedKey() string { return s.tag() + ":indexed" }

func (s *RedisStore) connStreamKey(connection string) string {
	return s.tag() + ":conn:" + strconv.Itoa(len(connection)) + ":" + connection
}

func (s *RedisStore) seenKey(connection, id string) string {
	return s.tag() + ":seen:" + strconv.Itoa(len(connection)) + ":" + connection + ":" + id
}

// appendScript stores events whose dedupe key it can claim, atomically with
// the claim, in the stream and in the event's connection stream under the
// same id. KEYS[1] is the stream, KEYS[2] the indexed mark; then for event i
// (1-based) KEYS[2i+1] is its dedupe key and KEYS[2i+2] its connection's
// stream, ARGV[i+1] its JSON; ARGV[1] is the retention in ms. Returns how
// many were added.
var appendScript = redis.NewScript(`
local ttl = tonumber(ARGV[1])
local t = redis.call('TIME')
local minid = string.format('%d', math.max(0, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl))
if redis.call('EXISTS', KEYS[2]) == 0 then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  local from = '0-0'
  if #last > 0 then from = last[1][1] end
  redis.call('SET', KEYS[2], from)
end
local added = 0
for i = 1, #ARGV - 1 do
  if redis.call('SET', KEYS[2 * i + 1], '1', 'NX', 'PX', ARGV[1]) then
    local id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'e', ARGV[i + 1])
    redis.call('XADD', KEYS[2 * i + 2], 'MINID', '~', minid, id, 'e', ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[2 * i + 2], ARGV[1])
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
	keys := make([]string, 0, 2*len(evs)+2)
	args := make([]any, 0, len(evs)+1)
	keys = append(keys, s.streamKey(), s.indexedKey())
	args = append(args, s.opts.Retention.Milliseconds())
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return 0, fmt.Errorf("events.RedisStore.Append: event %q: %w", evs[i].ID, err)
		}
		keys = append(keys, s.seenKey(evs[i].Connection, evs[i].ID), s.connStreamKey(evs[i].Connection))
		args = append(args, b)
	}
	n, err := appendScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("events.RedisStore.Append: %w", err)
	}
	return n, nil
}

// List implements Store. Without a connection filter it reads the stream
// after the cursor in batches until Limit events match or the stream ends,
// so a filtered listing's NextCursor also moves past the events it skipped.
// With one (Query.Connection or Query.Connections) it reads only those
// connections' streams, and when they end NextCursor is the stream's end as
// it was before they were read: no event of theirs lies between, and one
// stored since comes after it.
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
	var conns []string
	switch {
	case q.Connection != "":
		conns = []string{q.Connection}
	case q.Connections != nil:
		conns = distinct(q.Connections)
	default:
		_, err := s.scan(ctx, s.streamKey(), after, "+", m, limit, &page)
		return page, err
	}

	// Where the connection streams begin, and the stream's end, both read
	// before the connection streams are.
	var mark *redis.StringCmd
	var head *redis.XMessageSliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		mark = p.Get(ctx, s.indexedKey())
		head = p.XRevRangeN(ctx, s.streamKey(), "+", "-", 1)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return Page{}, fmt.Errorf("events.RedisStore.List: %w", err)
	}
	if len(head.Val()) == 0 {
		return page, nil // nothing stored
	}
	end := head.Val()[0].ID
	from, err := mark.Result()
	if errors.Is(err, redis.Nil) {
		// Stored before connection streams were kept: read the stream.
		_, err := s.scan(ctx, s.streamKey(), after, "+", m, limit, &page)
		return page, err
	}
	if cmpStreamID(after, from) < 0 {
		// Events up to from are in the stream only.
		full, err := s.scan(ctx, s.streamKey(), after, from, m, limit, &page)
		if err != nil || full {
			return page, err
		}
		after = from
	}

	// Up to room matching events from each connection's stream, merged in
	// order: a stream that gave room of them may hold more, but only after
	// the room-th of the merge.
	room := limit - len(page.Events)
	var got []streamEvent
	for _, c := range conns {
		part, err := s.collect(ctx, s.connStreamKey(c), after, m, room)
		if err != nil {
			return Page{}, err
		}
		got = append(got, part...)
	}
	sort.Slice(got, func(i, j int) bool { return cmpStreamID(got[i].id, got[j].id) < 0 })
	if len(got) > room {
		got = got[:room]
	}
	last := after
	for _, g := range got {
		page.Events = append(page.Events, g.ev)
		page.NextCursor, last = g.id, g.id
	}
	if len(got) < room {
		// Every stream read to its end: nothing of theirs up to end.
		if cmpStreamID(end, last) > 0 {
			page.NextCursor = end
		}
	}
	return page, nil
}

// batchOf is how many entries to read at once for limit events: limit
// itself unless a type filter may skip some.
func batchOf(m matcher, limit int) int64 {
	if len(m.types) > 0 && limit < 100 {
		return 100
	}
	return int64(limit)
}

// scan reads key after the position after up to end (inclusive; "+" for
// the stream's end) in batches, adding the events m matches to page until
// it holds limit; page.NextCursor follows every entry read. full says page
// reached limit.
func (s *RedisStore) scan(ctx context.Context, key, after, end string, m matcher, limit int, page *Page) (full bool, err error) {
	batch := batchOf(m, limit)
	if batch < 100 && (m.connection != "" || m.connections != nil) {
		batch = 100
	}
	start := "(" + after
	for {
		msgs, err := s.rdb.XRangeN(ctx, key, start, end, batch).Result()
		if err != nil {
			return false, fmt.Errorf("events.RedisStore.List: %w", err)
		}
		for _, msg := range msgs {
			page.NextCursor = msg.ID
			e, err := decodeEntry(msg)
			if err != nil {
				return false, err
			}
			if m.match(&e) {
				page.Events = append(page.Events, e)
				if len(page.Events) == limit {
					return true, nil
				}
			}
		}
		if int64(len(msgs)) < batch {
			return false, nil
		}
		start = "(" + page.NextCursor
	}
}

// streamEvent is an event with its position.
type streamEvent struct {
	id string
	ev Event
}

// collect reads key after the position after until n events match or the
// stream ends.
func (s *RedisStore) collect(ctx context.Context, key, after string, m matcher, n int) ([]streamEvent, error) {
	var out []streamEvent
	batch := batchOf(m, n)
	start := "(" + after
	for {
		msgs, err := s.rdb.XRangeN(ctx, key, start, "+", batch).Result()
		if err != nil {
			return nil, fmt.Errorf("events.RedisStore.List: %w", err)
		}
		for _, msg := range msgs {
			e, err := decodeEntry(msg)
			if err != nil {
				return nil, err
			}
			if m.match(&e) {
				out = append(out, streamEvent{msg.ID, e})
				if len(out) == n {
					return out, nil
				}
			}
		}
		if int64(len(msgs)) < batch {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

func decodeEntry(msg redis.XMessage) (Event, error) {
	raw, _ := msg.Values["e"].(string)
	var e Event
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return Event{}, fmt.Errorf("events.RedisStore.List: entry %s: %w", msg.ID, err)
	}
	return e, nil
}

// cmpStreamID compares two stream ids "<ms>-<seq>" (as parseStreamCursor
// gives and Redis hands out) by position.
func cmpStreamID(a, b string) int {
	am, as := splitStreamID(a)
	bm, bs := splitStreamID(b)
	if c := cmp.Compare(am, bm); c != 0 {
		return c
	}
	return cmp.Compare(as, bs)
}

func splitStreamID(id string) (ms, seq uint64) {
	m, q, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(q, 10, 64)
	return ms, seq
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
