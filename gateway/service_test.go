package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/schema"
)

// flaky fails its first n calls as unavailable, then accepts everything.
type flaky struct {
	fails          atomic.Int32
	calls          atomic.Int32
	perCall        int
	mu             sync.Mutex
	inFlight, peak int
}

func (f *flaky) Modes() []string { return []string{ModeMerge} }
func (f *flaky) Translate(Op, fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return nil, nil, nil
}
func (f *flaky) Plan(_ Op, recs []Record) ([]Call, error) {
	per := max(f.perCall, 1)
	var calls []Call
	for i := 0; i < len(recs); i += per {
		calls = append(calls, Call{Method: "POST", Path: "/x", Records: recs[i:min(i+per, len(recs))]})
	}
	return calls, nil
}
func (f *flaky) Do(ctx context.Context, call *Call) (CallResult, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	time.Sleep(time.Millisecond)
	if f.fails.Add(-1) >= 0 {
		return CallResult{}, fmt.Errorf("flaky: %w: 503", ErrUnavailable)
	}
	out := make([]Outcome, len(call.Records))
	for i := range out {
		out[i] = Outcome{Status: StatusSucceeded}
	}
	return CallResult{Outcomes: out}, nil
}

type noRules struct{}

func (noRules) Rules(string) *fieldconfig.Rules { return nil }

