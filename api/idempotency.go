package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"crmgate/idempotency"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxIdempotencyKey    = 255
)

// idempotent handles the Idempotency-Key of a write request. Without a key it
// does nothing. With one: a key already answered for the same caller, path
// and body replays that answer byte for byte (Idempotent-Replayed: true) and
// stops the request; the same key with another body is a 422; while the
// first request is still running, a 409. Otherwise the request goes on and
// the returned done func stores its answer when it was a 200 (a problem
// releases the key so a corrected request may reuse it).
func (s *Server) idempotent(c *gin.Context, body []byte) (done func(), ok bool) {
	key := c.GetHeader(headerIdempotencyKey)
	if key == "" || s.opts.Idempotency == nil {
		return func() {}, true
	}
	if len(key) > maxIdempotencyKey {
		problem(c, http.StatusUnprocessableEntity, ProblemValidation, "Idempotency-Key is longer than 255 characters",
			issue("too_long", headerIdempotencyKey, "at most 255 characters"))
		return nil, false
	}
	sub := principal(c).Subject
	scoped := sub + "\x00" + c.FullPath() + "\x00" + key
	fp := idempotency.Fingerprint([]byte(sub), []byte(c.FullPath()), body)
	ans, err := s.opts.Idempotency.Begin(c.Request.Context(), scoped, fp)
	switch {
	case err == nil && ans != nil:
		c.Header(headerReplayed, "true")
		c.Data(ans.Status, ans.ContentType, ans.Body)
		c.Abort()
		return nil, false
	case err == nil:
	case errors.Is(err, idempotency.ErrInFlight):
		c.Header("Retry-After", "1")
		problem(c, http.StatusConflict, ProblemConflict, "a request with this Idempotency-Key is still running; retry when it has answered")
		return nil, false
	case errors.Is(err, idempotency.ErrMismatch):
		problem(c, http.StatusUnprocessableEntity, ProblemValidation, "this Idempotency-Key was used with a different request body",
			issue("invalid_value", headerIdempotencyKey, "use a new key for a new request"))
		return nil, false
	default:
		s.log.Error("idempotency store failed", "request_id", requestID(c), "error", err.Error())
		problem(c, http.StatusServiceUnavailable, ProblemUnavailable, "the Idempotency-Key could not be checked; nothing was sent, retry later")
		return nil, false
	}
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	return func() {
		// The answer is stored even when the caller went away.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
		defer cancel()
		if rec.Status() == http.StatusOK {
			err = s.opts.Idempotency.Complete(ctx, scoped, fp, idempotency.Answer{Status: rec.Status(), ContentType: rec.Header().Get("Content-Type"), Body: rec.body})
		} else {
			err = s.opts.Idempotency.Release(ctx, scoped, fp)
		}
		if err != nil {
			s.log.Error("idempotency store failed", "request_id", requestID(c), "error", err.Error())
		}
	}, true
}

// recorder keeps a copy of what is written.
type recorder struct {
	gin.ResponseWriter
	body []byte
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body = append(r.body, b...)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.body = append(r.body, s...)
	return r.ResponseWriter.WriteString(s)
}
