package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"crmgate/auth"
	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/idempotency"
	"crmgate/internal/keyed"
	"crmgate/jobs"
	"crmgate/sandbox"
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
	// ProblemHeaderTooLarge is the type of the 431 answered to a request
	// whose header is over the limit.
	ProblemHeaderTooLarge = problemBase + "header-too-large"
)

var problemTitles = map[string]string{
	ProblemMalformed:      "Malformed request",
	ProblemMediaType:      "Unsupported media type",
	ProblemTooLarge:       "Request body too large",
	ProblemValidation:     "Validation failed",
	ProblemUnsupported:    "Not supported by this connection",
	ProblemUnauth:         "Unauthorized",
	ProblemForbidden:      "Forbidden",
	ProblemNotFound:       "Not found",
	ProblemConflict:       "Conflict",
	ProblemPrecond:        "Precondition failed",
	ProblemRateLimited:    "Too many requests",
	ProblemInternal:       "Internal error",
	ProblemUnavailable:    "Service unavailable",
	ProblemHeaderTooLarge: "Request header too large",
}

// kind is what kind of refusal or failure answers a request: each is one
// HTTP status and one problem type.
type kind uint8

const (
	kindInternal       kind = iota // 500: the gateway itself failed
	kindMalformed                  // 400: the request cannot be read
	kindMethod                     // 405: no such method on the path
	kindUnauthorized               // 401: no valid credential
	kindForbidden                  // 403: the credential does not allow it
	kindNotFound                   // 404: no such thing (for this caller)
	kindConflict                   // 409: not now, in this state
	kindPrecondition               // 412: If-Match is not current
	kindTooLarge                   // 413: over a size or row limit
	kindMediaType                  // 415: a content type not taken
	kindInvalid                    // 422: a value that is not acceptable
	kindUnsupported                // 422: the connection cannot do it
	kindRateLimited                // 429: the app's rate is spent
	kindHeaderTooLarge             // 431: the request header is over the limit
	kindBadGateway                 // 502: an upstream answered, but not usably
	kindUnavailable                // 503: a dependency could not be reached
)

var kinds = [...]struct {
	status int
	typ    string
}{
	kindInternal:       {http.StatusInternalServerError, ProblemInternal},
	kindMalformed:      {http.StatusBadRequest, ProblemMalformed},
	kindMethod:         {http.StatusMethodNotAllowed, ProblemMalformed},
	kindUnauthorized:   {http.StatusUnauthorized, ProblemUnauth},
	kindForbidden:      {http.StatusForbidden, ProblemForbidden},
	kindNotFound:       {http.StatusNotFound, ProblemNotFound},
	kindConflict:       {http.StatusConflict, ProblemConflict},
	kindPrecondition:   {http.StatusPreconditionFailed, ProblemPrecond},
	kindTooLarge:       {http.StatusRequestEntityTooLarge, ProblemTooLarge},
	kindMediaType:      {http.StatusUnsupportedMediaType, ProblemMediaType},
	kindInvalid:        {http.StatusUnprocessableEntity, ProblemValidation},
	kindUnsupported:    {http.StatusUnprocessableEntity, ProblemUnsupported},
	kindRateLimited:    {http.StatusTooManyRequests, ProblemRateLimited},
	kindHeaderTooLarge: {http.StatusRequestHeaderFieldsTooLarge, ProblemHeaderTooLarge},
	kindBadGateway:     {http.StatusBadGateway, ProblemUnavailable},
	kindUnavailable:    {http.StatusServiceUnavailable, ProblemUnavailable},
}

// refusal is a decision of the API itself about a request, with no error
// of the core behind it: a header missing, a limit out of range, a scope the
// token lacks. Its detail and issues are written for the caller.
type refusal struct {
	kind       kind
	detail     string
	issues     []schema.Issue
	retryAfter int // seconds for Retry-After; 0: none
}

func (r *refusal) Error() string { return r.detail }

// refuse is a refusal of kind k, its detail a sentence for the caller.
func refuse(k kind, detail string, issues ...schema.Issue) *refusal {
	return &refusal{kind: k, detail: detail, issues: issues}
}

func (r *refusal) verdict() verdict {
	return verdict{kind: r.kind, detail: r.detail, issues: r.issues, retryAfter: r.retryAfter}
}

// errBadCursor refuses a cursor query parameter an endpoint did not give.
var errBadCursor = refuse(kindInvalid, "cursor is not one this endpoint gave",
	issue(schema.CodeInvalidValue, "cursor", detailBadCursor))

