package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
)

// redisForTest is the shared test Redis with a key prefix of the test's own.
func redisForTest(t *testing.T) (redis.UniversalClient, string) { return redistest.Client(t) }

func newRedisStoreForTest(t *testing.T) *RedisStore { return newStoreOn(t, redistest.Client) }

// newClusterStoreForTest is a store on the test Redis Cluster.
func newClusterStoreForTest(t *testing.T) *RedisStore { return newStoreOn(t, redistest.Cluster) }

func newStoreOn(t *testing.T, open func(testing.TB) (redis.UniversalClient, string)) *RedisStore {
	rdb, prefix := open(t)
	s, err := NewRedisStore(rdb, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	runStoreConformance(t, func(t *testing.T) Store { return NewMemoryStore(Options{}) })
}

func TestRedisStoreConformance(t *testing.T) {
	t.Parallel()
	runStoreConformance(t, func(t *testing.T) Store { return newRedisStoreForTest(t) })
}

func TestClusterStoreConformance(t *testing.T) {
	t.Parallel()
	redistest.ClusterAddrs(t) // skip or fail once, not per subtest
	runStoreConformance(t, func(t *testing.T) Store { return newClusterStoreForTest(t) })
}

func ev(conn, id, typ string) Event {
	at := time.Date(2022, 9, 29, 12, 34, 58, 0, time.UTC)
	return Event{ID: id, Type: typ, Connection: conn, OccurredAt: at, ReceivedAt: at,
		Customer: Customer{WhatsApp: "8615601882491"}, Change: &Change{Field: "address", From: "", To: id}}
}

func ids(evs []Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Connection+"/"+e.ID)
	}
	return out
}

// listAll pages through q with the given page size and returns every event.
func listAll(t *testing.T, s Store, q Query) ([]Event, string) {
	t.Helper()
	var all []Event
	for i := 0; ; i++ {
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		if p.NextCursor == "" {
			t.Fatalf("List(%+v): empty NextCursor", q)
		}
		all = append(all, p.Events...)
		if len(p.Events) == 0 {
			if p.NextCursor != q.After && q.After != "" {
				// A filtered scan may advance past non-matching events;
				// it must then be stable on the next call.
				q.After = p.NextCursor
				continue
			}
			return all, p.NextCursor
		}
		q.After = p.NextCursor
		if i > 10000 {
			t.Fatal("listing does not end")
		}
	}
}

