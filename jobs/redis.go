package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/gateway"
)

// The Redis engine: every replica on one Redis sees every job and sends its
// chunks. A job is a hash (its metadata and counters: a fixed few fields
// whatever its size, read on every chunk and every GET), a hash of its
// chunks' states (done:N, att:N), and one key per chunk's inputs and one
// per chunk's results, all under the job's hash tag prefix+"{job:ID}:".
// Chunks are entries of one stream read by one consumer group: a replica
// reads an entry, keeps it (XCLAIM renews its idle time) while it sends the
// chunk, and acknowledges it once the results are stored; an entry idle
// longer than the lease (its replica died) is taken over by another with
// XAUTOCLAIM. Two sorted sets list the jobs for GET /v1/imports, scored by
// creation time: every job (prefix+"jobs:index") and each app's
// (prefix+"jobs:index:"+app).

const (
	redisGroup = "crmgate-jobs"
	// liveMargin keeps a job's keys while it runs; its end sets them to
	// the retention.
	liveMargin = 24 * time.Hour
)

type redisEngine struct {
	e        *Engine
	rdb      redis.UniversalClient
	prefix   string
	lease    time.Duration
	consumer string
	sem      *Semaphore

	groupMu sync.Mutex
	groupOK bool
}

func newRedisEngine(e *Engine) *redisEngine {
	o := e.o
	consumer := o.Consumer
	if consumer == "" {
		host, _ := os.Hostname()
		consumer = host + "-" + strconv.Itoa(os.Getpid()) + "-" + NewID(time.Now())[20:]
	}
	return &redisEngine{e: e, rdb: o.Redis, prefix: o.RedisPrefix, lease: o.Lease, consumer: consumer,
		sem: NewSemaphore(o.Redis, o.RedisPrefix+"jobs:", o.Lease)}
}

func (r *redisEngine) stream() string { return r.prefix + "{jobs}:chunks" }
func (r *redisEngine) index() string  { return r.prefix + "jobs:index" }

// appIndex lists one app's jobs.
func (r *redisEngine) appIndex(app string) string { return r.prefix + "jobs:index:" + app }
func (r *redisEngine) key(id, what string) string {
	return r.prefix + "{job:" + id + "}:" + what
}
func (r *redisEngine) inKey(id string, no int) string  { return r.key(id, "in:"+strconv.Itoa(no)) }
func (r *redisEngine) resKey(id string, no int) string { return r.key(id, "res:"+strconv.Itoa(no)) }

func (r *redisEngine) ensureGroup(ctx context.Context) error {
	r.groupMu.Lock()
	defer r.groupMu.Unlock()
	if r.groupOK {
		return nil
	}
	err := r.rdb.XGroupCreateMkStream(ctx, r.stream(), redisGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return err
	}
	r.groupOK = true
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// redisSinkBatch is how many chunks a redisSink sends to Redis in one
// round trip.
const redisSinkBatch = 16

// redisSink is the Redis engine's chunkSink: each chunk's inputs are
// stored as soon as they are full, redisSinkBatch chunks a round trip.
type redisSink struct {
	r  *redisEngine
	id string
	n  int // chunks put
	p  redis.Pipeliner
}

func (r *redisEngine) newSink(id string) *redisSink {
	return &redisSink{r: r, id: id, p: r.rdb.Pipeline()}
}

func (s *redisSink) put(items []Item) error {
	b, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	// A chunk of a job that is never committed (its builder's process
	// died) expires as the job would have.
	s.p.Set(context.Background(), s.r.inKey(s.id, s.n), b, s.r.e.o.Retention+liveMargin)
	s.n++
	if s.p.Len() >= redisSinkBatch {
		return s.exec(context.Background())
	}
	return nil
}

func (s *redisSink) exec(ctx context.Context) error {
	if s.p.Len() == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.p.Exec(ctx); err != nil {
		return fmt.Errorf("jobs: storing the chunks of %s: %w", s.id, err)
	}
	return nil
}

func (s *redisSink) commit(ctx context.Context, job *Job) error {
	if err := s.exec(ctx); err != nil {
		return err
	}
	return s.r.commit(ctx, job)
}

func (s *redisSink) abort() {
	s.p.Discard()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The chunks of one job share its hash tag: one DEL takes many, even
	// on a Cluster.
	for start := 0; start < s.n; start += 1000 {
		keys := make([]string, 0, min(1000, s.n-start))
		for no := start; no < start+cap(keys); no++ {
			keys = append(keys, s.r.inKey(s.id, no))
		}
		_ = s.r.rdb.Del(ctx, keys...).Err()
	}
}

// commit stores a built job whose chunks' inputs are stored already and
// queues its chunks.
func (r *redisEngine) commit(ctx context.Context, job *Job) error {
	if err := r.ensureGroup(ctx); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	ttl := r.e.o.Retention + liveMargin
	body, err := json.Marshal(job)
	if err != nil {
		return err
	}
	header, _ := json.Marshal(job.Header)
	meta := r.key(job.ID, "meta")
	fields := []any{"job", body, "header", header, "chunks", job.Chunks, "chunk_size", job.ChunkSize,
		"status", string(StatusQueued), "pending", job.Total, "succeeded", 0, "failed", 0, "unknown", 0, "done", 0}
	if job.DryRun {
		fields = append(fields, "valid", 0)
	}
	z := redis.Z{Score: float64(job.CreatedAt.UnixMilli()), Member: job.ID}
	p := r.rdb.Pipeline()
	p.HSet(ctx, meta, fields...)
	p.PExpire(ctx, meta, ttl)
	p.ZAdd(ctx, r.index(), z)
	p.ZAdd(ctx, r.appIndex(job.CreatedBy), z)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("jobs: storing %s: %w", job.ID, err)
	}
	if job.Chunks == 0 {
		now := stamp(time.Now())
		if err := r.rdb.HSet(ctx, meta, "status", string(StatusCompleted), "started_at", now, "finished_at", now).Err(); err != nil {
			return err
		}
		r.ended(ctx, job.ID)
		return nil
	}
	p = r.rdb.Pipeline()
	for no := range job.Chunks {
		p.XAdd(ctx, &redis.XAddArgs{Stream: r.stream(), Values: []any{"job", job.ID, "no", no}})
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("jobs: queueing %s: %w", job.ID, err)
	}
	return nil
}

