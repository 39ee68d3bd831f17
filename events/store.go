package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"crmgate/internal/keyed"
	"crmgate/redisclient"
)

// Errors of the stores. Callers test them with errors.Is.
var (
	// ErrBadCursor is wrapped by List when Query.After is not a cursor that
	// this store handed out (not a position at all).
	ErrBadCursor = errors.New("events: malformed cursor")
	// ErrNotFound is wrapped when a subscription or a failed event does not exist.
	ErrNotFound = errors.New("events: not found")
	// ErrInvalid is wrapped when a subscription to create is not acceptable
	// (bad URL, unknown event type), together with the Problems that say
	// why, each naming its key (url, types, connections).
	ErrInvalid = errors.New("events: invalid subscription")
)

// Problems is every reason a subscription is not acceptable, each naming
// the key of the subscription it is about: take it back from an error
// wrapping ErrInvalid with errors.As.
type Problems = keyed.Problems

// invalid is the error of a subscription refused for ps.
func invalid(ps Problems) error { return fmt.Errorf("%w: %w", ErrInvalid, ps) }

// Defaults and bounds of the stores.
const (
	// DefaultRetention is how long the same (connection, id) is refused a
	// second time, and how long an event stays listed.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultLimit is the page size when Query.Limit is zero or negative.
	DefaultLimit = 100
	// MaxLimit is the largest page; a larger Query.Limit is cut to it.
	MaxLimit = 1000
	// DefaultPrefix starts every Redis key when Options.Prefix is empty.
	DefaultPrefix = redisclient.DefaultPrefix
	// BeginCursor is the cursor meaning "before the first event".
	BeginCursor = "0"
)

// Options configure a Store and the subscription store built on it.
type Options struct {
	// Retention is the dedupe window and how long events stay listed:
	// an event whose (Connection, ID) was stored less than Retention ago is
	// not stored again, and events stored more than Retention ago may be
	// trimmed from listings. Zero means DefaultRetention.
	Retention time.Duration
	// Prefix starts every Redis key (ignored by the in-process stores).
	// Empty means DefaultPrefix. Distinct prefixes never see each other's data.
	Prefix string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Query selects a page of events for List.
type Query struct {
	// Connections are the connections the caller may see; nil means all,
	// a non-nil empty slice means none.
	Connections []string
	// Connection, when set, keeps only that connection's events.
	Connection string
	// After is an opaque cursor from a previous Page.NextCursor; "" means
	// from the beginning.
	After string
	// Limit is the page size: zero or negative means DefaultLimit, above
	// MaxLimit means MaxLimit.
	Limit int
	// Types keeps only events of these types; empty means all types.
	Types []string
}

// Page is one answer of List.
type Page struct {
	// Events are in storage order; never nil.
	Events []Event
	// NextCursor is always set: the position after the last event listed
	// (or the last one looked at, when a filter skipped later events), or
	// the After given when nothing new was found (BeginCursor when After was
	// empty). Passing it as After resumes with nothing repeated or skipped.
	NextCursor string
}

// Store keeps canonical events in order and lists them by cursor. The same
// (Connection, ID) is stored at most once within the retention window
// (Options.Retention, default 7 days). Implementations: NewMemoryStore (one
// process) and NewRedisStore (shared by every instance).
type Store interface {
	// Append stores evs in order, skipping each whose (Connection, ID) was
	// already stored within the retention window (also within evs itself),
	// and reports how many were stored. It returns only once they are
	// durably stored; on error, some of evs may have been stored and a retry
	// stores only the rest. Every stored event gets a position.
	Append(ctx context.Context, evs []Event) (added int, err error)
	// List returns the events after q.After that pass q's filters, in
	// order. A malformed q.After is an error wrapping ErrBadCursor.
	List(ctx context.Context, q Query) (Page, error)
}

var (
	_ Store         = (*MemoryStore)(nil)
	_ Store         = (*RedisStore)(nil)
	_ DeliveryStore = (*MemorySubscriptions)(nil)
	_ DeliveryStore = (*RedisSubscriptions)(nil)
)

// matcher is a compiled Query filter.
type matcher struct {
	none        bool
	connections []string // nil = all
	connection  string
	types       []string
}

func newMatcher(q Query) matcher {
	m := matcher{connections: q.Connections, connection: q.Connection, types: q.Types}
	if q.Connections != nil && len(q.Connections) == 0 {
		m.none = true
	}
	if q.Connection != "" && q.Connections != nil && !slices.Contains(q.Connections, q.Connection) {
		m.none = true
	}
	return m
}

func (m matcher) match(e *Event) bool {
	if m.none {
		return false
	}
	if m.connection != "" && e.Connection != m.connection {
		return false
	}
	if m.connections != nil && !slices.Contains(m.connections, e.Connection) {
		return false
	}
	if len(m.types) > 0 && !slices.Contains(m.types, e.Type) {
		return false
	}
	return true
}

func limitOf(q Query) int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}
