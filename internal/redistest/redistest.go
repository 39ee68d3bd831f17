// Package redistest gives tests the real Redis that CI starts (env REDIS_URL),
// the real Redis Cluster beside it (env REDIS_CLUSTER_ADDRS) and
// redis-server processes of a test's own (StartProcess): without them a
// test fails under CI=true and is skipped elsewhere, with a message saying
// how to run it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// URL returns REDIS_URL, or ends the test: t.Fatal under CI=true, t.Skip
// otherwise.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_URL is not set: CI must provide a redis-server (.ci/run starts one)")
		}
		t.Skip("REDIS_URL is not set: skipping a Redis test (run .ci/run, or set REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	return u
}

// ClusterAddrs returns the nodes of REDIS_CLUSTER_ADDRS (comma-separated
// host:port), or ends the test: t.Fatal under CI=true, t.Skip otherwise.
func ClusterAddrs(t testing.TB) []string {
	t.Helper()
	var addrs []string
	for _, a := range strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_CLUSTER_ADDRS is not set: CI must provide a Redis Cluster (.ci/run starts one)")
		}
		t.Skip("REDIS_CLUSTER_ADDRS is not set: skipping a Redis Cluster test (run .ci/run, or set REDIS_CLUSTER_ADDRS=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002)")
	}
	return addrs
}

// Client connects to REDIS_URL and returns the client and a key prefix of the
// test's own; both are cleaned up when the test ends (the keys under the
// prefix are deleted). The client is built as the gateway builds its own
// (redisclient.FromURL), options included.
func Client(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb, err := redisclient.FromURL(URL(t))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	return prepare(t, rdb, "REDIS_URL")
}

// Cluster connects to the Redis Cluster of REDIS_CLUSTER_ADDRS and returns
// the client and a key prefix of the test's own, cleaned up as Client's. The
// client is built as the gateway builds its own (redisclient.New).
func Cluster(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	o := redisclient.Options{Addrs: ClusterAddrs(t)}
	if o.Kind() != "cluster" {
		t.Fatal("REDIS_CLUSTER_ADDRS must name at least two of the Cluster's nodes")
	}
	rdb, err := redisclient.New(o)
	if err != nil {
		t.Fatalf("REDIS_CLUSTER_ADDRS: %v", err)
	}
	return prepare(t, rdb, "REDIS_CLUSTER_ADDRS")
}

// Backend is a way to reach a test Redis: the single server or the
// Cluster.
type Backend struct {
	Name string
	Open func(t testing.TB) (redis.UniversalClient, string)
}

// Backends are the single server (REDIS_URL) and the Cluster
// (REDIS_CLUSTER_ADDRS): a conformance suite runs on each.
var Backends = []Backend{{"redis", Client}, {"cluster", Cluster}}

// Another returns a second client to what rdb reaches (a new connection
// pool, as another process would have), closed when the test ends.
func Another(t testing.TB, rdb redis.UniversalClient) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	switch r := rdb.(type) {
	case *redis.Client:
		c = redis.NewClient(r.Options())
	case *redis.ClusterClient:
		c = redis.NewClusterClient(r.Options())
	default:
		t.Fatalf("redistest.Another: %T", rdb)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func prepare(t testing.TB, rdb redis.UniversalClient, from string) (redis.UniversalClient, string) {
	t.Helper()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("redis at %s: %v", from, err)
	}
	prefix := Prefix(t)
	t.Cleanup(func() {
		Clean(rdb, prefix)
		_ = rdb.Close()
	})
	return rdb, prefix
}

// Prefix is a key prefix no other test, and no other run of this one, uses:
// the test's name and random hex, without the braces that would make it a
// Redis Cluster hash tag. Client and Cluster return one; a test of its own
// server (StartProcess) takes one for the gateways it starts there.
func Prefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "crmgate-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
	return strings.NewReplacer("{", "(", "}", ")").Replace(prefix)
}

// Clean deletes the keys starting with prefix, on every master of a
// Cluster.
func Clean(rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		return iter.Err()
	}
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		_ = r.ForEachMaster(ctx, scan)
	case *redis.Client:
		_ = scan(ctx, r)
	}
}

// Within runs f and returns its error, failing the test when f has not
// returned within guard: for a call to a Redis that stopped answering
// (Process.Pause), which returns only when the client bounds its reads by
// the call's context.
func Within(t testing.TB, guard time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatalf("a call to a Redis that stopped answering was still waiting after %v: the client does not bound its reads by the call's context", guard)
		return nil
	}
}
