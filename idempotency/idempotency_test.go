package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// store is one Store under test, with a way to let time pass: the memory
// store's clock is moved, Redis (whose keys expire on its own clock) is
// waited for.
type store struct {
	Store
	pass func(d time.Duration)
}

// stores makes each implementation with o; the conformance tests run on
// every one of them.
var stores = map[string]func(t *testing.T, o Options) store{
	"memory": func(t *testing.T, o Options) store {
		var mu sync.Mutex
		now := time.Unix(1000, 0)
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		return store{NewMemory(o), func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }}
	},
	"redis":   func(t *testing.T, o Options) store { return redisStore(t, o, redistest.Client) },
	"cluster": func(t *testing.T, o Options) store { return redisStore(t, o, redistest.Cluster) },
}

func redisStore(t *testing.T, o Options, open func(testing.TB) (redis.UniversalClient, string)) store {
	c, prefix := open(t)
	o.Prefix = prefix
	s, err := NewRedis(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return store{s, time.Sleep}
}

func eachStore(t *testing.T, o Options, test func(t *testing.T, s store)) {
	t.Helper()
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, mk(t, o))
		})
	}
}

func begin(t *testing.T, s Store, key, fp string) *Claim {
	t.Helper()
	a, c, err := s.Begin(context.Background(), key, fp)
	if a != nil || c == nil || err != nil {
		t.Fatalf("Begin(%s) = %v, %v, %v; want the key held", key, a, c, err)
	}
	return c
}

func TestStores(t *testing.T) {
	t.Parallel()
	eachStore(t, Options{}, func(t *testing.T, s store) {
		ctx := context.Background()
		fp, other := Fingerprint([]byte("app"), []byte(`{"a":1}`)), Fingerprint([]byte("app"), []byte(`{"a":2}`))
		c := begin(t, s, "k1", fp)
		if len(c.Journal) != 0 || c.Lease != DefaultLease || c.Owner == "" {
			t.Fatalf("fresh claim %+v", c)
		}
		if _, _, err := s.Begin(ctx, "k1", fp); !errors.Is(err, ErrInFlight) {
			t.Fatalf("Begin while running = %v, want ErrInFlight", err)
		}
		if _, _, err := s.Begin(ctx, "k1", other); !errors.Is(err, ErrMismatch) {
			t.Fatalf("Begin with another body = %v, want ErrMismatch", err)
		}
		want := Answer{Status: 200, ContentType: "application/json", Body: []byte(`{"request_id":"r1"}`)}
		if err := s.Complete(ctx, c, want); err != nil {
			t.Fatal(err)
		}
		a, c2, err := s.Begin(ctx, "k1", fp)
		if err != nil || c2 != nil || a == nil || string(a.Body) != string(want.Body) || a.Status != 200 || a.ContentType != want.ContentType {
			t.Fatalf("replay = %+v, %v, %v", a, c2, err)
		}
		if _, _, err := s.Begin(ctx, "k1", other); !errors.Is(err, ErrMismatch) {
			t.Fatalf("done key with another body = %v, want ErrMismatch", err)
		}
		if err := s.Renew(ctx, c); !errors.Is(err, ErrNotHeld) {
			t.Fatalf("Renew of an answered key = %v, want ErrNotHeld", err)
		}
		// A released key can be used again, its journal gone.
		c = begin(t, s, "k2", fp)
		if err := s.Record(ctx, c, []byte("e1")); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c := begin(t, s, "k2", fp); len(c.Journal) != 0 {
			t.Fatalf("journal after Release: %q", c.Journal)
		}
	})
}