// ended sets every key of a job that ended to expire after the retention,
// and tells OnEnd.
func (r *redisEngine) ended(ctx context.Context, id string) {
	job, err := r.get(ctx, id)
	if err != nil {
		r.e.o.Logger.Warn("import job ended, but could not be read", "job", id, "err", err)
		return
	}
	p := r.rdb.Pipeline()
	p.PExpire(ctx, r.key(id, "meta"), r.e.o.Retention)
	p.PExpire(ctx, r.key(id, "chunks"), r.e.o.Retention)
	for no := range job.Chunks {
		p.PExpire(ctx, r.inKey(id, no), r.e.o.Retention)
		p.PExpire(ctx, r.resKey(id, no), r.e.o.Retention)
	}
	_, _ = p.Exec(ctx)
	if r.e.o.OnEnd != nil {
		r.e.o.OnEnd(job)
	}
}

func (r *redisEngine) get(ctx context.Context, id string) (*Job, error) {
	m, err := r.rdb.HGetAll(ctx, r.key(id, "meta")).Result()
	if err != nil {
		return nil, err
	}
	if len(m) == 0 || m["job"] == "" {
		return nil, ErrNotFound
	}
	return jobOf(m)
}

func jobOf(m map[string]string) (*Job, error) {
	var j Job
	if err := json.Unmarshal([]byte(m["job"]), &j); err != nil {
		return nil, fmt.Errorf("jobs: stored job: %w", err)
	}
	_ = json.Unmarshal([]byte(m["header"]), &j.Header)
	atoi := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	j.Chunks, j.ChunkSize = atoi("chunks"), atoi("chunk_size")
	j.Status, j.Error = Status(m["status"]), m["error"]
	j.Pending, j.Succeeded, j.Failed, j.Unknown = atoi("pending"), atoi("succeeded"), atoi("failed"), atoi("unknown")
	if _, ok := m["valid"]; ok {
		v := atoi("valid")
		j.Valid = &v
	}
	j.StartedAt, j.FinishedAt = nil, nil
	if t, err := time.Parse(time.RFC3339Nano, m["started_at"]); err == nil {
		j.StartedAt = &t
	}
	if t, err := time.Parse(time.RFC3339Nano, m["finished_at"]); err == nil {
		j.FinishedAt = &t
	}
	j.ErrorsByCode = map[string]int{}
	for k, v := range m {
		if code, ok := strings.CutPrefix(k, "code:"); ok {
			n, _ := strconv.Atoi(v)
			j.ErrorsByCode[code] = n
		}
	}
	if j.UnmappedColumns == nil {
		j.UnmappedColumns = []string{}
	}
	return &j, nil
}

