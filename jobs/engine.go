package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/schema"
)

// Engine defaults.
const (
	DefaultWorkers      = 16
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultLease        = 30 * time.Second
	DefaultChunkTimeout = 60 * time.Second
	// defaultChunk is the chunk size for a provider that does not say.
	defaultChunk = 100
)

// Errors of the engine.
var (
	ErrNotFound = errors.New("no such import job")
	ErrEnded    = errors.New("the import job has ended")
)

// Options configure an Engine. Service and Connection are required.
type Options struct {
	Service *gateway.Service
	// Connection finds a job's connection by id (nil when it is gone: the
	// job then fails).
	Connection func(id string) *gateway.Connection
	// Workers is how many chunks this engine takes at once
	// (DefaultWorkers). A connection's own concurrency bounds its calls
	// beside it: workers beyond it check and translate their chunk while
	// the others' calls are in flight.
	Workers int
	// ChunkTimeout bounds one chunk's import, retries included.
	ChunkTimeout time.Duration
	// Retention is how long an ended job and its results are kept.
	Retention time.Duration
	// OnEnd is told of every job that ended (completed, canceled, failed),
	// once: for the import.* events. It must not block for long.
	OnEnd func(*Job)
	// OnChunk is told of every chunk sent (not of a dry run's) once its
	// results are stored, with the chunk's items (their Cells may be left
	// out) and their results in the same order: for the customers' history. A chunk taken over after a
	// replica died may be told twice. It must not block for long.
	OnChunk func(job *Job, items []Item, results []Result)
	Logger  *slog.Logger
	// TempDir is where the in-process engine keeps each job's chunks, in
	// one unlinked temporary file a job (the system's temporary directory
	// when empty).
	TempDir string

	// Redis, when set, holds the jobs and queues their chunks for every
	// replica on it (keys under RedisPrefix); Lease is how long a chunk
	// taken by a replica that stopped answering waits before another
	// takes it over (DefaultLease), and the lease of a slot of a
	// connection's concurrency. Consumer names this replica in the
	// stream's consumer group (host, pid and a random part when empty).
	Redis       redis.UniversalClient
	RedisPrefix string
	Lease       time.Duration
	Consumer    string
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.ChunkTimeout <= 0 {
		o.ChunkTimeout = DefaultChunkTimeout
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	return o
}

// chunk states.
const (
	chunkQueued = iota
	chunkSending
	chunkDone
)

// memJob is a job in the process: its counters and its chunks' states
// here, the chunks' inputs and results in its spill (a few dozen bytes a
// chunk in memory, whatever the size of the job).
type memJob struct {
	job      *Job
	spill    *spill
	inputs   []span
	results  []span
	kept     map[int][]Result // results the spill could not take
	state    []uint8
	attempts []int32
	done     int // chunks done
	canceled bool
	failing  bool // fail is settling the chunks: the job ends failed
	ended    time.Time
}

type chunkRef struct {
	job string
	no  int
}

// Engine runs import jobs: in the process (jobs do not survive a restart),
// or with Options.Redis on every replica of one Redis. Each chunk goes
// through gateway.Service.Import, the same path as POST /v1/customers.
type Engine struct {
	o Options
	r *redisEngine

	mu    sync.Mutex
	jobs  map[string]*memJob
	queue []chunkRef
	wake  chan struct{}
}

// NewEngine returns an engine; Run sends its chunks.
func NewEngine(o Options) *Engine {
	if o.Service == nil || o.Connection == nil {
		panic("jobs.NewEngine: Service and Connection are required")
	}
	e := &Engine{o: o.withDefaults(), jobs: map[string]*memJob{}, wake: make(chan struct{}, 1)}
	if o.Redis != nil {
		e.r = newRedisEngine(e)
	}
	return e
}

// Run sends queued chunks with Options.Workers workers until ctx ends; a
// chunk being sent then is finished (within its ChunkTimeout) and no new one
// is taken.
func (e *Engine) Run(ctx context.Context) error {
	if e.r != nil {
		return e.r.run(ctx)
	}
	var wg sync.WaitGroup
	for range e.o.Workers {
		wg.Go(func() { e.work(ctx) })
	}
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case now := <-sweep.C:
			e.expire(now)
		}
	}
}

