package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"crmgate/gateway"
	"crmgate/schema"
)

// Spec is what a new job is made of, besides its rows.
type Spec struct {
	Connection    *gateway.Connection
	CreatedBy     string
	Mode          string
	Strict        bool
	StrictOwner   bool
	DryRun        bool
	Dedupe        bool
	DefaultRegion string // already checked (schema.ParseRegion); "" for the connection's
	Mapping       map[string]string
	Source        Source // Kind and Name; Rows is counted
	Header        []string
	Unmapped      []string
	RetryOf       string
}

// Builder takes a new job's rows one by one, in order, into chunks of the
// connection's cap; nothing runs until Commit. Each chunk leaves the
// Builder as soon as it is full (for the in-process engine, to the job's
// temporary file; with Redis, to Redis), so that building a job holds one
// chunk in memory whatever the number of rows.
type Builder struct {
	// Skipped is how many empty rows the source skipped (for the caller
	// to pass to Commit).
	Skipped int

	e      *Engine
	job    *Job
	region string
	dedupe *Dedupe
	chunk  int
	cur    []Item
	chunks int
	sink   chunkSink
	err    error // the first error of the sink: Commit returns it
}

// chunkSink takes a job's chunks as the Builder fills them, then stores
// and queues the job (commit) or drops what it took (abort).
type chunkSink interface {
	// put takes the next chunk; it does not keep items.
	put(items []Item) error
	commit(ctx context.Context, job *Job) error
	abort()
}

// NewBuilder starts a job.
func (e *Engine) NewBuilder(s Spec) *Builder {
	size := defaultChunk
	op := gateway.Op{Kind: gateway.KindImport, Mode: s.Mode, Strict: s.Strict, StrictOwner: s.StrictOwner}
	if c, ok := s.Connection.Provider.(gateway.Chunker); ok && c.ChunkSize(op) > 0 {
		size = c.ChunkSize(op)
	}
	now := time.Now().UTC()
	region := s.DefaultRegion
	if region == "" {
		region = s.Connection.Common.DefaultRegion
	}
	j := &Job{ID: NewID(now), Status: StatusQueued, Connection: s.Connection.ID, DryRun: s.DryRun, CreatedAt: now,
		CreatedBy: s.CreatedBy, Source: s.Source, ErrorsByCode: map[string]int{}, UnmappedColumns: append([]string{}, s.Unmapped...),
		Mode: s.Mode, Strict: s.Strict, StrictOwner: s.StrictOwner, Dedupe: s.Dedupe, DefaultRegion: s.DefaultRegion,
		Mapping: s.Mapping, RetryOf: s.RetryOf, Header: s.Header, ChunkSize: size}
	if s.DryRun {
		zero := 0
		j.Valid = &zero
	}
	b := &Builder{e: e, job: j, region: region, chunk: size}
	if s.Dedupe {
		b.dedupe = NewDedupe(0)
	}
	if e.r != nil {
		b.sink = e.r.newSink(j.ID)
	} else if ms, err := newMemSink(e); err != nil {
		b.err = err
	} else {
		b.sink = ms
	}
	return b
}

// Job is the job being built (its id is final).
func (b *Builder) Job() *Job { return b.job }

// Rows is how many rows were added.
func (b *Builder) Rows() int { return b.job.Total }

// Add appends one row. Its Index is set here, its Ref (when empty) and
// WhatsApp number read from its record; a row whose WhatsApp number repeats
// an earlier row's fails duplicate_in_job (unless dedupe is off).
func (b *Builder) Add(it Item) {
	whatsapp := ""
	if len(it.Errors) == 0 && it.Record != nil {
		var head struct {
			Ref      any `json:"ref"`
			WhatsApp any `json:"whatsapp"`
		}
		if json.Unmarshal(it.Record, &head) == nil {
			if s, ok := head.Ref.(string); ok && it.Ref == "" {
				it.Ref = s
			}
			whatsapp, _ = head.WhatsApp.(string)
		}
	}
	b.add(it, whatsapp)
}

