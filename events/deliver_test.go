package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// receiver is a subscriber endpoint that checks every delivery the way a
// Standard Webhooks consumer would and records it.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []Event        // every delivery, in arrival order
	raw    [][]byte       // their bodies
	seen   map[string]int // deliveries per event id
	// status answers the n-th delivery (1-based) of id; nil means 204.
	status func(id string, n int) int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// standardWebhooksSignature computes the signature from the Standard
// Webhooks specification, independently of Sign.
func standardWebhooksSignature(secret, id, ts string, body []byte) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "bad secret"
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("delivery %s %s, Content-Type %q", req.Method, req.URL, req.Header.Get("Content-Type"))
	}
	if want := standardWebhooksSignature(r.secret, id, ts, body); req.Header.Get("webhook-signature") != want {
		r.t.Errorf("delivery %s: webhook-signature %q, want %q", id, req.Header.Get("webhook-signature"), want)
	}
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Hour {
		r.t.Errorf("delivery %s: webhook-timestamp %q is not the current unix time", id, ts)
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != id {
		r.t.Errorf("delivery %s: body %s is not the event (%v)", id, body, err)
	}
	r.got = append(r.got, e)
	r.raw = append(r.raw, body)
	r.seen[id]++
	code := http.StatusNoContent
	if r.status != nil {
		code = r.status(id, r.seen[id])
	}
	w.WriteHeader(code)
}

func (r *receiver) deliveries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []string{}
	for _, e := range r.got {
		out = append(out, e.ID)
	}
	return out
}

func (r *receiver) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.got...)
}

// deliveryWait bounds the tests' waits for a delivery: generous, since a
// dispatcher under a loaded CI machine may take seconds where it usually
// takes milliseconds.
const deliveryWait = 20 * time.Second

func testDispatcherOptions() DispatcherOptions {
	return DispatcherOptions{
		Schedule:       []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
		Jitter:         func(d time.Duration) time.Duration { return d },
		PollInterval:   20 * time.Millisecond,
		AttemptTimeout: 5 * time.Second,
		LeaseTTL:       5 * time.Second,
		// The receivers are httptest servers on 127.0.0.1.
		Destinations: Destinations{AllowLoopback: true},
	}
}

