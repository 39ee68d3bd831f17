package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/idempotency"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testbin"
	"crmgate/internal/testutil"
	"crmgate/providers/nxlink/nxlinksim"
)

// crashPeer is the NXLink simulator behind a slow front: each call takes
// delay to be answered, every record received is counted by WhatsApp
// number, and freeze stops answers from going out (calls received meanwhile
// wait), so that the test knows exactly which calls were answered.
type crashPeer struct {
	sim   *nxlinksim.Simulator
	delay time.Duration

	mu       sync.Mutex
	received map[string]int  // whats_app_phone → times received
	answered map[string]bool // whats_app_phone → its call's answer was written
	calls    int             // calls received
	answers  int             // calls answered
	frozen   bool
	thaw     chan struct{}
}

func (p *crashPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the gateway died while sending: not received
	}
	var wire struct {
		Customers []struct {
			Phone string `json:"whats_app_phone"`
		} `json:"customers"`
	}
	_ = json.Unmarshal(body, &wire)
	p.mu.Lock()
	p.calls++
	for _, c := range wire.Customers {
		p.received[c.Phone]++
	}
	p.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	p.sim.ServeHTTP(rec, r)
	select {
	case <-time.After(p.delay):
	case <-r.Context().Done():
		return
	}
	for {
		p.mu.Lock()
		if !p.frozen {
			p.answers++
			for _, c := range wire.Customers {
				p.answered[c.Phone] = true
			}
			p.mu.Unlock()
			break
		}
		thaw := p.thaw
		p.mu.Unlock()
		select {
		case <-thaw:
		case <-r.Context().Done():
			return // the gateway died waiting: in flight at the crash
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// newCrashPeer serves a crashPeer in front of an NXLink simulator of the
// account ak/sk (tenant 123, app key app), answering after delay, behind
// front when it is set, until the test ends; it returns the peer and its
// URL.
func newCrashPeer(t *testing.T, delay time.Duration, front func(http.Handler) http.Handler) (*crashPeer, string) {
	t.Helper()
	p := &crashPeer{delay: delay, received: map[string]int{}, answered: map[string]bool{},
		sim: nxlinksim.New(nxlinksim.Config{MaxCalls: -1, Accounts: []nxlinksim.Account{{AccessKey: "ak", AccessSecret: "sk", TenantID: 123, AppKey: "app"}}})}
	var h http.Handler = p
	if front != nil {
		h = front(h)
	}
	ps := httptest.NewServer(h)
	t.Cleanup(ps.Close)
	t.Cleanup(p.unfreeze) // before the server closes: calls held frozen end
	return p, ps.URL
}

// crashSecret is the HS256 secret of the gateway processes' configurations.
const crashSecret = "crash-secret-crash-secret-crash-0001"

func (p *crashPeer) freeze() (answers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen, p.thaw = true, make(chan struct{})
	return p.answers
}

func (p *crashPeer) unfreeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
}

// answeredSoFar are the numbers whose call has been answered, a copy.
func (p *crashPeer) answeredSoFar() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]bool, len(p.answered))
	for k := range p.answered {
		out[k] = true
	}
	return out
}

// sentTwice checks what the provider received of the record called what
// (its WhatsApp number phone) across a kill: at least once, once only when
// its call was answered before the kill (answeredBefore), never more than
// twice; it reports whether it came twice. The caller holds p.mu.
func (p *crashPeer) sentTwice(t *testing.T, what, phone string, answeredBefore map[string]bool) bool {
	t.Helper()
	switch got := p.received[phone]; {
	case got == 0:
		t.Fatalf("%s (%s) never reached the provider", what, phone)
	case answeredBefore[phone] && got != 1:
		t.Fatalf("%s was answered before the kill and sent again (%d times)", what, got)
	case got > 2:
		t.Fatalf("%s was received %d times", what, got)
	case got == 2:
		return true
	}
	return false
}

func (p *crashPeer) counts() (calls, answers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, p.answers
}

// gatewayProcess is the built binary, running.
type gatewayProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *testutil.SyncBuffer
}

