package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// jobsCluster is a configuration for replicas of the built binary on one
// Redis of the test's own, in front of a slow NXLink simulator.
type jobsCluster struct {
	t        *testing.T
	config   string
	redisURL string
	peer     *crashPeer
	tok      string
}

func newJobsCluster(t *testing.T, delay time.Duration, concurrency, workers int, front func(http.Handler) http.Handler) *jobsCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and kills gateway processes")
	}
	c := &jobsCluster{t: t, redisURL: redistest.Server(t)}
	var peerURL string
	c.peer, peerURL = newCrashPeer(t, delay, front)
	c.config = writeConfig(t, fmt.Sprintf(`request_timeout: 2m
auth: {jwt: {hs256_secret: %q}}
jobs: {lease: 2s, workers: %d}
connections:
  - {id: cdp, provider: nxlink, base_url: %q, access_key: ak, access_secret: sk, tenant_id: 123, app_key: app, timeout: 1m, retries: 0, concurrency: %d}
`, crashSecret, workers, peerURL, concurrency))
	c.tok = apptest.Mint(t, []byte(crashSecret), "crm-app", []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead}, "cdp")
	return c
}

func (c *jobsCluster) start() *gatewayProcess {
	return startGatewayProcess(c.t, c.config, c.redisURL)
}

// call sends a request with the cluster's token and decodes the JSON
// answer into out (unless nil), returning the status.
func (c *jobsCluster) call(method, url string, body any, out any) int {
	c.t.Helper()
	r := apptest.Do(c.t, method, url, c.tok, body)
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, url, r.Status, r.Body)
		}
	}
	return r.Status
}

type crashJob struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Unknown   int    `json:"unknown"`
}

func (c *jobsCluster) submit(gw *gatewayProcess, n int) crashJob {
	c.t.Helper()
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"ref": fmt.Sprintf("r%d", i), "name": fmt.Sprintf("Customer %d", i), "whatsapp": fmt.Sprintf("+86 138 %08d", i)}
	}
	var j crashJob
	if st := c.call(http.MethodPost, gw.url+"/v1/imports", map[string]any{"connection": "cdp", "customers": recs}, &j); st != http.StatusAccepted {
		c.t.Fatalf("POST /v1/imports: %d %+v", st, j)
	}
	return j
}

func (c *jobsCluster) get(gw *gatewayProcess, id string) crashJob {
	c.t.Helper()
	var j crashJob
	if st := c.call(http.MethodGet, gw.url+"/v1/imports/"+id, nil, &j); st != http.StatusOK {
		c.t.Fatalf("GET job: %d", st)
	}
	if j.Pending+j.Succeeded+j.Failed+j.Unknown != j.Total {
		c.t.Fatalf("counters do not add up: %+v", j)
	}
	return j
}

func (c *jobsCluster) wait(gw *gatewayProcess, id string, within time.Duration) crashJob {
	c.t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		j := c.get(gw, id)
		if j.Status == "completed" || j.Status == "canceled" || j.Status == "failed" {
			return j
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("job %s not ended after %s: %+v\n%s", id, within, j, gw.stderr)
		}
	}
}

