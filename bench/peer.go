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
	"sync"
	"sync/atomic"
	"time"

	"crmgate/providers/nxlink/nxlinksim"
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
// Hold set on a load of another kind makes the peer keep it under that id
// instead of running it (Peer.Prepare); kind "held" runs the load kept under
// Hold (Peer.RunPrepared).
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
	Hold        int       `json:"hold,omitempty"`
}

// LoadResult is the peer's answer to a Load.
//
// Wall is the whole load's wall time (both kinds) and PeerCPU the peer
// process's CPU time (user + system: the load generator and the
// simulators) during it; GatewayCPU is the benchmark process's, filled in
// by Peer.Run.
type LoadResult struct {
	Durations  [][]time.Duration `json:"durations,omitempty"`
	Elapsed    time.Duration     `json:"elapsed"`
	Wall       time.Duration     `json:"wall"`
	PeerCPU    time.Duration     `json:"peer_cpu"`
	GatewayCPU time.Duration     `json:"-"`
	Errors     int               `json:"errors"`
	FirstError string            `json:"first_error,omitempty"`
	HTTPStatus int               `json:"http_status,omitempty"` // kind "job": the status of a refused upload
}

// PeerBusy is the share of one core the peer was busy during the load.
func (r LoadResult) PeerBusy() float64 { return busy(r.PeerCPU, r.Wall) }

// GatewayBusy is the share of one core the benchmark process (the gateway
// or the proxy) was busy during the load.
func (r LoadResult) GatewayBusy() float64 { return busy(r.GatewayCPU, r.Wall) }

func busy(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(cpu) / float64(wall)
}

// PeerURLs are the peer's simulators.
type PeerURLs struct {
	Slow string `json:"slow"` // answers after SimDelay
	Fast string `json:"fast"` // answers at once
	Lean string `json:"lean"` // LeanNXLink: answers at once, checking nothing
}

