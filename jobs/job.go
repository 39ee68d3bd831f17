package jobs

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"crmgate/api/answer"
	"crmgate/schema"
)

// Status is where a job is: queued → running → completed | canceled | failed.
type Status string //	@name	ImportJobStatus

// Job statuses.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusCanceled  Status = "canceled"
	StatusFailed    Status = "failed"
)

// Ended reports whether s is a final status.
func (s Status) Ended() bool {
	return s == StatusCompleted || s == StatusCanceled || s == StatusFailed
}

// Source says where a job's rows came from.
type Source struct {
	Kind Kind   `json:"kind"` // csv, xlsx or json
	Name string `json:"name,omitempty"`
	Rows int    `json:"rows"`
} //	@name	ImportSource

// Job is one import job as GET /v1/imports/{id} shows it (gateway.md §7).
// At every moment Pending + Succeeded + Failed + Unknown = Total (for a dry
// run, Pending + Valid + Failed = Total).
type Job struct {
	ID              string            `json:"id"`
	Status          Status            `json:"status" swaggertype:"string" example:"running"`
	Error           string            `json:"error,omitempty"`
	Connection      string            `json:"connection"`
	DryRun          bool              `json:"dry_run"`
	CreatedAt       time.Time         `json:"created_at"`
	StartedAt       *time.Time        `json:"started_at"`
	FinishedAt      *time.Time        `json:"finished_at"`
	CreatedBy       string            `json:"created_by"`
	Source          Source            `json:"source"`
	Total           int               `json:"total"`
	Pending         int               `json:"pending"`
	Succeeded       int               `json:"succeeded"`
	Failed          int               `json:"failed"`
	Unknown         int               `json:"unknown"`
	Valid           *int              `json:"valid,omitempty"`
	ErrorsByCode    map[string]int    `json:"errors_by_code"`
	UnmappedColumns []string          `json:"unmapped_columns"`
	SkippedRows     int               `json:"skipped_rows"`
	Mode            string            `json:"mode"`
	Strict          bool              `json:"strict"`
	StrictOwner     bool              `json:"strict_owner"`
	Dedupe          bool              `json:"dedupe"`
	DefaultRegion   string            `json:"default_region,omitempty"`
	Mapping         map[string]string `json:"mapping,omitempty"`
	// RetryOf is the job whose retryable rows this job sends again.
	RetryOf string `json:"retry_of,omitempty"`

	// Header is the source file's header (for the report); Chunks the
	// number of chunks and ChunkSize their size (all but the last).
	Header    []string `json:"-"`
	Chunks    int      `json:"-"`
	ChunkSize int      `json:"-"`
} //	@name	ImportJob

// Clone is a deep copy of j.
func (j *Job) Clone() *Job {
	c := *j
	c.ErrorsByCode = make(map[string]int, len(j.ErrorsByCode))
	for k, v := range j.ErrorsByCode {
		c.ErrorsByCode[k] = v
	}
	c.UnmappedColumns = append([]string{}, j.UnmappedColumns...)
	if j.Valid != nil {
		v := *j.Valid
		c.Valid = &v
	}
	return &c
}

// Item is one row of a job as a chunk stores it: the canonical record to
// send, or the errors that fail it before anything is sent (a row that
// could not be read, a duplicate), and the row's original cells for the
// report. Phone is the record's WhatsApp number as the job read it
// (normalised in the job's region, or the connection's), set by the
// Builder for a row it did not fail and whose number it could read: the
// customers' history files the row under it.
type Item struct {
	Index  int             `json:"i"`
	Row    int             `json:"r,omitempty"`
	Record json.RawMessage `json:"c,omitempty"`
	Cells  []string        `json:"x,omitempty"`
	Ref    string          `json:"f,omitempty"`
	Phone  string          `json:"w,omitempty"`
	Errors []schema.Issue  `json:"e,omitempty"`
}

// Result is one row's result: §5's per-record result, with the row number
// (files) and how many times its chunk was sent.
type Result struct {
	answer.Result
	Row      int `json:"row,omitempty"`
	Attempts int `json:"attempts,omitempty"`
} //	@name	ImportRowResult

// Counts is what a chunk's results add to a job's counters.
type Counts struct {
	Succeeded, Failed, Unknown, Valid int
	ByCode                            map[string]int
}

func countResults(rs []Result) Counts {
	c := Counts{ByCode: map[string]int{}}
	for _, r := range rs {
		switch r.Status {
		case answer.StatusSucceeded:
			c.Succeeded++
		case answer.StatusFailed:
			c.Failed++
		case answer.StatusUnknown:
			c.Unknown++
		case answer.StatusValid:
			c.Valid++
		}
		if len(r.Errors) > 0 && (r.Status == answer.StatusFailed || r.Status == answer.StatusUnknown) {
			c.ByCode[string(r.Errors[0].Code)]++
		}
	}
	return c
}

// apply adds c to j's counters.
func (j *Job) apply(c Counts, rows int) {
	j.Pending -= rows
	j.Succeeded += c.Succeeded
	j.Failed += c.Failed
	j.Unknown += c.Unknown
	if j.DryRun {
		v := c.Valid
		if j.Valid != nil {
			v += *j.Valid
		}
		j.Valid = &v
	}
	if j.ErrorsByCode == nil {
		j.ErrorsByCode = map[string]int{}
	}
	for k, v := range c.ByCode {
		j.ErrorsByCode[k] += v
	}
}

// Retryable reports whether a row's result is one …/retry sends again:
// unknown, or failed with provider_unavailable or record_busy.
func Retryable(r Result) bool {
	if r.Status == answer.StatusUnknown {
		return true
	}
	if r.Status != answer.StatusFailed || len(r.Errors) == 0 {
		return false
	}
	for _, e := range r.Errors {
		if e.Code != schema.CodeProviderUnavailable && e.Code != schema.CodeRecordBusy {
			return false
		}
	}
	return true
}

// idAlphabet is the Crockford base32 alphabet of job ids.
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idMillis is the creation time (Unix ms) a job id made by NewID begins
// with; ok is false for anything else.
func idMillis(id string) (int64, bool) {
	digits, ok := strings.CutPrefix(id, "imp_")
	if !ok || len(digits) != 26 {
		return 0, false
	}
	var hi, lo uint64
	for i := 0; i < len(digits); i++ {
		d := strings.IndexByte(idAlphabet, digits[i])
		if d < 0 {
			return 0, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(d)
	}
	return int64(hi >> 16), true
}

// NewID is a job id: "imp_" and 26 characters of Crockford base32 that sort
// as the jobs were created (48 bits of milliseconds, 80 random bits).
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	var sb strings.Builder
	sb.WriteString("imp_")
	// 128 bits as 26 base32 digits (the first holds 3 bits).
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	digits := make([]byte, 26)
	for i := 25; i >= 0; i-- {
		digits[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	sb.Write(digits)
	return sb.String()
}
