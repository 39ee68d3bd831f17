package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A gateway whose Redis goes away and comes back writes one JSON object a
// line on its log stream, what go-redis logs itself included.
func TestLogStreamIsJSONThroughARedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and runs its own redis-server")
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	var rs *exec.Cmd
	startRedis := func() {
		rs = exec.Command(redisBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := rs.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
				_ = c.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("redis-server does not accept connections")
			}
		}
	}
	stopRedis := func() {
		_ = rs.Process.Kill()
		_ = rs.Wait()
	}
	startRedis()
	t.Cleanup(func() { stopRedis() })

	dir := t.TempDir()
	bin := filepath.Join(dir, "crmgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "crmgate.yaml")
	doc := `log_level: debug
auth: {jwt: {hs256_secret: "logs-secret-logs-secret-logs-secret-01"}}
connections:
  - {id: cdp, provider: nxlink, base_url: "http://127.0.0.1:1", access_key: ak, access_secret: sk, tenant_id: 123, app_key: app}
`
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayProcess(t, bin, cfgPath, fmt.Sprintf("redis://127.0.0.1:%d/0", port))
	get := func(path string) {
		resp, err := http.Get(g.url + path)
		if err == nil {
			_ = resp.Body.Close()
		}
	}
	get("/readyz")
	stopRedis()
	// Long enough for the pool, the marker and the cache to try and fail.
	for range 20 {
		get("/readyz")
		get("/no/such/path")
		time.Sleep(200 * time.Millisecond)
	}
	startRedis()
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