// Peer is the running peer process, seen from the benchmark process.
type Peer struct {
	URLs   PeerURLs
	Pinned string // the CPUs it is pinned to, "" when not pinned

	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	mu   sync.Mutex
	held int // the last id given to a prepared load
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
	// The answers are read by ReadBytes, whatever their length: a small
	// buffer, so that the harness holds little of the gateway's process
	// whose memory the benchmarks measure.
	p := &Peer{cmd: cmd, in: in, out: bufio.NewReader(outPipe), Pinned: pinned}
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

// PreparedLoad is a Load handed to the peer ahead of its run, which the peer
// keeps, so that a figure measured across the run (the gateway process's
// memory) counts neither the requests nor their encoding: they are the load
// side's.
type PreparedLoad struct{ id int }

// Prepare gives l to the peer to keep for RunPrepared.
func (p *Peer) Prepare(l Load) (PreparedLoad, error) {
	p.mu.Lock()
	p.held++
	id := p.held
	p.mu.Unlock()
	l.Hold = id
	res, err := p.Run(l)
	if err == nil && res.Errors > 0 {
		err = fmt.Errorf("bench.Peer.Prepare: %s", res.FirstError)
	}
	return PreparedLoad{id: id}, err
}

// RunPrepared runs a load kept by Prepare.
func (p *Peer) RunPrepared(pl PreparedLoad) (LoadResult, error) {
	return p.Run(Load{Kind: "held", Hold: pl.id})
}

// Run sends one Load to the peer and waits for its result.
func (p *Peer) Run(l Load) (LoadResult, error) {
	line, err := json.Marshal(l)
	if err != nil {
		return LoadResult{}, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	line = append(line, '\n')
	p.mu.Lock()
	defer p.mu.Unlock()
	var res LoadResult
	cpu := cpuTime()
	if _, err := p.in.Write(line); err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	answer, err := p.out.ReadBytes('\n')
	cpu = cpuTime() - cpu
	if err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		return res, fmt.Errorf("bench.Peer.Run: %w", err)
	}
	res.GatewayCPU = cpu
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
// account on loopback (one answering after SimDelay, one at once) and
// LeanNXLink, writes their URLs as one JSON line to out, then answers every
// Load line read from in with one LoadResult line, until in ends.
func RunPeer(in io.Reader, out io.Writer) error {
	urls := PeerURLs{}
	simulator := func(delay time.Duration) http.Handler {
		return nxlinksim.New(nxlinksim.Config{Accounts: []nxlinksim.Account{SimAccount()}, Delay: delay, MaxCalls: -1})
	}
	for _, s := range []struct {
		dst *string
		h   http.Handler
	}{{&urls.Slow, simulator(SimDelay)}, {&urls.Fast, simulator(0)}, {&urls.Lean, LeanNXLink()}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
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
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	held := map[int]Load{}
	for sc.Scan() {
		var l Load
		res := LoadResult{}
		err := json.Unmarshal(sc.Bytes(), &l)
		switch {
		case err != nil:
			res.Errors, res.FirstError = 1, err.Error()
		case l.Kind == "held":
			kept, ok := held[l.Hold]
			if !ok {
				res.Errors, res.FirstError = 1, fmt.Sprintf("no load is kept under %d", l.Hold)
				break
			}
			res = runLoad(kept)
		case l.Hold != 0:
			id := l.Hold
			l.Hold = 0
			held[id] = l
		default:
			res = runLoad(l)
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

// idle keeps the lean clients, and their connections, from one load to the
// next, as a kept-alive client pool would.
var idle struct {
	sync.Mutex
	clients []*leanClient
}

func takeClient() *leanClient {
	idle.Lock()
	defer idle.Unlock()
	if n := len(idle.clients); n > 0 {
		lc := idle.clients[n-1]
		idle.clients = idle.clients[:n-1]
		return lc
	}
	return newLeanClient()
}

func putClient(lc *leanClient) {
	idle.Lock()
	defer idle.Unlock()
	idle.clients = append(idle.clients, lc)
}

// runLoad runs l with the lean client (lean.go): every request prepared
// before the clock starts, one connection per client and address.
func runLoad(l Load) LoadResult {
	var res LoadResult
	var errs atomic.Int64
	var first sync.Once
	fail := func(msg string) {
		errs.Add(1)
		first.Do(func() { res.FirstError = msg })
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
	wire := make([]wireRequest, len(l.Requests))
	for i := range l.Requests {
		w, err := prepare(&l.Requests[i])
		if err != nil {
			return LoadResult{Errors: 1, FirstError: err.Error()}
		}
		wire[i] = w
	}
	expect := []byte(l.Expect)
	send := func(lc *leanClient, w *wireRequest) time.Duration {
		start := time.Now()
		status, body, err := lc.do(w)
		d := time.Since(start)
		switch {
		case err != nil:
			fail(err.Error())
		case status != http.StatusOK:
			fail(fmt.Sprintf("HTTP %d from %s: %.300s", status, w.url, body))
		case len(expect) > 0 && !bytes.Contains(body, expect):
			fail(fmt.Sprintf("answer from %s lacks %q: %.300s", w.url, l.Expect, body))
		}
		return d
	}
	cpu := cpuTime()
	start := time.Now()
	switch l.Kind {
	case "sequential":
		lc := takeClient()
		defer putClient(lc)
		res.Durations = make([][]time.Duration, len(wire))
		for k := range res.Durations {
			res.Durations[k] = make([]time.Duration, 0, l.N)
		}
		for i := 0; i < l.N; i++ {
			for j := range wire {
				k := (i + j) % len(wire)
				res.Durations[k] = append(res.Durations[k], send(lc, &wire[k]))
			}
		}
	case "concurrent":
		var next atomic.Int64
		var wg sync.WaitGroup
		for range max(l.Concurrency, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lc := takeClient()
				defer putClient(lc)
				for {
					i := next.Add(1) - 1
					if i >= int64(l.N) {
						return
					}
					send(lc, &wire[i%int64(len(wire))])
				}
			}()
		}
		wg.Wait()
		res.Elapsed = time.Since(start)
	default:
		fail(errors.New("unknown load kind " + l.Kind).Error())
	}
	res.Wall = time.Since(start)
	res.PeerCPU = cpuTime() - cpu
	res.Errors = int(errs.Load())
	return res
}
