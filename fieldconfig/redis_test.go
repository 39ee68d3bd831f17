package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
)

// newRedisStore is a Redis store on the shared Redis with a prefix of t's own
// (redistest.Client: a client built as the gateway builds it, its keys
// deleted when t ends).
func newRedisStore(t *testing.T) (*Redis, redis.UniversalClient) {
	t.Helper()
	c, prefix := redistest.Client(t)
	s, err := NewRedis(c, RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// newClusterStore is a Redis store on the test Redis Cluster with a prefix
// of t's own.
func newClusterStore(t *testing.T) (*Redis, redis.UniversalClient) {
	t.Helper()
	c, prefix := redistest.Cluster(t)
	s, err := NewRedis(c, RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestClusterStore(t *testing.T) {
	t.Parallel()
	redistest.ClusterAddrs(t)
	testStore(t, func(t *testing.T) Store {
		s, _ := newClusterStore(t)
		return s
	})
}

func TestClusterLayoutAndNotice(t *testing.T) {
	t.Parallel()
	s, c := newClusterStore(t)
	layoutAndNotice(t, s, c)
}

func TestRedisStore(t *testing.T) {
	t.Parallel()
	redistest.URL(t) // skip or fail once, not per subtest
	testStore(t, func(t *testing.T) Store {
		s, _ := newRedisStore(t)
		return s
	})
}

// The stored hash holds the version and the GET document; a write publishes
// a change notice.
func TestRedisLayoutAndNotice(t *testing.T) {
	t.Parallel()
	s, c := newRedisStore(t)
	layoutAndNotice(t, s, c)
}

func layoutAndNotice(t *testing.T, s *Redis, c redis.UniversalClient) {
	ctx := context.Background()
	ps := c.Subscribe(ctx, s.Channel())
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	seeded, err := s.Seed(ctx, "acme-wa", sampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	put, err := s.Put(ctx, "acme-wa", Config{Required: []string{"owner"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.Seed(ctx, "acme-wa", sampleConfig()) // stores nothing, announces nothing

	h, err := c.HGetAll(ctx, s.key("acme-wa")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if h["version"] != "2" || len(h) != 2 {
		t.Errorf("hash = %v, want version 2 and doc", h)
	}
	var doc any
	if err := json.Unmarshal([]byte(h["doc"]), &doc); err != nil {
		t.Fatalf("doc is not JSON: %v\n%s", err, h["doc"])
	}
	want := map[string]any{
		"version":    2,
		"updated_at": put.UpdatedAt.Format(time.RFC3339Nano),
		"config": map[string]any{"required": []string{"owner"}, "stages": []any{}, "sources": []any{}, "languages": []any{},
			"tags": map[string]any{"strict": false, "known": []any{}}, "custom_fields": []any{}},
	}
	jsonEqual(t, "stored doc", doc, want)

	for _, want := range []string{
		fmt.Sprintf(`{"connection":"acme-wa","version":%d}`, seeded.Version),
		fmt.Sprintf(`{"connection":"acme-wa","version":%d}`, put.Version),
	} {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msg, err := ps.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			t.Fatalf("no change notice %s: %v", want, err)
		}
		if msg.Channel != s.Channel() || msg.Payload != want {
			t.Errorf("notice on %q = %s, want %s", msg.Channel, msg.Payload, want)
		}
	}
	// Nothing more was announced: a marker published now is the next message.
	c.Publish(ctx, s.Channel(), "marker")
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if msg, err := ps.ReceiveMessage(rctx); err != nil || msg.Payload != "marker" {
		t.Errorf("after the writes got %v, %v; want only the marker", msg, err)
	}
}

func TestRedisCorruptDocument(t *testing.T) {
	t.Parallel()
	s, c := newRedisStore(t)
	ctx := context.Background()
	c.HSet(ctx, s.key("acme"), "version", 1, "doc", "{not json")
	if _, err := s.Get(ctx, "acme"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a corrupt document = %v, want a decoding error", err)
	}
}

func TestRedisWatch(t *testing.T) {
	t.Parallel()
	s, _ := newRedisStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	type change struct {
		conn    string
		version int64
	}
	ready := make(chan struct{})
	changes := make(chan change, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, func() { close(ready) }, func(conn string, v int64) { changes <- change{conn, v} })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch ended before subscribing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not subscribe within 10 s")
	}
	for i, conn := range []string{"a", "b", "a"} {
		if _, err := s.Put(ctx, conn, Config{}, 0); err != nil {
			t.Fatal(err)
		}
		want := change{conn, map[int]int64{0: 1, 1: 1, 2: 2}[i]}
		select {
		case got := <-changes:
			if got != want {
				t.Errorf("change %d = %+v, want %+v", i, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("change %d not announced within 10 s", i)
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

func TestRedisConstructors(t *testing.T) {
	t.Parallel()
	if _, err := NewRedis(nil, RedisOptions{}); err == nil {
		t.Error("NewRedis(nil) accepted")
	}
	_, _, err := OpenRedis("http://user:s3cret@127.0.0.1:1/0", RedisOptions{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("OpenRedis(bad URL) = %v, want an error without the password", err)
	}
	s, c, err := OpenRedis("redis://127.0.0.1:1/0", RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s.Channel() != "crmgate:fieldconfig:changes" || s.key("x") != "crmgate:fieldconfig:x" {
		t.Errorf("default prefix: channel %q key %q", s.Channel(), s.key("x"))
	}
}

// A Redis that lost its data set (here: the store's hash deleted) does not
// make versions repeat. A write into the emptied hash, also through an
// instance that had not yet seen the newest version, stores a version above
// every one handed out before, so that an ETag of the lost data set never
// matches a document of the new one; a conditional Put naming an old version
// is refused.
func TestRedisVersionsMonotonicAcrossWipe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		write func(s *Redis) (Versioned, error)
	}{
		{"seed", func(s *Redis) (Versioned, error) { return s.Seed(ctx, "acme", vipOnly()) }},
		{"unconditional put", func(s *Redis) (Versioned, error) { return s.Put(ctx, "acme", vipOnly(), 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, c := newRedisStore(t)
			b, err := NewRedis(c, RedisOptions{Prefix: a.prefix}) // another instance
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Seed(ctx, "acme", sampleConfig()); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Put(ctx, "acme", vipOnly(), 1); err != nil {
				t.Fatal(err)
			}
			if v, err := b.Get(ctx, "acme"); err != nil || v.Version != 2 {
				t.Fatalf("b.Get = %d, %v", v.Version, err)
			}
			last, err := a.Put(ctx, "acme", sampleConfig(), 2) // b has not seen it
			if err != nil || last.Version != 3 {
				t.Fatalf("a.Put = %d, %v", last.Version, err)
			}

			if err := c.Del(ctx, a.key("acme")).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Put(ctx, "acme", vipOnly(), last.Version); !errors.Is(err, ErrVersionMismatch) {
				t.Fatalf("Put with If-Match %d after the wipe = %v, want ErrVersionMismatch", last.Version, err)
			}
			before := now()
			got, err := tt.write(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version <= last.Version {
				t.Fatalf("after the wipe the lagging instance stored version %d, want above %d", got.Version, last.Version)
			}
			if got.Version < before.UnixMilli() {
				t.Errorf("version %d after the wipe is not from the clock (%d)", got.Version, before.UnixMilli())
			}
			if v, err := a.Get(ctx, "acme"); err != nil || v.Version != got.Version {
				t.Fatalf("a.Get after the wipe = %d, %v; want %d", v.Version, err, got.Version)
			}
			next, err := a.Put(ctx, "acme", sampleConfig(), got.Version)
			if err != nil || next.Version != got.Version+1 {
				t.Errorf("Put with If-Match %d = %d, %v; want version %d", got.Version, next.Version, err, got.Version+1)
			}
		})
	}
}