// source is where a wrapped error came from, when the error alone does not
// tell the API what it means for the request.
type source uint8

const (
	fromStore     source = iota + 1 // a store the request needed (Redis)
	fromProvider                    // a call to the connection's provider
	fromSimulator                   // a sandbox simulator
	fromRequest                     // reading the request (its body, an upload)
	fromDecoding                    // decoding JSON the caller sent
)

// sourced is an error of the core wrapped with where it came from and what,
// in words for the caller, was being done. problemFor still decides the
// answer from the error itself first; only an error it does not know gets
// the answer of its source.
type sourced struct {
	from source
	what string
	err  error
}

func (e *sourced) Error() string { return e.what + ": " + e.err.Error() }
func (e *sourced) Unwrap() error { return e.err }

// storeFailed wraps the error of a store the request needed; detail is the
// caller's sentence for a store that could not be reached ("the event store
// could not be reached").
func storeFailed(detail string, err error) error {
	return &sourced{from: fromStore, what: detail, err: err}
}

// providerFailed wraps the error of a call to the connection's provider;
// what names the call for the caller ("the provider's contact query failed").
func providerFailed(what string, err error) error {
	return &sourced{from: fromProvider, what: what, err: err}
}

// simulatorFailed wraps the error of a sandbox simulator's SimulateChange.
func simulatorFailed(err error) error {
	return &sourced{from: fromSimulator, what: "the change was not simulated", err: err}
}

// readFailed wraps an error met reading the request; what names what was
// read ("the body", "the upload").
func readFailed(what string, err error) error {
	return &sourced{from: fromRequest, what: what, err: err}
}

// notJSON wraps an error decoding JSON the caller sent; what names what was
// decoded ("the body", "the options part").
func notJSON(what string, err error) error {
	return &sourced{from: fromDecoding, what: what, err: err}
}

// overLimit is the error of a body declared or read past limit bytes.
func overLimit(limit int64) error { return &http.MaxBytesError{Limit: limit} }

// verdict is the problem document an error is answered with, and its
// Retry-After.
type verdict struct {
	kind       kind
	detail     string
	issues     []schema.Issue
	retryAfter int
}

// retryUnavailable is the Retry-After of a dependency that could not be
// reached and did not say when to come back.
const retryUnavailable = 5

// Fixed details, one per kind of error whose own text is not for callers.
const (
	detailInternal          = "the request could not be processed; quote the request_id to support"
	detailFieldConfig       = "the field configuration is not valid; nothing was changed"
	detailWebhookUnverified = "the webhook was not verified; the gateway's log says why"
	detailWebhookMalformed  = "the webhook body is not one this provider sends"
	detailSimulatorWebhook  = "the simulator's webhook did not reach the gateway"
	detailBadChange         = "the change was not simulated: send {whatsapp, field, to} or {whatsapp, followup}; the gateway's log says what was wrong"
	detailBadCursor         = "pass next_cursor from the previous page unchanged"
)

