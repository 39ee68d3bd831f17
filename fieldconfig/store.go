package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors of a Store. Implementations wrap them, so test with errors.Is.
var (
	// ErrNotFound: nothing is stored for the connection.
	ErrNotFound = errors.New("fieldconfig: no field configuration stored for the connection")
	// ErrVersionMismatch: a conditional Put named a version that is not the
	// current one (an If-Match that is not current: HTTP 412).
	ErrVersionMismatch = errors.New("fieldconfig: version is not the current one")
	// ErrInvalid: the document failed Config.Validate; the error wrapping it
	// also wraps the Problems, each naming its key (errors.As).
	ErrInvalid = errors.New("fieldconfig: invalid field configuration")
)

// Versioned is a stored field configuration with its version. Versions start
// at 1 and grow by one with every Put; they never repeat, also across a
// backend that lost what it held (see Redis), where they jump ahead. Its JSON
// form is the answer of
// GET /v1/connections/{id}/field-config:
// {"version": 3, "updated_at": "…", "config": {…}}.
type Versioned struct {
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	Config    Config    `json:"config"`
} //	@name	VersionedFieldConfig

// Store keeps each connection's field configuration, versioned. Every method
// is safe for concurrent use, also from several processes sharing one backend.
// A Config handed to or returned by a Store is a copy: changing it later
// changes nothing stored.
type Store interface {
	// Get returns the connection's current configuration, or an error
	// wrapping ErrNotFound when nothing is stored for it.
	Get(ctx context.Context, conn string) (Versioned, error)
	// Put replaces the whole document, atomically, with version+1 (1 when
	// nothing was stored, or above every version this store handed out when
	// its backend lost them). With ifVersion > 0 it does so only when that is
	// the current version, and else fails with ErrVersionMismatch (also when
	// nothing is stored); ifVersion 0 is unconditional. A document that fails
	// Config.Validate is refused with ErrInvalid and nothing changes.
	Put(ctx context.Context, conn string, cfg Config, ifVersion int64) (Versioned, error)
	// Seed stores cfg as version 1 when nothing is stored for the connection
	// yet (above every version this store handed out, when its backend lost
	// them), and returns what is stored afterwards. It never overwrites
	// anything already stored, whatever its version or content: the
	// configuration file seeds a connection once, and from then on a change
	// is a Put. An invalid cfg is refused with ErrInvalid, even when
	// something is stored already.
	Seed(ctx context.Context, conn string, cfg Config) (Versioned, error)
}

// VersionLister is a Store that can report current versions more cheaply
// than Get. Cache uses it to poll for changes.
type VersionLister interface {
	// Versions returns the current version of each named connection; a
	// connection with nothing stored is absent from the map.
	Versions(ctx context.Context, conns []string) (map[string]int64, error)
}

// Notifier is a Store that announces every change. Cache uses it to see
// changes made by other processes at once, and polls as a fallback.
type Notifier interface {
	// Watch calls changed for every change notice until ctx is done or the
	// subscription fails; it returns ctx.Err() or the failure. ready, when
	// not nil, is called once the subscription is in place: a change made
	// after that is announced. Notices may be lost while no Watch runs.
	Watch(ctx context.Context, ready func(), changed func(conn string, version int64)) error
}

// clone returns a deep copy of cfg, so that no slice of a stored document is
// shared with a caller.
func clone(cfg Config) Config {
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("fieldconfig: marshal config: %v", err)) // a Config always marshals
	}
	var out Config
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("fieldconfig: unmarshal config: %v", err))
	}
	return out
}

// validate wraps the problems of cfg with ErrInvalid.
func validate(op string, cfg *Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w: %w", op, ErrInvalid, err)
	}
	return nil
}

// now is the store's clock, truncated to what JSON and Redis keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