// KEYS meta, chunks; ARGV chunk, now. {attempt, canceled}; {0, 0} when the
// chunk is done already or the job is gone. The chunks hash lives as long
// as the meta hash.
var takeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[2], 'done:' .. ARGV[1]) == 1 then
  return {0, 0}
end
local a = redis.call('HINCRBY', KEYS[2], 'att:' .. ARGV[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
if redis.call('HGET', KEYS[1], 'status') == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[2])
end
local c = 0
if redis.call('HGET', KEYS[1], 'canceled') == '1' then c = 1 end
return {a, c}
`)

// KEYS meta, results, chunks; ARGV chunk, results, rows, succeeded,
// failed, unknown, valid, now, ttl ms, then code, count pairs. 0 when the
// chunk was done already, 1 stored, 2 stored and the job ended with it.
var doneScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HSETNX', KEYS[3], 'done:' .. ARGV[1], 1) == 0 then
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[9])
redis.call('HINCRBY', KEYS[1], 'pending', -tonumber(ARGV[3]))
redis.call('HINCRBY', KEYS[1], 'succeeded', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'failed', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'unknown', ARGV[6])
if redis.call('HEXISTS', KEYS[1], 'valid') == 1 then
  redis.call('HINCRBY', KEYS[1], 'valid', ARGV[7])
end
for i = 10, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], 'code:' .. ARGV[i], ARGV[i + 1])
end
local done = redis.call('HINCRBY', KEYS[1], 'done', 1)
local st = redis.call('HGET', KEYS[1], 'status')
if done >= tonumber(redis.call('HGET', KEYS[1], 'chunks')) and st ~= 'completed' and st ~= 'canceled' and st ~= 'failed' then
  local s = 'completed'
  if redis.call('HGET', KEYS[1], 'canceled') == '1' then s = 'canceled' end
  redis.call('HSET', KEYS[1], 'status', s, 'finished_at', ARGV[8])
  if not redis.call('HGET', KEYS[1], 'started_at') then
    redis.call('HSET', KEYS[1], 'started_at', ARGV[8])
  end
  return 2
end
return 1
`)

// KEYS meta; ARGV reason ("" to cancel), now. 0 no such job, 1 flagged,
// 2 the job had ended.
var stopScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local st = redis.call('HGET', KEYS[1], 'status')
if st == 'completed' or st == 'canceled' or st == 'failed' then return 2 end
redis.call('HSET', KEYS[1], 'canceled', 1)
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[1], 'finished_at', ARGV[2])
  if not redis.call('HGET', KEYS[1], 'started_at') then
    redis.call('HSET', KEYS[1], 'started_at', ARGV[2])
  end