// AddRow is Add for a row whose record's ref (it.Ref) and WhatsApp number
// the caller already has, as the record holds them (a file's row, through
// Mapping.Value): the record is not decoded again.
func (b *Builder) AddRow(it Item, whatsapp string) { b.add(it, whatsapp) }

func (b *Builder) add(it Item, whatsapp string) {
	it.Index = b.job.Total
	if len(it.Errors) == 0 && it.Record != nil && whatsapp != "" {
		if n, _, err := schema.NormalizePhoneIn(whatsapp, b.region); err == nil {
			it.Phone = n
			if b.dedupe != nil {
				at := it.Row
				if at == 0 {
					at = it.Index
				}
				if first, dup := b.dedupe.See(n, at); dup {
					what := "row"
					if it.Row == 0 {
						what = "record"
					}
					it.Errors = []schema.Issue{schema.Issuef(schema.CodeDuplicateInJob, schema.FieldWhatsApp,
						"the WhatsApp number %s repeats %s %d of this job; not sent", n, what, first)}
				}
			}
		}
	}
	if len(it.Errors) > 0 {
		it.Record, it.Phone = nil, ""
	}
	b.job.Total++
	b.cur = append(b.cur, it)
	if len(b.cur) == b.chunk {
		b.flush()
	}
}

// flush hands the chunk being filled to the sink.
func (b *Builder) flush() {
	if len(b.cur) == 0 {
		return
	}
	if b.err == nil && b.sink != nil {
		b.err = b.sink.put(b.cur)
	}
	b.chunks++
	clear(b.cur)
	b.cur = b.cur[:0]
}

// Commit queues the job: 0 rows end it at once, completed. After an error
// nothing is queued and what was built is dropped.
func (b *Builder) Commit(ctx context.Context, skipped int) (*Job, error) {
	b.flush()
	j := b.job
	j.SkippedRows = skipped
	j.Source.Rows = j.Total
	j.Pending = j.Total
	j.Chunks = b.chunks
	if b.err == nil && b.sink == nil {
		return nil, errors.New("jobs: the job was committed already")
	}
	if b.err == nil {
		b.err = b.sink.commit(ctx, j)
	}
	if b.err != nil {
		b.Abort()
		return nil, b.err
	}
	b.sink = nil
	return b.e.Get(ctx, j.ID)
}

// Abort drops what was built.
func (b *Builder) Abort() {
	if b.sink != nil {
		b.sink.abort()
		b.sink = nil
	}
	b.cur = nil
	if b.err == nil {
		b.err = errAborted
	}
}

var errAborted = errors.New("jobs: the job being built was aborted")

// spillBuffer is how many bytes of encoded chunks a memSink gathers before
// it writes them.
const spillBuffer = 256 << 10

// memSink is the in-process engine's chunkSink: chunks go to the job's
// spill, gathered into writes of about spillBuffer bytes.
type memSink struct {
	e      *Engine
	spill  *spill
	inputs []span
	buf    []byte
	pend   []span // chunks in buf, at offsets within it
}

func newMemSink(e *Engine) (*memSink, error) {
	sp, err := newSpill(e.o.TempDir)
	if err != nil {
		return nil, err
	}
	return &memSink{e: e, spill: sp}, nil
}

func (s *memSink) put(items []Item) error {
	start := len(s.buf)
	s.buf = appendItems(s.buf, items)
	s.pend = append(s.pend, span{off: int64(start), n: len(s.buf) - start})
	if len(s.buf) >= spillBuffer {
		return s.write()
	}
	return nil
}

func (s *memSink) write() error {
	if len(s.buf) == 0 {
		return nil
	}
	at, err := s.spill.write(s.buf)
	if err != nil {
		return err
	}
	for _, p := range s.pend {
		s.inputs = append(s.inputs, span{off: at.off + p.off, n: p.n})
	}
	s.buf, s.pend = s.buf[:0], s.pend[:0]
	return nil
}

func (s *memSink) commit(_ context.Context, job *Job) error {
	if err := s.write(); err != nil {
		return err
	}
	s.buf, s.pend = nil, nil
	s.e.commitMem(job, s.spill, s.inputs)
	return nil
}

func (s *memSink) abort() { s.spill.close() }