// startGatewayProcess runs the built binary (testbin.Build) with the
// configuration file config and Redis at redisURL on a free port, and waits
// for its banner; it is killed when the test ends.
func startGatewayProcess(t *testing.T, config, redisURL string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(testbin.Build(t), "--config", config)
	cmd.Env = append(os.Environ(), "CRMGATE_LISTEN=127.0.0.1:0", "CRMGATE_REDIS_URL="+redisURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g := &gatewayProcess{cmd: cmd, stderr: &testutil.SyncBuffer{}}
	cmd.Stderr = g.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	banner := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`crmgate listening on (http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				banner <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case g.url = <-banner:
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway printed no banner:\n%s", g.stderr)
	}
	return g
}

// The crash test: a gateway process killed with SIGKILL in the middle of a
// 10 000-record import with an Idempotency-Key, on a real Redis; a new
// process on the same Redis answers the retry with the same key and body once
// the dead one's lease has lapsed (seconds, not minutes), with one result per
// record, having sent again only the records of calls that were in flight at
// the kill: no record the provider had answered is received twice.
func TestCrashMidImportResumesWithTheSameKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills gateway processes")
	}
	rs := redistest.StartProcess(t)
	peer, peerURL := newCrashPeer(t, 100*time.Millisecond, nil)
	config := writeConfig(t, fmt.Sprintf(`request_timeout: 5m
auth: {jwt: {hs256_secret: %q}}
connections:
  - {id: cdp, provider: nxlink, base_url: %q, access_key: ak, access_secret: sk, tenant_id: 123, app_key: app, timeout: 2m}
`, crashSecret, peerURL))
	tok := apptest.Mint(t, []byte(crashSecret), "crm-app", []string{auth.ScopeCustomersWrite}, "cdp")
	const n = 10000
	var b strings.Builder
	b.WriteString(`{"connection":"cdp","customers":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ref":"r%d","name":"Customer %d","whatsapp":"+86 138 %08d"}`, i, i, i)
	}
	b.WriteString(`]}`)
	body := b.String()
	post := func(base string) (apptest.Reply, error) {
		return apptest.Send(context.Background(), http.MethodPost, base+"/v1/customers", tok, body, "Idempotency-Key", "import-2026-12-01")
	}

	// The first gateway takes the import and dies a third of the way in.
	first := startGatewayProcess(t, config, rs.URL())
	go func() { _, _ = post(first.url) }()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if _, answers := peer.counts(); answers >= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import never got going:\n%s", first.stderr)
		}
	}
	answered := peer.freeze()
	// Every call the provider answered is journaled before the kill (the
	// calls then in flight are not answered until the gateway is gone).
	rdb := rs.Client()
	testutil.EventuallyNil(t, time.Minute, fmt.Sprintf("the journal holds the %d answered calls", answered), func() error {
		keys, _ := rdb.Keys(context.Background(), "crmgate:idem:*:journal").Result()
		if len(keys) == 1 {
			if l, _ := rdb.LLen(context.Background(), keys[0]).Result(); int(l) == answered {
				return nil
			}
		}
		return fmt.Errorf("keys %v", keys)
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	killed := time.Now()
	calls, _ := peer.counts()
	if calls >= n/100 {
		t.Fatalf("every call had gone out before the kill (%d calls): the test proves nothing", calls)
	}
	peer.unfreeze()
	answeredBefore := peer.answeredSoFar()

	// A new gateway on the same Redis answers the retry once the lease lapsed.
	second := startGatewayProcess(t, config, rs.URL())
	var (
		r      apptest.Reply
		err    error
		sentAt time.Time
		busy   int
	)
	for {
		sentAt = time.Now()
		if r, err = post(second.url); err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusConflict {
			break
		}
		busy++
		if time.Since(killed) > 3*idempotency.DefaultLease+30*time.Second {
			t.Fatalf("the retry was still refused %s after the kill: %s", time.Since(killed), r.Body)
		}
		wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("retry: %d %s\n%s", r.Status, r.Body, second.stderr)
	}
	if blocked := sentAt.Sub(killed); blocked > 3*idempotency.DefaultLease {
		t.Errorf("the retry was blocked %s (%d answers 409); the lease is %s", blocked, busy, idempotency.DefaultLease)
	}
	var ans struct {
		Total, Succeeded, Failed, Unknown int
		Results                           []struct {
			Index  int
			Status string
		}
		ProviderCalls []struct {
			Records int
			Note    string
		} `json:"provider_calls"`
	}
	if err := json.Unmarshal(r.Body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Total != n || len(ans.Results) != n || ans.Succeeded != n || ans.Failed+ans.Unknown != 0 {
		t.Fatalf("answer: total %d, %d results, %d succeeded, %d failed, %d unknown", ans.Total, len(ans.Results), ans.Succeeded, ans.Failed, ans.Unknown)
	}
	for i, r := range ans.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
	}
	replayed, records := 0, 0
	for _, c := range ans.ProviderCalls {
		records += c.Records
		if strings.Contains(c.Note, "interrupted") {
			replayed++
		}
	}
	if replayed != answered || records != n {
		t.Errorf("provider_calls: %d marked as answered before the crash (want %d), %d records in all (want %d)", replayed, answered, records, n)
	}

	// What the provider saw: every record at least once; twice only those
	// of calls in flight at the kill, never one whose call was answered.
	peer.mu.Lock()
	defer peer.mu.Unlock()
	twice := 0
	for i := 0; i < n; i++ {
		if peer.sentTwice(t, fmt.Sprintf("record %d", i), fmt.Sprintf("86138%08d", i), answeredBefore) {
			twice++
		}
	}
	if len(answeredBefore) != answered*100 {
		t.Errorf("%d records answered before the kill in %d calls", len(answeredBefore), answered)
	}
	t.Logf("%d calls answered before the kill, %d records in flight sent again, retry blocked %s (%d × 409)", answered, twice, sentAt.Sub(killed), busy)
}