// A claim lasts while its holder renews it, ends within a lease once the
// holder stops, and the request that takes the key over gets the journal
// back; the old holder can then neither renew, record nor answer.
func TestLeaseRenewalAndTakeover(t *testing.T) {
	t.Parallel()
	const lease = 2 * time.Second
	eachStore(t, Options{Lease: lease}, func(t *testing.T, s store) {
		ctx := context.Background()
		c := begin(t, s, "k", "fp")
		if c.Lease != lease {
			t.Fatalf("lease %s", c.Lease)
		}
		for i := 0; i < 4; i++ { // 4 × lease/5 > lease: held only because it was renewed
			s.pass(lease / 5)
			if err := s.Renew(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.Record(ctx, c, []byte(fmt.Sprintf("call %d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Begin(ctx, "k", "fp"); !errors.Is(err, ErrInFlight) {
			t.Fatalf("Begin while the holder renews = %v, want ErrInFlight", err)
		}
		// The holder dies: the lease ends.
		s.pass(lease + lease/2)
		_, next, err := s.Begin(ctx, "k", "fp")
		if err != nil || next == nil {
			t.Fatalf("Begin after the lease = %v, %v; want the key taken over", next, err)
		}
		if len(next.Journal) != 4 || string(next.Journal[0]) != "call 0" || string(next.Journal[3]) != "call 3" {
			t.Fatalf("journal %q", next.Journal)
		}
		if next.Owner == c.Owner {
			t.Fatal("a takeover must be a new owner")
		}
		for name, err := range map[string]error{
			"Renew":    s.Renew(ctx, c),
			"Record":   s.Record(ctx, c, []byte("late")),
			"Complete": s.Complete(ctx, c, Answer{Status: 200, Body: []byte("old")}),
		} {
			if !errors.Is(err, ErrNotHeld) {
				t.Errorf("%s by the old holder = %v, want ErrNotHeld", name, err)
			}
		}
		_ = s.Release(ctx, c) // does nothing: not held
		if err := s.Record(ctx, next, []byte("call 4")); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, next, Answer{Status: 200, Body: []byte("new")}); err != nil {
			t.Fatal(err)
		}
		if a, _, err := s.Begin(ctx, "k", "fp"); err != nil || a == nil || string(a.Body) != "new" {
			t.Fatalf("replay = %+v %v", a, err)
		}

		// Another body taking over a lapsed key starts with no journal.
		c = begin(t, s, "k2", "fp")
		_ = s.Record(ctx, c, []byte("x"))
		s.pass(lease + lease/2)
		if c2 := begin(t, s, "k2", "other"); len(c2.Journal) != 0 {
			t.Fatalf("another body got the journal: %q", c2.Journal)
		}
	})
}

// Keep renews a claim until stopped, and says when it was lost.
func TestKeep(t *testing.T) {
	t.Parallel()
	eachStore(t, Options{Lease: 300 * time.Millisecond}, func(t *testing.T, s store) {
		ctx := context.Background()
		c := begin(t, s, "k", "fp")
		lost := make(chan struct{})
		stop := Keep(ctx, s, c, func() { close(lost) })
		// Answer the key behind the holder's back: the next renewal finds
		// it gone.
		if err := s.Complete(ctx, &Claim{Key: "k", FP: "fp", Owner: c.Owner}, Answer{Status: 200}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-lost:
		case <-time.After(30 * time.Second):
			t.Fatal("lost was not called")
		}
		stop()
	})
}

// countingRenewals counts the renewals of its Store that returned.
type countingRenewals struct {
	Store
	returned atomic.Int32
}

func (c *countingRenewals) Renew(ctx context.Context, cl *Claim) error {
	err := c.Store.Renew(ctx, cl)
	c.returned.Add(1)
	return err
}

// Against a Redis that stopped answering, each renewal gives up within its
// third of the lease and the next is tried on time: only so does a lease
// outlive two missed renewals. Through a client whose own read timeout is
// an hour, a renewal bounded by the client alone would never return.
func TestKeepRenewsOnTimeWithRedisStuck(t *testing.T) {
	t.Parallel()
	rs := redistest.StartProcess(t)
	rdb := rs.PatientClient()
	s, err := NewRedis(rdb, Options{Lease: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := begin(t, s, "k", "fp")
	counting := &countingRenewals{Store: s}
	stop := Keep(context.Background(), counting, c, nil)
	t.Cleanup(stop) // after Pause's Resume: a renewal waiting on Redis ends
	rs.Pause()
	const want = 3
	testutil.EventuallyNil(t, 10*time.Second, "renewals returning with Redis stuck, one each 100 ms", func() error {
		if n := counting.returned.Load(); n < want {
			return fmt.Errorf("%d renewals returned, want %d: a renewal outlived its third of the lease", n, want)
		}
		return nil
	})
}

func TestMemoryAnswerExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := NewMemory(Options{Now: func() time.Time { return now }, TTL: time.Hour, Lease: time.Minute})
	ctx := context.Background()
	_, c, _ := s.Begin(ctx, "k", "fp")
	_ = s.Complete(ctx, c, Answer{Status: 200})
	now = now.Add(2 * time.Hour)
	if a, c, err := s.Begin(ctx, "k", "fp"); a != nil || c == nil || err != nil {
		t.Fatalf("an answer must expire after TTL: %v %v %v", a, c, err)
	}
}

// memBytes is what s's entries count toward its bound, added up afresh.
func memBytes(s *Memory) int {
	n := 0
	for _, e := range s.m {
		n += e.size
	}
	return n
}

// A Memory holds at most its bound: past it the oldest answered keys go
// first (a retry with one of them is sent again), a running request's key
// stays, and what it counts is what its entries hold.
func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := NewMemory(Options{Now: func() time.Time { return now }})
	s.maxBytes = 20 * (memEntryOverhead + 100)
	ctx := context.Background()
	running := begin(t, s, "running", "fp")
	answer := Answer{Status: 200, ContentType: "application/json", Body: []byte(strings.Repeat("a", 100))}
	for i := range 1000 {
		c := begin(t, s, fmt.Sprintf("k%d", i), "fp")
		if err := s.Record(ctx, c, []byte("journal entry")); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, c, answer); err != nil {
			t.Fatal(err)
		}
		if s.bytes > s.maxBytes || s.bytes != memBytes(s) {
			t.Fatalf("after %d keys: %d bytes counted, %d held, bound %d", i+1, s.bytes, memBytes(s), s.maxBytes)
		}
	}
	if len(s.order) > 2*len(s.m)+64 {
		t.Errorf("the order holds %d refs for %d entries", len(s.order), len(s.m))
	}
	if a, _, err := s.Begin(ctx, "k999", "fp"); err != nil || a == nil || string(a.Body) != string(answer.Body) {
		t.Errorf("the newest key: %v %v, want its replay", a, err)
	}
	if a, c, err := s.Begin(ctx, "k0", "fp"); err != nil || a != nil || c == nil {
		t.Errorf("the oldest key: %v %v %v, want it dropped and held anew", a, c, err)
	}
	// The running request's key was kept all along: it still holds it.
	if err := s.Record(ctx, running, []byte("entry")); err != nil {
		t.Errorf("the running request's key: %v", err)
	}
	if err := s.Complete(ctx, running, answer); err != nil {
		t.Errorf("the running request's key: %v", err)
	}
	if s.bytes != memBytes(s) {
		t.Errorf("%d bytes counted, %d held", s.bytes, memBytes(s))
	}
	// Released and expired keys give their bytes back.
	c := begin(t, s, "released", "fp")
	if err := s.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultTTL + 2*time.Minute)
	begin(t, s, "after", "fp")
	if len(s.m) != 1 || s.bytes != memBytes(s) {
		t.Errorf("after the TTL: %d entries, %d bytes counted, %d held", len(s.m), s.bytes, memBytes(s))
	}
}

// A replayed answer is a copy.
func TestReplayIsACopy(t *testing.T) {
	t.Parallel()
	eachStore(t, Options{}, func(t *testing.T, s store) {
		ctx := context.Background()
		c := begin(t, s, "k", "b")
		if err := s.Complete(ctx, c, Answer{Status: 200, Body: []byte("b")}); err != nil {
			t.Fatal(err)
		}
		a, _, err := s.Begin(ctx, "k", "b")
		if err != nil || string(a.Body) != "b" {
			t.Fatalf("replay = %+v %v", a, err)
		}
		a.Body[0] = 'x'
		if a2, _, _ := s.Begin(ctx, "k", "b"); string(a2.Body) != "b" {
			t.Fatal("changing a replayed answer changed the stored one")
		}
	})
}

// Every key of one Redis script shares a hash tag, as Redis Cluster needs.
func TestRedisKeysShareAHashTag(t *testing.T) {
	t.Parallel()
	s, _ := NewRedis(nil, Options{})
	if s != nil {
		t.Fatal("NewRedis(nil) must fail")
	}
	r := &Redis{o: Options{}.withDefaults()}
	for _, key := range []string{"app\x00/v1/customers\x00k-1", "a}b{c", ""} {
		ks := r.keys(key)
		tag := func(k string) string {
			i := strings.IndexByte(k, '{')
			j := strings.IndexByte(k[i+1:], '}')
			return k[i+1 : i+1+j]
		}
		for _, k := range ks[1:] {
			if tag(k) != tag(ks[0]) || tag(k) == "" {
				t.Errorf("%q and %q have different hash tags", k, ks[0])
			}
		}
	}
}

// Keys stored by versions before leases are still honoured: an answer is
// replayed, an older instance's running claim is respected.
func TestRedisReadsLegacyKeys(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s, _ := NewRedis(c, Options{Prefix: prefix})
	ctx := context.Background()
	c.Set(ctx, prefix+"idem:done", `{"fp":"a","done":true,"answer":{"status":200,"content_type":"application/json","body":"b2s="}}`, time.Minute)
	c.Set(ctx, prefix+"idem:running", `{"fp":"a","done":false}`, time.Minute)
	if a, cl, err := s.Begin(ctx, "done", "a"); err != nil || cl != nil || a == nil || string(a.Body) != "ok" {
		t.Fatalf("legacy answer: %+v %v %v", a, cl, err)
	}
	if _, _, err := s.Begin(ctx, "done", "b"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("legacy answer, other body: %v", err)
	}
	if _, _, err := s.Begin(ctx, "running", "a"); !errors.Is(err, ErrInFlight) {
		t.Fatalf("legacy claim: %v", err)
	}
}
