package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

var goodEnv = map[string]string{"SECRET": strings.Repeat("s", 32), "FAKE_SECRET": "hush", "REDIS_PASSWORD": "r3dis-pw"}

func TestRedisBlock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		block  string
		kind   string
		prefix string
	}{
		{"one server", "redis: {addrs: [\"10.0.0.1:6379\"], db: 2}\n", "server", redisclient.DefaultPrefix},
		{"cluster", "redis:\n  addrs: [\"10.0.0.1:7000\", \"10.0.0.2:7000\", \"10.0.0.3:7000\"]\n  tls: true\n  prefix: \"acme:\"\n", "cluster", "acme:"},
		{"sentinel", "redis:\n  addrs: [\"10.0.0.1:26379\", \"10.0.0.2:26379\"]\n  master_name: mymaster\n  username: gw\n  password: \"${REDIS_PASSWORD}\"\n", "sentinel", redisclient.DefaultPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(strings.NewReader(tt.block+good), ".", fakeFactories, env(goodEnv))
			if err != nil {
				t.Fatal(err)
			}
			if !c.UsesRedis() || c.Redis == nil || c.Redis.Options().Kind() != tt.kind || c.RedisPrefix() != tt.prefix {
				t.Fatalf("redis %+v: want a %s with prefix %q", c.Redis, tt.kind, tt.prefix)
			}
			if s := fmt.Sprintf("%v %+v %#v", c, c.Redis, c.Redis); strings.Contains(s, "r3dis-pw") {
				t.Errorf("the password is printed: %s", s)
			}
			rdb, err := c.RedisClient()
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			want := map[string]string{"server": "*redis.Client", "cluster": "*redis.ClusterClient", "sentinel": "*redis.Client"}[tt.kind]
			if got := fmt.Sprintf("%T", rdb); got != want {
				t.Errorf("client %s, want %s", got, want)
			}
			if tt.kind == "sentinel" {
				if o := rdb.(*redis.Client).Options(); o.Password != "r3dis-pw" || o.Username != "gw" {
					t.Errorf("sentinel client credentials %q/%q", o.Username, o.Password)
				}
			}
		})
	}
}

func TestRedisBlockErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		env       map[string]string
		want      []string
	}{
		{"both", "redis_url: \"redis://127.0.0.1:6379/0\"\nredis: {addrs: [\"127.0.0.1:6379\"]}\n", goodEnv, []string{"redis_url, redis: give one of them, not both"}},
		{"no addrs", "redis: {master_name: m}\n", goodEnv, []string{"redis.addrs: required"}},
		{"bad addr", "redis: {addrs: [\"redis://x:1\"]}\n", goodEnv, []string{`redis.addrs[0]: "redis://x:1" is not host:port`}},
		{"db on a cluster", "redis: {addrs: [\"a:1\", \"b:1\"], db: 3}\n", goodEnv, []string{"redis.db: a Redis Cluster has database 0 only"}},
		{"brace in prefix", "redis: {addrs: [\"a:1\"], prefix: \"x{y}:\"}\n", goodEnv, []string{"redis.prefix:"}},
		{"unknown key", "redis: {addrs: [\"a:1\"], sentinel: x}\n", goodEnv, []string{"redis.sentinel: unknown key"}},
		{"db type", "redis: {addrs: [\"a:1\"], db: zero}\n", goodEnv, []string{"redis.db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.doc+good), ".", fakeFactories, env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// CRMGATE_REDIS_URL wins over the file's redis block as over its redis_url.
func TestRedisURLFromEnvironmentWins(t *testing.T) {
	t.Parallel()
	e := map[string]string{EnvRedisURL: "redis://127.0.0.1:6380/1"}
	for k, v := range goodEnv {
		e[k] = v
	}
	c, err := Load(strings.NewReader("redis: {addrs: [\"10.0.0.1:6379\"], prefix: \"acme:\"}\n"+good), ".", fakeFactories, env(e))
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis != nil || c.RedisURL.Reveal() != "redis://127.0.0.1:6380/1" || c.RedisPrefix() != redisclient.DefaultPrefix {
		t.Errorf("redis_url %q, redis %+v, prefix %q", c.RedisURL.Reveal(), c.Redis, c.RedisPrefix())
	}
}