// problemFor maps err to the problem that answers it: the one place where
// errors become HTTP statuses and problem documents. It looks at what err
// is, not at how it reads: a refusal answers as it says; a sentinel or typed
// error of the core (gateway, fieldconfig, events, idempotency, auth,
// history, jobs, schema, sandbox) or a JSON decoding error answers with its
// status, the caller's part of it (a typed error's own message, the list of
// problems it carries) or a fixed sentence; anything else answers as its
// source says (storeFailed: 503, …), and an error of no known source is a
// 500. The detail never shows how err was wrapped: the whole chain is for
// the log (fail).
func problemFor(err error) verdict {
	var (
		r   *refusal
		ps  keyed.Problems
		mbe *http.MaxBytesError
		cfe *sandbox.ChangeFieldError
		fe  *jobs.FileError
		me  *jobs.MappingError
		src *sourced
	)
	// cause is err as the core returned it, without the source this
	// package wrapped it in: where its own text is the caller's, that is the
	// text shown.
	cause := err
	if errors.As(err, &src) {
		cause = src.err
	}
	switch {
	case errors.As(err, &r):
		return r.verdict()

	// What the caller sent.
	case errors.As(err, &ps) && errors.Is(err, events.ErrInvalid):
		return verdict{kind: kindInvalid, detail: ps.Error(), issues: problemIssues(ps)}
	case errors.As(err, &ps):
		// fieldconfig.Config.Validate and a Store's ErrInvalid.
		return verdict{kind: kindInvalid, detail: detailFieldConfig, issues: problemIssues(ps)}
	case errors.Is(err, events.ErrInvalid):
		return verdict{kind: kindInvalid, detail: "the subscription is not valid"}
	case src != nil && src.from == fromDecoding, src == nil && isDecoding(err):
		// A decoding error of something else than what the caller sent
		// (a store's document) is not the caller's.
		what := "the body"
		if src != nil && src.from == fromDecoding {
			what = src.what
		}
		return verdict{kind: kindMalformed, detail: what + " is not valid JSON for this endpoint: " + jsonError(cause), issues: keyIssues(cause)}
	case errors.As(err, &mbe):
		what := "the body"
		if src != nil && src.from == fromRequest {
			what = src.what
		}
		return verdict{kind: kindTooLarge, detail: fmt.Sprintf("%s is over the limit of %d bytes", what, mbe.Limit)}
	case errors.Is(err, schema.ErrUnknownRegion):
		return verdict{kind: kindInvalid, detail: "default_region is not an ISO 3166-1 alpha-2 region",
			issues: []schema.Issue{issue(schema.CodeInvalidOption, "default_region", cause.Error())}}
	case errors.As(err, &fe):
		return fileProblem(fe)
	case errors.As(err, &me):
		issues := make([]schema.Issue, len(me.Problems))
		for i, p := range me.Problems {
			issues[i] = issue(schema.CodeInvalidMapping, "mapping", p)
		}
		return verdict{kind: kindInvalid, detail: "the column mapping cannot work", issues: issues}
	case errors.As(err, &cfe):
		return verdict{kind: kindInvalid, detail: "the change names a field this connection's webhook does not carry: " + cfe.Error(),
			issues: []schema.Issue{issue(schema.CodeUnknownField, "field", "accepted: "+cfe.AcceptedText())}}

	// Credentials.
	case errors.Is(err, auth.ErrInvalidToken):
		// Verify's errors say why in words for the caller, never the
		// token or a key.
		return verdict{kind: kindUnauthorized, detail: cause.Error()}
	case errors.Is(err, gateway.ErrWebhookUnauthorized):
		return verdict{kind: kindUnauthorized, detail: detailWebhookUnverified}
	case errors.Is(err, gateway.ErrWebhookMalformed):
		return verdict{kind: kindMalformed, detail: detailWebhookMalformed}

	// What the connection can do, and the state of things.
	case errors.Is(err, gateway.ErrUnsupported):
		// Its text names the mode or capability, for the caller.
		return verdict{kind: kindUnsupported, detail: cause.Error()}
	case errors.Is(err, idempotency.ErrInFlight):
		return verdict{kind: kindConflict, detail: "a request with this Idempotency-Key is still running; retry when it has answered", retryAfter: 1}
	case errors.Is(err, idempotency.ErrMismatch):
		return verdict{kind: kindInvalid, detail: "this Idempotency-Key was used with a different request body",
			issues: []schema.Issue{issue(schema.CodeInvalidValue, headerIdempotencyKey, "use a new key for a new request")}}
	case errors.Is(err, fieldconfig.ErrVersionMismatch):
		return verdict{kind: kindPrecondition, detail: "If-Match is not the current version; GET it again and retry"}
	case errors.Is(err, fieldconfig.ErrNotFound), errors.Is(err, fieldconfig.ErrUnknownConnection):
		return verdict{kind: kindNotFound, detail: "no field configuration for this connection"}
	case errors.Is(err, events.ErrBadCursor):
		return verdict{kind: kindInvalid, detail: "after is not a cursor this endpoint gave",
			issues: []schema.Issue{issue(schema.CodeInvalidValue, "after", detailBadCursor)}}
	case errors.Is(err, events.ErrNotFound):
		return verdict{kind: kindNotFound, detail: "no such subscription or failed event"}
	case errors.Is(err, history.ErrBadCursor):
		return errBadCursor.verdict()
	case errors.Is(err, history.ErrNotFound):
		return verdict{kind: kindNotFound, detail: "no such request of this app within the retention window"}
	case errors.Is(err, jobs.ErrNotFound):
		return verdict{kind: kindNotFound, detail: "no such import job"}
	case errors.Is(err, jobs.ErrEnded):
		return verdict{kind: kindConflict, detail: "the import job has already ended"}
	}

	// An error known only by where it came from.
	if src != nil {
		switch src.from {
		case fromStore:
			return verdict{kind: kindUnavailable, detail: src.what, retryAfter: retryUnavailable}
		case fromProvider:
			return providerProblem(src.what, src.err)
		case fromSimulator:
			if errors.Is(err, gateway.ErrUnavailable) {
				return verdict{kind: kindBadGateway, detail: detailSimulatorWebhook}
			}
			if ce := (*sandbox.ChangeError)(nil); errors.As(err, &ce) {
				return verdict{kind: kindMalformed, detail: "the change was not simulated: " + ce.Reason}
			}
			return verdict{kind: kindMalformed, detail: detailBadChange}
		case fromRequest:
			return verdict{kind: kindMalformed, detail: src.what + " could not be read"}
		}
	}
	return verdict{kind: kindInternal, detail: detailInternal}
}

