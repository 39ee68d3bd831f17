package redisclient_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"crmgate/config"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
	"crmgate/redisclient"
)

// A Sentinel group started by the test (one master, one replica, one
// sentinel, all on loopback): the gateway's client, built from a redis
// block with master_name, writes to the master, and after SENTINEL
// FAILOVER its writes go to the new master.
func TestSentinelStartAndFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := redistest.Start(t)
	_, mport, _ := strings.Cut(master, ":")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", mport)

	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf("dir %s\n"+
		"sentinel monitor crmgate-test 127.0.0.1 %s 1\n"+
		"sentinel down-after-milliseconds crmgate-test 2000\n"+
		"sentinel failover-timeout crmgate-test 10000\n", dir, mport)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	sentinel := redistest.Start(t, conf, "--sentinel")

	direct := func(addr string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	rep, sen := direct(replica), redis.NewSentinelClient(&redis.Options{Addr: sentinel})
	t.Cleanup(func() { _ = sen.Close() })
	testutil.EventuallyNil(t, 30*time.Second, "the replica in sync and known to the sentinel", func() error {
		info, err := rep.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica: %v %q", err, info)
		}
		reps, err := sen.Replicas(ctx, "crmgate-test").Result()
		if err != nil || len(reps) == 0 {
			return fmt.Errorf("sentinel replicas: %v %v", reps, err)
		}
		return nil
	})

	var block config.Redis
	if err := yaml.Unmarshal([]byte(fmt.Sprintf("{addrs: [%q], master_name: crmgate-test}", sentinel)), &block); err != nil {
		t.Fatal(err)
	}
	if k := block.Options().Kind(); k != "sentinel" {
		t.Fatalf("kind %q", k)
	}
	rdb, err := redisclient.New(block.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Set(ctx, "crmgate-test:sentinel", "before", 0).Err(); err != nil {
		t.Fatalf("write through the sentinel's master: %v", err)
	}
	if v, err := direct(master).Get(ctx, "crmgate-test:sentinel").Result(); err != nil || v != "before" {
		t.Fatalf("the master holds %q, %v", v, err)
	}

	// NOGOODSLAVE while the sentinel has not yet heard enough of the
	// replica: asked again.
	testutil.EventuallyNil(t, 30*time.Second, "SENTINEL FAILOVER", func() error { return sen.Failover(ctx, "crmgate-test").Err() })
	testutil.EventuallyNil(t, 60*time.Second, "the sentinel names the replica as master", func() error {
		addr, err := sen.GetMasterAddrByName(ctx, "crmgate-test").Result()
		if err != nil || len(addr) != 2 || addr[0]+":"+addr[1] != replica {
			return fmt.Errorf("master %v, %v; want %s", addr, err, replica)
		}
		return nil
	})
	// The client follows: a write succeeds and lands on the new master.
	testutil.EventuallyNil(t, 60*time.Second, "a write on the new master", func() error {
		if err := rdb.Set(ctx, "crmgate-test:sentinel", "after", 0).Err(); err != nil {
			return err
		}
		if v, err := rep.Get(ctx, "crmgate-test:sentinel").Result(); err != nil || v != "after" {
			return fmt.Errorf("the new master holds %q, %v", v, err)
		}
		return nil
	})
	if role, err := rep.Do(ctx, "ROLE").Slice(); err != nil || len(role) == 0 || role[0] != "master" {
		t.Errorf("ROLE of the promoted replica: %v, %v", role, err)
	}
}