func (e *Engine) expire(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, mj := range e.jobs {
		if !mj.ended.IsZero() && now.Sub(mj.ended) > e.o.Retention {
			delete(e.jobs, id)
			mj.spill.close()
		}
	}
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) work(ctx context.Context) {
	for {
		ref, mj, ok := e.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
				continue
			}
		}
		// More may be queued: let another worker look.
		e.signal()
		e.send(context.WithoutCancel(ctx), ref, mj)
		if ctx.Err() != nil {
			return
		}
	}
}

// take claims the next queued chunk.
func (e *Engine) take() (chunkRef, *memJob, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.queue) > 0 {
		ref := e.queue[0]
		e.queue = e.queue[1:]
		mj, ok := e.jobs[ref.job]
		if !ok || mj.state[ref.no] != chunkQueued {
			continue
		}
		mj.state[ref.no] = chunkSending
		mj.attempts[ref.no]++
		if mj.job.Status == StatusQueued {
			now := time.Now().UTC()
			mj.job.Status, mj.job.StartedAt = StatusRunning, &now
		}
		return ref, mj, true
	}
	return chunkRef{}, nil, false
}

// items reads chunk no's inputs back from the spill, their cells only
// when cells is set, and the chunk's attempts.
func (e *Engine) items(mj *memJob, no int, cells bool) ([]Item, int, error) {
	e.mu.Lock()
	in, attempt := mj.inputs[no], int(mj.attempts[no])
	e.mu.Unlock()
	b, err := mj.spill.read(in)
	if err != nil {
		return nil, attempt, err
	}
	items, err := decodeItems(b, cells)
	return items, attempt, err
}

// send imports one chunk and stores its results.
func (e *Engine) send(ctx context.Context, ref chunkRef, mj *memJob) {
	e.mu.Lock()
	job := mj.job.Clone()
	e.mu.Unlock()
	items, attempt, err := e.items(mj, ref.no, false)
	if err != nil {
		e.o.Logger.Error("import job chunk not read back", "job", job.ID, "chunk", ref.no, "err", err.Error())
		e.fail(job.ID, "its rows could not be read back from the gateway's temporary file")
		return
	}
	conn := e.o.Connection(job.Connection)
	if conn == nil {
		e.fail(job.ID, fmt.Sprintf("the connection %q is no longer configured", job.Connection))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.o.ChunkTimeout)
	defer cancel()
	results := RunChunk(ctx, e.o.Service, conn, job, items, attempt)
	if ended := e.store(mj, ref.no, results); ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
	e.chunkDone(job, items, results)
}

// chunkDone tells OnChunk of a chunk whose results are stored.
func (e *Engine) chunkDone(job *Job, items []Item, results []Result) {
	if e.o.OnChunk != nil && !job.DryRun && len(results) > 0 {
		e.o.OnChunk(job, items, results)
	}
}

// RunChunk imports one chunk's items through svc (a dry run validates
// only) and answers one Result per item, in order; rows failed before
// sending keep their errors.
func RunChunk(ctx context.Context, svc *gateway.Service, conn *gateway.Connection, job *Job, items []Item, attempt int) []Result {
	results := make([]Result, len(items))
	var send []json.RawMessage
	var at []int
	for i, it := range items {
		results[i] = Result{Result: answer.Result{Index: it.Index, Ref: it.Ref, Warnings: []schema.Issue{}}, Row: it.Row, Attempts: attempt}
		if len(it.Errors) > 0 {
			results[i].Status, results[i].Errors = answer.StatusFailed, it.Errors
			continue
		}
		send = append(send, it.Record)
		at = append(at, i)
	}
	if len(send) == 0 {
		return results
	}
	op := gateway.Op{Kind: gateway.KindImport, Mode: job.Mode, Strict: job.Strict, StrictOwner: job.StrictOwner}
	ans, err := svc.Import(ctx, conn, gateway.Request{Op: op, Customers: send, ValidateOnly: job.DryRun, DefaultRegion: job.DefaultRegion})
	for k, i := range at {
		r := &results[i]
		if err != nil {
			r.Status, r.Errors = answer.StatusFailed, []schema.Issue{schema.Issuef(schema.CodeProviderRejected, "", "%v", err)}
			continue
		}
		got := ans.Results[k]
		got.Index = items[i].Index
		if got.Ref == "" {
			got.Ref = items[i].Ref
		}
		r.Result = got
	}
	return results
}

