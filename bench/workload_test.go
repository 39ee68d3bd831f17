package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/wscrm"
	"crmgate/schema"
)

// TestPipelineRecordsPass: every generated record passes the gateway's whole
// path, signed, for both providers, and the yardstick reads the same records.
func TestPipelineRecordsPass(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider string
		records  []schema.Customer
		calls    int
	}{
		{nxlink.ProviderName, NXLinkCustomers(250), 3},
		{wscrm.Name, WSCRMCustomers(250), 1},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			conn, err := OfflineConnection(tc.provider, func(*gateway.Call) { calls.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			body := ImportBody(conn.ID, tc.records)
			ans, err := RunPipeline(&gateway.Service{}, conn, body)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Succeeded != len(tc.records) {
				t.Fatalf("%d of %d succeeded; first result %+v", ans.Succeeded, len(tc.records), ans.Results[0])
			}
			for _, r := range ans.Results {
				if len(r.Warnings) > 0 {
					t.Fatalf("record %d warns %+v: the workload should be clean", r.Index, r.Warnings)
				}
			}
			if got := int(calls.Load()); got != tc.calls {
				t.Errorf("%d calls, want %d", got, tc.calls)
			}
			out, err := RunRoundTrip(body)
			if err != nil {
				t.Fatal(err)
			}
			want := ImportBody(conn.ID, tc.records)
			if !bytes.Contains(want, out) {
				t.Errorf("the round trip does not give the records back:\n%.300s", out)
			}
		})
	}
}

// TestDirectBodyIsWhatTheGatewaySends: the body the latency and throughput
// comparisons send straight to the simulator is, byte for byte, the body the
// gateway sends for the same records, and the simulator accepts both.
func TestDirectBodyIsWhatTheGatewaySends(t *testing.T) {
	t.Parallel()
	sim := nxlink.NewSimulator(nxlink.SimConfig{Accounts: []nxlink.SimAccount{SimAccount()}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	gw, err := StartGateway(PeerURLs{Slow: srv.URL, Fast: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	cs := NXLinkCustomers(100)
	want, err := TranslatedCalls(cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 {
		t.Fatalf("%d calls for 100 records, want 1", len(want))
	}
	res := runLoad(Load{Kind: "sequential", N: 1, Expect: gatewayOK,
		Requests: []Request{gw.ImportRequest(ImportBody(ConnFast, cs))}})
	if res.Errors > 0 {
		t.Fatalf("gateway: %s", res.FirstError)
	}
	calls := sim.Calls()
	if len(calls) != 1 {
		t.Fatalf("the simulator got %d calls, want 1", len(calls))
	}
	if d := cmp.Diff(string(want[0]), string(calls[0].Body)); d != "" {
		t.Errorf("direct body differs from the gateway's (-direct +gateway):\n%s", d)
	}
	res = runLoad(Load{Kind: "sequential", N: 1, Expect: nxlinkOK, Requests: []Request{DirectRequest(srv.URL, want[0])}})
	if res.Errors > 0 {
		t.Fatalf("direct: %s", res.FirstError)
	}
}

// TestRunLoad: durations per request and round, concurrent totals, and
// answers that miss Expect or are not 200 counted as errors.
func TestRunLoad(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, "/bad") {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, `{"path":%q,"h":%q}`, r.URL.Path, r.Header.Get("accessKey"))
	}))
	defer srv.Close()
	a := Request{URL: srv.URL + "/a", Header: map[string][]string{"accessKey": {"k"}}}
	b := Request{URL: srv.URL + "/b"}
	bad := Request{URL: srv.URL + "/bad"}
	for _, tc := range []struct {
		name      string
		load      Load
		hits      int64
		errors    int
		durations []int
	}{
		{"sequential", Load{Kind: "sequential", N: 3, Requests: []Request{a, b}}, 6, 0, []int{3, 3}},
		{"expect checked", Load{Kind: "sequential", N: 2, Expect: `"h":"k"`, Requests: []Request{a, b}}, 4, 2, []int{2, 2}},
		{"status checked", Load{Kind: "concurrent", N: 10, Concurrency: 3, Requests: []Request{a, bad}}, 10, 5, nil},
		{"unknown kind", Load{Kind: "other", N: 1, Requests: []Request{a}}, 0, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			res := runLoad(tc.load)
			if got := hits.Load() - before; got != tc.hits {
				t.Errorf("%d requests arrived, want %d", got, tc.hits)
			}
			if res.Errors != tc.errors {
				t.Errorf("%d errors (%s), want %d", res.Errors, res.FirstError, tc.errors)
			}
			var lens []int
			for _, d := range res.Durations {
				lens = append(lens, len(d))
			}
			if d := cmp.Diff(tc.durations, lens); d != "" {
				t.Errorf("durations per request (-want +got):\n%s", d)
			}
		})
	}
}

// TestLeanClient: the load generator reads answers by Content-Length,
// chunked answers and answers after which the server closes the connection,
// and keeps one connection alive across requests and loads.
func TestLeanClient(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 100<<10)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			_, _ = io.WriteString(w, big[:10<<10])
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, big+"end")
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "closed")
		default:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "len=%d h=%s", len(body), r.Header.Get("X-A"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	lc := newLeanClient()
	defer lc.close()
	for _, tc := range []struct {
		path, want string
		n          int
	}{
		{"/plain", "len=5 h=v", 9},
		{"/chunked", "end", 10<<10 + 100<<10 + 3},
		{"/close", "closed", 6},
		{"/plain", "len=5 h=v", 9},
	} {
		w, err := prepare(&Request{URL: srv.URL + tc.path, Body: []byte("hello"), Header: map[string][]string{"X-A": {"v"}}})
		if err != nil {
			t.Fatal(err)
		}
		status, body, err := lc.do(&w)
		if err != nil || status != http.StatusOK || len(body) != tc.n || !bytes.HasSuffix(body, []byte(tc.want)) {
			t.Fatalf("%s: %d, %d bytes ending %.20q, %v; want 200, %d bytes ending %q", tc.path, status, len(body), body[max(0, len(body)-20):], err, tc.n, tc.want)
		}
	}
	// One connection for the first three, a second after the close.
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
	res := runLoad(Load{Kind: "concurrent", N: 50, Concurrency: 2, Expect: "len=0", Requests: []Request{{URL: srv.URL + "/plain"}}})
	if res.Errors > 0 || res.Wall <= 0 {
		t.Fatalf("load: %d errors (%s), wall %v", res.Errors, res.FirstError, res.Wall)
	}
}
