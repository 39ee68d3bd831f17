package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/redistest"
	"crmgate/jobs"
	"crmgate/schema"
)

// fakeProvider stores every record it is sent, answering each succeeded.
type fakeProvider struct{ sent atomic.Int64 }

func (p *fakeProvider) Modes() []string { return []string{gateway.ModeMerge} }
func (p *fakeProvider) Translate(_ gateway.Op, c *schema.Customer, _ *fieldconfig.Rules) (any, []schema.Issue, []schema.Issue) {
	return c.WhatsApp, nil, nil
}
func (p *fakeProvider) Plan(_ gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	return []gateway.Call{{Method: "POST", Path: "/x", Records: recs}}, nil
}
func (p *fakeProvider) Do(_ context.Context, call *gateway.Call) (gateway.CallResult, error) {
	p.sent.Add(int64(len(call.Records)))
	out := make([]gateway.Outcome, len(call.Records))
	for i := range out {
		out[i].Status = gateway.StatusSucceeded
	}
	return gateway.CallResult{Outcomes: out, Report: gateway.CallReport{Path: "/x", HTTPStatus: 200}}, nil
}
func (p *fakeProvider) ChunkSize(gateway.Op) int { return 10 }

type noRules struct{}

func (noRules) Rules(string) *fieldconfig.Rules { return fieldconfig.MustCompile(fieldconfig.Config{}) }

func newConn(t *testing.T, p gateway.Provider) *gateway.Connection {
	t.Helper()
	c, err := gateway.NewConnection(gateway.Common{ID: "c1", Provider: "fake", BaseURL: "http://127.0.0.1:1"}.WithDefaults(), p, nil, noRules{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t *testing.T, e *jobs.Engine, conn *gateway.Connection, n int) *jobs.Job {
	t.Helper()
	b := e.NewBuilder(jobs.Spec{Connection: conn, CreatedBy: "app", Mode: gateway.ModeMerge, Dedupe: true, Source: jobs.Source{Kind: jobs.KindJSON}})
	for i := range n {
		rec, _ := json.Marshal(map[string]string{"name": "x", "whatsapp": fmt.Sprintf("+86 152 6666 %04d", i)})
		b.Add(jobs.Item{Record: rec})
	}
	j, err := b.Commit(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func waitEnded(t *testing.T, ended chan *jobs.Job) *jobs.Job {
	t.Helper()
	select {
	case j := <-ended:
		return j
	case <-time.After(30 * time.Second):
		t.Fatal("no job ended")
		return nil
	}
}

// A job whose connection is gone ends failed with its reason, and its rows
// failed unsent; the counters still add up.
func TestEngineConnectionGone(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testEngineConnectionGone(t, jobs.Options{}) })
	for _, b := range redistest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			rdb, prefix := b.Open(t)
			testEngineConnectionGone(t, jobs.Options{Redis: rdb, RedisPrefix: prefix})
		})
	}
}

func testEngineConnectionGone(t *testing.T, o jobs.Options) {
	p := &fakeProvider{}
	conn := newConn(t, p)
	var gone atomic.Bool
	ended := make(chan *jobs.Job, 4)
	o.Service, o.Workers = &gateway.Service{}, 2
	o.Connection = func(string) *gateway.Connection {
		if gone.Load() {
			return nil
		}
		return conn
	}
	o.OnEnd = func(j *jobs.Job) { ended <- j }
	e := jobs.NewEngine(o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Run(ctx) }()

	ok := build(t, e, conn, 35)
	j := waitEnded(t, ended)
	if j.ID != ok.ID || j.Status != jobs.StatusCompleted || j.Succeeded != 35 || j.Pending != 0 || j.Chunks != 4 {
		t.Fatalf("completed %+v", j)
	}
	gone.Store(true)
	failed := build(t, e, conn, 35)
	j = waitEnded(t, ended)
	if j.ID != failed.ID || j.Status != jobs.StatusFailed || j.Error == "" || j.Failed != 35 || j.Pending != 0 ||
		j.Pending+j.Succeeded+j.Failed+j.Unknown != j.Total {
		t.Fatalf("failed %+v", j)
	}
	if p.sent.Load() != 35 {
		t.Fatalf("%d records sent, want only the first job's 35", p.sent.Load())
	}
}
