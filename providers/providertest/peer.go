package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/wiretest"
	"crmgate/sandbox"
	"crmgate/schema"
)

// request is one request a peer received.
type request struct {
	Method, Path string
	Body         []byte
}

// peer is an HTTP server in front of a connection: it keeps every request it
// gets and answers through answer, which sees the requests counted from 0.
type peer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

// newPeer starts a peer; it stops when the test ends. answer reads the
// request's body again if it needs it (the peer has kept a copy).
func newPeer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *peer {
	t.Helper()
	p := &peer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		n := len(p.reqs)
		p.reqs = append(p.reqs, request{Method: r.Method, Path: r.URL.Path, Body: body})
		p.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// forward is a peer in front of the sandbox's simulator: every request
// reaches it.
func forward(t *testing.T, sb *sandbox.Sandbox) *peer {
	return newPeer(t, func(_ int, w http.ResponseWriter, r *http.Request) { sb.Handler.ServeHTTP(w, r) })
}

// requests returns what the peer received so far.
func (p *peer) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reqs)
}

// startSandbox starts the harness's simulator for one test.
func (h *Harness) startSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// No webhook is sent by these checks: the gateway's address is never dialled.
	sb, err := h.Sandbox(ctx, "http://gateway.invalid")
	if err != nil {
		cancel()
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() {
		sb.Close()
		cancel()
	})
	return sb
}

// connect makes a connection of the harness's provider reaching baseURL, with
// retries extra attempts. The client is a plain one, which would follow
// redirects: not following them is the adapter's part.
func (h *Harness) connect(t *testing.T, common gateway.Common, baseURL string, retries int, cfg any, fc fieldconfig.Config) *gateway.Connection {
	t.Helper()
	common.BaseURL = baseURL
	common.Retries = new(retries)
	p, err := h.Factory.New(common, cfg, &http.Client{})
	if err != nil {
		t.Fatalf("%s: Factory.New: %v", h.Factory.Name, err)
	}
	rules, err := fieldconfig.Compile(fc)
	if err != nil {
		t.Fatalf("field configuration: %v", err)
	}
	conn, err := gateway.NewConnection(common, p, cfg, wiretest.RulesOf{R: rules})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// send imports customers through the import service (wiretest.Import).
func send(t *testing.T, conn *gateway.Connection, op gateway.Op, customers []schema.Customer) *answer.Answer {
	t.Helper()
	raws := make([]json.RawMessage, len(customers))
	for i := range customers {
		b, err := json.Marshal(&customers[i])
		if err != nil {
			t.Fatal(err)
		}
		raws[i] = b
	}
	return wiretest.Import(t, conn, op, raws)
}

// whatsapp is a record's WhatsApp number as international digits, the key
// Stored lists.
func whatsapp(t *testing.T, c schema.Customer) string {
	t.Helper()
	d, _, err := schema.NormalizePhone(c.WhatsApp)
	if err != nil {
		t.Fatalf("harness record %+v: whatsapp: %v", c, err)
	}
	return d
}

// stored asks the simulator which numbers it holds.
func (h *Harness) stored(t *testing.T, sb *sandbox.Sandbox) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := h.Stored(ctx, sb)
	if err != nil {
		t.Fatalf("asking the simulator what it stored: %v", err)
	}
	out := make(map[string]bool, len(list))
	for _, p := range list {
		out[p] = true
	}
	return out
}

// checkStored fails the test for every record the answer calls succeeded that
// the simulator does not hold.
func (h *Harness) checkStored(t *testing.T, sb *sandbox.Sandbox, customers []schema.Customer, ans *answer.Answer) map[string]bool {
	t.Helper()
	held := h.stored(t, sb)
	for i, r := range ans.Results {
		if r.Status == gateway.StatusSucceeded && !held[whatsapp(t, customers[i])] {
			t.Errorf("record %d (%s) is succeeded, but the simulator does not hold it", i, customers[i].WhatsApp)
		}
	}
	return held
}

// valid is n records of the harness's Valid, from the first'th on.
func (h *Harness) valid(first, n int) []schema.Customer {
	out := make([]schema.Customer, n)
	for i := range out {
		out[i] = h.Valid(first + i)
	}
	return out
}

// hasIssue reports whether issues hold one with code and, when providerCode
// is not empty, that provider code.
func hasIssue(issues []schema.Issue, code schema.Code, providerCode string) bool {
	return slices.ContainsFunc(issues, func(is schema.Issue) bool {
		return is.Code == code && (providerCode == "" || is.ProviderCode == providerCode)
	})
}
