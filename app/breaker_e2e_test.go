package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
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
	gw := startGW(t, gwSetup{doc: acmeDoc{top: "request_timeout: 300ms", nxURL: nxs.URL}.String()})
	body := map[string]any{"connection": "acme-cdp", "customers": []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780"}}}
	tok := bearer(t)

	// Three callers hang up after 100 ms (before request_timeout)...
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		r, err := apptest.Send(ctx, http.MethodPost, gw.URL+"/v1/customers", tok, body)
		cancel()
		if err == nil {
			t.Fatalf("caller %d: answered %d before hanging up", i, r.Status)
		}
	}
	// ... and four wait out the request's deadline.
	for i := 0; i < 4; i++ {
		code, a := post(t, gw.URL+"/v1/customers", tok, body)
		if code != 200 || a.Unknown+a.Failed != 1 {
			t.Fatalf("request %d past its deadline: %d %+v", i, code, a)
		}
		if a.Failed == 1 && a.Results[0].RetryAfter > 0 {
			t.Fatalf("request %d: the circuit opened: %+v", i, a.Results[0])
		}
	}
	peer.slow.Store(false)
	testutil.Eventually(t, 30*time.Second, "the hung-up calls to end", func() bool { return peer.inFlight.Load() == 0 })
	code, a := post(t, gw.URL+"/v1/customers", tok, body)
	if code != 200 || a.Succeeded != 1 {
		t.Fatalf("the next caller after 7 cut short: %d %+v", code, a)
	}
}
