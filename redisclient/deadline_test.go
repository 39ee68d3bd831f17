package redisclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
	"crmgate/redisclient"
)

// pingEnds pings through rdb with a deadline of 100 ms and fails the test
// unless the ping ends, with an error, within guard.
func pingEnds(t *testing.T, rdb redis.UniversalClient, guard time.Duration) {
	t.Helper()
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rdb.Ping(ctx).Err() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a server that never answers answered the ping")
		}
	case <-time.After(guard):
		t.Fatalf("the ping went on past its context's deadline (waited %v): the client does not bound its reads by the context", guard)
	}
}

// A command ends at its context's deadline against a server that stops
// answering, however long the client's own read timeout. Without
// ContextTimeoutEnabled go-redis bounds a read only by that timeout: this
// URL's is an hour, so the ping would hang.
func TestFromURLCommandEndsAtItsDeadline(t *testing.T) {
	rdb, err := redisclient.FromURL("redis://" + redistest.Stuck(t) + "/0?read_timeout=1h&write_timeout=1h&max_retries=0")
	if err != nil {
		t.Fatal(err)
	}
	pingEnds(t, rdb, 10*time.Second)
}

// The same for the client of the redis block, whose read timeout is
// go-redis's default, 5 s: the ping must end well before it.
func TestNewCommandEndsAtItsDeadline(t *testing.T) {
	rdb, err := redisclient.New(redisclient.Options{Addrs: []string{redistest.Stuck(t)}})
	if err != nil {
		t.Fatal(err)
	}
	pingEnds(t, rdb, 3*time.Second)
}