// store keeps chunk no's results (in the spill; in memory when the spill
// cannot take them) and adds them to the job's counters in one step, unless
// the chunk is done already. It returns a copy of the job when its last
// chunk ended it (nil otherwise).
func (e *Engine) store(mj *memJob, no int, results []Result) *Job {
	b, err := json.Marshal(results)
	var sp span
	if err == nil {
		sp, err = mj.spill.write(b)
	}
	e.mu.Lock()
	if mj.state[no] == chunkDone {
		e.mu.Unlock()
		return nil
	}
	if err != nil {
		if mj.kept == nil {
			mj.kept = map[int][]Result{}
		}
		mj.kept[no] = results
	}
	mj.state[no], mj.results[no] = chunkDone, sp
	mj.done++
	mj.job.apply(countResults(results), len(results))
	ended := e.endLocked(mj)
	id := mj.job.ID
	e.mu.Unlock()
	if err != nil {
		e.o.Logger.Error("import job results kept in memory: the temporary file did not take them", "job", id, "chunk", no, "err", err.Error())
	}
	return ended
}

// endLocked ends mj when every chunk is done (unless fail is settling it)
// and returns a copy of the ended job (nil otherwise).
func (e *Engine) endLocked(mj *memJob) *Job {
	if mj.job.Status.Ended() || mj.failing || mj.done < len(mj.state) {
		return nil
	}
	now := time.Now().UTC()
	mj.job.FinishedAt, mj.ended = &now, now
	if mj.job.StartedAt == nil {
		mj.job.StartedAt = &now
	}
	mj.job.Status = StatusCompleted
	if mj.canceled {
		mj.job.Status = StatusCanceled
	}
	return mj.job.Clone()
}

// claimLocked marks mj's queued chunks taken, so that no worker sends
// them, and returns them with, when inFlight is set, the chunks being sent.
func (e *Engine) claimLocked(mj *memJob, inFlight bool) []int {
	var nos []int
	for no, s := range mj.state {
		switch {
		case s == chunkQueued:
			mj.state[no] = chunkSending
			nos = append(nos, no)
		case s == chunkSending && inFlight:
			nos = append(nos, no)
		}
	}
	return nos
}

// settle ends chunks claimed by claimLocked with their rows failed unsent
// (msg), and returns the job when the last of them ended it.
func (e *Engine) settle(mj *memJob, nos []int, msg string) *Job {
	var ended *Job
	for _, no := range nos {
		items, attempt, err := e.items(mj, no, false)
		if err != nil {
			e.o.Logger.Error("import job chunk not read back", "job", mj.job.ID, "chunk", no, "err", err.Error())
			continue
		}
		if j := e.store(mj, no, notSent(items, attempt, msg)); j != nil {
			ended = j
		}
	}
	return ended
}

// fail ends a job that cannot run: its chunks not done end with their rows
// failed, code canceled, and the job failed with reason.
func (e *Engine) fail(id, reason string) {
	e.mu.Lock()
	mj, ok := e.jobs[id]
	if !ok || mj.job.Status.Ended() || mj.failing {
		e.mu.Unlock()
		return
	}
	mj.failing, mj.canceled = true, true
	nos := e.claimLocked(mj, true)
	e.mu.Unlock()
	e.settle(mj, nos, "not sent: "+reason)
	e.mu.Lock()
	now := time.Now().UTC()
	mj.job.Status, mj.job.Error, mj.job.FinishedAt, mj.ended = StatusFailed, reason, &now, now
	ended := mj.job.Clone()
	e.mu.Unlock()
	e.o.Logger.Warn("import job failed", "job", id, "err", reason)
	if e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
}

func notSent(items []Item, attempts int, msg string) []Result {
	rs := make([]Result, len(items))
	for i, it := range items {
		rs[i] = Result{Result: answer.Result{Index: it.Index, Ref: it.Ref, Status: answer.StatusFailed, Warnings: []schema.Issue{}}, Row: it.Row, Attempts: attempts}
		if len(it.Errors) > 0 {
			rs[i].Errors = it.Errors
		} else {
			rs[i].Errors = []schema.Issue{schema.Issuef(schema.CodeCanceled, "", "%s", msg)}
		}
	}
	return rs
}

