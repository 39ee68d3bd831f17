package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Server starts a redis-server of the test's own on a free loopback port,
// without persistence, and returns its URL; the server is killed when the
// test ends. For tests that kill, flush or otherwise disturb Redis, which must
// never be done to the shared REDIS_URL. Without redis-server on PATH the
// test fails under CI=true and is skipped otherwise.
func Server(t testing.TB) string {
	t.Helper()
	return "redis://" + Start(t) + "/0"
}

// Start starts a redis-server of the test's own on a free loopback port
// with args added to its command line (e.g. "--replicaof", "127.0.0.1",
// "6379"; or "--sentinel" with a configuration file as the first), in a
// directory of its own, without persistence, and returns its address once
// it accepts connections; it is killed when the test ends. Without
// redis-server on PATH the test fails under CI=true and is skipped
// otherwise.
func Start(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH: CI must provide it (.ci/run installs it)")
		}
		t.Skip("redis-server is not on PATH: skipping a test that runs its own Redis")
	}
	port := FreePort(t)
	var cmdArgs []string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmdArgs, args = append(cmdArgs, args[0]), args[1:] // a configuration file comes first
	}
	cmdArgs = append(cmdArgs, "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	if !slices.Contains(args, "--sentinel") {
		cmdArgs = append(cmdArgs, "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	}
	cmd := exec.Command(bin, append(cmdArgs, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not accept connections: %v", addr, err)
		}
	}
	return addr
}

// FreePort is a loopback TCP port free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
