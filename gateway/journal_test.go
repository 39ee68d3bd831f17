package gateway

import (
	"context"
	"slices"
	"sync"
	"testing"

	"crmgate/api/answer"
	"crmgate/schema"
)

// answering sends calls of three records and says unknown of the record at
// input index 10; it remembers which records were sent.
type answering struct {
	flaky
	mu   sync.Mutex
	sent []int
}

func (a *answering) Do(_ context.Context, call *Call) (CallResult, error) {
	out := make([]Outcome, len(call.Records))
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range call.Records {
		a.sent = append(a.sent, r.Index)
		out[i] = Outcome{Status: StatusSucceeded, ProviderID: "new"}
		if r.Index == 10 {
			out[i] = Outcome{Status: StatusUnknown}
		}
	}
	return CallResult{Outcomes: out, Report: CallReport{HTTPStatus: 200}}, nil
}

// fakeJournal has some records answered already and keeps what is recorded.
type fakeJournal struct {
	answered map[int]answer.Result
	calls    []CallReport
	mu       sync.Mutex
	reads    int
	recorded [][]answer.Result
}

func (j *fakeJournal) Answered() (map[int]answer.Result, []CallReport) {
	j.reads++
	return j.answered, j.calls
}

func (j *fakeJournal) Record(_ context.Context, _ CallReport, results []answer.Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recorded = append(j.recorded, slices.Clone(results))
}

// An import with a journal that already holds some calls' outcomes sends
// only the other records, answers one result per record (the journaled ones
// as they were answered) and lists the journaled calls; each new call that
// went through is recorded with its answered records only.
func TestJournalledRecordsAreNotSentAgain(t *testing.T) {
	t.Parallel()
	for _, window := range []int{0, 3} {
		p := &answering{flaky: flaky{perCall: 3}}
		var prov Provider = p
		if window > 0 {
			prov = &streamingAnswering{p}
		}
		conn := newConn(t, prov, Common{})
		j := &fakeJournal{answered: map[int]answer.Result{}, calls: []CallReport{{Path: "/x", Records: 3, Note: "earlier"}, {Path: "/x", Records: 3, Note: "earlier"}}}
		for _, i := range []int{0, 1, 2, 6, 7, 8} {
			j.answered[i] = answer.Result{Index: i, Status: StatusSucceeded, ProviderID: "old"}
		}
		j.answered[7] = answer.Result{Index: 7, Status: StatusFailed, Errors: []schema.Issue{{Code: schema.CodeProviderRejected, Message: "no"}}}
		ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(12), Journal: j})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(p.sent)
		if want := []int{3, 4, 5, 9, 10, 11}; !slices.Equal(p.sent, want) {
			t.Fatalf("window %d: sent %v, want %v", window, p.sent, want)
		}
		if ans.Total != 12 || ans.Succeeded != 10 || ans.Failed != 1 || ans.Unknown != 1 {
			t.Fatalf("window %d: %d/%d/%d of %d", window, ans.Succeeded, ans.Failed, ans.Unknown, ans.Total)
		}
		for i, r := range ans.Results {
			want := "new"
			if _, ok := j.answered[i]; ok {
				want = "old"
			}
			if r.Index != i || (r.Status == StatusSucceeded && r.ProviderID != want) || r.Warnings == nil {
				t.Errorf("window %d: result %d = %+v", window, i, r)
			}
		}
		if len(ans.ProviderCalls) != 4 || ans.ProviderCalls[0].Note != "earlier" || ans.ProviderCalls[2].Note != "" {
			t.Errorf("window %d: provider_calls %+v", window, ans.ProviderCalls)
		}
		if j.reads != 1 || len(j.recorded) != 2 {
			t.Fatalf("window %d: %d reads, recorded %+v", window, j.reads, j.recorded)
		}
		var got []int
		for _, call := range j.recorded {
			for _, r := range call {
				got = append(got, r.Index)
			}
		}
		slices.Sort(got)
		if want := []int{3, 4, 5, 9, 11}; !slices.Equal(got, want) {
			t.Errorf("window %d: recorded %v, want %v (an unknown record is sent again by a retry)", window, got, want)
		}
	}
}

type streamingAnswering struct{ *answering }

func (s *streamingAnswering) StreamWindow(Op) int { return 3 }

// Without a journal nothing is recorded; validation never reads one.
func TestValidateIgnoresTheJournal(t *testing.T) {
	t.Parallel()
	p := &answering{flaky: flaky{perCall: 3}}
	conn := newConn(t, p, Common{})
	j := &fakeJournal{answered: map[int]answer.Result{0: {Status: StatusSucceeded}}}
	ans, err := fast.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(2), ValidateOnly: true, Journal: j})
	if err != nil || j.reads != 0 || *ans.Valid != 2 {
		t.Fatalf("%+v %v, %d reads", ans, err, j.reads)
	}
}
