package gateway

import (
	"context"
	"testing"
	"time"
)

// Circuit shows when the provider last answered and last failed, and the
// state those outcomes led to.
func TestBreakerCircuitTimes(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &Breaker{Threshold: 2, Cooldown: time.Minute, Now: func() time.Time { return now }}
	if c := b.Circuit(); c.State != "closed" || c.LastSuccessAt != nil || c.LastFailureAt != nil {
		t.Fatalf("a new breaker: %+v", c)
	}
	record := func(v Verdict) {
		tk, _, ok := b.Allow(context.Background())
		if !ok {
			t.Fatal("the call was not allowed")
		}
		b.Record(tk, v)
	}
	record(Answered)
	answered := now
	now = now.Add(time.Second)
	record(NoVerdict)
	if c := b.Circuit(); c.LastSuccessAt == nil || !c.LastSuccessAt.Equal(answered) || c.LastFailureAt != nil {
		t.Fatalf("after one answer and one call without a verdict: %+v", c)
	}
	now = now.Add(time.Second)
	record(Unavailable)
	now = now.Add(time.Second)
	record(Unavailable)
	failed := now
	c := b.Circuit()
	if c.State != "open" || c.LastFailureAt == nil || !c.LastFailureAt.Equal(failed) || !c.LastSuccessAt.Equal(answered) {
		t.Fatalf("after two failures: %+v", c)
	}
}
