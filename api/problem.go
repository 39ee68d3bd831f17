package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"crmgate/gateway"
	"crmgate/schema"
)

// Problem is an RFC 9457 problem document, the body of every error that
// concerns a whole request (Content-Type application/problem+json).
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	RequestID string         `json:"request_id"`
	Errors    []schema.Issue `json:"errors,omitempty"`
} //	@name	Problem

// Problem types: stable URIs, one per kind of whole-request error.
const (
	problemBase        = "https://crmgate.dev/problems/"
	ProblemMalformed   = problemBase + "malformed-request"
	ProblemMediaType   = problemBase + "unsupported-media-type"
	ProblemTooLarge    = problemBase + "body-too-large"
	ProblemValidation  = problemBase + "validation-failed"
	ProblemUnsupported = problemBase + "not-supported"
	ProblemUnauth      = problemBase + "unauthorized"
	ProblemForbidden   = problemBase + "forbidden"
	ProblemNotFound    = problemBase + "not-found"
	ProblemConflict    = problemBase + "conflict"
	ProblemPrecond     = problemBase + "precondition-failed"
	ProblemRateLimited = problemBase + "rate-limited"
	ProblemInternal    = problemBase + "internal"
	ProblemUnavailable = problemBase + "unavailable"
)

var problemTitles = map[string]string{
	ProblemMalformed:   "Malformed request",
	ProblemMediaType:   "Unsupported media type",
	ProblemTooLarge:    "Request body too large",
	ProblemValidation:  "Validation failed",
	ProblemUnsupported: "Not supported by this connection",
	ProblemUnauth:      "Unauthorized",
	ProblemForbidden:   "Forbidden",
	ProblemNotFound:    "Not found",
	ProblemConflict:    "Conflict",
	ProblemPrecond:     "Precondition failed",
	ProblemRateLimited: "Too many requests",
	ProblemInternal:    "Internal error",
	ProblemUnavailable: "Service unavailable",
}

// problem writes a problem document and aborts the request.
func problem(c *gin.Context, status int, typ, detail string, errs ...schema.Issue) {
	p := Problem{Type: typ, Title: problemTitles[typ], Status: status, Detail: detail, RequestID: requestID(c), Errors: errs}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="crmgate"`)
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, p)
}

// serviceError maps an error of the core to its problem: the one place where
// error kinds become HTTP statuses.
func serviceError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, gateway.ErrUnsupported):
		problem(c, http.StatusUnprocessableEntity, ProblemUnsupported, err.Error())
	default:
		problem(c, http.StatusInternalServerError, ProblemInternal, "the request could not be processed; quote the request_id to support")
	}
}
