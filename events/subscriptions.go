package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Subscription is a push destination for events. A subscription receives
// the events stored after its creation that pass its filters.
type Subscription struct {
	ID  string `json:"id" example:"sub_6f1c2a9e"`
	URL string `json:"url" format:"uri" example:"https://billing.internal.example/crm-events"`
	// Types keeps only events of these types; empty means every type.
	Types []string `json:"types"`
	// Connections keeps only events of these connections; empty means all.
	Connections []string  `json:"connections"`
	CreatedAt   time.Time `json:"created_at"`
} //	@name	Subscription

// Failure is an event that a subscription did not accept within its retry
// schedule. It stays listed until Redeliver puts it back into delivery.
type Failure struct {
	Event    Event `json:"event"`
	Attempts int   `json:"attempts" example:"7"`
	// The last error seen: "HTTP <status>" for an answer, "address not
	// allowed" for a destination refused when dialled, one generic message
	// for any delivery that got no answer.
	LastError string `json:"last_error" example:"HTTP 500"`
	// The last HTTP status answered; absent (0) when no HTTP answer came.
	LastStatus int       `json:"last_status,omitempty" example:"500"`
	FailedAt   time.Time `json:"failed_at"`
} //	@name	DeliveryFailure

// SubscriptionStore keeps subscriptions and what could not be delivered to
// them. Implementations: NewMemorySubscriptions and NewRedisSubscriptions.
type SubscriptionStore interface {
	// Create validates s (URL absolute http or https without userinfo; each
	// type one of Types; otherwise an error wrapping ErrInvalid and the
	// Problems; where the URL leads is Destinations' business), assigns ID and
	// CreatedAt (ignoring what s had) and stores it. The signing secret
	// ("whsec_" + base64 of 32 random bytes) is returned here only.
	Create(ctx context.Context, s Subscription) (created Subscription, secret string, err error)
	// List returns every subscription, oldest first, without secrets.
	List(ctx context.Context) ([]Subscription, error)
	// Get returns one subscription; an unknown id wraps ErrNotFound.
	Get(ctx context.Context, id string) (Subscription, error)
	// Delete removes a subscription with its secret, progress and failures;
	// an unknown id wraps ErrNotFound. Delivery to it stops.
	Delete(ctx context.Context, id string) error
	// Failures lists the events given up for subID, oldest failure first;
	// an unknown subID wraps ErrNotFound.
	Failures(ctx context.Context, subID string) ([]Failure, error)
	// Redeliver takes the failed events with eventID off subID's failures
	// and queues them for delivery again, ahead of newer events, with a
	// fresh retry schedule. No such failure wraps ErrNotFound.
	Redeliver(ctx context.Context, subID, eventID string) error
}

// DeliveryStore is a SubscriptionStore that also keeps delivery progress
// for a Dispatcher: per subscription a cursor, the attempt count and next
// attempt time, the redelivery queue and a lease. It is implemented by this
// package's subscription stores only.
type DeliveryStore interface {
	SubscriptionStore
	secret(ctx context.Context, subID string) (string, error)
	// acquire takes or renews subID's lease for token; false when another
	// token holds it.
	acquire(ctx context.Context, subID, token string, ttl time.Duration) (bool, error)
	release(ctx context.Context, subID, token string) error
	// load returns subID's progress and the head of its redelivery queue.
	load(ctx context.Context, subID string) (progress, *Failure, error)
	// commit stores c if token still holds the lease, else errLeaseLost.
	commit(ctx context.Context, subID, token string, c commitOp) error
}

// progress is a subscription's delivery state.
type progress struct {
	// Cursor is the position of the last stream event finished with
	// (delivered or given up).
	Cursor string `json:"cursor"`
	// Attempts made so far for the current item.
	Attempts int `json:"attempts,omitempty"`
	// Redelivering says the current item is the redelivery queue's head.
	Redelivering bool      `json:"redelivering,omitempty"`
	NextAttempt  time.Time `json:"next_attempt,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastStatus   int       `json:"last_status,omitempty"`
}

// commitOp is one step of delivery, stored at once.
type commitOp struct {
	state        progress
	popRedeliver bool     // drop the redelivery queue's head
	failure      *Failure // record a given-up event
}

var errLeaseLost = errors.New("events: delivery lease lost")

func newSubscriptionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "sub_" + hex.EncodeToString(b[:])
}

// prepare validates s and fills the fields Create assigns.
func prepare(s Subscription, now time.Time) (Subscription, string, error) {
	var ps Problems
	u, err := url.Parse(s.URL)
	if s.URL == "" {
		ps.Add("url", "required")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.Add("url", "%q is not an absolute http(s) URL", s.URL)
	} else if u.User != nil {
		ps.Add("url", "userinfo (user:password@) is not allowed in a subscription URL")
	}
	for _, t := range s.Types {
		if !slices.Contains(Types, t) {
			ps.Add("types", "unknown event type %q", t)
		}
	}
	for _, c := range s.Connections {
		if c == "" {
			ps.Add("connections", "empty connection id")
		}
	}
	if len(ps) > 0 {
		return Subscription{}, "", invalid(ps)
	}
	secret, err := NewSecret()
	if err != nil {
		return Subscription{}, "", err
	}
	s.ID = newSubscriptionID()
	s.CreatedAt = now.UTC().Truncate(time.Millisecond)
	s.Types = append([]string{}, s.Types...)
	s.Connections = append([]string{}, s.Connections...)
	return s, secret, nil
}

func sortSubscriptions(subs []Subscription) {
	sort.Slice(subs, func(i, j int) bool {
		if !subs[i].CreatedAt.Equal(subs[j].CreatedAt) {
			return subs[i].CreatedAt.Before(subs[j].CreatedAt)
		}
		return subs[i].ID < subs[j].ID
	})
}

func sortFailures(fs []Failure) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].FailedAt.Before(fs[j].FailedAt) })
}

// failureKey names a failure within a subscription.
func failureKey(e *Event) string {
	return strconv.Itoa(len(e.Connection)) + ":" + e.Connection + ":" + e.ID
}
