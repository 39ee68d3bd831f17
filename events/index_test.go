package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// crowd stores n events of the connection "other" with a few of "mine"
// among them (after the first, the middle and the last of the others), and
// returns mine in order.
func crowd(t *testing.T, s Store, n int) []string {
	t.Helper()
	var mine []string
	const batch = 500
	for i := 0; i < n; i += batch {
		var evs []Event
		for j := i; j < min(i+batch, n); j++ {
			evs = append(evs, ev("other", strconv.Itoa(j), TypeCustomerUpdated))
			if j == 0 || j == n/2 || j == n-1 {
				id := fmt.Sprintf("m%d", j)
				evs = append(evs, ev("mine", id, TypeFollowupCreated))
				mine = append(mine, "mine/"+id)
			}
		}
		if _, err := s.Append(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	return mine
}

const crowdSize = 30000

// boundedListing checks what a listing limited to connections finds among
// crowdSize events of another, with work(q) the store's work for q (entries
// read), which must stay within what the page returns plus slack.
func boundedListing(t *testing.T, s Store, work func(q Query) (Page, int), slack int) {
	t.Helper()
	mine := crowd(t, s, crowdSize)
	for _, tt := range []struct {
		name string
		q    Query
		want []string
	}{
		{"a connection with none", Query{Connection: "none", Limit: 1}, nil},
		{"allowed connections with none", Query{Connections: []string{"none", "nothing"}, Limit: 1}, nil},
		{"one of mine", Query{Connection: "mine", Limit: 1}, mine[:1]},
		{"all of mine", Query{Connection: "mine", Limit: 10}, mine},
		{"mine among allowed", Query{Connections: []string{"none", "mine"}, Limit: 2}, mine[:2]},
		{"mine by type", Query{Connection: "mine", Types: []string{TypeFollowupCreated}, Limit: 10}, mine},
	} {
		p, n := work(tt.q)
		if d := cmp.Diff(tt.want, ids(p.Events), cmpNilEmpty); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
		if n > len(tt.want)+slack {
			t.Errorf("%s: %d entries read for %d events (%d events of another connection stored)", tt.name, n, len(tt.want), crowdSize)
		}
	}
	// Paging one by one through mine finds each once, and the cursor
	// after the last is the end: nothing of mine is stored up to it.
	q := Query{Connection: "mine", Limit: 1}
	var got []string
	for range len(mine) + 1 {
		p, n := work(q)
		if n > 1+slack {
			t.Errorf("page after %q: %d entries read", q.After, n)
		}
		got = append(got, ids(p.Events)...)
		q.After = p.NextCursor
	}
	if d := cmp.Diff(mine, got); d != "" {
		t.Errorf("paging (-want +got):\n%s", d)
	}
	again, _ := work(q)
	if len(again.Events) != 0 || again.NextCursor != q.After {
		t.Errorf("at the end: %+v, want no events and cursor %q", again, q.After)
	}
	// The cursor is a position in the whole stream: a new event of mine
	// after the end is found from it, and so is every event from a
	// connection-less listing.
	if _, err := s.Append(context.Background(), []Event{ev("mine", "late", TypeCustomerUpdated)}); err != nil {
		t.Fatal(err)
	}
	p, _ := work(q)
	if d := cmp.Diff([]string{"mine/late"}, ids(p.Events)); d != "" {
		t.Errorf("after the end (-want +got):\n%s", d)
	}
	all, err := s.List(context.Background(), Query{After: q.After})
	if err != nil || len(all.Events) != 1 || all.Events[0].ID != "late" {
		t.Errorf("unfiltered after the connection's cursor: %+v, %v", all, err)
	}
}

// A page limited to connections costs what it returns, not what other
// connections stored.
func TestMemoryStoreListIsIndexedByConnection(t *testing.T) {
	t.Parallel()
	s := NewMemoryStore(Options{})
	boundedListing(t, s, func(q Query) (Page, int) {
		s.mu.Lock()
		before := s.visited
		s.mu.Unlock()
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return p, s.visited - before
	}, 0)
}

// countingHook counts the commands sent and the stream entries they read.
type countingHook struct {
	mu            sync.Mutex
	cmds, entries int
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.count(cmd)
		return err
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.count(c)
		}
		return err
	}
}

func (h *countingHook) count(cmd redis.Cmder) {
	switch cmd.Name() {
	case "hello", "client", "ping", "auth", "select": // a new connection's set-up
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cmds++
	if x, ok := cmd.(*redis.XMessageSliceCmd); ok {
		h.entries += len(x.Val())
	}
}

func (h *countingHook) reset() (cmds, entries int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmds, entries = h.cmds, h.entries
	h.cmds, h.entries = 0, 0
	return cmds, entries
}

func TestRedisStoreListIsIndexedByConnection(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisForTest(t)
	h := &countingHook{}
	rdb.AddHook(h)
	s, err := NewRedisStore(rdb, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	// The stream's last entry is read once per page (1 entry), besides the
	// page's own entries; and a page is at most a handful of commands
	// (the mark and the end in one pipeline, one read per connection).
	boundedListing(t, s, func(q Query) (Page, int) {
		h.reset()
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cmds, entries := h.reset()
		if cmds > 2+len(q.Connections)+1 {
			t.Errorf("List(%+v): %d commands", q, cmds)
		}
		return p, entries
	}, 1)
}

// Events stored before connection streams were kept are still listed for
// their connection, in order with later ones, from old cursors too.
func TestRedisStoreListsEventsStoredBeforeTheIndex(t *testing.T) {
	t.Parallel()
	s := newRedisStoreForTest(t)
	ctx := context.Background()
	// What an earlier version stored: the stream only.
	var oldCursor string
	for _, e := range []Event{ev("a", "old1", TypeCustomerUpdated), ev("b", "old2", TypeCustomerUpdated), ev("a", "old3", TypeCustomerUpdated)} {
		b, _ := json.Marshal(e)
		id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.streamKey(), Values: []any{"e", string(b)}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == "old1" {
			oldCursor = id
		}
	}
	p, err := s.List(ctx, Query{Connection: "a"})
	if err != nil || cmp.Diff([]string{"a/old1", "a/old3"}, ids(p.Events)) != "" {
		t.Fatalf("before any new append: %v, %v", ids(p.Events), err)
	}
	appendIDs(t, s, "a", TypeCustomerUpdated, "new1")
	appendIDs(t, s, "b", TypeCustomerUpdated, "new2")
	appendIDs(t, s, "a", TypeCustomerUpdated, "new3")
	for _, size := range []int{1, 2, 10} {
		got, _ := listAll(t, s, Query{Connection: "a", Limit: size})
		if d := cmp.Diff([]string{"a/old1", "a/old3", "a/new1", "a/new3"}, ids(got)); d != "" {
			t.Errorf("limit %d (-want +got):\n%s", size, d)
		}
		got, _ = listAll(t, s, Query{Connections: []string{"a", "b"}, Limit: size})
		if d := cmp.Diff([]string{"a/old1", "b/old2", "a/old3", "a/new1", "b/new2", "a/new3"}, ids(got)); d != "" {
			t.Errorf("allowed a, b, limit %d (-want +got):\n%s", size, d)
		}
	}
	got, _ := listAll(t, s, Query{Connection: "a", After: oldCursor})
	if d := cmp.Diff([]string{"a/old3", "a/new1", "a/new3"}, ids(got)); d != "" {
		t.Errorf("from a cursor of the earlier version (-want +got):\n%s", d)
	}
}
