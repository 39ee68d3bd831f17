package jobs

import (
	"context"
	"encoding/json"
	"fmt"
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
// connection's cap; nothing runs until Commit.
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
	inputs [][]Item
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
	return b
}

// Job is the job being built (its id is final).
func (b *Builder) Job() *Job { return b.job }

// Rows is how many rows were added.
func (b *Builder) Rows() int { return b.job.Total }

// Add appends one row. Its Index is set here; a row whose WhatsApp number
// repeats an earlier row's fails duplicate_in_job (unless dedupe is off).
func (b *Builder) Add(it Item) {
	it.Index = b.job.Total
	if len(it.Errors) == 0 && it.Record != nil {
		var head struct {
			Ref      any `json:"ref"`
			WhatsApp any `json:"whatsapp"`
		}
		if json.Unmarshal(it.Record, &head) == nil {
			if s, ok := head.Ref.(string); ok && it.Ref == "" {
				it.Ref = s
			}
			if s, ok := head.WhatsApp.(string); ok && b.dedupe != nil {
				if n, _, err := schema.NormalizePhoneIn(s, b.region); err == nil {
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
	}
	if len(it.Errors) > 0 {
		it.Record = nil
	}
	b.job.Total++
	b.cur = append(b.cur, it)
	if len(b.cur) == b.chunk {
		b.inputs = append(b.inputs, b.cur)
		b.cur = nil
	}
}

// Commit queues the job: 0 rows end it at once, completed.
func (b *Builder) Commit(ctx context.Context, skipped int) (*Job, error) {
	if len(b.cur) > 0 {
		b.inputs = append(b.inputs, b.cur)
		b.cur = nil
	}
	j := b.job
	j.SkippedRows = skipped
	j.Source.Rows = j.Total
	j.Pending = j.Total
	j.Chunks = len(b.inputs)
	if j.Total > 0 && j.Chunks == 0 {
		return nil, fmt.Errorf("jobs: %d rows and no chunk", j.Total)
	}
	if err := b.e.commit(ctx, j, b.inputs); err != nil {
		return nil, err
	}
	b.inputs = nil
	return b.e.Get(ctx, j.ID)
}

// Abort drops what was built.
func (b *Builder) Abort() { b.inputs, b.cur = nil, nil }
