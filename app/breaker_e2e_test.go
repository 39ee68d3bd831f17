package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/app"
)

// slowPeer is the NXLink simulator behind a wait: healthy, but slow while
// slow is set. A call whose caller hangs up ends there.
type slowPeer struct {
	next     http.Handler
	slow     atomic.Bool
	inFlight atomic.Int32
}

func (s *slowPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	// Read the body first: the server notices a caller that hangs up only
	// once it has.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s.slow.Load() {
		select {
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

// Callers that hang up, and requests whose request_timeout passes, against a
// healthy but slow provider leave its circuit closed: the next caller's
// import goes through.
func TestCallersCutShortDoNotOpenTheCircuit(t *testing.T) {
	t.Parallel()
	p := startPeers(t)
	peer := &slowPeer{next: p.nx}
	peer.slow.Store(true)
	nxs := httptest.NewServer(peer)
	t.Cleanup(nxs.Close)
	gw := startGW(t, fmt.Sprintf(`
auth: {jwt: {hs256_secret: %q}}
request_timeout: 300ms
connections:
  - id: acme-cdp
    provider: nxlink
    base_url: %q
    access_key: fme2na3kdi3ki
    access_secret: "${NX_SECRET}"
    tenant_id: 123
    app_key: "46oKF=os"
`, secret, nxs.URL), app.Options{}, false)
	body := map[string]any{"connection": "acme-cdp", "customers": []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780"}}}
	b, _ := json.Marshal(body)
	tok := bearer(t)

	// Three callers hang up after 100 ms (before request_timeout)...
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gw.url+"/v1/customers", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			t.Fatalf("caller %d: answered %d before hanging up", i, resp.StatusCode)
		}
	}
	// ... and four wait out the request's deadline.
	for i := 0; i < 4; i++ {
		code, a := post(t, gw.url+"/v1/customers", tok, body)
		if code != 200 || a.Unknown+a.Failed != 1 {
			t.Fatalf("request %d past its deadline: %d %+v", i, code, a)
		}
		if a.Failed == 1 && a.Results[0].RetryAfter > 0 {
			t.Fatalf("request %d: the circuit opened: %+v", i, a.Results[0])
		}
	}
	peer.slow.Store(false)
	waitFor(t, 30*time.Second, "the hung-up calls to end", func() bool { return peer.inFlight.Load() == 0 })
	code, a := post(t, gw.url+"/v1/customers", tok, body)
	if code != 200 || a.Succeeded != 1 {
		t.Fatalf("the next caller after 7 cut short: %d %+v", code, a)
	}
}
