package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/memtest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
	"crmgate/jobs"
	"crmgate/schema"
)

// fakeProvider stores every record it is sent, answering each succeeded.
type fakeProvider struct{ sent atomic.Int64 }

func (p *fakeProvider) Modes() []string { return []string{gateway.ModeMerge} }
func (p *fakeProvider) Translate(_ gateway.Op, k fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	c := k.Customer()
	return c.WhatsApp, nil, nil
}
func (p *fakeProvider) Plan(_ gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	return []gateway.Call{{Method: "POST", Path: "/x", Records: recs}}, nil
}
func (p *fakeProvider) Do(_ context.Context, call *gateway.Call) (gateway.CallResult, error) {
	p.sent.Add(int64(len(call.Records)))
	out := make([]gateway.Outcome, len(call.Records))
	for i := range out {
		out[i].Status = answer.StatusSucceeded
	}
	return gateway.CallResult{Outcomes: out, Report: answer.CallReport{Path: "/x", HTTPStatus: 200}}, nil
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

// On Redis, an ended job and its chunks' keys expire after the retention:
// it is then gone from Get, List and Chunk.
func TestRedisEngineRetention(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	p := &fakeProvider{}
	conn := newConn(t, p)
	ended := make(chan *jobs.Job, 1)
	e := jobs.NewEngine(jobs.Options{Service: &gateway.Service{}, Workers: 2, Connection: func(string) *gateway.Connection { return conn },
		OnEnd: func(j *jobs.Job) { ended <- j }, Redis: rdb, RedisPrefix: prefix, Retention: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Run(ctx) }()
	j := build(t, e, conn, 25)
	if done := waitEnded(t, ended); done.ID != j.ID || done.Status != jobs.StatusCompleted || done.Succeeded != 25 {
		t.Fatalf("ended %+v", done)
	}
	if _, rs, err := e.Chunk(ctx, j.ID, 2); err != nil || len(rs) != 5 {
		t.Fatalf("last chunk: %d results, %v", len(rs), err)
	}
	testutil.Eventually(t, 30*time.Second, "the job to go with its retention", func() bool {
		_, err := e.Get(ctx, j.ID)
		return errors.Is(err, jobs.ErrNotFound)
	})
	if list, _, err := e.List(ctx, jobs.Filter{}); err != nil || len(list) != 0 {
		t.Fatalf("listed after its retention: %d, %v", len(list), err)
	}
	if n, err := rdb.Keys(ctx, prefix+"{job:"+j.ID+"}*").Result(); err != nil || len(n) != 0 {
		t.Fatalf("keys left after the retention: %v %v", n, err)
	}
}

// The in-process engine keeps a job's rows on disk, not in the heap: a job
// of 100 000 rows of cells and records, built and queued, grows the heap by
// its per-chunk state only; its chunks read back as they were added.
func TestMemoryEngineKeepsRowsOutOfTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100 000-row job")
	}
	conn := newConn(t, &fakeProvider{})
	e := jobs.NewEngine(jobs.Options{Service: &gateway.Service{}, Connection: func(string) *gateway.Connection { return conn }, TempDir: t.TempDir()})
	heap := memtest.HeapAlloc
	const rows = 100_000
	item := func(i int) jobs.Item {
		phone := fmt.Sprintf("+86 152 %04d %04d", i/10000, i%10000)
		rec, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("Customer %d", i), "whatsapp": phone,
			"remarks": fmt.Sprintf("a remark long enough to weigh something in memory %d", i)})
		return jobs.Item{Row: i + 2, Record: rec, Ref: fmt.Sprintf("r-%d", i),
			Cells: []string{fmt.Sprintf("Customer %d", i), phone, fmt.Sprintf("a remark long enough to weigh something in memory %d", i)}}
	}
	before := heap()
	b := e.NewBuilder(jobs.Spec{Connection: conn, CreatedBy: "app", Mode: gateway.ModeMerge, Source: jobs.Source{Kind: jobs.KindCSV}})
	var peak uint64
	for i := range rows {
		b.AddRow(item(i), "")
		if i%20_000 == 0 {
			peak = max(peak, heap())
		}
	}
	j, err := b.Commit(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	peak = max(peak, heap())
	growth := int64(peak) - int64(before)
	t.Logf("heap growth at most %d bytes for %d rows in %d chunks", growth, rows, j.Chunks)
	if limit := int64(8 << 20); growth > limit {
		t.Errorf("the heap grew by %d bytes building a job of %d rows; want under %d", growth, rows, limit)
	}
	for _, no := range []int{0, j.Chunks / 2, j.Chunks - 1} {
		items, rs, err := e.Chunk(context.Background(), j.ID, no)
		if err != nil || rs != nil || len(items) != j.ChunkSize {
			t.Fatalf("chunk %d: %d items, results %v, %v", no, len(items), rs, err)
		}
		for k, it := range items {
			want := item(no*j.ChunkSize + k)
			want.Index = no*j.ChunkSize + k
			if !reflect.DeepEqual(it, want) {
				t.Fatalf("chunk %d item %d read back as %+v, want %+v", no, k, it, want)
			}
		}
	}
}

