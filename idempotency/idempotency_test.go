package idempotency

import (
	"context"
	"errors"
	"testing"
	"time"

	"crmgate/internal/redistest"
)

func TestStores(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T, o Options) Store{
		"memory": func(t *testing.T, o Options) Store { return NewMemory(o) },
		"redis": func(t *testing.T, o Options) Store {
			c, prefix := redistest.Client(t)
			o.Prefix = prefix
			s, err := NewRedis(c, o)
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

// An answer is not stored over a key another request claimed after this
// one's claim expired.
func TestCompleteNeedsTheClaim(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]func(t *testing.T) Store{
		"memory": func(*testing.T) Store { return NewMemory(Options{InFlightTTL: time.Millisecond}) },
		"redis": func(t *testing.T) Store {
			c, prefix := redistest.Client(t)
			s, _ := NewRedis(c, Options{InFlightTTL: time.Millisecond, Prefix: prefix})
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, ctx := s(t), context.Background()
			if _, err := st.Begin(ctx, "k", "a"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // a's claim expires
			if _, err := st.Begin(ctx, "k", "b"); err != nil {
				t.Fatal(err)
			}
			if err := st.Complete(ctx, "k", "a", Answer{Status: 200, Body: []byte("a")}); !errors.Is(err, ErrNotHeld) {
				t.Fatalf("Complete over another claim = %v, want ErrNotHeld", err)
			}
			if err := st.Complete(ctx, "k", "b", Answer{Status: 200, Body: []byte("b")}); err != nil {
				t.Fatal(err)
			}
			a, err := st.Begin(ctx, "k", "b")
			if err != nil || string(a.Body) != "b" {
				t.Fatalf("replay = %+v %v", a, err)
			}
			a.Body[0] = 'x'
			if a2, _ := st.Begin(ctx, "k", "b"); string(a2.Body) != "b" {
				t.Fatal("changing a replayed answer changed the stored one")
			}
		})
	}
}
