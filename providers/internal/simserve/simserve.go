// Package simserve starts a provider simulator for the no-config sandbox:
// served over HTTP on a free loopback port until it is closed or its
// context ends.
package simserve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Serve serves h on 127.0.0.1 at a free port and returns its base URL
// ("http://127.0.0.1:port") and the function that stops it. The server stops
// when stop is called or ctx ends, whichever comes first; stop may be called
// more than once. An error means nothing is serving.
func Serve(ctx context.Context, h http.Handler) (baseURL string, stop func(), err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("simserve.Serve: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	// Serve returns ErrServerClosed once stop or ctx closes the server.
	go func() { _ = srv.Serve(ln) }()
	var once sync.Once
	shutdown := func() { once.Do(func() { _ = srv.Close() }) }
	unhook := context.AfterFunc(ctx, shutdown)
	return "http://" + ln.Addr().String(), func() {
		unhook()
		shutdown()
	}, nil
}

// RandomHex is n random bytes as 2n lowercase hex digits, for sandbox
// credentials and ids.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand.Read)
	return hex.EncodeToString(b)
}
