package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
)

func TestMemoryBurstThenRate(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	m, err := NewMemory(Limit{Rate: 10, Burst: 3}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if r, _ := m.Allow(ctx, "app"); !r.Allowed || r.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	r, _ := m.Allow(ctx, "app")
	if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 100*time.Millisecond {
		t.Fatalf("4th request in the same instant: %+v", r)
	}
	if r, _ := m.Allow(ctx, "other"); !r.Allowed {
		t.Fatal("another app has its own budget")
	}
	now = now.Add(100 * time.Millisecond)
	if r, _ := m.Allow(ctx, "app"); !r.Allowed {
		t.Fatalf("after one interval one more request is allowed: %+v", r)
	}
}

func TestRedisLimiter(t *testing.T) {
	for _, b := range redistest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			testRedisLimiter(t, b.Open)
		})
	}
}

func testRedisLimiter(t *testing.T, open func(testing.TB) (redis.UniversalClient, string)) {
	rdb, prefix := open(t)
	// Two limiters on one Redis share the budget, as two instances would.
	a, _ := NewRedis(rdb, Limit{Rate: 1, Burst: 2}, prefix)
	b, _ := NewRedis(rdb, Limit{Rate: 1, Burst: 2}, prefix)
	ctx := context.Background()
	r1, err := a.Allow(ctx, "app")
	if err != nil || !r1.Allowed {
		t.Fatalf("%+v %v", r1, err)
	}
	r2, _ := b.Allow(ctx, "app")
	r3, _ := a.Allow(ctx, "app")
	if !r2.Allowed || r3.Allowed || r3.RetryAfter <= 0 {
		t.Fatalf("second %+v third %+v: the burst of 2 is shared", r2, r3)
	}
}
