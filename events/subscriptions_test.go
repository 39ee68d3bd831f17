package events

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/internal/redistest"
)

// backend builds a fresh event store and its subscription store.
type backend func(t *testing.T) (Store, DeliveryStore)

func memoryBackend(t *testing.T) (Store, DeliveryStore) {
	s := NewMemoryStore(Options{})
	subs, err := NewMemorySubscriptions(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, subs
}

func redisBackend(t *testing.T) (Store, DeliveryStore) {
	return subscriptionsOn(t, newRedisStoreForTest(t))
}

func clusterBackend(t *testing.T) (Store, DeliveryStore) {
	return subscriptionsOn(t, newClusterStoreForTest(t))
}

func subscriptionsOn(t *testing.T, s *RedisStore) (Store, DeliveryStore) {
	subs, err := NewRedisSubscriptions(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, subs
}

func TestMemorySubscriptionsConformance(t *testing.T) {
	t.Parallel()
	runSubscriptionConformance(t, memoryBackend)
}

func TestRedisSubscriptionsConformance(t *testing.T) {
	t.Parallel()
	runSubscriptionConformance(t, redisBackend)
}

func TestClusterSubscriptionsConformance(t *testing.T) {
	t.Parallel()
	redistest.ClusterAddrs(t)
	runSubscriptionConformance(t, clusterBackend)
}

func runSubscriptionConformance(t *testing.T, newBackend backend) {
	ctx := context.Background()

	t.Run("create validates", func(t *testing.T) {
		t.Parallel()
		_, subs := newBackend(t)
		tests := []struct {
			name string
			in   Subscription
			want string // substring of the error
		}{
			{"no url", Subscription{}, "url: required"},
			{"relative url", Subscription{URL: "/hook"}, "not an absolute http(s) URL"},
			{"ftp url", Subscription{URL: "ftp://h/x"}, "not an absolute http(s) URL"},
			{"unknown type", Subscription{URL: "http://h/x", Types: []string{"customer.deleted"}}, `unknown event type "customer.deleted"`},
			{"empty connection", Subscription{URL: "http://h/x", Connections: []string{""}}, "empty connection id"},
		}
		for _, tt := range tests {
			_, secret, err := subs.Create(ctx, tt.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || secret != "" {
				t.Errorf("%s: err = %v, want ErrInvalid with %q", tt.name, err, tt.want)
			}
			if ps := (Problems{}); !errors.As(err, &ps) || len(ps) != 1 || !strings.Contains(ps[0].Error(), tt.want) {
				t.Errorf("%s: problems %+v, want one saying %q", tt.name, ps, tt.want)
			}
		}
		if got, _ := subs.List(ctx); len(got) != 0 {
			t.Fatalf("invalid subscriptions were stored: %+v", got)
		}
	})

	t.Run("create list get delete", func(t *testing.T) {
		t.Parallel()
		_, subs := newBackend(t)
		a, secretA, err := subs.Create(ctx, Subscription{ID: "mine", URL: "https://a.example/hook", Types: []string{TypeFollowupCreated}})
		if err != nil {
			t.Fatal(err)
		}
		b, secretB, err := subs.Create(ctx, Subscription{URL: "http://b.example/hook", Connections: []string{"acme-wa"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == "mine" || !strings.HasPrefix(a.ID, "sub_") || a.ID == b.ID || a.CreatedAt.IsZero() {
			t.Fatalf("assigned fields: %+v %+v", a, b)
		}
		for _, s := range []string{secretA, secretB} {
			key, ok := secretKey(s)
			if !ok || len(key) != 32 {
				t.Fatalf("secret %q: want whsec_ + base64 of 32 bytes", s)
			}
		}
		if secretA == secretB {
			t.Fatal("two subscriptions got the same secret")
		}
		got, err := subs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []Subscription{a, b}
		sortSubscriptions(want) // creation order; the same millisecond by ID
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("List (-want +got):\n%s", d)
		}
		g, err := subs.Get(ctx, b.ID)
		if err != nil || !cmp.Equal(b, g) {
			t.Fatalf("Get = %+v, %v", g, err)
		}
		if err := subs.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"Get":       func() error { _, err := subs.Get(ctx, a.ID); return err }(),
			"Delete":    subs.Delete(ctx, a.ID),
			"Failures":  func() error { _, err := subs.Failures(ctx, a.ID); return err }(),
			"Redeliver": subs.Redeliver(ctx, a.ID, "x"),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s of a deleted subscription: %v, want ErrNotFound", name, err)
			}
		}
		if got, _ := subs.List(ctx); len(got) != 1 || got[0].ID != b.ID {
			t.Fatalf("after delete: %+v", got)
		}
		fs, err := subs.Failures(ctx, b.ID)
		if err != nil || fs == nil || len(fs) != 0 {
			t.Fatalf("Failures of a new subscription = %#v, %v; want empty", fs, err)
		}
		if err := subs.Redeliver(ctx, b.ID, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Redeliver of no failure: %v, want ErrNotFound", err)
		}
	})
}