func runStoreConformance(t *testing.T, newStore func(t *testing.T) Store) {
	const up, fu = TypeCustomerUpdated, TypeFollowupCreated
	ctx := context.Background()

	t.Run("empty store", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		p, err := s.List(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if p.NextCursor != BeginCursor || p.Events == nil || len(p.Events) != 0 {
			t.Fatalf("got %+v, want no events and cursor %q", p, BeginCursor)
		}
		p, err = s.List(ctx, Query{After: BeginCursor})
		if err != nil || p.NextCursor != BeginCursor {
			t.Fatalf("after %q: %+v, %v", BeginCursor, p, err)
		}
	})

	t.Run("dedupe and order", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		n, err := s.Append(ctx, []Event{ev("a", "1", up), ev("a", "2", up), ev("a", "1", up), ev("b", "1", up)})
		if err != nil || n != 3 {
			t.Fatalf("Append = %d, %v; want 3", n, err)
		}
		n, err = s.Append(ctx, []Event{ev("b", "1", up), ev("a", "3", fu), ev("a", "2", up)})
		if err != nil || n != 1 {
			t.Fatalf("second Append = %d, %v; want 1", n, err)
		}
		n, err = s.Append(ctx, nil)
		if err != nil || n != 0 {
			t.Fatalf("empty Append = %d, %v", n, err)
		}
		p, err := s.List(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"a/1", "a/2", "b/1", "a/3"}
		if d := cmp.Diff(want, ids(p.Events)); d != "" {
			t.Fatalf("order (-want +got):\n%s", d)
		}
		if d := cmp.Diff(ev("a", "3", fu), p.Events[3]); d != "" {
			t.Fatalf("event round trip (-want +got):\n%s", d)
		}
	})

	t.Run("cursor resume", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var want []string
		for i := range 25 {
			e := ev("c", fmt.Sprint(i), up)
			want = append(want, "c/"+e.ID)
			if _, err := s.Append(ctx, []Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		for _, size := range []int{1, 2, 7, 25, 100} {
			got, end := listAll(t, s, Query{Limit: size})
			if d := cmp.Diff(want, ids(got)); d != "" {
				t.Fatalf("page size %d (-want +got):\n%s", size, d)
			}
			// Nothing new: the cursor comes back unchanged.
			p, err := s.List(ctx, Query{After: end})
			if err != nil || len(p.Events) != 0 || p.NextCursor != end {
				t.Fatalf("at end: %+v, %v; want cursor %q", p, err, end)
			}
			// New events after the end are found from that cursor.
			e := ev("c", fmt.Sprintf("late-%d", size), up)
			if _, err := s.Append(ctx, []Event{e}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "c/"+e.ID)
			p, err = s.List(ctx, Query{After: end})
			if err != nil || len(p.Events) != 1 || p.Events[0].ID != e.ID || p.NextCursor == end {
				t.Fatalf("after end: %+v, %v", p, err)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Append(ctx, []Event{
			ev("a", "1", up), ev("b", "2", fu), ev("c", "3", up), ev("a", "4", fu), ev("b", "5", up),
		}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			q    Query
			want []string
		}{
			{"all", Query{}, []string{"a/1", "b/2", "c/3", "a/4", "b/5"}},
			{"connection", Query{Connection: "b"}, []string{"b/2", "b/5"}},
			{"allowed", Query{Connections: []string{"a", "c"}}, []string{"a/1", "c/3", "a/4"}},
			{"allowed none", Query{Connections: []string{}}, nil},
			{"connection not allowed", Query{Connections: []string{"a"}, Connection: "b"}, nil},
			{"connection allowed", Query{Connections: []string{"a", "b"}, Connection: "b"}, []string{"b/2", "b/5"}},
			{"type", Query{Types: []string{fu}}, []string{"b/2", "a/4"}},
			{"types", Query{Types: []string{fu, up}}, []string{"a/1", "b/2", "c/3", "a/4", "b/5"}},
			{"type and connection", Query{Types: []string{up}, Connection: "a"}, []string{"a/1"}},
			{"unknown type", Query{Types: []string{"nope"}}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				for _, size := range []int{1, 2, 0} {
					q := tt.q
					q.Limit = size
					got, _ := listAll(t, s, q)
					if d := cmp.Diff(tt.want, ids(got), cmpNilEmpty); d != "" {
						t.Fatalf("limit %d (-want +got):\n%s", size, d)
					}
				}
			})
		}
	})

	t.Run("filtered cursor advances", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Append(ctx, []Event{ev("a", "1", up), ev("b", "2", up), ev("b", "3", up)}); err != nil {
			t.Fatal(err)
		}
		p, err := s.List(ctx, Query{Connection: "a"})
		if err != nil || len(p.Events) != 1 {
			t.Fatalf("%+v, %v", p, err)
		}
		// The cursor moved past the b events the filter skipped.
		full, err := s.List(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if p.NextCursor != full.NextCursor {
			t.Fatalf("filtered NextCursor %q, want the stream end %q", p.NextCursor, full.NextCursor)
		}
		// Limit reached: the cursor stops at the last event listed.
		p1, err := s.List(ctx, Query{Connection: "b", Limit: 1})
		if err != nil || len(p1.Events) != 1 || p1.Events[0].ID != "2" {
			t.Fatalf("%+v, %v", p1, err)
		}
		p2, err := s.List(ctx, Query{Connection: "b", Limit: 1, After: p1.NextCursor})
		if err != nil || len(p2.Events) != 1 || p2.Events[0].ID != "3" {
			t.Fatalf("%+v, %v", p2, err)
		}
	})

	t.Run("limits", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		batch := make([]Event, 0, MaxLimit+5)
		for i := range MaxLimit + 5 {
			batch = append(batch, ev("l", fmt.Sprint(i), up))
		}
		if n, err := s.Append(ctx, batch); err != nil || n != len(batch) {
			t.Fatalf("Append = %d, %v", n, err)
		}
		for _, tt := range []struct{ limit, want int }{{0, DefaultLimit}, {-3, DefaultLimit}, {1, 1}, {250, 250}, {MaxLimit, MaxLimit}, {MaxLimit + 1, MaxLimit}, {1 << 30, MaxLimit}} {
			p, err := s.List(ctx, Query{Limit: tt.limit})
			if err != nil || len(p.Events) != tt.want {
				t.Fatalf("Limit %d: %d events, %v; want %d", tt.limit, len(p.Events), err, tt.want)
			}
			if p.Events[len(p.Events)-1].ID != fmt.Sprint(tt.want-1) {
				t.Fatalf("Limit %d: last event %q", tt.limit, p.Events[len(p.Events)-1].ID)
			}
		}
	})

	t.Run("bad cursor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, c := range []string{"abc", "-1", "1-x", "1-", "x-1", " 1", "1.5", "99999999999999999999999"} {
			_, err := s.List(ctx, Query{After: c})
			if !errors.Is(err, ErrBadCursor) {
				t.Errorf("After %q: err = %v, want ErrBadCursor", c, err)
			}
		}
	})

	t.Run("concurrent appends store each once", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					n, err := s.Append(ctx, []Event{ev("x", fmt.Sprint(i), up), ev("w", fmt.Sprint(w, "-", i), up)})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += n
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		got, _ := listAll(t, s, Query{Limit: 13})
		if total != 20+80 || len(got) != total {
			t.Fatalf("added %d, listed %d; want 100", total, len(got))
		}
	})
}

var cmpNilEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestMemoryStoreRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := NewMemoryStore(Options{Retention: time.Hour, Now: clock})
	if n, _ := s.Append(ctx, []Event{ev("a", "1", TypeCustomerUpdated)}); n != 1 {
		t.Fatalf("first append added %d", n)
	}
	advance(59 * time.Minute)
	if n, _ := s.Append(ctx, []Event{ev("a", "1", TypeCustomerUpdated)}); n != 0 {
		t.Fatalf("within retention added %d, want 0", n)
	}
	advance(2 * time.Minute)
	p, _ := s.List(ctx, Query{})
	if len(p.Events) != 0 {
		t.Fatalf("expired event still listed: %v", ids(p.Events))
	}
	if n, _ := s.Append(ctx, []Event{ev("a", "1", TypeCustomerUpdated)}); n != 1 {
		t.Fatalf("after retention added %d, want 1", n)
	}
	p, _ = s.List(ctx, Query{})
	if d := cmp.Diff([]string{"a/1"}, ids(p.Events)); d != "" {
		t.Fatal(d)
	}
}