// startDispatcher runs a Dispatcher until the returned stop is called (or
// the test ends); stop waits for Run to return.
func startDispatcher(t *testing.T, s Store, subs DeliveryStore, opts DispatcherOptions) (*Dispatcher, func()) {
	t.Helper()
	d, err := NewDispatcher(s, subs, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return d, stop
}

func subscribe(t *testing.T, subs DeliveryStore, r *receiver, s Subscription) Subscription {
	t.Helper()
	s.URL = r.srv.URL + "/hook"
	created, secret, err := subs.Create(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
	return created
}

func seq(prefix string, n int) []string {
	out := []string{}
	for i := range n {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func appendIDs(t *testing.T, s Store, conn, typ string, ids ...string) []Event {
	t.Helper()
	var evs []Event
	for _, id := range ids {
		evs = append(evs, ev(conn, id, typ))
	}
	if _, err := s.Append(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestMemoryDispatcher(t *testing.T) {
	t.Parallel()
	runDispatcherSuite(t, memoryBackend)
}

func TestRedisDispatcher(t *testing.T) {
	t.Parallel()
	runDispatcherSuite(t, redisBackend)
}

func TestClusterDispatcher(t *testing.T) {
	t.Parallel()
	redistest.ClusterAddrs(t)
	runDispatcherSuite(t, clusterBackend)
}

func runDispatcherSuite(t *testing.T, newBackend backend) {
	ctx := context.Background()
	const up, fu = TypeCustomerUpdated, TypeFollowupCreated

	t.Run("every event once in order, filtered", func(t *testing.T) {
		t.Parallel()
		s, subs := newBackend(t)
		appendIDs(t, s, "acme", up, "before") // stored before the subscriptions: not sent
		all, onlyB := newReceiver(t), newReceiver(t)
		subscribe(t, subs, all, Subscription{})
		subscribe(t, subs, onlyB, Subscription{Connections: []string{"b"}, Types: []string{fu}})
		d, _ := startDispatcher(t, s, subs, testDispatcherOptions())

		var want []Event
		for i := range 4 {
			want = append(want, appendIDs(t, s, "a", up, seq(fmt.Sprintf("a%d-", i), 5)...)...)
			want = append(want, appendIDs(t, s, "b", fu, fmt.Sprintf("b%d", i))...)
			want = append(want, appendIDs(t, s, "b", up, fmt.Sprintf("bu%d", i))...)
			d.Notify()
		}
		testutil.Eventually(t, deliveryWait, "all deliveries", func() bool { return len(all.deliveries()) >= len(want) && len(onlyB.deliveries()) >= 4 })
		if d := cmp.Diff(want, all.events()); d != "" {
			t.Fatalf("unfiltered subscription (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"b0", "b1", "b2", "b3"}, onlyB.deliveries()); d != "" {
			t.Fatalf("filtered subscription (-want +got):\n%s", d)
		}
		// Nothing more arrives (no repeats).
		appendIDs(t, s, "b", fu, "last")
		d.Notify()
		testutil.Eventually(t, deliveryWait, "the last event", func() bool { return len(onlyB.deliveries()) == 5 })
		testutil.Eventually(t, deliveryWait, "the last event", func() bool { return len(all.deliveries()) >= len(want)+1 })
		if got := all.deliveries(); got[len(got)-1] != "last" || len(got) != len(want)+1 {
			t.Fatalf("deliveries after the last append: %v", got)
		}
	})

	t.Run("retried after 500 twice", func(t *testing.T) {
		t.Parallel()
		s, subs := newBackend(t)
		r := newReceiver(t)
		r.status = func(id string, n int) int {
			if id == "e1" && n <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		sub := subscribe(t, subs, r, Subscription{})
		d, _ := startDispatcher(t, s, subs, testDispatcherOptions())
		appendIDs(t, s, "a", up, "e0", "e1", "e2")
		d.Notify()
		want := []string{"e0", "e1", "e1", "e1", "e2"}
		testutil.Eventually(t, deliveryWait, "deliveries", func() bool { return len(r.deliveries()) >= len(want) })
		if d := cmp.Diff(want, r.deliveries()); d != "" {
			t.Fatalf("deliveries (-want +got):\n%s", d)
		}
		if fs, err := subs.Failures(ctx, sub.ID); err != nil || len(fs) != 0 {
			t.Fatalf("Failures = %+v, %v; want none", fs, err)
		}
	})

	t.Run("given up, listed, redelivered", func(t *testing.T) {
		t.Parallel()
		s, subs := newBackend(t)
		r := newReceiver(t)
		var mu sync.Mutex
		accept := false
		r.status = func(id string, n int) int {
			mu.Lock()
			defer mu.Unlock()
			if id == "bad" && !accept {
				return http.StatusGone
			}
			return http.StatusAccepted
		}
		sub := subscribe(t, subs, r, Subscription{})
		opts := testDispatcherOptions()
		var steps []time.Duration
		opts.Jitter = func(d time.Duration) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			steps = append(steps, d)
			return d
		}
		d, _ := startDispatcher(t, s, subs, opts)
		evs := appendIDs(t, s, "a", up, "ok1", "bad", "ok2")
		d.Notify()
		// One attempt plus one per schedule step, then the next event.
		want := []string{"ok1", "bad", "bad", "bad", "ok2"}
		testutil.Eventually(t, deliveryWait, "deliveries", func() bool { return len(r.deliveries()) >= len(want) })
		if d := cmp.Diff(want, r.deliveries()); d != "" {
			t.Fatalf("deliveries (-want +got):\n%s", d)
		}
		mu.Lock()
		if d := cmp.Diff(opts.Schedule, steps); d != "" {
			t.Errorf("waits before retries (-want +got):\n%s", d)
		}
		mu.Unlock()
		var fs []Failure
		testutil.Eventually(t, deliveryWait, "the failure", func() bool {
			fs, _ = subs.Failures(ctx, sub.ID)
			return len(fs) == 1
		})
		f := fs[0]
		if d := cmp.Diff(evs[1], f.Event); d != "" || f.Attempts != 3 || f.LastStatus != http.StatusGone || f.LastError != "HTTP 410" || f.FailedAt.IsZero() {
			t.Fatalf("failure %+v (event diff %s)", f, d)
		}
		mu.Lock()
		accept = true
		mu.Unlock()
		if err := subs.Redeliver(ctx, sub.ID, "bad"); err != nil {
			t.Fatal(err)
		}
		if err := subs.Redeliver(ctx, sub.ID, "bad"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second Redeliver: %v, want ErrNotFound", err)
		}
		d.Notify()
		testutil.Eventually(t, deliveryWait, "the redelivery", func() bool { return len(r.deliveries()) >= len(want)+1 })
		if got := r.deliveries(); got[len(want)] != "bad" {
			t.Fatalf("redelivery: %v", got)
		}
		if fs, err := subs.Failures(ctx, sub.ID); err != nil || len(fs) != 0 {
			t.Fatalf("Failures after redelivery = %+v, %v", fs, err)
		}
		// Delivery goes on with new events.
		appendIDs(t, s, "a", up, "ok3")
		d.Notify()
		testutil.Eventually(t, deliveryWait, "a later event", func() bool { return len(r.deliveries()) == len(want)+2 })
		if got := r.deliveries(); got[len(got)-1] != "ok3" {
			t.Fatalf("after redelivery: %v", got)
		}
	})

	t.Run("timeout is a failed attempt", func(t *testing.T) {
		t.Parallel()
		s, subs := newBackend(t)
		r := newReceiver(t)
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Header.Get("webhook-id") == "slow" {
				_, _ = io.Copy(io.Discard, req.Body) // lets the server notice the client leaving
				select {
				case <-release:
				case <-req.Context().Done():
				}
				return
			}
			r.serve(w, req)
		}))
		t.Cleanup(slow.Close)
		t.Cleanup(func() { close(release) })
		sub, secret, err := subs.Create(ctx, Subscription{URL: slow.URL})
		if err != nil {
			t.Fatal(err)
		}
		r.secret = secret
		opts := testDispatcherOptions()
		opts.AttemptTimeout = 50 * time.Millisecond
		opts.Schedule = []time.Duration{time.Millisecond}
		d, _ := startDispatcher(t, s, subs, opts)
		appendIDs(t, s, "a", up, "slow", "next")
		d.Notify()
		testutil.Eventually(t, deliveryWait, "the event after the slow one", func() bool { return len(r.deliveries()) == 1 })
		fs, err := subs.Failures(ctx, sub.ID)
		if err != nil || len(fs) != 1 || fs[0].Event.ID != "slow" || fs[0].Attempts != 2 || fs[0].LastStatus != 0 || !strings.Contains(fs[0].LastError, "timed out") {
			t.Fatalf("Failures = %+v, %v", fs, err)
		}
	})

	t.Run("deleted subscription stops", func(t *testing.T) {
		t.Parallel()
		s, subs := newBackend(t)
		r := newReceiver(t)
		sub := subscribe(t, subs, r, Subscription{})
		d, _ := startDispatcher(t, s, subs, testDispatcherOptions())
		appendIDs(t, s, "a", up, "one")
		d.Notify()
		testutil.Eventually(t, deliveryWait, "the first event", func() bool { return len(r.deliveries()) == 1 })
		if err := subs.Delete(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		other := newReceiver(t)
		subscribe(t, subs, other, Subscription{})
		appendIDs(t, s, "a", up, "two")
		d.Notify()
		// The other subscription gets "two"; the deleted one never does.
		testutil.Eventually(t, deliveryWait, "the other subscription", func() bool { return len(other.deliveries()) == 1 })
		if got := r.deliveries(); len(got) != 1 {
			t.Fatalf("deleted subscription got %v", got)
		}
	})
}

// The body of a delivery is the event object of the public contract
// (gateway.md §5, Events), nothing around it.
func TestDeliveryBodyGolden(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile("testdata/delivery_customer_updated.json")
	if err != nil {
		t.Fatal(err)
	}
	var e Event
	if err := json.Unmarshal(golden, &e); err != nil {
		t.Fatal(err)
	}
	s, subs := memoryBackend(t)
	r := newReceiver(t)
	subscribe(t, subs, r, Subscription{})
	d, _ := startDispatcher(t, s, subs, testDispatcherOptions())
	if _, err := s.Append(context.Background(), []Event{e}); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	testutil.Eventually(t, deliveryWait, "the delivery", func() bool { return len(r.deliveries()) == 1 })
	r.mu.Lock()
	body := r.raw[0]
	r.mu.Unlock()
	var want, got any
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	// Decoding into maps compares keys sorted, values exact.
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("delivery body (-golden +got):\n%s", d)
	}
}

func TestNewDispatcherRefuses(t *testing.T) {
	t.Parallel()
	s, subs := memoryBackend(t)
	for name, f := range map[string]func() (*Dispatcher, error){
		"nil events": func() (*Dispatcher, error) { return NewDispatcher(nil, subs, DispatcherOptions{}) },
		"nil subs":   func() (*Dispatcher, error) { return NewDispatcher(s, nil, DispatcherOptions{}) },
		"negative step": func() (*Dispatcher, error) {
			return NewDispatcher(s, subs, DispatcherOptions{Schedule: []time.Duration{-1}})
		},
	} {
		if d, err := f(); err == nil || d != nil {
			t.Errorf("%s: got %v, %v; want an error", name, d, err)
		}
	}
	d, err := NewDispatcher(s, subs, DispatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	testutil.Eventually(t, deliveryWait, "Run to start", func() bool { return d.running.Load() })
	if err := d.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// A gateway restart: the first Dispatcher stops midway, a new one on the
// same Redis (new client, new process state) delivers the rest, nothing lost.
func TestRedisDispatcherResumesAfterRestart(t *testing.T) {
	t.Parallel()
	s := newRedisStoreForTest(t)
	subs, err := NewRedisSubscriptions(s)
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t)
	subscribe(t, subs, r, Subscription{})
	const n = 40
	want := seq("e", n)
	appendIDs(t, s, "a", TypeCustomerUpdated, want...)

	_, stop := startDispatcher(t, s, subs, testDispatcherOptions())
	testutil.Eventually(t, deliveryWait, "some deliveries", func() bool { return len(r.deliveries()) >= 10 })
	stop()
	before := len(r.deliveries())

	rdb := redistest.Another(t, s.rdb)
	s2, _ := NewRedisStore(rdb, s.opts)
	subs2, _ := NewRedisSubscriptions(s2)
	startDispatcher(t, s2, subs2, testDispatcherOptions())
	testutil.Eventually(t, deliveryWait, "every event", func() bool { return len(uniq(r.deliveries())) == n })
	got := r.deliveries()
	if d := cmp.Diff(want, uniq(got)); d != "" {
		t.Fatalf("events in first-delivery order (-want +got):\n%s", d)
	}
	// At most the attempt in flight at the stop is made again.
	if len(got) > n+1 {
		t.Fatalf("%d deliveries for %d events (%d before the restart): %v", len(got), n, before, got)
	}
}

// Two instances on one Redis: the lease lets one deliver a subscription at
// a time, so each event arrives once and in order.
func TestRedisDispatchersShareWork(t *testing.T) {
	t.Parallel()
	s := newRedisStoreForTest(t)
	subs, err := NewRedisSubscriptions(s)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := newReceiver(t), newReceiver(t)
	subscribe(t, subs, r1, Subscription{})
	subscribe(t, subs, r2, Subscription{})
	d1, _ := startDispatcher(t, s, subs, testDispatcherOptions())
	d2, _ := startDispatcher(t, s, subs, testDispatcherOptions())
	want := seq("e", 30)
	for i := 0; i < len(want); i += 5 {
		appendIDs(t, s, "a", TypeCustomerUpdated, want[i:i+5]...)
		d1.Notify()
		d2.Notify()
	}
	for _, r := range []*receiver{r1, r2} {
		testutil.Eventually(t, deliveryWait, "every event", func() bool { return len(r.deliveries()) >= len(want) })
		if d := cmp.Diff(want, r.deliveries()); d != "" {
			t.Fatalf("deliveries (-want +got):\n%s", d)
		}
	}
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