func records(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"ref":"r%d"}`, i))
	}
	return out
}

func newConn(t *testing.T, p Provider, common Common) *Connection {
	t.Helper()
	if common.ID == "" {
		common.ID, common.Provider, common.BaseURL = "c", "fake", "http://127.0.0.1:1"
	}
	c, err := NewConnection(common, p, nil, noRules{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var fast = &Service{Retry: RetryPolicy{Base: time.Millisecond, Cap: 2 * time.Millisecond}}

func TestRetriesThenUnknown(t *testing.T) {
	t.Parallel()
	f := &flaky{}
	f.fails.Store(100)
	conn := newConn(t, f, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Retries: new(2)})
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Unknown != 1 || ans.ProviderCalls[0].Attempts != 3 || f.calls.Load() != 3 {
		t.Fatalf("answer %+v after %d calls", ans, f.calls.Load())
	}
	if ans.Results[0].Errors[0].Code != schema.CodeProviderUnavailable {
		t.Errorf("errors %+v", ans.Results[0].Errors)
	}
	// The record reads the failure as a sentence; the call's report keeps
	// the adapter's own error for support.
	if msg := ans.Results[0].Errors[0].Message; msg != "the provider did not answer after 3 attempt(s): the provider could not be reached, or did not answer in time; "+
		"the record may or may not be stored, retry with the same Idempotency-Key" {
		t.Errorf("message %q", msg)
	}
	if e := ans.ProviderCalls[0].Error; !strings.Contains(e, "flaky: provider unavailable: 503") {
		t.Errorf("provider_calls error %q, want the adapter's error", e)
	}
}

func TestBreakerOpensAndFailsFast(t *testing.T) {
	t.Parallel()
	f := &flaky{}
	f.fails.Store(100)
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	conn := newConn(t, f, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Retries: new(1)})
	conn.Breaker = &Breaker{Threshold: 3, Cooldown: 10 * time.Second, Now: clock}
	req := Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)}
	// Two calls of two attempts: the third failure in a row opens the circuit.
	for i := 0; i < 2; i++ {
		if _, err := fast.Import(context.Background(), conn, req); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.calls.Load()
	if calls != 3 {
		t.Fatalf("%d calls, want the circuit to stop the 4th attempt", calls)
	}
	ans, _ := fast.Import(context.Background(), conn, req)
	r := ans.Results[0]
	if f.calls.Load() != calls || r.Status != StatusFailed || !errors.Is(ErrCircuitOpen, ErrUnavailable) || r.RetryAfter != 10 {
		t.Fatalf("while open: %d calls, result %+v", f.calls.Load(), r)
	}
	if msg := r.Errors[0].Message; msg != "not sent: the provider failed repeatedly, so calls to it are paused; retry in 10 s" {
		t.Errorf("while open: message %q", msg)
	}
	// After the cool-down one trial goes out; its success closes the circuit.
	f.fails.Store(0)
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	ans, _ = fast.Import(context.Background(), conn, req)
	if st := conn.Breaker.State(); ans.Succeeded != 1 || st != "closed" {
		t.Fatalf("after the cool-down: %+v", ans)
	}
}

func TestConcurrencyBoundPerConnection(t *testing.T) {
	t.Parallel()
	f := &flaky{perCall: 1}
	conn := newConn(t, f, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Concurrency: 3})
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(30)})
	if err != nil || ans.Succeeded != 30 {
		t.Fatalf("%+v %v", ans, err)
	}
	if f.peak > 3 {
		t.Errorf("%d calls in flight at once, the connection allows 3", f.peak)
	}
}

func TestSequenceStopsAfterAFailedCall(t *testing.T) {
	t.Parallel()
	f := &flaky{perCall: 1}
	f.fails.Store(100)
	conn := newConn(t, &sequenced{f}, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Retries: new(0)})
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(3)})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Results[0].Status != StatusUnknown || ans.Results[1].Status != StatusFailed || ans.Results[1].Errors[0].Code != schema.CodeNotSent {
		t.Fatalf("%+v", ans.Results)
	}
}

// sequenced puts every call in one sequence.
type sequenced struct{ *flaky }

func (s *sequenced) Plan(op Op, recs []Record) ([]Call, error) {
	calls, err := s.flaky.Plan(op, recs)
	for i := range calls {
		calls[i].Sequence = "agent"
	}
	return calls, err
}

func TestUnsupportedModeSendsNothing(t *testing.T) {
	t.Parallel()
	f := &flaky{}
	conn := newConn(t, f, Common{})
	_, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeReplace}, Customers: records(1)})
	if !errors.Is(err, ErrUnsupported) || f.calls.Load() != 0 {
		t.Fatalf("err %v, %d calls", err, f.calls.Load())
	}
	if errors.Is(err, ErrUnknownMode) {
		t.Errorf("replace is a known mode: %v", err)
	}
	_, err = fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindPoolAppend}, Customers: records(1)})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("pool on a provider without one: %v", err)
	}
	for _, mode := range []string{"", "upsert", "append"} {
		_, err = fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: mode}, Customers: records(1)})
		if !errors.Is(err, ErrUnknownMode) || !errors.Is(err, ErrUnsupported) || f.calls.Load() != 0 {
			t.Errorf("mode %q: %v, %d calls", mode, err, f.calls.Load())
		}
	}
	if err := CheckOp(conn, Op{Kind: KindImport, Mode: ModeMerge}); err != nil {
		t.Errorf("merge: %v", err)
	}
}

// streaming plans calls of two and lets the service send them window by window.
type streaming struct{ *flaky }

func (s *streaming) StreamWindow(Op) int { return 2 }

func TestStreamingWindowsKeepOneResultPerRecord(t *testing.T) {
	t.Parallel()
	f := &flaky{perCall: 2}
	conn := newConn(t, &streaming{f}, Common{})
	raw := records(7)
	raw[3] = json.RawMessage(`{"ref":"bad","level":9}`)
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: raw})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Total != 7 || ans.Succeeded != 6 || ans.Failed != 1 || ans.Results[3].Status != StatusFailed {
		t.Fatalf("%+v", ans.Results)
	}
	// Six valid records in windows of two: three full calls, nothing left over.
	if f.calls.Load() != 3 || len(ans.ProviderCalls) != 3 {
		t.Fatalf("%d calls, %d reports", f.calls.Load(), len(ans.ProviderCalls))
	}
	for i, r := range ans.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
	}
	// all_or_nothing turns streaming off: nothing may go out before every record is checked.
	f2 := &flaky{perCall: 2}
	conn2 := newConn(t, &streaming{f2}, Common{})
	ans, _ = fast.Import(context.Background(), conn2, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: raw, AllOrNothing: true})
	if f2.calls.Load() != 0 || ans.Failed != 7 {
		t.Fatalf("all_or_nothing with streaming sent %d calls: %+v", f2.calls.Load(), ans)
	}
}

// countingPlans counts the calls planned and answered, and the most that
// were planned and not yet answered when a plan began.
type countingPlans struct {
	*streaming
	planned, answered atomic.Int32
	mostOpen          atomic.Int32
}

func (c *countingPlans) Plan(op Op, recs []Record) ([]Call, error) {
	open := c.planned.Load() - c.answered.Load()
	for m := c.mostOpen.Load(); open > m && !c.mostOpen.CompareAndSwap(m, open); m = c.mostOpen.Load() {
	}
	calls, err := c.streaming.Plan(op, recs)
	c.planned.Add(int32(len(calls)))
	return calls, err
}

func (c *countingPlans) Do(ctx context.Context, call *Call) (CallResult, error) {
	defer c.answered.Add(1)
	return c.streaming.Do(ctx, call)
}

// A streaming import checks ahead of its calls by a few rounds at most: a
// call's body lives from its plan to its answer.
func TestStreamingPlansAtMostARoundAhead(t *testing.T) {
	t.Parallel()
	p := &countingPlans{streaming: &streaming{&flaky{perCall: 2}}}
	conn := newConn(t, p, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Concurrency: 2})
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(400)})
	if err != nil || ans.Succeeded != 400 || p.planned.Load() != 200 {
		t.Fatalf("%v: %d succeeded, %d calls", err, ans.Succeeded, p.planned.Load())
	}
	if m := p.mostOpen.Load(); m > 4*2 {
		t.Errorf("%d calls planned and unanswered when another was planned; at most 8 (four rounds of concurrency 2)", m)
	}
}

// badPlan cannot encode its records.
type badPlan struct{ *flaky }

func (badPlan) Plan(Op, []Record) ([]Call, error) { return nil, errors.New("cannot encode") }

func TestPlanFailureFailsRecordsNotTheRequest(t *testing.T) {
	t.Parallel()
	f := &flaky{}
	conn := newConn(t, badPlan{f}, Common{})
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(2)})
	if err != nil || ans.Failed != 2 || f.calls.Load() != 0 || ans.Results[0].Errors[0].Code != schema.CodeInvalidValue {
		t.Fatalf("%+v %v", ans, err)
	}
}

// The request's Input says which list holds the records: decoded records
// are checked as they are (normalised in place) and the raw list is not
// read; raw records are decoded and the decoded list is not read.
func TestRequestInput(t *testing.T) {
	t.Parallel()
	conn := newConn(t, &flaky{}, Common{})
	merge := Op{Kind: KindImport, Mode: ModeMerge}
	decoded := []schema.Customer{{Ref: "d0", WhatsApp: "+86 152 6666 7780"}, {Ref: "d1", Gender: "other"}}
	ans, err := fast.Import(context.Background(), conn, Request{Op: merge, Input: InputDecoded, Decoded: decoded, Customers: records(5), ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Results) != 2 || ans.Results[0].Ref != "d0" || ans.Results[0].Status != StatusValid || ans.Results[1].Status != StatusFailed {
		t.Fatalf("decoded: %+v", ans.Results)
	}
	if decoded[0].WhatsApp != "8615266667780" {
		t.Errorf("decoded record not normalised in place: %q", decoded[0].WhatsApp)
	}
	ans, err = fast.Import(context.Background(), conn, Request{Op: merge, Customers: records(3), Decoded: decoded, ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Results) != 3 || ans.Results[2].Ref != "r2" || ans.Results[2].Status != StatusValid {
		t.Fatalf("raw: %+v", ans.Results)
	}
}

// panicking panics in every call.
type panicking struct{ *flaky }

func (p *panicking) Do(context.Context, *Call) (CallResult, error) { panic("adapter bug") }

// The request's last group of calls runs on the goroutine that called
// Import, not on one of its own: a single-record import starts no goroutine,
// and a panic in that call reaches Import's caller (the API's recoverer
// answers 500) instead of ending the process.
func TestLastCallRunsOnTheCallersGoroutine(t *testing.T) {
	t.Parallel()
	conn := newConn(t, &panicking{&flaky{}}, Common{})
	defer func() {
		if v := recover(); v != "adapter bug" {
			t.Fatalf("recovered %v, want the adapter's panic", v)
		}
	}()
	_, _ = fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(1)})
	t.Fatal("Import returned: the call did not run, or its panic went elsewhere")
}
