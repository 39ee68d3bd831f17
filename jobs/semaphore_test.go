package jobs_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/internal/redistest"
	"crmgate/jobs"
)

// Holders on two clients (two processes) of one Redis never exceed the
// limit together, and every one gets its turn.
func TestSemaphoreSharedLimit(t *testing.T) {
	for _, b := range redistest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			rdb, prefix := b.Open(t)
			sems := []*jobs.Semaphore{jobs.NewSemaphore(rdb, prefix, 5*time.Second), jobs.NewSemaphore(redistest.Another(t, rdb), prefix, 5*time.Second)}
			var in, peak, done atomic.Int64
			var wg sync.WaitGroup
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := range 12 {
				wg.Go(func() {
					release, err := sems[i%2].Acquire(ctx, "c1", 2)
					if err != nil {
						t.Error(err)
						return
					}
					n := in.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(10 * time.Millisecond)
					in.Add(-1)
					release()
					done.Add(1)
				})
			}
			wg.Wait()
			if peak.Load() > 2 || peak.Load() < 1 || done.Load() != 12 {
				t.Fatalf("peak %d holders, %d done; want at most 2 and all 12", peak.Load(), done.Load())
			}
			if n, err := sems[0].Held(ctx, "c1"); err != nil || n != 0 {
				t.Fatalf("held after all released: %d %v", n, err)
			}
		})
	}
}

// A holder that never releases (its process died) stops counting when its
// lease runs out; a waiter then gets the slot.
func TestSemaphoreDeadHolderExpires(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The dead holder's renewals stop when its client is closed.
	other := redistest.Another(t, rdb)
	deadSem := jobs.NewSemaphore(other, prefix, 500*time.Millisecond)
	if _, err := deadSem.Acquire(ctx, "c1", 1); err != nil {
		t.Fatal(err)
	}
	_ = other.Close()
	live := jobs.NewSemaphore(rdb, prefix, 500*time.Millisecond)
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := live.Acquire(short, "c1", 1); err == nil {
		t.Fatal("took a slot still held")
	}
	cancelShort()
	release, err := live.Acquire(ctx, "c1", 1)
	if err != nil {
		t.Fatalf("the dead holder's slot never came free: %v", err)
	}
	release()
}
