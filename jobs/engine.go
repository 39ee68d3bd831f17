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
	DefaultWorkers      = 8
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
	// Workers is how many chunks this engine sends at once
	// (DefaultWorkers). A connection's own concurrency bounds its calls
	// beside it.
	Workers int
	// ChunkTimeout bounds one chunk's import, retries included.
	ChunkTimeout time.Duration
	// Retention is how long an ended job and its results are kept.
	Retention time.Duration
	// OnEnd is told of every job that ended (completed, canceled, failed),
	// once: for the import.* events. It must not block for long.
	OnEnd func(*Job)
	// OnChunk is told of every chunk sent (not of a dry run's) once its
	// results are stored, with the chunk's items and their results in the
	// same order: for the customers' history. A chunk taken over after a
	// replica died may be told twice. It must not block for long.
	OnChunk func(job *Job, items []Item, results []Result)
	Logger  *slog.Logger

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

// memJob is a job and its chunks, inputs and results, in the process.
type memJob struct {
	job      *Job
	inputs   [][]Item
	results  [][]Result
	state    []int
	attempts []int
	canceled bool
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

// send imports one chunk and stores its results.
func (e *Engine) send(ctx context.Context, ref chunkRef, mj *memJob) {
	e.mu.Lock()
	job, items, attempt := mj.job.Clone(), mj.inputs[ref.no], mj.attempts[ref.no]
	e.mu.Unlock()
	conn := e.o.Connection(job.Connection)
	if conn == nil {
		e.fail(job.ID, fmt.Sprintf("the connection %q is no longer configured", job.Connection))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.o.ChunkTimeout)
	defer cancel()
	results := RunChunk(ctx, e.o.Service, conn, job, items, attempt)
	e.finish(ref, results)
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

// finish stores a chunk's results and adds them to the job's counters in
// one step; the job ends when its last chunk is done.
func (e *Engine) finish(ref chunkRef, results []Result) {
	e.mu.Lock()
	mj, ok := e.jobs[ref.job]
	if !ok || mj.state[ref.no] == chunkDone {
		e.mu.Unlock()
		return
	}
	e.doneLocked(mj, ref.no, results)
	ended := e.endLocked(mj)
	e.mu.Unlock()
	if ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
}

func (e *Engine) doneLocked(mj *memJob, no int, results []Result) {
	mj.state[no] = chunkDone
	mj.results[no] = results
	mj.job.apply(countResults(results), len(results))
}

// endLocked ends mj when every chunk is done and returns a copy of the
// ended job (nil otherwise).
func (e *Engine) endLocked(mj *memJob) *Job {
	if mj.job.Status.Ended() {
		return nil
	}
	for _, s := range mj.state {
		if s != chunkDone {
			return nil
		}
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

// fail ends a job that cannot run: its unsent chunks end failed with
// code canceled, and the job failed with reason.
func (e *Engine) fail(id, reason string) {
	e.mu.Lock()
	mj, ok := e.jobs[id]
	if !ok || mj.job.Status.Ended() {
		e.mu.Unlock()
		return
	}
	e.cancelLocked(mj, "not sent: "+reason)
	for i, s := range mj.state {
		if s == chunkSending {
			e.doneLocked(mj, i, notSent(mj.inputs[i], mj.attempts[i], "not sent: "+reason))
		}
	}
	now := time.Now().UTC()
	mj.job.Status, mj.job.Error, mj.job.FinishedAt, mj.ended = StatusFailed, reason, &now, now
	ended := mj.job.Clone()
	e.mu.Unlock()
	e.o.Logger.Warn("import job failed", "job", id, "err", reason)
	if e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
}

// cancelLocked ends every queued chunk of mj failed, code canceled.
func (e *Engine) cancelLocked(mj *memJob, msg string) {
	mj.canceled = true
	for i, s := range mj.state {
		if s == chunkQueued {
			e.doneLocked(mj, i, notSent(mj.inputs[i], mj.attempts[i], msg))
		}
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
	if mj.job.Status.Ended() {
		e.mu.Unlock()
		return mj.job.Clone(), ErrEnded
	}
	e.cancelLocked(mj, "not sent: the import job was canceled")
	ended := e.endLocked(mj)
	job := mj.job.Clone()
	e.mu.Unlock()
	if ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
	return job, nil
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
	defer e.mu.Unlock()
	mj, ok := e.jobs[id]
	if !ok {
		return nil, nil, ErrNotFound
	}
	if no < 0 || no >= len(mj.inputs) {
		return nil, nil, nil
	}
	var rs []Result
	if mj.state[no] == chunkDone {
		rs = mj.results[no]
	}
	return mj.inputs[no], rs, nil
}

// commit stores a built job and queues its chunks.
func (e *Engine) commit(ctx context.Context, job *Job, inputs [][]Item) error {
	if e.r != nil {
		return e.r.commit(ctx, job, inputs)
	}
	mj := &memJob{job: job, inputs: inputs, results: make([][]Result, len(inputs)),
		state: make([]int, len(inputs)), attempts: make([]int, len(inputs))}
	e.mu.Lock()
	e.jobs[job.ID] = mj
	for i := range inputs {
		e.queue = append(e.queue, chunkRef{job: job.ID, no: i})
	}
	ended := e.endLocked(mj) // a job of no rows is over at once
	e.mu.Unlock()
	if ended != nil && e.o.OnEnd != nil {
		e.o.OnEnd(ended)
	}
	e.signal()
	return nil
}