end
return 1
`)

// store stores chunk no's results and adds them to the job's counters in
// one script; it reports whether the job ended with them.
func (r *redisEngine) store(ctx context.Context, id string, no int, results []Result) (bool, error) {
	b, err := json.Marshal(results)
	if err != nil {
		return false, err
	}
	c := countResults(results)
	args := []any{no, b, len(results), c.Succeeded, c.Failed, c.Unknown, c.Valid, stamp(time.Now()),
		(r.e.o.Retention + liveMargin).Milliseconds()}
	codes := make([]string, 0, len(c.ByCode))
	for k := range c.ByCode {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for _, k := range codes {
		args = append(args, k, c.ByCode[k])
	}
	n, err := doneScript.Run(ctx, r.rdb, []string{r.key(id, "meta"), r.resKey(id, no), r.key(id, "chunks")}, args...).Int()
	return n == 2, err
}

func (r *redisEngine) items(ctx context.Context, id string, no int) ([]Item, error) {
	b, err := r.rdb.Get(ctx, r.inKey(id, no)).Bytes()
	if err != nil {
		return nil, err
	}
	var items []Item
	return items, json.Unmarshal(b, &items)
}

// settle ends every chunk of job id not yet done with its rows failed
// unsent (msg); untaken only leaves the chunks some replica took.
func (r *redisEngine) settle(ctx context.Context, id string, msg string, untaken bool) (ended bool) {
	chunks, err := r.rdb.HGet(ctx, r.key(id, "meta"), "chunks").Int()
	if err != nil {
		return false
	}
	m, err := r.rdb.HGetAll(ctx, r.key(id, "chunks")).Result()
	if err != nil {
		return false
	}
	for no := range chunks {
		n := strconv.Itoa(no)
		if m["done:"+n] != "" || (untaken && m["att:"+n] != "") {
			continue
		}
		items, err := r.items(ctx, id, no)
		if err != nil {
			continue
		}
		att, _ := strconv.Atoi(m["att:"+n])
		if e, err := r.store(ctx, id, no, notSent(items, att, msg)); err == nil && e {
			ended = true
		}
	}
	return ended
}

func (r *redisEngine) cancel(ctx context.Context, id string) (*Job, error) {
	n, err := stopScript.Run(ctx, r.rdb, []string{r.key(id, "meta")}, "", stamp(time.Now())).Int()
	if err != nil {
		return nil, err
	}
	switch n {
	case 0:
		return nil, ErrNotFound
	case 2:
		j, err := r.get(ctx, id)
		if err != nil {
			return nil, err
		}
		return j, ErrEnded
	}
	if r.settle(ctx, id, "not sent: the import job was canceled", true) {
		r.ended(ctx, id)
	}
	return r.get(ctx, id)
}

func (r *redisEngine) fail(ctx context.Context, id, reason string) {
	n, err := stopScript.Run(ctx, r.rdb, []string{r.key(id, "meta")}, reason, stamp(time.Now())).Int()
	if err != nil || n != 1 {
		return
	}
	r.settle(ctx, id, "not sent: "+reason, false)
	r.e.o.Logger.Warn("import job failed", "job", id, "err", reason)
	r.ended(ctx, id)
}

// listBatch is how many jobs list reads in one round trip.
const listBatch = 100

// list pages through one index, newest first: the app's when f names one,
// every job's otherwise. It reads the jobs after f.After in batches (of
// f.Limit + 1, at most listBatch) until it has one more than f.Limit that f
// selects, or none is left: a page without other filters reads f.Limit + 1
// jobs, whatever the number of jobs.
func (r *redisEngine) list(ctx context.Context, f Filter) ([]*Job, bool, error) {
	index := r.index()
	if f.CreatedBy != "" {
		index = r.appIndex(f.CreatedBy)
	}
	// Jobs are scored by their creation time (ms), which their ids begin
	// with: the page starts at the cursor's millisecond, skipping the ids
	// not below the cursor.
	top := "+inf"
	if f.After != "" {
		if ms, ok := idMillis(f.After); ok {
			top = strconv.FormatInt(ms, 10)
		}
	}
	var out []*Job
	var gone []any
	full := func() bool { return f.Limit > 0 && len(out) > f.Limit }
	batch := int64(listBatch)
	if f.Limit > 0 {
		batch = min(batch, int64(f.Limit)+1)
	}
	for offset := int64(0); !full(); {
		ids, err := r.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: index, Start: top, Stop: "-inf", ByScore: true, Rev: true,
			Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, false, err
		}
		// Read no more jobs than the page still needs.
		need := len(ids)
		if f.Limit > 0 {
			need = f.Limit + 1 - len(out)
		}
		var read []string
		used := 0
		for _, id := range ids {
			if len(read) == need {
				break
			}
			used++
			if f.After == "" || id < f.After {
				read = append(read, id)
			}
		}
		offset += int64(used)
		p := r.rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(read))
		for i, id := range read {
			cmds[i] = p.HGetAll(ctx, r.key(id, "meta"))
		}
		if len(read) > 0 {
			if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return nil, false, err
			}
		}
		for i, cmd := range cmds {
			m := cmd.Val()
			if len(m) == 0 {
				gone = append(gone, read[i])
				continue
			}
			j, err := jobOf(m)
			if err != nil {
				continue
			}
			if (f.CreatedBy != "" && j.CreatedBy != f.CreatedBy) || (f.Allowed != nil && !f.Allowed(j.Connection)) ||
				(f.Connection != "" && j.Connection != f.Connection) || (f.Status != "" && j.Status != f.Status) {
				continue
			}
			out = append(out, j)
			if full() {
				break
			}
		}
		if int64(len(ids)) < batch && used == len(ids) {
			break
		}
	}
	if len(gone) > 0 {
		_ = r.rdb.ZRem(ctx, index, gone...).Err()
	}
	more := false
	if full() {
		out, more = out[:f.Limit], true
	}
	return out, more, nil
}

func (r *redisEngine) chunk(ctx context.Context, id string, no int) ([]Item, []Result, error) {
	chunks, err := r.rdb.HGet(ctx, r.key(id, "meta"), "chunks").Int()
	if errors.Is(err, redis.Nil) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if no < 0 || no >= chunks {
		return nil, nil, nil
	}
	items, err := r.items(ctx, id, no)
	if err != nil {
		return nil, nil, err
	}
	b, err := r.rdb.Get(ctx, r.resKey(id, no)).Bytes()
	if errors.Is(err, redis.Nil) {
		return items, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var rs []Result
	return items, rs, json.Unmarshal(b, &rs)
}

func (r *redisEngine) run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.e.o.Workers {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
	return nil
}

func (r *redisEngine) work(ctx context.Context) {
	for ctx.Err() == nil {
		msg, ok, err := r.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if strings.Contains(err.Error(), "NOGROUP") {
				r.groupMu.Lock()
				r.groupOK = false
				r.groupMu.Unlock()
				_ = r.ensureGroup(ctx)
			}
			r.e.o.Logger.Warn("import jobs: reading the chunk stream", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if ok {
			r.handle(context.WithoutCancel(ctx), msg)
		}
	}
}

// next takes over an entry idle longer than the lease, else waits a while
// for a new one.
func (r *redisEngine) next(ctx context.Context) (redis.XMessage, bool, error) {
	if err := r.ensureGroup(ctx); err != nil {
		return redis.XMessage{}, false, err
	}
	msgs, _, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: r.stream(), Group: redisGroup,
		MinIdle: r.lease, Start: "0-0", Count: 1, Consumer: r.consumer}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return redis.XMessage{}, false, err
	}
	if len(msgs) > 0 {
		return msgs[0], true, nil
	}
	block := min(2*time.Second, r.lease)
	streams, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: redisGroup, Consumer: r.consumer,
		Streams: []string{r.stream(), ">"}, Count: 1, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return redis.XMessage{}, false, nil
	}
	if err != nil {
		return redis.XMessage{}, false, err
	}
	for _, s := range streams {
		if len(s.Messages) > 0 {
			return s.Messages[0], true, nil
		}
	}
	return redis.XMessage{}, false, nil
}

func (r *redisEngine) ack(ctx context.Context, id string) {
	p := r.rdb.Pipeline()
	p.XAck(ctx, r.stream(), redisGroup, id)
	p.XDel(ctx, r.stream(), id)
	_, _ = p.Exec(ctx)
}

// handle sends one chunk entry and stores its results; the entry is kept
// (its idle time renewed) until then.
func (r *redisEngine) handle(ctx context.Context, msg redis.XMessage) {
	id, _ := msg.Values["job"].(string)
	no, err := strconv.Atoi(fmt.Sprint(msg.Values["no"]))
	if id == "" || err != nil {
		r.ack(ctx, msg.ID)
		return
	}
	res, err := takeScript.Run(ctx, r.rdb, []string{r.key(id, "meta"), r.key(id, "chunks")}, no, stamp(time.Now())).Int64Slice()
	if err != nil || len(res) != 2 {
		r.e.o.Logger.Warn("import jobs: taking a chunk", "job", id, "chunk", no, "err", err)
		return // taken over later
	}
	attempt, canceled := int(res[0]), res[1] == 1
	if attempt == 0 {
		r.ack(ctx, msg.ID)
		return
	}
	stop := make(chan struct{})
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		tick := time.NewTicker(r.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = r.rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: r.stream(), Group: redisGroup,
					Consumer: r.consumer, Messages: []string{msg.ID}}).Err()
			}
		}
	}()
	defer func() {
		close(stop)
		<-kept
	}()

	items, err := r.items(ctx, id, no)
	if err != nil {
		if errors.Is(err, redis.Nil) { // the job expired
			r.ack(ctx, msg.ID)
		}
		return
	}
	var results []Result
	var job *Job // nil when nothing was sent
	if canceled {
		results = notSent(items, attempt, "not sent: the import job was canceled")
	} else {
		var err error
		job, err = r.get(ctx, id)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				r.ack(ctx, msg.ID)
			}
			return
		}
		conn := r.e.o.Connection(job.Connection)
		if conn == nil {
			r.fail(ctx, id, fmt.Sprintf("the connection %q is no longer configured", job.Connection))
			r.ack(ctx, msg.ID)
			return
		}
		cctx, cancel := context.WithTimeout(ctx, r.e.o.ChunkTimeout)
		limit := conn.Concurrency
		cctx = gateway.WithGate(cctx, func(ctx context.Context) (func(), error) {
			return r.sem.Acquire(ctx, conn.ID, limit)
		})
		results = RunChunk(cctx, r.e.o.Service, conn, job, items, attempt)
		cancel()
	}
	ended, err := r.store(ctx, id, no, results)
	if err != nil {
		r.e.o.Logger.Warn("import jobs: storing a chunk's results", "job", id, "chunk", no, "err", err)
		return // sent again after the lease
	}
	r.ack(ctx, msg.ID)
	if job != nil {
		r.e.chunkDone(job, items, results)
	}
	if ended {
		r.ended(ctx, id)
	}
}
