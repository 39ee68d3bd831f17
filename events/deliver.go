package events

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSchedule is the wait before each retry of a delivery (before
// jitter): after the first attempt and these seven retries the event is
// given up as a Failure.
var DefaultSchedule = []time.Duration{
	time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute,
	10 * time.Minute, time.Hour, 6 * time.Hour,
}

// Defaults of DispatcherOptions.
const (
	DefaultAttemptTimeout = 10 * time.Second
	DefaultPollInterval   = 2 * time.Second
	DefaultLeaseTTL       = 30 * time.Second
)

// ErrRunning is returned by Run when the Dispatcher is already running.
var ErrRunning = errors.New("events: dispatcher already running")

// DispatcherOptions configure a Dispatcher; zero fields take the defaults.
type DispatcherOptions struct {
	// Destinations are the addresses deliveries may go to; the zero value
	// refuses loopback, link-local, unspecified and multicast addresses.
	Destinations Destinations
	// Client sends the deliveries; nil means Destinations.Client(), which
	// checks every address it dials against Destinations and does not
	// follow redirects (a 3xx answer counts as a failed attempt). A Client
	// given here is used as it is.
	Client *http.Client
	// AttemptTimeout bounds one delivery attempt; a timeout is a failed
	// attempt. Default DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Schedule is the wait before each retry; nil means DefaultSchedule.
	// An event is attempted len(Schedule)+1 times before it is given up.
	Schedule []time.Duration
	// Jitter turns a Schedule step into the actual wait; nil means full
	// jitter, uniformly random in [0, step].
	Jitter func(step time.Duration) time.Duration
	// PollInterval is how often the stores are looked at without a Notify
	// (new events from other instances, new subscriptions, a lease held
	// elsewhere). Default DefaultPollInterval.
	PollInterval time.Duration
	// LeaseTTL is how long a subscription's delivery lease lasts unless
	// renewed; the holder renews it at a third of that. If an instance
	// dies, another takes over the subscription after at most LeaseTTL.
	// Default DefaultLeaseTTL; never less than twice AttemptTimeout, so a
	// lease cannot run out during an attempt.
	LeaseTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits like time.After; nil means time.After.
	After func(time.Duration) <-chan time.Time
	// Logger receives failed attempts and store errors; nil discards them.
	Logger *slog.Logger
	// Observe, when set, is told of every delivery attempt and of every
	// subscription found with nothing left to deliver (for metrics). It is
	// called from the delivering goroutines and must not block.
	Observe func(Delivery)
}

// Delivery is what Observe is told.
type Delivery struct {
	Subscription string
	// Outcome is "delivered", "retry" (the attempt failed and will be made
	// again), "failed" (given up: listed in the subscription's failures) or
	// "idle" (nothing is waiting for the subscription).
	Outcome string
	// Lag is how long the event attempted has waited since it was received
	// (0 when idle): how far the subscription is behind.
	Lag time.Duration
}

func (d *Dispatcher) observe(sub, outcome string, ev *Event) {
	if d.opts.Observe == nil {
		return
	}
	var lag time.Duration
	if ev != nil && !ev.ReceivedAt.IsZero() {
		lag = max(d.opts.Now().Sub(ev.ReceivedAt), 0)
	}
	d.opts.Observe(Delivery{Subscription: sub, Outcome: outcome, Lag: lag})
}

// Dispatcher delivers every stored event to every subscription whose
// filters it passes, as an HTTP POST of the event's JSON with the Standard
// Webhooks headers webhook-id (the event id), webhook-timestamp (unix
// seconds) and webhook-signature (see Sign).
//
// Per subscription, events go one at a time in storage order: the next only
// after the previous was accepted (any 2xx) or given up. A non-2xx answer,
// a transport error or a timeout is retried after the Schedule's waits; when
// the last attempt fails the event is kept as a Failure (see
// SubscriptionStore.Failures) and delivery goes on with the next event.
// Events queued by Redeliver go before newer ones.
//
// Progress lives in the DeliveryStore, so with Redis a new Dispatcher, in
// this process or another, resumes where a stopped one left off; several
// running Dispatchers share the work through a per-subscription lease.
// Delivery is at least once: an attempt interrupted by a stop or a crash is
// made again, so receivers dedupe by webhook-id.
type Dispatcher struct {
	events Store
	subs   DeliveryStore
	opts   DispatcherOptions
	log    *slog.Logger

	running atomic.Bool
	wakeMu  sync.Mutex
	wake    chan struct{}
}

// NewDispatcher returns a Dispatcher of the events in events to the
// subscriptions in subs. Nil stores and a negative schedule step are refused.
func NewDispatcher(events Store, subs DeliveryStore, opts DispatcherOptions) (*Dispatcher, error) {
	if events == nil || subs == nil {
		return nil, errors.New("events.NewDispatcher: nil store")
	}
	for i, d := range opts.Schedule {
		if d < 0 {
			return nil, fmt.Errorf("events.NewDispatcher: schedule step %d is negative", i)
		}
	}
	if opts.Client == nil {
		opts.Client = opts.Destinations.Client()
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.Schedule == nil {
		opts.Schedule = DefaultSchedule
	}
	opts.Schedule = append([]time.Duration(nil), opts.Schedule...)
	if opts.Jitter == nil {
		opts.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return mrand.N(d + 1)
		}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	opts.LeaseTTL = max(opts.LeaseTTL, 2*opts.AttemptTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{events: events, subs: subs, opts: opts, log: log, wake: make(chan struct{})}, nil
}

// Notify wakes the Dispatcher to look for new events and subscriptions now
// rather than at the next poll. Call it after Append and after creating a
// subscription. It never blocks; it is safe to call at any time, running or not.
func (d *Dispatcher) Notify() {
	d.wakeMu.Lock()
	close(d.wake)
	d.wake = make(chan struct{})
	d.wakeMu.Unlock()
}

func (d *Dispatcher) woken() <-chan struct{} {
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	return d.wake
}

// Run delivers until ctx is done, then stops every delivery in flight
// (an interrupted attempt is not counted and is made again later) and
// returns nil. Store errors are logged and retried at the poll interval.
// A second concurrent Run returns ErrRunning.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer d.running.Store(false)
	var wg sync.WaitGroup
	workers := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range workers {
			cancel()
		}
		wg.Wait()
	}()
	done := make(chan string, 16)
	for {
		wake := d.woken()
		subs, err := d.subs.List(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("events: listing subscriptions", "err", err)
		}
		if err == nil {
			seen := make(map[string]bool, len(subs))
			for _, s := range subs {
				seen[s.ID] = true
				if _, ok := workers[s.ID]; ok {
					continue
				}
				wctx, cancel := context.WithCancel(ctx)
				workers[s.ID] = cancel
				wg.Add(1)
				go func(id string) {
					defer wg.Done()
					d.work(wctx, id)
					select {
					case done <- id:
					case <-ctx.Done():
					}
				}(s.ID)
			}
			for id, cancel := range workers {
				if !seen[id] {
					cancel()
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case id := <-done:
			if cancel, ok := workers[id]; ok {
				cancel()
				delete(workers, id)
			}
		case <-wake:
		case <-d.opts.After(d.opts.PollInterval):
		}
	}
}

// work delivers one subscription until ctx is done or it is deleted.
func (d *Dispatcher) work(ctx context.Context, subID string) {
	var b [12]byte
	_, _ = crand.Read(b[:])
	token := hex.EncodeToString(b[:])
	defer func() { _ = d.subs.release(context.WithoutCancel(ctx), subID, token) }()
	for ctx.Err() == nil {
		ok, err := d.subs.acquire(ctx, subID, token, d.opts.LeaseTTL)
		if errors.Is(err, ErrNotFound) {
			return
		}
		if err != nil && ctx.Err() == nil {
			d.log.Error("events: delivery lease", "subscription", subID, "err", err)
		}
		if ok {
			if gone := d.deliverLoop(ctx, subID, token); gone {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-d.opts.After(d.opts.PollInterval):
		}
	}
}

// deliverLoop delivers while subID's lease is held. It returns true when the
// subscription no longer exists.
func (d *Dispatcher) deliverLoop(ctx context.Context, subID, token string) (gone bool) {
	// A subscription never changes once created (it can only be deleted,
	// which load, and a check after each new event is listed, notice):
	// read it and its secret once.
	sub, err := d.subs.Get(ctx, subID)
	if errors.Is(err, ErrNotFound) {
		return true
	}
	if err != nil {
		d.logStoreErr(ctx, subID, err)
		return false
	}
	secret, err := d.subs.secret(ctx, subID)
	if errors.Is(err, ErrNotFound) {
		return true
	}
	if err != nil {
		d.logStoreErr(ctx, subID, err)
		return false
	}
	for ctx.Err() == nil {
		wake := d.woken()
		if ok, err := d.subs.acquire(ctx, subID, token, d.opts.LeaseTTL); err != nil || !ok {
			return errors.Is(err, ErrNotFound)
		}
		st, head, err := d.subs.load(ctx, subID)
		if errors.Is(err, ErrNotFound) {
			return true
		}
		if err != nil {
			d.logStoreErr(ctx, subID, err)
			return false
		}

		// Pick the item: a redelivery being retried or waiting, else the
		// next matching stream event.
		var ev *Event
		redeliver := false
		next := st
		if head != nil && (st.Attempts == 0 || st.Redelivering) {
			ev, redeliver = &head.Event, true
		} else {
			if st.Redelivering { // its queue entry is gone: start afresh
				st = progress{Cursor: st.Cursor}
			}
			q := Query{After: st.Cursor, Limit: 1, Types: sub.Types}
			if len(sub.Connections) > 0 {
				q.Connections = sub.Connections
			}
			page, err := d.events.List(ctx, q)
			if err != nil {
				d.logStoreErr(ctx, subID, err)
				return false
			}
			next = progress{Cursor: page.NextCursor}
			if len(page.Events) == 0 {
				d.observe(subID, "idle", nil)
				if page.NextCursor != st.Cursor || st.Attempts != 0 {
					if err := d.subs.commit(ctx, subID, token, commitOp{state: next}); err != nil {
						d.logStoreErr(ctx, subID, err)
						return false
					}
				}
				if !d.wait(ctx, subID, token, wake, d.opts.Now().Add(d.opts.PollInterval)) {
					return false
				}
				continue
			}
			ev = &page.Events[0]
			// The subscription may have been deleted after load and
			// before the event was appended and listed: an event that
			// came after the deletion is never delivered to it.
			if _, err := d.subs.Get(ctx, subID); errors.Is(err, ErrNotFound) {
				return true
			} else if err != nil {
				d.logStoreErr(ctx, subID, err)
				return false
			}
		}
		if st.Redelivering != redeliver {
			st = progress{Cursor: st.Cursor}
		}
		if !st.NextAttempt.IsZero() && d.opts.Now().Before(st.NextAttempt) {
			if !d.wait(ctx, subID, token, nil, st.NextAttempt) {
				return false
			}
			continue
		}

		status, err := d.post(ctx, sub.URL, secret, ev)
		if ctx.Err() != nil {
			return false // interrupted: not an attempt
		}
		op := commitOp{}
		attempts := st.Attempts + 1
		outcome := "retry"
		switch {
		case err == nil:
			outcome = "delivered"
			op.state = progress{Cursor: st.Cursor}
			if !redeliver {
				op.state.Cursor = next.Cursor
			}
			op.popRedeliver = redeliver
		case attempts > len(d.opts.Schedule):
			outcome = "failed"
			d.log.Warn("events: delivery given up", "subscription", subID, "event", ev.ID, "attempts", attempts, "err", err.Error(), "cause", detail(err))
			op.state = progress{Cursor: st.Cursor}
			if !redeliver {
				op.state.Cursor = next.Cursor
			}
			op.popRedeliver = redeliver
			op.failure = &Failure{Event: *ev, Attempts: attempts, LastError: err.Error(), LastStatus: status, FailedAt: d.opts.Now().UTC()}
		default:
			d.log.Info("events: delivery attempt failed", "subscription", subID, "event", ev.ID, "attempt", attempts, "err", err.Error(), "cause", detail(err))
			op.state = progress{
				Cursor: st.Cursor, Attempts: attempts, Redelivering: redeliver,
				NextAttempt: d.opts.Now().Add(d.opts.Jitter(d.opts.Schedule[attempts-1])),
				LastError:   err.Error(), LastStatus: status,
			}
		}
		if err := d.subs.commit(context.WithoutCancel(ctx), subID, token, op); err != nil {
			d.logStoreErr(ctx, subID, err)
			return false
		}
		d.observe(subID, outcome, ev)
	}
	return false
}

func (d *Dispatcher) logStoreErr(ctx context.Context, subID string, err error) {
	if ctx.Err() == nil && !errors.Is(err, errLeaseLost) {
		d.log.Error("events: delivery store", "subscription", subID, "err", err)
	}
}

// wait sleeps until t, or until wake fires, renewing the lease on the way.
// It returns false when ctx is done or the lease was lost.
func (d *Dispatcher) wait(ctx context.Context, subID, token string, wake <-chan struct{}, t time.Time) bool {
	for {
		left := t.Sub(d.opts.Now())
		if left <= 0 {
			return true
		}
		left = min(left, d.opts.LeaseTTL/3)
		select {
		case <-ctx.Done():
			return false
		case <-wake:
			return true
		case <-d.opts.After(left):
		}
		if ok, err := d.subs.acquire(ctx, subID, token, d.opts.LeaseTTL); err != nil || !ok {
			return false
		}
	}
}

// errNoAnswer is what a Failure says of a delivery that got no HTTP answer.
// It is one message whatever happened (refused, reset, EOF, TLS, timeout),
// so that the failures of a subscription pointed at a host and port do not
// tell a scanner what listens there.
var errNoAnswer = errors.New("delivery failed: no answer (connection failed or timed out)")

// deliveryError is the error a failed Client.Do is recorded as: the
// address refusal, or errNoAnswer. The cause stays in the log line of the
// attempt (see detail).
func deliveryError(err error) error {
	if errors.Is(err, ErrAddressNotAllowed) {
		return &attemptError{shown: ErrAddressNotAllowed, cause: err}
	}
	return &attemptError{shown: errNoAnswer, cause: err}
}

// attemptError shows its generic message and keeps the cause for the log.
type attemptError struct{ shown, cause error }

func (e *attemptError) Error() string { return e.shown.Error() }
func (e *attemptError) Unwrap() error { return e.shown }

// detail is err's cause for the operator's log.
func detail(err error) string {
	var ae *attemptError
	if errors.As(err, &ae) {
		var uerr *url.Error
		if errors.As(ae.cause, &uerr) {
			return uerr.Err.Error() // the URL is the subscription's, not news
		}
		return ae.cause.Error()
	}
	return err.Error()
}

// post makes one delivery attempt. It returns the HTTP status (0 when none
// came) and an error unless the answer was 2xx.
func (d *Dispatcher) post(ctx context.Context, target, secret string, ev *Event) (int, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := d.opts.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crmgate-webhooks")
	req.Header.Set("webhook-id", ev.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(secret, ev.ID, ts, body))
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return 0, deliveryError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
