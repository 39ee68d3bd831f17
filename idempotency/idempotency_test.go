package idempotency

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
)

func redisClient(t *testing.T) *redis.Client {
	c, _ := redistest.Client(t)
	return c
}

func TestStores(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T, o Options) Store{
		"memory": func(t *testing.T, o Options) Store { return NewMemory(o) },
		"redis": func(t *testing.T, o Options) Store {
			o.Prefix = "test:" + t.Name() + ":" + time.Now().Format(time.RFC3339Nano) + ":"
			s, err := NewRedis(redisClient(t), o)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := mk(t, Options{})
			fp, other := Fingerprint([]byte("app"), []byte(`{"a":1}`)), Fingerprint([]byte("app"), []byte(`{"a":2}`))
			if a, err := s.Begin(ctx, "k1", fp); a != nil || err != nil {
				t.Fatalf("first Begin = %v, %v; want the key held", a, err)
			}
			if _, err := s.Begin(ctx, "k1", fp); !errors.Is(err, ErrInFlight) {
				t.Fatalf("Begin while running = %v, want ErrInFlight", err)
			}
			if _, err := s.Begin(ctx, "k1", other); !errors.Is(err, ErrMismatch) {
				t.Fatalf("Begin with another body = %v, want ErrMismatch", err)
			}
			want := Answer{Status: 200, ContentType: "application/json", Body: []byte(`{"request_id":"r1"}`)}
			if err := s.Complete(ctx, "k1", fp, want); err != nil {
				t.Fatal(err)
			}
			a, err := s.Begin(ctx, "k1", fp)
			if err != nil || a == nil || string(a.Body) != string(want.Body) || a.Status != 200 || a.ContentType != want.ContentType {
				t.Fatalf("replay = %+v, %v", a, err)
			}
			if _, err := s.Begin(ctx, "k1", other); !errors.Is(err, ErrMismatch) {
				t.Fatalf("done key with another body = %v, want ErrMismatch", err)
			}
			// A released key can be used again.
			if _, err := s.Begin(ctx, "k2", fp); err != nil {
				t.Fatal(err)
			}
			if err := s.Release(ctx, "k2", fp); err != nil {
				t.Fatal(err)
			}
			if a, err := s.Begin(ctx, "k2", other); a != nil || err != nil {
				t.Fatalf("Begin after Release = %v, %v", a, err)
			}
		})
	}
}

func TestMemoryExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := NewMemory(Options{Now: func() time.Time { return now }, TTL: time.Hour, InFlightTTL: time.Minute})
	ctx := context.Background()
	_, _ = s.Begin(ctx, "k", "fp")
	now = now.Add(2 * time.Minute)
	if a, err := s.Begin(ctx, "k", "other"); a != nil || err != nil {
		t.Fatalf("an abandoned claim must expire: %v %v", a, err)
	}
	_ = s.Complete(ctx, "k", "other", Answer{Status: 200})
	now = now.Add(2 * time.Hour)
	if a, err := s.Begin(ctx, "k", "fp"); a != nil || err != nil {
		t.Fatalf("an answer must expire after TTL: %v %v", a, err)
	}
}