// providerProblem answers a failed call to the provider: 502 when it
// answered but refused or could not be read, 503 with its Retry-After (or
// retryUnavailable) when it could not be reached.
func providerProblem(what string, err error) verdict {
	detail := what + ": " + gateway.Describe(err)
	if !errors.Is(err, gateway.ErrUnavailable) {
		return verdict{kind: kindBadGateway, detail: detail}
	}
	after := retryUnavailable
	if d := gateway.RetryAfterOf(err); d > 0 {
		after = int(math.Ceil(d.Seconds()))
	}
	return verdict{kind: kindUnavailable, detail: detail, retryAfter: after}
}

// fileKinds are the statuses of a file that cannot be a job, by what is
// wrong with it.
var fileKinds = []struct {
	err  error
	kind kind
	code schema.Code
}{
	{jobs.ErrNotUTF8, kindMediaType, schema.CodeInvalidValue},
	{jobs.ErrNotXLSX, kindMediaType, schema.CodeInvalidValue},
	{jobs.ErrTooManyRows, kindTooLarge, schema.CodeTooLarge},
	{jobs.ErrTooLarge, kindTooLarge, schema.CodeTooLarge},
	{jobs.ErrEmpty, kindInvalid, schema.CodeInvalidValue},
	{jobs.ErrNoHeader, kindInvalid, schema.CodeInvalidValue},
	{jobs.ErrDuplicateHeader, kindInvalid, schema.CodeInvalidValue},
}

// fileProblem answers a file that cannot be a job, naming the row where it
// went wrong when there is one (field "file.row.52").
func fileProblem(fe *jobs.FileError) verdict {
	field := "file"
	if fe.Row > 0 {
		field = "file.row." + strconv.Itoa(fe.Row)
	}
	for _, f := range fileKinds {
		if errors.Is(fe, f.err) {
			return verdict{kind: f.kind, detail: fe.Error(), issues: []schema.Issue{issue(f.code, field, fe.Error())}}
		}
	}
	return verdict{kind: kindMalformed, detail: "the upload could not be read: " + fe.Error()}
}

// problemIssues lists a document's problems, one invalid_value issue each,
// naming its key.
func problemIssues(ps keyed.Problems) []schema.Issue {
	out := make([]schema.Issue, len(ps))
	for i, p := range ps {
		out[i] = issue(schema.CodeInvalidValue, p.Key, p.Message)
	}
	return out
}

// isDecoding reports whether err is a JSON body refused by the decoder.
func isDecoding(err error) bool {
	var (
		ke  *KeyError
		sem *jsonv2.SemanticError
		syn *jsontext.SyntacticError
	)
	return errors.As(err, &ke) || errors.As(err, &sem) || errors.As(err, &syn) ||
		errors.Is(err, errEmptyBody) || errors.Is(err, errNotUTF8) || errors.Is(err, errTwoValues) || errors.Is(err, errNotObject)
}

// fail answers the request with the problem err maps to (problemFor) and
// aborts it. err joins the request's errors, so that the request's log line
// (logRequests) carries its whole chain, which the answer never shows.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	writeProblem(c, problemFor(err))
}

// writeProblem writes a as the request's problem document and aborts the
// request: 401 with WWW-Authenticate, and Retry-After when a has one.
func writeProblem(c *gin.Context, a verdict) {
	p := a.problem(requestID(c))
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="crmgate"`)
	}
	if a.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(a.retryAfter))
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

// problem is a's document for the request id.
func (a verdict) problem(requestID string) Problem {
	k := kinds[a.kind]
	return Problem{Type: k.typ, Title: problemTitles[k.typ], Status: k.status, Detail: a.detail, RequestID: requestID, Errors: a.issues}
}
