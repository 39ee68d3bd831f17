// Package history keeps what happened to each record: the stored answer of
// every processed import (GET /v1/requests/{request_id}) and, per customer
// of a connection, the result of every import and job row that named it
// (GET /v1/customers/history), for a retention window.
//
// Two stores behind one interface: Memory (one instance only) and Redis
// (shared by every instance). Both keep every app's entries; who may read
// which is decided by Page and the API, not by the store.
package history

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmgate/schema"
)

// DefaultRetention is how long answers and history entries are kept when
// Options.Retention is zero (the config key requests.retention).
const DefaultRetention = 7 * 24 * time.Hour

// MaxPerCustomer bounds the entries one customer's history holds: the
// newest are kept.
const MaxPerCustomer = 10000

// ErrNotFound is the error of Answer for an id that is unknown or expired.
var ErrNotFound = errors.New("history: not found")

// errBadRecord: an in-process entry that does not decode (a bug, not data).
var errBadRecord = errors.New("history: an in-process entry does not decode")

// Options configure a store.
type Options struct {
	// Prefix starts every Redis key (default "crmgate:").
	Prefix string
	// Retention is how long an answer and an entry are kept (default
	// DefaultRetention).
	Retention time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "crmgate:"
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Record is one record's result as an import or a job row left it, with the
// customer it names.
type Record struct {
	// WhatsApp is the record's number, normalised (see NormalizeWhatsApp);
	// Ref its ref. A record with neither is kept in no customer's history.
	WhatsApp string
	Ref      string

	Index      int
	Status     string
	Errors     []schema.Issue
	ProviderID string
}

// Import is what one processed import, or a batch of one job's rows, leaves.
// Exactly one of RequestID and JobID is set.
type Import struct {
	App        string // the JWT sub that made it
	Connection string
	RequestID  string
	JobID      string
	At         time.Time // zero: now
	// Answer is the answer's bytes, as sent (imports only): kept for
	// GET /v1/requests/{RequestID}. ContentType is its media type.
	Answer      []byte
	ContentType string
	Records     []Record
}

// Answer is a stored answer.
type Answer struct {
	RequestID   string    `json:"request_id"`
	App         string    `json:"app"`
	Connection  string    `json:"connection"`
	At          time.Time `json:"at"`
	ContentType string    `json:"content_type"`
	Body        []byte    `json:"body"`
}

// Entry is one item of a customer's history.
type Entry struct {
	// When the import was answered (or the job's row result kept).
	At time.Time `json:"at" validate:"required"`
	// The import's request_id (GET /v1/requests/{request_id}); absent for a job's row.
	RequestID string `json:"request_id,omitempty"`
	// The import job's id; absent for an import.
	JobID string `json:"job_id,omitempty"`
	// The record's position in its batch, or the job's data row (0 = the first).
	Index int `json:"index" validate:"required"`
	// The record's status: succeeded, failed or unknown.
	Status string `json:"status" validate:"required" enums:"succeeded,failed,unknown"`
	// The record's errors ([] when none).
	Errors []schema.Issue `json:"errors" validate:"required"`
	// The provider's id of the customer, when it gave one.
	ProviderID string `json:"provider_id,omitempty"`
	// App made the import or job; not part of the public answer.
	App string `json:"-"`
} //	@name	HistoryEntry

// stored is an Entry as the stores keep it (App included).
type stored struct {
	At         time.Time      `json:"at"`
	App        string         `json:"app"`
	RequestID  string         `json:"request_id,omitempty"`
	JobID      string         `json:"job_id,omitempty"`
	Index      int            `json:"index"`
	Status     string         `json:"status"`
	Errors     []schema.Issue `json:"errors,omitempty"`
	ProviderID string         `json:"provider_id,omitempty"`
}

func (s stored) entry() Entry {
	errs := s.Errors
	if errs == nil {
		errs = []schema.Issue{}
	}
	return Entry{At: s.At, RequestID: s.RequestID, JobID: s.JobID, Index: s.Index, Status: s.Status,
		Errors: errs, ProviderID: s.ProviderID, App: s.App}
}

// id orders entries of the same instant and makes each one unique.
func (e Entry) id() string {
	src := "r" + e.RequestID
	if e.JobID != "" {
		src = "j" + e.JobID
	}
	return src + ":" + strconv.Itoa(e.Index)
}

// Customer names one customer of a connection: by WhatsApp number or by ref.
type Customer struct {
	Connection string
	WhatsApp   string
	Ref        string
}

// hashTag is the customer's Redis hash tag: every key of one customer
// shares it. It is key in hexadecimal.
func (c Customer) hashTag() string {
	k := c.key()
	return hex.EncodeToString(k[:])
}

// key names the customer in 16 bytes (Memory's map key): the start of a
// SHA-256 of its connection and its number or ref.
func (c Customer) key() [16]byte {
	// Written on the stack for the usual lengths: the key is made twice
	// for every record a Put keeps.
	var buf [128]byte
	sum := sha256.Sum256(c.appendIdentity(buf[:0]))
	return [16]byte(sum[:16])
}

// appendIdentity appends what names the customer: its connection, its kind
// ("w" for a number, "r" for a ref) and its number or ref, each ended by a
// zero byte but the last.
func (c Customer) appendIdentity(b []byte) []byte {
	kind, v := "w", c.WhatsApp
	if v == "" {
		kind, v = "r", c.Ref
	}
	b = append(b, c.Connection...)
	b = append(b, 0)
	b = append(b, kind...)
	b = append(b, 0)
	return append(b, v...)
}

// customers are the histories a record of imp belongs to.
func customers(conn string, r Record) []Customer {
	var out []Customer
	if r.WhatsApp != "" {
		out = append(out, Customer{Connection: conn, WhatsApp: r.WhatsApp})
	}
	if r.Ref != "" {
		out = append(out, Customer{Connection: conn, Ref: r.Ref})
	}
	return out
}

func storedOf(imp Import, r Record) stored {
	return stored{At: imp.At, App: imp.App, RequestID: imp.RequestID, JobID: imp.JobID, Index: r.Index,
		Status: r.Status, Errors: r.Errors, ProviderID: r.ProviderID}
}

// Store keeps answers and histories.
type Store interface {
	// Put keeps imp: its answer under its RequestID (when it has one) and an
	// entry in the history of each customer its records name, in one round
	// trip. Import jobs call it with JobID set and no Answer, for each batch
	// of rows whose results are known. Put keeps nothing of imp's slices
	// (Answer, Records) past its return: the caller may reuse them. A store
	// that waits on the network bounds Put by PutTimeout itself, so that a
	// caller may pass a context that is never cancelled (the answer of a
	// request whose caller went away is still kept).
	Put(ctx context.Context, imp Import) error
	// Answer returns the answer of a request id, or ErrNotFound.
	Answer(ctx context.Context, requestID string) (*Answer, error)
	// History returns the customer's entries within the retention window,
	// every app's, in any order (Page orders them).
	History(ctx context.Context, c Customer) ([]Entry, error)
}

// PutTimeout bounds one Put of a store that waits on the network. An
// in-process store never waits and needs no bound: the request path then
// arms no timer for it.
const PutTimeout = 5 * time.Second

// NormalizeWhatsApp is a WhatsApp number as a record's is kept:
// schema.NormalizePhone's digits, or, for a number it refuses, the digits
// typed (an invalid record is still found by what was sent). ok is false
// when s holds no digits at all.
func NormalizeWhatsApp(s string) (string, bool) {
	if d, _, err := schema.NormalizePhone(s); err == nil {
		return d, true
	}
	return schema.Digits(s)
}

// ErrBadCursor is the error of Page for a cursor it did not give.
var ErrBadCursor = errors.New("history: cursor is not one this endpoint gave")

// Page orders entries newest first and returns those after cursor (""
// starts at the newest), at most limit, that app may see (every app's when
// all is set), and the cursor of the next page ("" when none is left).
func Page(entries []Entry, app string, all bool, cursor string, limit int) ([]Entry, string, error) {
	var afterAt int64
	var afterID string
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		at, id, ok := strings.Cut(string(b), "|")
		n, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, "", ErrBadCursor
		}
		afterAt, afterID = n, id
	}
	mine := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if !all && e.App != app {
			continue
		}
		if cursor != "" {
			at := e.At.UnixNano()
			if at > afterAt || (at == afterAt && e.id() >= afterID) {
				continue
			}
		}
		mine = append(mine, e)
	}
	slices.SortFunc(mine, func(a, b Entry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(b.id(), a.id())
	})
	if limit <= 0 || len(mine) <= limit {
		return mine, "", nil
	}
	last := mine[limit-1]
	next := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.At.UnixNano(), 10) + "|" + last.id()))
	return mine[:limit], next, nil
}
