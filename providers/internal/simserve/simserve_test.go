package simserve

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"crmgate/internal/testutil"
)

func TestServeUntilStopped(t *testing.T) {
	t.Parallel()
	base, stop, err := Serve(context.Background(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "peer")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q is not on loopback", base)
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "peer" {
		t.Fatalf("answer %q", body)
	}
	stop()
	stop()
	if _, err := http.Get(base); err == nil {
		t.Fatal("still serving after stop")
	}
}

func TestServeStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	base, stop, err := Serve(ctx, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cancel()
	// The server is closed by a goroutine that ctx's end starts: wait for it
	// (bounded) rather than for a fixed time.
	testutil.Eventually(t, 5*time.Second, "serving to stop after its context ended", func() bool {
		resp, err := http.Get(base)
		if err != nil {
			return true
		}
		resp.Body.Close()
		return false
	})
}

func TestRandomHex(t *testing.T) {
	t.Parallel()
	a, b := RandomHex(16), RandomHex(16)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a) || a == b {
		t.Errorf("RandomHex(16) = %q then %q", a, b)
	}
}
