// Package testbrowser runs the headless Chromium that the browser tests
// (Swagger UI, the console) drive, and keeps what they capture as CI
// artifacts.
package testbrowser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium (Debian's chromium package) or Chrome binary.
// Without one the test fails under CI and is skipped elsewhere.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// Allocator starts headless Chromium (see Chromium) with a window of width
// by height and returns the context its tabs are opened from
// (chromedp.NewContext). Everything stops when the test ends, or when guard
// has passed: a guard against a hung browser, not a measurement.
func Allocator(t testing.TB, width, height int, guard time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(width, height),
		chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	return alloc
}

// SaveArtifact writes b as the CI artifact name, under .ci/out/ of the
// module (git-ignored), and logs where. It only logs when it cannot: an
// artifact is not what the test checks.
func SaveArtifact(t testing.TB, name string, b []byte) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Log(err)
		return
	}
	dir := filepath.Join(root, ".ci", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Log(err)
		return
	}
	t.Logf("artifact: %s", p)
}

// moduleRoot is the nearest directory at or above the working directory (a
// test's package) holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("testbrowser.SaveArtifact: no go.mod at or above %s", dir)
		}
		d = parent
	}
}