// Cancel stops sending job id: its chunks not yet sent end failed with code
// canceled; chunks being sent finish; then the job is canceled. Canceling
// an ended job is ErrEnded.
func (e *Engine) Cancel(ctx context.Context, id string) (*Job, error) {
	if e.r != nil {
		return e.r.cancel(ctx, id)
	}
	e.mu.Lock()
	mj, ok := e.jobs[id]
	if !ok {
		e.mu.Unlock()
		return nil, ErrNotFound
	}
	if mj.job.Status.Ended() || mj.failing {
		job := mj.job.Clone()
		e.mu.Unlock()
		return job, ErrEnded
	}
	mj.canceled = true
	nos := e.claimLocked(mj, false)
	e.mu.Unlock()
	if ended := e.settle(mj, nos, "not sent: the import job was canceled"); ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
	return e.Get(ctx, id)
}

// Get returns a copy of job id.
func (e *Engine) Get(ctx context.Context, id string) (*Job, error) {
	if e.r != nil {
		return e.r.get(ctx, id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	mj, ok := e.jobs[id]
	if !ok {
		return nil, ErrNotFound
	}
	return mj.job.Clone(), nil
}

// Filter selects jobs for List.
type Filter struct {
	// CreatedBy, when not empty, keeps the jobs of one app.
	CreatedBy string
	// Allowed, when not nil, keeps jobs whose connection it allows.
	Allowed    func(connection string) bool
	Connection string
	Status     Status
	// After is the id of the last job of the previous page ("" for the
	// first); jobs are listed newest first.
	After string
	Limit int
}

// List returns the jobs f selects, newest first, and whether more follow.
func (e *Engine) List(ctx context.Context, f Filter) ([]*Job, bool, error) {
	if e.r != nil {
		return e.r.list(ctx, f)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Job
	for _, mj := range e.jobs {
		j := mj.job
		if (f.CreatedBy != "" && j.CreatedBy != f.CreatedBy) || (f.Allowed != nil && !f.Allowed(j.Connection)) ||
			(f.Connection != "" && j.Connection != f.Connection) || (f.Status != "" && j.Status != f.Status) ||
			(f.After != "" && j.ID >= f.After) {
			continue
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b *Job) int { return -cmpString(a.ID, b.ID) })
	more := false
	if f.Limit > 0 && len(out) > f.Limit {
		out, more = out[:f.Limit], true
	}
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out, more, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Chunk returns chunk no of job id: its items, and its results when it is
// done (nil otherwise).
func (e *Engine) Chunk(ctx context.Context, id string, no int) ([]Item, []Result, error) {
	if e.r != nil {
		return e.r.chunk(ctx, id, no)
	}
	e.mu.Lock()
	mj, ok := e.jobs[id]
	if !ok {
		e.mu.Unlock()
		return nil, nil, ErrNotFound
	}
	if no < 0 || no >= len(mj.inputs) {
		e.mu.Unlock()
		return nil, nil, nil
	}
	done, res, kept := mj.state[no] == chunkDone, mj.results[no], mj.kept[no]
	e.mu.Unlock()
	items, _, err := e.items(mj, no, true)
	if err != nil || !done {
		return items, nil, err
	}
	if kept != nil {
		return items, kept, nil
	}
	b, err := mj.spill.read(res)
	if err != nil {
		return nil, nil, err
	}
	var rs []Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, nil, fmt.Errorf("jobs: a job's stored results: %w", err)
	}
	return items, rs, nil
}

// commitMem stores a built job whose chunks' inputs are in sp and queues
// them.
func (e *Engine) commitMem(job *Job, sp *spill, inputs []span) {
	n := len(inputs)
	mj := &memJob{job: job, spill: sp, inputs: inputs, results: make([]span, n), state: make([]uint8, n), attempts: make([]int32, n)}
	e.mu.Lock()
	e.jobs[job.ID] = mj
	for i := range n {
		e.queue = append(e.queue, chunkRef{job: job.ID, no: i})
	}
	ended := e.endLocked(mj) // a job of no rows is over at once
	e.mu.Unlock()
	if ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
	e.signal()
}
