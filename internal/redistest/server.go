package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/redisclient"
)

// Server starts a redis-server of the test's own on a free loopback port,
// without persistence, and returns its URL; the server is killed when the
// test ends. For tests that kill, flush or otherwise disturb Redis, which must
// never be done to the shared REDIS_URL. Without redis-server on PATH the
// test fails under CI=true and is skipped otherwise.
func Server(t testing.TB) string {
	t.Helper()
	return StartProcess(t).URL()
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
	return StartProcess(t, args...).Addr()
}

// Process is a redis-server of the test's own, on a loopback port that stays
// its own when the test stops it and starts it again: an outage of Redis and
// its return, empty.
type Process struct {
	t    testing.TB
	bin  string
	port int
	args []string
	cmd  *exec.Cmd
}

// StartProcess starts a redis-server as Start does and returns it running;
// it is killed when the test ends. Without redis-server on PATH the test
// fails under CI=true and is skipped otherwise.
func StartProcess(t testing.TB, args ...string) *Process {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH: CI must provide it (.ci/run installs it)")
		}
		t.Skip("redis-server is not on PATH: skipping a test that runs its own Redis")
	}
	p := &Process{t: t, bin: bin, port: FreePort(t), args: args}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Addr is the server's host:port.
func (p *Process) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// URL is the server's redis:// URL, database 0.
func (p *Process) URL() string { return "redis://" + p.Addr() + "/0" }

// Client is a client of the server, built as the gateway builds its own
// (redisclient.FromURL), closed when the test ends.
func (p *Process) Client() redis.UniversalClient { return p.client(p.URL()) }

func (p *Process) client(url string) redis.UniversalClient {
	c, err := redisclient.FromURL(url)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// PatientURL is URL with the client's own read and write timeouts set to
// an hour: through it only a call's context bounds the call, so a call to
// the paused server (Pause) returns only when the client honours that
// context.
func (p *Process) PatientURL() string { return p.URL() + "?read_timeout=1h&write_timeout=1h" }

// PatientClient is Client through PatientURL.
func (p *Process) PatientClient() redis.UniversalClient { return p.client(p.PatientURL()) }

// Pause stops the server (SIGSTOP) without closing anything: its
// connections stay open and new ones are still accepted by the kernel, but
// nothing is answered, as by a Redis that hangs. It goes on at Resume, and
// before the server is killed when the test ends.
func (p *Process) Pause() {
	p.t.Helper()
	if p.cmd == nil {
		p.t.Fatal("redistest: Pause of a server that is not running (Stop, or Start never called)")
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(p.Resume)
}

// Resume lets a paused server go on (SIGCONT).
func (p *Process) Resume() {
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Start runs the server (again, after Stop: in a new directory, holding
// nothing) and returns once it accepts connections; the test fails when it
// does not within 20 seconds. Start on a running server does nothing.
func (p *Process) Start() {
	p.t.Helper()
	if p.cmd != nil {
		return
	}
	args := slices.Clone(p.args)
	var cmdArgs []string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmdArgs, args = append(cmdArgs, args[0]), args[1:] // a configuration file comes first
	}
	cmdArgs = append(cmdArgs, "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1")
	if !slices.Contains(args, "--sentinel") {
		cmdArgs = append(cmdArgs, "--save", "", "--appendonly", "no", "--dir", p.t.TempDir())
	}
	cmd := exec.Command(p.bin, append(cmdArgs, args...)...)
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("redis-server on %s did not accept connections: %v", p.Addr(), err)
		}
	}
}

// Stop kills the server and waits for it to exit; Stop on a stopped server
// does nothing.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
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
