package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"crmgate/internal/redistest"
)

// A gateway whose Redis goes away and comes back writes one JSON object a
// line on its log stream, what go-redis logs itself included.
func TestLogStreamIsJSONThroughARedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and runs its own redis-server")
	}
	rs := redistest.StartProcess(t)
	cfgPath := writeConfig(t, `log_level: debug
auth: {jwt: {hs256_secret: "logs-secret-logs-secret-logs-secret-01"}}
connections:
  - {id: cdp, provider: nxlink, base_url: "http://127.0.0.1:1", access_key: ak, access_secret: sk, tenant_id: 123, app_key: app}
`)
	g := startGatewayProcess(t, cfgPath, rs.URL())
	get := func(path string) {
		resp, err := http.Get(g.url + path)
		if err == nil {
			_ = resp.Body.Close()
		}
	}
	get("/readyz")
	rs.Stop()
	// Long enough for the pool, the marker and the cache to try and fail.
	for range 20 {
		get("/readyz")
		get("/no/such/path")
		time.Sleep(200 * time.Millisecond)
	}
	rs.Start()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if strings.Contains(g.stderr.String(), "reachable again") || time.Now().After(deadline) {
			break
		}
	}
	get("/readyz")
	_ = g.cmd.Process.Signal(os.Interrupt)
	_ = g.cmd.Wait()

	out := g.stderr.String()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines, redisLines := 0, 0
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Errorf("not one JSON object: %q", sc.Text())
			continue
		}
		if _, ok := v["error"]; ok {
			t.Errorf("key \"error\" instead of \"err\": %q", sc.Text())
		}
		if v["source"] == "go-redis" {
			redisLines++
		}
		lines++
	}
	if lines == 0 {
		t.Fatalf("nothing logged")
	}
	t.Logf("%d lines, %d from go-redis", lines, redisLines)
}
