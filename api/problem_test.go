package api

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/idempotency"
	"crmgate/internal/strictjson"
	"crmgate/jobs"
	"crmgate/sandbox"
	"crmgate/schema"
)

// goIdentifier is how Go code shows in a wrapped error: a package and an
// exported name ("nxlink.Do:", "fieldconfig.Redis.Seed").
var goIdentifier = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[A-Z][A-Za-z0-9]*`)

// strictErr is what strictjson says of body decoded into v.
func strictErr(t *testing.T, body string, v any) error {
	t.Helper()
	err := strictjson.Unmarshal([]byte(body), v)
	if err == nil {
		t.Fatalf("%s decoded", body)
	}
	return err
}

// The one map from errors to problems: each kind of error the API meets,
// wrapped as the core and the handlers wrap it, answers with its status,
// problem type, issues and Retry-After, and a detail that reads as a
// sentence for the caller: never the Go chain (pkg.Func: …), never
// errors.Join's newlines, never what a store or a provider said.
func TestProblemFor(t *testing.T) {
	t.Parallel()
	var cfg fieldconfig.Config
	invalidCfg := (&fieldconfig.Config{Required: []string{"shoe_size"}, Stages: []fieldconfig.Option{{}}}).Validate()
	_, _, createErr := func() (events.Subscription, string, error) {
		subs, _ := events.NewMemorySubscriptions(events.NewMemoryStore(events.Options{}))
		return subs.Create(t.Context(), events.Subscription{URL: "http://h/x", Types: []string{"customer.deleted"}, Connections: []string{""}})
	}()
	_, regionErr := schema.ParseRegion("XX")
	down := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	refused := &gateway.ProviderError{Provider: "WSCRM", Path: "/api/query", Status: 200, Code: "500", Message: "agent unknown"}
	type issue struct{ code, field string }
	tests := []struct {
		name       string
		err        error
		status     int
		typ        string
		issues     []issue
		retryAfter int
		detail     string // the whole detail, when the case is about it
	}{
		{name: "a refusal", err: refuse(kindInvalid, "agent is required", schema.Issue{Code: schema.CodeRequired, Field: "agent", Message: "the agent is required"}),
			status: 422, typ: ProblemValidation, issues: []issue{{"required", "agent"}}, detail: "agent is required"},
		{name: "a refusal with Retry-After", err: &refusal{kind: kindRateLimited, detail: "spent", retryAfter: 7}, status: 429, typ: ProblemRateLimited, retryAfter: 7},
		{name: "no route", err: refuse(kindNotFound, "no such path: /x"), status: 404, typ: ProblemNotFound},
		{name: "no method", err: refuse(kindMethod, "method PATCH is not allowed on /v1/customers"), status: 405, typ: ProblemMalformed},
		{name: "a header over the limit", err: refuse(kindHeaderTooLarge, "too long"), status: 431, typ: ProblemHeaderTooLarge},

		// What the caller sent.
		{name: "field configuration problems", err: invalidCfg, status: 422, typ: ProblemValidation,
			issues: []issue{{"invalid_value", "required[0]"}, {"invalid_value", "stages[0].label"}}, detail: detailFieldConfig},
		{name: "field configuration problems from a store", err: fmt.Errorf("fieldconfig.Redis.Put %q: %w: %w", "acme", fieldconfig.ErrInvalid, invalidCfg),
			status: 422, typ: ProblemValidation, issues: []issue{{"invalid_value", "required[0]"}, {"invalid_value", "stages[0].label"}}, detail: detailFieldConfig},
		{name: "a subscription URL refused", err: events.Destinations{}.CheckURL(t.Context(), "http://127.0.0.1/hook"), status: 422, typ: ProblemValidation,
			issues: []issue{{"invalid_value", "url"}}, detail: "url: 127.0.0.1 is a loopback address, which is not allowed"},
		{name: "a subscription refused by its store", err: storeFailed(detailSubscriptionStore, createErr), status: 422, typ: ProblemValidation,
			issues: []issue{{"invalid_value", "types"}, {"invalid_value", "connections"}},
			detail: `types: unknown event type "customer.deleted"; connections: empty connection id`},
		{name: "malformed JSON", err: notJSON("the body", strictErr(t, `{"required":`, &cfg)), status: 400, typ: ProblemMalformed},
		{name: "an unknown key in the options part", err: notJSON("the options part", strictErr(t, `{"conection":"x"}`, &ImportOptions{})),
			status: 400, typ: ProblemMalformed, issues: []issue{{"unknown_field", "conection"}},
			detail: `the options part is not valid JSON for this endpoint: unknown key "conection"`},
		{name: "an envelope key twice", err: &KeyError{Key: "mode", Code: schema.CodeInvalidValue, Message: `the key "mode" appears twice`},
			status: 400, typ: ProblemMalformed, issues: []issue{{"invalid_value", "mode"}}},
		{name: "an empty body", err: notJSON("the body", errEmptyBody), status: 400, typ: ProblemMalformed,
			detail: "the body is not valid JSON for this endpoint: the body is empty"},
		{name: "a body over the limit, declared", err: overLimit(1024), status: 413, typ: ProblemTooLarge, detail: "the body is over the limit of 1024 bytes"},
		{name: "a body over the limit, read", err: readFailed("the webhook body", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 64})),
			status: 413, typ: ProblemTooLarge, detail: "the webhook body is over the limit of 64 bytes"},
		{name: "a body that cannot be read", err: readFailed("the upload", errors.New("multipart: NextPart: EOF")), status: 400, typ: ProblemMalformed,
			detail: "the upload could not be read"},
		{name: "an unknown region", err: regionErr, status: 422, typ: ProblemValidation, issues: []issue{{"invalid_option", "default_region"}}},
		{name: "an unknown region of a job", err: readFailed("the upload", regionErr), status: 422, typ: ProblemValidation,
			issues: []issue{{"invalid_option", "default_region"}}},
		{name: "a file with too many rows", err: readFailed("the upload", fmt.Errorf("jobs.Reader.Next: %w", &jobs.FileError{Err: jobs.ErrTooManyRows, Row: 52, Detail: "at most 50 data rows"})),
			status: 413, typ: ProblemTooLarge, issues: []issue{{"too_large", "file.row.52"}},
			detail: "the file has more rows than allowed (row 52): at most 50 data rows"},
		{name: "a file not UTF-8", err: &jobs.FileError{Err: jobs.ErrNotUTF8, Row: 3}, status: 415, typ: ProblemMediaType, issues: []issue{{"invalid_value", "file.row.3"}}},
		{name: "an empty file", err: &jobs.FileError{Err: jobs.ErrEmpty}, status: 422, typ: ProblemValidation, issues: []issue{{"invalid_value", "file"}}},
		{name: "a mapping that cannot work", err: &jobs.MappingError{Problems: []string{`column "Fax" is not in the file`, `"x" is not a field`}},
			status: 422, typ: ProblemValidation, issues: []issue{{"invalid_mapping", "mapping"}, {"invalid_mapping", "mapping"}}},
		{name: "a sandbox change naming a field the webhook lacks", err: simulatorFailed(fmt.Errorf("wscrm.SimulateChange: %w",
			&sandbox.ChangeFieldError{Field: "Nonsense", Canonical: []string{"address"}, Labels: []string{"Address"}})),
			status: 422, typ: ProblemValidation, issues: []issue{{"unknown_field", "field"}}},
		{name: "a sandbox change that is not one", err: simulatorFailed(errors.New("wscrm.SimulateChange: bad sandbox change: to: required")),
			status: 400, typ: ProblemMalformed, detail: detailBadChange},
		{name: "a sandbox change that says why it is not one", err: simulatorFailed(fmt.Errorf("wscrm.SimulateChange: %w", &sandbox.ChangeError{Reason: "to: required"})),
			status: 400, typ: ProblemMalformed, detail: "the change was not simulated: to: required"},
		{name: "a sandbox webhook that did not arrive", err: simulatorFailed(fmt.Errorf("wscrm.SimulateChange: %w: %v", gateway.ErrUnavailable, down)),
			status: 502, typ: ProblemUnavailable, detail: detailSimulatorWebhook},

		// Credentials.
		{name: "a token refused", err: fmt.Errorf("%w: token expired", auth.ErrInvalidToken), status: 401, typ: ProblemUnauth, detail: "invalid token: token expired"},
		{name: "a webhook not verified", err: fmt.Errorf("wscrm webhook: %w: accessToken does not match the configured token", gateway.ErrWebhookUnauthorized),
			status: 401, typ: ProblemUnauth, detail: detailWebhookUnverified},
		{name: "a webhook body malformed", err: fmt.Errorf("wscrm webhook: %w: missing or not an integer: tenantId", gateway.ErrWebhookMalformed),
			status: 400, typ: ProblemMalformed, detail: detailWebhookMalformed},

		// What the connection can do, and the state of things.
		{name: "a mode the connection cannot honour", err: fmt.Errorf("%w: mode %q (this wscrm connection honours merge)", gateway.ErrUnsupported, "replace"),
			status: 422, typ: ProblemUnsupported, detail: `not supported by this connection: mode "replace" (this wscrm connection honours merge)`},
		{name: "an Idempotency-Key still running", err: storeFailed("x", fmt.Errorf("idempotency.Redis.Begin: %w", idempotency.ErrInFlight)),
			status: 409, typ: ProblemConflict, retryAfter: 1},
		{name: "an Idempotency-Key with another body", err: storeFailed("x", fmt.Errorf("idempotency.Memory.Begin: %w", idempotency.ErrMismatch)),
			status: 422, typ: ProblemValidation, issues: []issue{{"invalid_value", "Idempotency-Key"}}},
		{name: "an If-Match not current", err: storeFailed("x", fmt.Errorf("fieldconfig.Redis.Put %q: %w", "acme", fieldconfig.ErrVersionMismatch)),
			status: 412, typ: ProblemPrecond},
		{name: "no field configuration", err: fieldconfig.ErrNotFound, status: 404, typ: ProblemNotFound},
		{name: "an events cursor not given", err: storeFailed("x", fmt.Errorf("events.Redis.List: %w", events.ErrBadCursor)), status: 422, typ: ProblemValidation,
			issues: []issue{{"invalid_value", "after"}}},
		{name: "no such subscription", err: storeFailed(detailSubscriptionStore, fmt.Errorf("events.Redis.Get %q: %w", "sub_1", events.ErrNotFound)),
			status: 404, typ: ProblemNotFound},
		{name: "a history cursor not given", err: history.ErrBadCursor, status: 422, typ: ProblemValidation, issues: []issue{{"invalid_value", "cursor"}}},
		{name: "no such request", err: storeFailed(detailHistoryStore, history.ErrNotFound), status: 404, typ: ProblemNotFound},
		{name: "no such import job", err: storeFailed("x", jobs.ErrNotFound), status: 404, typ: ProblemNotFound},
		{name: "an import job ended", err: storeFailed("x", jobs.ErrEnded), status: 409, typ: ProblemConflict},

		// Dependencies that failed.
		{name: "a store unreachable", err: storeFailed("the event store could not be reached", fmt.Errorf("events.Redis.List: %w", down)),
			status: 503, typ: ProblemUnavailable, retryAfter: 5, detail: "the event store could not be reached"},
		{name: "a provider's refusal", err: providerFailed("the provider's contact query failed", fmt.Errorf("wscrm.Query: %w", refused)),
			status: 502, typ: ProblemUnavailable, detail: "the provider's contact query failed: WSCRM: /api/query answered HTTP 200 code 500 (agent unknown)"},
		{name: "a provider unreachable", err: providerFailed("the provider's contact query failed", fmt.Errorf("wscrm.Query: %w: %v", gateway.ErrUnavailable, down)),
			status: 503, typ: ProblemUnavailable, retryAfter: 5,
			detail: "the provider's contact query failed: the provider could not be reached, or did not answer in time"},
		{name: "a provider asking for a later retry", err: providerFailed("q", &gateway.RetryAfterError{Err: fmt.Errorf("wscrm.Query: %w", gateway.ErrUnavailable), After: 30 * time.Second}),
			status: 503, typ: ProblemUnavailable, retryAfter: 30},
		{name: "a provider's answer not JSON", err: providerFailed("q", errors.New("wscrm.Query: the answer is not JSON: <html>")),
			status: 502, typ: ProblemUnavailable, detail: "q: the provider's answer could not be read"},

		// The gateway itself.
		{name: "an error of no known source", err: fmt.Errorf("jobs.Builder.Commit: %w", down), status: 500, typ: ProblemInternal, detail: detailInternal},
		{name: "a panic", err: fmt.Errorf("api: panic: %v", "index out of range\ngoroutine 7"), status: 500, typ: ProblemInternal, detail: detailInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := problemFor(tt.err)
			p := v.problem("req-1")
			if p.Status != tt.status || p.Type != tt.typ || p.Title == "" || p.RequestID != "req-1" {
				t.Errorf("problem %d %s %q, want %d %s", p.Status, p.Type, p.Title, tt.status, tt.typ)
			}
			var got []issue
			for _, is := range p.Errors {
				got = append(got, issue{string(is.Code), is.Field})
				if is.Message == "" || goIdentifier.MatchString(is.Message) || strings.Contains(is.Message, "\n") {
					t.Errorf("issue message %q: empty, Go code or several lines", is.Message)
				}
			}
			if !slices.Equal(got, tt.issues) {
				t.Errorf("issues %v, want %v", got, tt.issues)
			}
			if v.retryAfter != tt.retryAfter {
				t.Errorf("Retry-After %d, want %d", v.retryAfter, tt.retryAfter)
			}
			if tt.detail != "" && p.Detail != tt.detail {
				t.Errorf("detail %q, want %q", p.Detail, tt.detail)
			}
			if p.Detail == "" || goIdentifier.MatchString(p.Detail) || strings.Contains(p.Detail, "\n") {
				t.Errorf("detail %q: empty, Go code or several lines", p.Detail)
			}
			for _, hidden := range []string{"connection refused", "127.0.0.1:6379", "does not match", "goroutine"} {
				if strings.Contains(p.Detail, hidden) {
					t.Errorf("detail %q shows %q of the error chain", p.Detail, hidden)
				}
			}
		})
	}
}

// A problem answered for an error of a dependency shows a sentence; the
// request's log line carries the whole chain, at level error for a 5xx.
func TestFailLogsTheChainTheAnswerHides(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	srv := webhookServer(t, brokenStore{})
	srv.log = slog.New(slog.NewJSONHandler(&buf, nil))
	w := do(t, srv, call{path: "/v1/webhooks/fake/c1", ctype: "application/json", body: strings.NewReader("e1")})
	p := decodeProblem(t, w)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" || strings.Contains(p.Detail, "store down") {
		t.Fatalf("%d Retry-After %q %+v", w.Code, w.Header().Get("Retry-After"), p)
	}
	line := logLine(t, &buf, "request")
	if line["level"] != "ERROR" || line["status"] != float64(503) || !strings.Contains(fmt.Sprint(line["err"]), "store down") ||
		line["request_id"] != p.RequestID {
		t.Fatalf("request line %v, want level ERROR with the store's error", line)
	}
}
