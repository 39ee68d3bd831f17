package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
)

// roundRobin is one port in front of several gateways, as a load balancer:
// each request goes to the next backend, and to the one after it when the
// connection is refused (a backend that stopped accepting).
type roundRobin struct {
	backends []string
	next     atomic.Uint64
}

func (p *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	start := p.next.Add(1)
	for i := range p.backends {
		base := p.backends[(int(start)+i)%len(p.backends)]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			continue
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	http.Error(w, "no backend", http.StatusBadGateway)
}

// Two gateways on one Redis behind one port: a SIGTERM to one makes its
// /readyz 503 at once, while the import it is serving (against a slow
// provider) finishes within shutdown_timeout with its whole answer; the
// front port goes on answering throughout and after the process is gone.
func TestSIGTERMDrainsOneOfTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals gateway processes")
	}
	redisURL := redistest.Server(t)
	peer, peerURL := newCrashPeer(t, 3*time.Second, nil)
	cfgPath := writeConfig(t, fmt.Sprintf(`request_timeout: 60s
shutdown_timeout: 30s
auth: {jwt: {hs256_secret: %q}}
connections:
  - {id: cdp, provider: nxlink, base_url: %q, access_key: ak, access_secret: sk, tenant_id: 123, app_key: app, timeout: 30s, retries: 0}
`, crashSecret, peerURL))
	tok := apptest.Mint(t, []byte(crashSecret), "crm-app", []string{auth.ScopeCustomersWrite}, "cdp")
	readyz := func(base string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := apptest.Send(ctx, http.MethodGet, base+"/readyz", tok, nil)
		if err != nil {
			return 0
		}
		return r.Status
	}

	a := startGatewayProcess(t, cfgPath, redisURL)
	b := startGatewayProcess(t, cfgPath, redisURL)
	for _, g := range []*gatewayProcess{a, b} {
		if code := readyz(g.url); code != http.StatusOK {
			t.Fatalf("/readyz of %s before the shutdown: %d\n%s", g.url, code, g.stderr)
		}
	}
	front := httptest.NewServer(&roundRobin{backends: []string{a.url, b.url}})
	defer front.Close()
	// validations sends n validations through the front port, each to be
	// answered 200.
	validations := func(n int, when string) {
		t.Helper()
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			r, err := apptest.Send(ctx, http.MethodPost, front.URL+"/v1/customers/validate", tok,
				`{"connection":"cdp","customers":[{"ref":"v","name":"Val","whatsapp":"+86 139 99999999"}]}`)
			cancel()
			if err != nil || r.Status != http.StatusOK {
				t.Fatalf("front request %d %s: %d %v %s", i, when, r.Status, err, r.Body)
			}
		}
	}

	const n = 5
	var batch strings.Builder
	batch.WriteString(`{"connection":"cdp","customers":[`)
	for i := range n {
		if i > 0 {
			batch.WriteByte(',')
		}
		fmt.Fprintf(&batch, `{"ref":"r%d","name":"Customer %d","whatsapp":"+86 139 %08d"}`, i, i, i)
	}
	batch.WriteString(`]}`)
	type answer struct {
		apptest.Reply
		err error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := apptest.Send(context.Background(), http.MethodPost, a.url+"/v1/customers", tok, batch.String())
		done <- answer{r, err}
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if calls, _ := peer.counts(); calls >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import never reached the provider:\n%s", a.stderr)
		}
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	for deadline := time.Now().Add(10 * time.Second); readyz(a.url) != http.StatusServiceUnavailable; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of the signalled gateway never answered 503\n%s", a.stderr)
		}
	}
	if _, answers := peer.counts(); answers > 0 {
		t.Fatalf("the import was answered before /readyz said 503: the test proves nothing")
	}
	validations(6, "during the drain")

	var got answer
	select {
	case got = <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the in-flight import never answered\n%s", a.stderr)
	}
	if got.err != nil || got.Status != http.StatusOK {
		t.Fatalf("in-flight import: %d %v %s\n%s", got.Status, got.err, got.Body, a.stderr)
	}
	var res struct {
		Total, Succeeded int
		Results          []struct{ Status string }
	}
	if err := json.Unmarshal(got.Body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Total != n || res.Succeeded != n || len(res.Results) != n {
		t.Fatalf("in-flight import answered %d of %d succeeded (%d results): %s", res.Succeeded, n, len(res.Results), got.Body)
	}
	exited := make(chan error, 1)
	go func() { exited <- a.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the signalled gateway exited with %v\n%s", err, a.stderr)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("the signalled gateway did not exit within shutdown_timeout\n%s", a.stderr)
	}
	if took := time.Since(signalled); took > 40*time.Second {
		t.Errorf("the shutdown took %s; shutdown_timeout is 30s", took)
	}
	validations(4, "after the gateway stopped")
	if code := readyz(b.url); code != http.StatusOK {
		t.Errorf("the other gateway's /readyz: %d", code)
	}
}