type crashResult struct {
	Index    int    `json:"index"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

func (c *jobsCluster) results(gw *gatewayProcess, id string) []crashResult {
	c.t.Helper()
	var out []crashResult
	cursor := ""
	for range 10000 {
		var page struct {
			Results    []crashResult `json:"results"`
			NextCursor string        `json:"next_cursor"`
		}
		u := gw.url + "/v1/imports/" + id + "/results?limit=1000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		if st := c.call(http.MethodGet, u, nil, &page); st != http.StatusOK {
			c.t.Fatalf("results: %d", st)
		}
		out = append(out, page.Results...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
	c.t.Fatal("results never end")
	return nil
}

// Two gateway processes on one Redis run a job; one is killed with SIGKILL
// in the middle; the other takes over its chunks once their lease (2s)
// lapses and completes the job: every row has exactly one result, the
// provider received every row at least once, and twice only rows of chunks
// in flight at the kill (never a row whose call had been answered), and
// those rows' results say 2 attempts.
func TestCrashMidImportJobIsTakenOver(t *testing.T) {
	const n = 3000 // 30 NXLink chunks of 100, one call each
	c := newJobsCluster(t, 200*time.Millisecond, 8, 2, nil)
	first, second := c.start(), c.start()
	job := c.submit(first, n)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if _, answers := c.peer.counts(); answers >= 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job never got going:\n%s", first.stderr)
		}
	}
	answered := c.peer.freeze()
	// Every answered chunk's results are stored before the kill (the calls
	// then in flight are not answered until the gateway is gone).
	testutil.EventuallyNil(t, time.Minute, fmt.Sprintf("the %d answered chunks stored", answered), func() error {
		if j := c.get(second, job.ID); j.Succeeded != answered*100 {
			return fmt.Errorf("%+v", j)
		}
		return nil
	})
	// And every worker of both (2 each) is in a call the provider holds.
	testutil.EventuallyNil(t, time.Minute, "the 4 workers' calls in flight", func() error {
		if calls, answers := c.peer.counts(); calls-answers != 4 {
			return fmt.Errorf("%d calls in flight", calls-answers)
		}
		return nil
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	killed := time.Now()
	answeredBefore := c.peer.answeredSoFar()
	c.peer.unfreeze()

	done := c.wait(second, job.ID, 2*time.Minute)
	t.Logf("completed %s after the kill", time.Since(killed))
	if done.Status != "completed" || done.Succeeded != n || done.Pending != 0 {
		t.Fatalf("job ended %+v\n%s", done, second.stderr)
	}
	rs := c.results(second, job.ID)
	if len(rs) != n {
		t.Fatalf("%d results for %d rows", len(rs), n)
	}
	c.peer.mu.Lock()
	defer c.peer.mu.Unlock()
	twice := 0
	for i, r := range rs {
		if r.Index != i || r.Status != "succeeded" {
			t.Fatalf("result %d: %+v", i, r)
		}
		switch {
		case c.peer.sentTwice(t, fmt.Sprintf("row %d", i), fmt.Sprintf("86138%08d", i), answeredBefore):
			twice++
			if r.Attempts != 2 {
				t.Fatalf("row %d was sent twice, its result says %d attempts", i, r.Attempts)
			}
		case r.Attempts != 1 && r.Attempts != 2:
			// 2: the killed gateway had taken its chunk, not yet sent.
			t.Fatalf("row %d was sent once, its result says %d attempts", i, r.Attempts)
		}
	}
	if twice != 200 {
		t.Fatalf("%d rows sent twice, want the 2 chunks the killed gateway had in flight", twice)
	}
	t.Logf("%d chunks answered before the kill, %d rows in flight sent again", answered, twice)
}

// Two gateway processes on one Redis run jobs on one connection of
// concurrency 2: the provider never has more than 2 calls in flight, from
// both together.
func TestJobsConcurrencyAcrossReplicas(t *testing.T) {
	var mu sync.Mutex
	in, peak := 0, 0
	front := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			in++
			peak = max(peak, in)
			mu.Unlock()
			defer func() {
				mu.Lock()
				in--
				mu.Unlock()
			}()
			h.ServeHTTP(w, r)
		})
	}
	c := newJobsCluster(t, 100*time.Millisecond, 2, 4, front)
	one, two := c.start(), c.start()
	a, b := c.submit(one, 2000), c.submit(two, 2000)
	for _, j := range []crashJob{a, b} {
		if done := c.wait(one, j.ID, 2*time.Minute); done.Status != "completed" || done.Succeeded != 2000 {
			t.Fatalf("job ended %+v", done)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if peak > 2 {
		t.Fatalf("%d calls in flight at once; the connection's concurrency is 2", peak)
	}
	if peak < 1 {
		t.Fatal("no call seen")
	}
	t.Logf("at most %d calls in flight", peak)
}
