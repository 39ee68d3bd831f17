package gateway

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The state-change hook hears the circuit open, open again after a failed
// trial, and close after an answered one; nothing while it stays closed.
func TestBreakerOnChange(t *testing.T) {
	now := time.Unix(1000, 0)
	var got []string
	b := &Breaker{Threshold: 2, Cooldown: time.Second, Now: func() time.Time { return now },
		OnChange: func(from, to string) { got = append(got, from+">"+to) }}
	call := func(v Verdict) {
		tk, _, ok := b.Allow(context.Background())
		if !ok {
			t.Fatalf("not allowed in state %s", b.State())
		}
		b.Record(tk, v)
	}
	call(Answered)
	call(Unavailable)
	call(Unavailable) // opens
	now = now.Add(2 * time.Second)
	call(Unavailable) // the trial fails: open again
	now = now.Add(2 * time.Second)
	call(Answered) // the trial is answered: closed
	want := []string{"closed>open", "half_open>open", "half_open>closed"}
	if !slices.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}
