package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/jobs"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
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
		{nxlink.Name, NXLinkCustomers(250), 3},
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
	sim := nxlinksim.New(nxlinksim.Config{Accounts: []nxlinksim.Account{SimAccount()}})
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

// The job file is what BenchmarkImportJob promises: every row maps by its
// header to the NXLink sandbox field configuration, passes the checks, and
// has a WhatsApp number of its own.
func TestJobCSVRowsAreValidAndDistinct(t *testing.T) {
	const n = 2000
	var buf bytes.Buffer
	if err := WriteJobCSV(&buf, n); err != nil {
		t.Fatal(err)
	}
	rd, err := jobs.NewCSVReader(&buf, jobs.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc := nxlinksim.SampleFieldConfig()
	m, err := jobs.NewMapping(rd.Header(), nil, fc.CustomFields)
	if err != nil || len(m.Unmapped()) != 0 {
		t.Fatalf("mapping: %v, unmapped %v", err, m.Unmapped())
	}
	rules := fieldconfig.MustCompile(fc)
	dedupe := jobs.NewDedupe(n)
	rows := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || row.Issue != nil {
			t.Fatalf("row %d: %v %v", row.Number, err, row.Issue)
		}
		rows++
		var c schema.Customer
		if err := json.Unmarshal(m.Record(row.Cells), &c); err != nil {
			t.Fatal(err)
		}
		errs, _ := schema.Check(&c)
		_, e := rules.Check(&c)
		errs = append(errs, e...)
		if len(errs) > 0 || c.CustomFields["Joined"] == nil || c.Level == nil {
			t.Fatalf("row %d: %+v (%+v)", row.Number, errs, c)
		}
		if first, dup := dedupe.See(c.WhatsApp, row.Number); dup {
			t.Fatalf("row %d repeats row %d's number", row.Number, first)
		}
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
}

// runJob uploads the whole file as multipart, follows the job until it
// completes, and says so when the gateway has no import-job API.
func TestRunJob(t *testing.T) {
	const n = 5000
	var lines atomic.Int64
	var gets atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/imports", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		mr, err := r.MultipartReader()
		if err != nil {
			t.Error(err)
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "file" {
				b, _ := io.ReadAll(part)
				lines.Store(int64(bytes.Count(b, []byte("\n"))))
			}
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":"imp_1","status":"queued","total":%d,"pending":%d}`, n, n)
	})
	mux.HandleFunc("GET /v1/imports/imp_1", func(w http.ResponseWriter, r *http.Request) {
		if gets.Add(1) < 3 {
			fmt.Fprintf(w, `{"id":"imp_1","status":"running","total":%d,"pending":%d}`, n, n)
			return
		}
		fmt.Fprintf(w, `{"id":"imp_1","status":"completed","total":%d,"pending":0,"succeeded":%d}`, n, n)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res := runJob(&JobLoad{Gateway: srv.URL, Token: "tok", Connection: ConnJob, Rows: n, Poll: time.Millisecond})
	if res.Errors != 0 || lines.Load() != n+1 || gets.Load() != 3 || res.Elapsed <= 0 {
		t.Errorf("%+v: %d lines uploaded, %d reads", res, lines.Load(), gets.Load())
	}
	res = runJob(&JobLoad{Gateway: srv.URL + "/nowhere", Token: "tok", Connection: ConnJob, Rows: 10})
	if res.HTTPStatus != http.StatusNotFound || res.Errors != 1 {
		t.Errorf("no API: %+v", res)
	}
}

// The peak resident set size the job figure reports can be reset and read
// where /proc is there.
func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	if !resetPeakRSS() {
		t.Skip("/proc/self/clear_refs cannot be written here")
	}
	before, ok := peakRSS()
	grow := make([]byte, 64<<20)
	for i := range grow {
		grow[i] = byte(i)
	}
	after, ok2 := peakRSS()
	if !ok || !ok2 || before == 0 || after < before+32<<20 {
		t.Errorf("peak RSS %d then %d after touching 64 MiB (%v %v)", before, after, ok, ok2)
	}
	_ = grow[len(grow)-1]
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

// TestLeanNXLinkAnswersAsTheSimulator: for the bodies the gateway sends, the
// lean fake's answer is the simulator's, customerIds and trace id aside, and
// the gateway takes every record through it as succeeded.
func TestLeanNXLinkAnswersAsTheSimulator(t *testing.T) {
	t.Parallel()
	bodies, err := TranslatedCalls(NXLinkCustomers(250))
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 3 {
		t.Fatalf("%d calls for 250 records, want 3", len(bodies))
	}
	sim := nxlinksim.New(nxlinksim.Config{Accounts: []nxlinksim.Account{SimAccount()}})
	lean := LeanNXLink()
	answer := func(h http.Handler, body []byte) map[string]any {
		req := httptest.NewRequest(http.MethodPost, nxlink.BatchCreatePath, bytes.NewReader(body))
		for k, v := range SignedHeader(body) {
			req.Header.Set(k, v[0])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
		var a map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%v: %s", err, w.Body)
		}
		delete(a, "traceId")
		data, _ := a["data"].(map[string]any)
		items, _ := data["successItems"].([]any)
		for _, it := range items {
			delete(it.(map[string]any), "customerId")
		}
		return a
	}
	for i, body := range bodies {
		if d := cmp.Diff(answer(sim, body), answer(lean, body)); d != "" {
			t.Errorf("call %d: the lean fake's answer differs from the simulator's (-simulator +lean):\n%s", i, d)
		}
	}

	srv := httptest.NewServer(lean)
	defer srv.Close()
	gw, err := StartGateway(PeerURLs{Slow: srv.URL, Fast: srv.URL, Lean: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	res := runLoad(Load{Kind: "sequential", N: 1, Expect: `"succeeded":250,`,
		Requests: []Request{gw.ImportRequest(ImportBody(ConnLean, NXLinkCustomers(250)))}})
	if res.Errors > 0 {
		t.Fatalf("gateway through the lean fake: %s", res.FirstError)
	}
}
