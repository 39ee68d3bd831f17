package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"crmgate/providers/nxlink"
)

// Environment of the peer process.
const (
	// EnvPeer set to "1" makes the test binary run as the peer (RunPeer).
	EnvPeer = "CRMGATE_BENCH_PEER"
	// EnvPeerCPUs names the CPUs the peer is pinned to with taskset (e.g.
	// "1"); empty or no taskset on the machine: not pinned.
	EnvPeerCPUs = "CRMGATE_BENCH_PEER_CPUS"
)

// SimDelay is how long the slow simulator waits before it answers.
const SimDelay = 20 * time.Millisecond

// Request is one HTTP POST the peer's load generator sends.
type Request struct {
	URL    string              `json:"url"`
	Header map[string][]string `json:"header"`
	Body   []byte              `json:"body"`
}

// Load is one command to the peer.
//
// Kind "sequential": N rounds; in each, every request is sent once, one
// after another, the order rotated by one each round; Durations[k] lists
// request k's times. Kind "concurrent": Concurrency clients send N requests
// in all, taking Requests in turn; Elapsed is the wall time.
//
// Kind "job": Job says what (see JobLoad and runJob); Requests are not used.
//
// An answer that is not HTTP 200 or does not contain Expect is counted in
// Errors, the first kept in FirstError.
type Load struct {
	Kind        string    `json:"kind"`
	Requests    []Request `json:"requests"`
	N           int       `json:"n"`
	Concurrency int       `json:"concurrency"`
	Expect      string    `json:"expect"`
	Job         *JobLoad  `json:"job,omitempty"`
}

// LoadResult is the peer's answer to a Load.
type LoadResult struct {
	Durations  [][]time.Duration `json:"durations,omitempty"`
	Elapsed    time.Duration     `json:"elapsed"`
	Errors     int               `json:"errors"`
	FirstError string            `json:"first_error,omitempty"`
	HTTPStatus int               `json:"http_status,omitempty"` // kind "job": the status of a refused upload
}

// PeerURLs are the peer's simulators.
type PeerURLs struct {
	Slow string `json:"slow"` // answers after SimDelay
	Fast string `json:"fast"` // answers at once
}

// Peer is the running peer process, seen from the benchmark process.
type Peer struct {
	URLs   PeerURLs
	Pinned string // the CPUs it is pinned to, "" when not pinned

	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	mu  sync.Mutex
}

// StartPeer starts the running test binary again as the peer, pinned to
// EnvPeerCPUs when set and taskset exists, and waits for its simulators'
// URLs. Close stops it.
func StartPeer() (*Peer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench.StartPeer: %w", err)
	}
	args := []string{self, "-test.run=^$"}
	pinned := ""
	if cpus := os.Getenv(EnvPeerCPUs); cpus != "" {
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{ts, "-c", cpus}, args...)
			pinned = cpus
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), EnvPeer+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("bench.StartPeer: %w", err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench.StartPeer: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench.StartPeer: %w", err)
	}
	p := &Peer{cmd: cmd, in: in, out: bufio.NewReaderSize(outPipe, 1<<20), Pinned: pinned}
	line, err := p.out.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &p.URLs)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("bench.StartPeer: reading the simulators' URLs: %w", err)
	}
	return p, nil
}

// Run sends one Load to the peer and waits for its result.
func (p *Peer) Run(l Load) (LoadResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res LoadResult
	b, err := json.Marshal(l)
	if err != nil {
		return res, err
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	if err := json.Unmarshal(line, &res); err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	return res, nil
}

// Close ends the peer (it stops when its input closes) and waits for it.
func (p *Peer) Close() {
	_ = p.in.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// RunPeer is the peer's main: it serves two NXLink simulators of the bench
// account on loopback (one answering after SimDelay, one at once), writes
// their URLs as one JSON line to out, then answers every Load line read from
// in with one LoadResult line, until in ends.
func RunPeer(in io.Reader, out io.Writer) error {
	urls := PeerURLs{}
	for _, s := range []struct {
		dst   *string
		delay time.Duration
	}{{&urls.Slow, SimDelay}, {&urls.Fast, 0}} {
		sim := nxlink.NewSimulator(nxlink.SimConfig{Accounts: []nxlink.SimAccount{SimAccount()}, Delay: s.delay, MaxCalls: -1})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		*s.dst = "http://" + ln.Addr().String()
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	if err := enc.Encode(urls); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	client := loadClient()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var l Load
		res := LoadResult{}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			res.Errors, res.FirstError = 1, err.Error()
		} else {
			res = runLoad(client, l)
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return sc.Err()
}

// loadClient keeps connections alive, enough of them for every client.
func loadClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

func runLoad(client *http.Client, l Load) LoadResult {
	var res LoadResult
	var errs atomic.Int64
	var first sync.Once
	fail := func(msg string) {
		errs.Add(1)
		first.Do(func() { res.FirstError = msg })
	}
	send := func(r *Request) time.Duration {
		req, err := http.NewRequest(http.MethodPost, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			fail(err.Error())
			return 0
		}
		for k, v := range r.Header {
			req.Header[k] = v
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fail(err.Error())
			return time.Since(start)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		switch {
		case err != nil:
			fail(err.Error())
		case resp.StatusCode != http.StatusOK:
			fail(fmt.Sprintf("HTTP %d from %s: %.300s", resp.StatusCode, r.URL, body))
		case l.Expect != "" && !strings.Contains(string(body), l.Expect):
			fail(fmt.Sprintf("answer from %s lacks %q: %.300s", r.URL, l.Expect, body))
		}
		return d
	}
	if l.Kind == "job" {
		if l.Job == nil {
			return LoadResult{Errors: 1, FirstError: "a job load without its job"}
		}
		return runJob(l.Job)
	}
	if len(l.Requests) == 0 {
		return LoadResult{Errors: 1, FirstError: "no requests"}
	}
	switch l.Kind {
	case "sequential":
		res.Durations = make([][]time.Duration, len(l.Requests))
		for i := 0; i < l.N; i++ {
			for j := range l.Requests {
				k := (i + j) % len(l.Requests)
				res.Durations[k] = append(res.Durations[k], send(&l.Requests[k]))
			}
		}
	case "concurrent":
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range max(l.Concurrency, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(l.N) {
						return
					}
					send(&l.Requests[i%int64(len(l.Requests))])
				}
			}()
		}
		wg.Wait()
		res.Elapsed = time.Since(start)
	default:
		fail(errors.New("unknown load kind " + l.Kind).Error())
	}
	res.Errors = int(errs.Load())
	return res
}
