package api

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const (
	headerRequestID = "X-Request-ID"
	ctxRequestID    = "crmgate.request_id"
	// canonicalRequestID is headerRequestID as net/http keys its header
	// maps: used as the key itself, it spares the canonicalisation (a new
	// string) that Header.Get and Header.Set make of "X-Request-ID" for
	// every request.
	canonicalRequestID = "X-Request-Id"
)

// requestIDMiddleware takes the caller's X-Request-ID when it is a sensible
// token (1–128 printable ASCII characters) and makes one otherwise; every
// response carries it.
func requestIDMiddleware(c *gin.Context) {
	var id string
	if v := c.Request.Header[canonicalRequestID]; len(v) > 0 {
		id = v[0]
	}
	if !validRequestID(id) {
		id = newID()
	}
	c.Set(ctxRequestID, id)
	c.Writer.Header()[canonicalRequestID] = []string{id}
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// spanRequestID puts the request's id on its span (when tracing is on), so
// that a trace and the request's log line and answer can be matched.
func spanRequestID(c *gin.Context) {
	trace.SpanFromContext(c.Request.Context()).SetAttributes(attribute.String("crmgate.request_id", requestID(c)))
	c.Next()
}
