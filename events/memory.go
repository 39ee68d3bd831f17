package events

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MemoryStore is the in-process Store: events live in this process only and
// are lost when it stops, so it suits one instance (and tests). Positions are
// decimal sequence numbers starting at 1; BeginCursor "0" precedes them all.
// It is safe for concurrent use.
type MemoryStore struct {
	opts Options

	mu      sync.Mutex
	entries []memEntry              // ordered by pos
	seen    map[dedupeKey]time.Time // (connection, id) → stored at
	last    uint64                  // last position handed out
	swept   time.Time               // last full sweep of seen
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
	return &MemoryStore{opts: opts.withDefaults(), seen: map[dedupeKey]time.Time{}}
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
		s.entries = append(s.entries, memEntry{pos: s.last, at: now, ev: e})
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
	i := 0
	for i < len(s.entries) && !s.entries[i].at.After(cut) {
		i++
	}
	if i > 0 {
		s.entries = append([]memEntry(nil), s.entries[i:]...)
	}
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
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].pos > after })
	for ; i < len(s.entries) && len(page.Events) < limit; i++ {
		en := &s.entries[i]
		page.NextCursor = strconv.FormatUint(en.pos, 10)
		if m.match(&en.ev) {
			page.Events = append(page.Events, en.ev)
		}
	}
	return page, nil
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
