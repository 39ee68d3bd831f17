package events

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MemoryStore is the in-process Store: events live in this process only and
// are lost when it stops, so it suits one instance (and tests). Positions are
// decimal sequence numbers starting at 1; BeginCursor "0" precedes them all.
// Besides the list of every event it keeps one per connection, so a listing
// limited to some connections looks only at theirs. It is safe for
// concurrent use.
type MemoryStore struct {
	opts Options

	mu      sync.Mutex
	entries []memEntry              // ordered by pos
	byConn  map[string][]memEntry   // connection → its entries, ordered by pos
	seen    map[dedupeKey]time.Time // (connection, id) → stored at
	last    uint64                  // last position handed out
	swept   time.Time               // last full sweep of seen
	visited int                     // entries List looked at, for tests
}

type memEntry struct {
	pos uint64
	at  time.Time
	ev  Event
}

type dedupeKey struct{ connection, id string }

// NewMemoryStore returns an empty in-process Store; zero Options fields take
// their defaults (Options.Prefix is ignored).
func NewMemoryStore(opts Options) *MemoryStore {
	return &MemoryStore{opts: opts.withDefaults(), seen: map[dedupeKey]time.Time{}, byConn: map[string][]memEntry{}}
}

// Append implements Store. It never fails except for a done ctx, checked
// before anything is stored.
func (s *MemoryStore) Append(ctx context.Context, evs []Event) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("events.MemoryStore.Append: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.expireLocked(now)
	added := 0
	for _, e := range evs {
		k := dedupeKey{e.Connection, e.ID}
		if at, dup := s.seen[k]; dup && at.After(now.Add(-s.opts.Retention)) {
			continue
		}
		s.seen[k] = now
		s.last++
		en := memEntry{pos: s.last, at: now, ev: e}
		s.entries = append(s.entries, en)
		s.byConn[e.Connection] = append(s.byConn[e.Connection], en)
		added++
	}
	return added, nil
}

// expireLocked forgets dedupe keys and events older than the retention.
func (s *MemoryStore) expireLocked(now time.Time) {
	cut := now.Add(-s.opts.Retention)
	if now.Sub(s.swept) >= time.Minute {
		s.swept = now
		for k, at := range s.seen {
			if !at.After(cut) {
				delete(s.seen, k)
			}
		}
	}
	s.entries = expireEntries(s.entries, cut)
	for c, list := range s.byConn {
		if list = expireEntries(list, cut); len(list) == 0 {
			delete(s.byConn, c)
		} else {
			s.byConn[c] = list
		}
	}
}

// expireEntries drops the entries stored at or before cut from the front.
func expireEntries(list []memEntry, cut time.Time) []memEntry {
	i := 0
	for i < len(list) && !list[i].at.After(cut) {
		i++
	}
	if i > 0 {
		return append([]memEntry(nil), list[i:]...)
	}
	return list
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, q Query) (Page, error) {
	after, err := parseSeqCursor(q.After)
	if err != nil {
		return Page{}, fmt.Errorf("events.MemoryStore.List: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Page{}, fmt.Errorf("events.MemoryStore.List: %w", err)
	}
	page := Page{Events: []Event{}, NextCursor: strconv.FormatUint(after, 10)}
	m := newMatcher(q)
	if m.none {
		return page, nil
	}
	limit := limitOf(q)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.opts.Now())
	// The lists to look at: the connections' own when the query names some,
	// so that what others stored costs nothing.
	var lists [][]memEntry
	indexed := true
	switch {
	case q.Connection != "":
		lists = [][]memEntry{s.byConn[q.Connection]}
	case q.Connections != nil:
		for _, c := range distinct(q.Connections) {
			lists = append(lists, s.byConn[c])
		}
	default:
		lists, indexed = [][]memEntry{s.entries}, false
	}
	next := make([]int, len(lists))
	for k, list := range lists {
		next[k] = sort.Search(len(list), func(i int) bool { return list[i].pos > after })
	}
	for len(page.Events) < limit {
		k := -1 // the list whose next entry comes first
		for j, list := range lists {
			if next[j] < len(list) && (k < 0 || list[next[j]].pos < lists[k][next[k]].pos) {
				k = j
			}
		}
		if k < 0 {
			// Every list looked at to its end: nothing the query can see is
			// stored up to the last position handed out.
			if indexed && s.last > after {
				page.NextCursor = strconv.FormatUint(s.last, 10)
			}
			break
		}
		en := &lists[k][next[k]]
		next[k]++
		s.visited++
		page.NextCursor = strconv.FormatUint(en.pos, 10)
		if m.match(&en.ev) {
			page.Events = append(page.Events, en.ev)
		}
	}
	return page, nil
}

// distinct is ids without repeats, in their first order.
func distinct(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// head returns the cursor of the last stored event (BeginCursor when none).
func (s *MemoryStore) head() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatUint(s.last, 10)
}

func parseSeqCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil || (len(c) > 1 && c[0] == '0') {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return n, nil
}
