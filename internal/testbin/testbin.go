// Package testbin builds the crmgate command for tests that run it as a
// process of its own (to kill it, signal it or read its log stream): once per
// test process, however many tests ask.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	out  []byte
	err  error
}

// Build returns the path of the crmgate binary, built (go build crmgate) the
// first time a test of this process asks, into a temporary directory that
// Remove deletes. A failed build fails the test that asked, and every later
// one, with the compiler's output.
func Build(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "crmgate-testbin-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "crmgate")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, "crmgate").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build crmgate: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// Remove deletes what Build made; TestMain calls it after the tests ran. It
// does nothing when nothing was built.
func Remove() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}
