package wiretest

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"crmgate/fieldconfig"
)

// RulesOf serves one connection's rules to the import service, whatever the
// connection.
type RulesOf struct{ R *fieldconfig.Rules }

// Rules returns r.R.
func (r RulesOf) Rules(string) *fieldconfig.Rules { return r.R }

// CountingTransport is http.DefaultTransport counting the answer bytes its
// caller reads (N).
type CountingTransport struct{ N atomic.Int64 }

// RoundTrip implements http.RoundTripper.
func (c *CountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = countingBody{resp.Body, &c.N}
	}
	return resp, err
}

// countingBody counts what is read through it.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// StreamForever answers 200 with prefix and then JSON-looking bytes until
// the client goes away: an answer no bound admits.
func StreamForever(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, prefix)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}