// countHook counts the commands of one name a Redis client sends, piped or
// not.
type countHook struct {
	name string
	n    atomic.Int64
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == h.name {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == h.name {
				h.n.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}

// On Redis, GET /v1/imports reads the page, not every job: an app's jobs
// come from its own index, a page of n jobs reads n + 1 of them; pages
// follow each other newest first (by id), each job once, however many share
// a millisecond.
func TestRedisEngineListReadsThePage(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	reads := &countHook{name: "hgetall"}
	rdb.AddHook(reads)
	conn := newConn(t, &fakeProvider{})
	e := jobs.NewEngine(jobs.Options{Service: &gateway.Service{}, Connection: func(string) *gateway.Connection { return conn },
		Redis: rdb, RedisPrefix: prefix})
	ctx := context.Background()
	create := func(app string, n int) []string {
		var ids []string
		for range n {
			b := e.NewBuilder(jobs.Spec{Connection: conn, CreatedBy: app, Mode: gateway.ModeMerge, Source: jobs.Source{Kind: jobs.KindJSON}})
			b.Add(jobs.Item{Record: json.RawMessage(`{"name":"x"}`)})
			j, err := b.Commit(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		// Newest first: ids sort as their jobs were created, to the
		// millisecond (within one, by their random part).
		slices.Sort(ids)
		slices.Reverse(ids)
		return ids
	}
	many := create("busy-app", 150)
	few := create("quiet-app", 3)
	page := func(f jobs.Filter) ([]string, bool, int64) {
		t.Helper()
		before := reads.n.Load()
		list, more, err := e.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(list))
		for i, j := range list {
			ids[i] = j.ID
		}
		return ids, more, reads.n.Load() - before
	}
	got, more, n := page(jobs.Filter{CreatedBy: "quiet-app", Limit: 2})
	if !slices.Equal(got, few[:2]) || !more || n > 3 {
		t.Fatalf("first page %v (more %v) reading %d jobs; want %v, more, at most 3 read", got, more, n, few[:2])
	}
	got, more, _ = page(jobs.Filter{CreatedBy: "quiet-app", Limit: 2, After: got[1]})
	if !slices.Equal(got, few[2:]) || more {
		t.Fatalf("second page %v (more %v); want %v", got, more, few[2:])
	}
	var all []string
	for after := ""; ; {
		got, more, n := page(jobs.Filter{CreatedBy: "busy-app", Limit: 40, After: after})
		if n > 41 {
			t.Fatalf("a page of 40 read %d jobs", n)
		}
		all = append(all, got...)
		if !more {
			break
		}
		after = got[len(got)-1]
	}
	if !slices.Equal(all, many) {
		t.Fatalf("paged through %d jobs, want the %d in order", len(all), len(many))
	}
	every := append(slices.Clone(many), few...)
	slices.Sort(every)
	slices.Reverse(every)
	if got, _, n := page(jobs.Filter{Limit: 5}); !slices.Equal(got, every[:5]) || n > 6 {
		t.Fatalf("every app's first page %v reading %d jobs; want %v, at most 6 read", got, n, every[:5])
	}
}

// On Redis a job's metadata hash keeps a fixed few fields however many
// chunks it has (read on every chunk sent and every GET, it must not grow
// with them): a job of 3 000 rows in 300 chunks completes with every row,
// its hash as small as a job of one chunk's.
func TestRedisEngineJobHashStaysSmall(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	conn := newConn(t, &fakeProvider{})
	ended := make(chan *jobs.Job, 1)
	e := jobs.NewEngine(jobs.Options{Service: &gateway.Service{}, Workers: 4, Connection: func(string) *gateway.Connection { return conn },
		OnEnd: func(j *jobs.Job) { ended <- j }, Redis: rdb, RedisPrefix: prefix})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Run(ctx) }()
	j := build(t, e, conn, 3000)
	if done := waitEnded(t, ended); done.ID != j.ID || done.Succeeded != 3000 || done.Chunks != 300 || done.Pending != 0 {
		t.Fatalf("ended %+v", done)
	}
	if n, err := rdb.HLen(ctx, prefix+"{job:"+j.ID+"}:meta").Result(); err != nil || n > 20 {
		t.Fatalf("the job's hash holds %d fields (%v) for %d chunks", n, err, j.Chunks)
	}
}
