package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/idempotency"
	"crmgate/schema"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxIdempotencyKey    = 255
)

// errLeaseLost ends a request whose Idempotency-Key was taken over by a
// retry (this request's lease had lapsed): the retry sends the rest.
var errLeaseLost = errors.New("the Idempotency-Key was taken over by a retry of this request")

// errKeyTooLong refuses an Idempotency-Key over maxIdempotencyKey.
var errKeyTooLong = refuse(kindInvalid, "Idempotency-Key is longer than 255 characters",
	issue(schema.CodeTooLong, headerIdempotencyKey, "at most 255 characters"))

// idempotent handles the Idempotency-Key of a write request. Without a key it
// does nothing. With one: a key already answered for the same caller, path
// and body replays that answer byte for byte (Idempotent-Replayed: true) and
// stops the request; the same key with another body is a 422; while the
// first request is still running (its lease renewed), a 409. Otherwise the
// request holds the key: its lease is renewed until the returned done func,
// which stores the answer when it was a 200 (a problem releases the key so a
// corrected request may reuse it). The returned journal (nil without a key)
// keeps the outcomes of the request's provider calls under the key, and gives
// back those of an earlier attempt with the same key and body that was
// interrupted.
func (s *Server) idempotent(c *gin.Context, body []byte) (done func(), journal gateway.Journal, ok bool) {
	key := c.GetHeader(headerIdempotencyKey)
	if key == "" || s.opts.Idempotency == nil {
		return func() {}, nil, true
	}
	if len(key) > maxIdempotencyKey {
		fail(c, errKeyTooLong)
		return nil, nil, false
	}
	sub := principal(c).Subject
	scoped := sub + "\x00" + c.FullPath() + "\x00" + key
	fp := idempotency.Fingerprint([]byte(sub), []byte(c.FullPath()), body)
	store := s.opts.Idempotency
	ans, claim, err := store.Begin(c.Request.Context(), scoped, fp)
	switch {
	case err != nil:
		// idempotency.ErrInFlight and ErrMismatch among them.
		fail(c, storeFailed("the Idempotency-Key could not be checked; nothing was sent, retry later", err))
		return nil, nil, false
	case ans != nil:
		c.Header(headerReplayed, "true")
		s.metrics.replays.Inc()
		c.Data(ans.Status, ans.ContentType, ans.Body)
		c.Abort()
		return nil, nil, false
	}
	// The lease is renewed while the request runs; should a retry take the
	// key over meanwhile, this request stops sending.
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	c.Request = c.Request.WithContext(ctx)
	stop := idempotency.Keep(context.WithoutCancel(ctx), store, claim, func() {
		s.log.Warn("Idempotency-Key taken over by a retry; stopping", "request_id", requestID(c))
		cancel(errLeaseLost)
	})
	j := &keyJournal{store: store, claim: claim, log: s.log, requestID: requestID(c)}
	if len(claim.Journal) > 0 {
		s.log.Info("Idempotency-Key resumed after an interrupted attempt", "request_id", requestID(c), "calls_answered", len(claim.Journal))
	}
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	return func() {
		stop()
		defer cancel(nil)
		// Whatever happens here, what comes after (a recovered panic's
		// answer among it) is written straight to the caller.
		defer func() { c.Writer = rec.ResponseWriter }()
		if !rec.Written() {
			// A panic on its way up: leave the key and its journal to a
			// retry, once the lease lapses.
			return
		}
		// The answer goes out once stored, or once the store failed.
		defer rec.release()
		// The answer is stored even when the caller went away.
		ctx, cancelStore := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancelStore()
		if rec.Status() == http.StatusOK {
			err = store.Complete(ctx, claim, idempotency.Answer{Status: rec.Status(), ContentType: rec.Header().Get("Content-Type"), Body: rec.body})
		} else {
			err = store.Release(ctx, claim)
		}
		if err != nil {
			s.log.Error("idempotency store failed", "request_id", requestID(c), "err", err.Error())
		}
	}, j, true
}

// journalEntry is one provider call as the journal keeps it.
type journalEntry struct {
	Report  answer.CallReport `json:"report"`
	Results []answer.Result   `json:"results"`
}

// noteReplayed marks, in provider_calls, a call made by an interrupted
// earlier attempt with the same Idempotency-Key.
const noteReplayed = "answered to an earlier attempt with this Idempotency-Key that was interrupted; its records were not sent again"

// keyJournal is a gateway.Journal on an Idempotency-Key's claim.
type keyJournal struct {
	store     idempotency.Store
	claim     *idempotency.Claim
	log       *slog.Logger
	requestID string
}

// Answered implements gateway.Journal.
func (j *keyJournal) Answered() (map[int]answer.Result, []answer.CallReport) {
	if len(j.claim.Journal) == 0 {
		return nil, nil
	}
	results := map[int]answer.Result{}
	calls := make([]answer.CallReport, 0, len(j.claim.Journal))
	for _, raw := range j.claim.Journal {
		var e journalEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			// Not ours to read: its records are sent again.
			j.log.Error("idempotency journal entry unreadable", "request_id", j.requestID, "err", err.Error())
			continue
		}
		for _, r := range e.Results {
			results[r.Index] = r
		}
		if e.Report.Note == "" {
			e.Report.Note = noteReplayed
		} else {
			e.Report.Note = noteReplayed + "; " + e.Report.Note
		}
		calls = append(calls, e.Report)
	}
	return results, calls
}

// Record implements gateway.Journal: one store round trip, written even when
// the request's deadline has passed.
func (j *keyJournal) Record(ctx context.Context, report answer.CallReport, results []answer.Result) {
	if len(results) == 0 {
		return
	}
	b, err := json.Marshal(journalEntry{Report: report, Results: results})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = j.store.Record(ctx, j.claim, b)
	}
	if err != nil {
		j.log.Error("idempotency journal not written; a retry after a crash would send these records again",
			"request_id", j.requestID, "records", len(results), "err", err.Error())
	}
}

// recorder holds what the handler answers until release, which sends it
// with its length: the answer of a request with an Idempotency-Key goes out
// only once stored, so that a caller holding it can only retry into its
// replay. Nothing goes out before, headers included.
type recorder struct {
	gin.ResponseWriter
	body    []byte
	written bool
}

func (r *recorder) Write(b []byte) (int, error) {
	r.written = true
	r.body = append(r.body, b...)
	return len(b), nil
}

func (r *recorder) WriteString(s string) (int, error) {
	r.written = true
	r.body = append(r.body, s...)
	return len(s), nil
}

// WriteHeaderNow marks the answer written; its header goes out on release.
func (r *recorder) WriteHeaderNow() { r.written = true }

// Flush does nothing: what is held goes out on release.
func (r *recorder) Flush() {}

// Written says whether the handler answered.
func (r *recorder) Written() bool { return r.written || r.ResponseWriter.Written() }

// release sends what was held: the header, with the body's length, and the
// body.
func (r *recorder) release() {
	if !r.ResponseWriter.Written() {
		r.Header()["Content-Length"] = []string{strconv.Itoa(len(r.body))}
	}
	if len(r.body) == 0 {
		r.ResponseWriter.WriteHeaderNow()
		return
	}
	_, _ = r.ResponseWriter.Write(r.body)
}
