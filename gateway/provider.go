package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"crmgate/api/answer"
	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/schema"
)

// Modes of a customer import (the request's "mode").
const (
	ModeMerge        = "merge"         // update/add on top of what the provider has (default)
	ModeReplace      = "replace"       // discard the provider's old data, use the new
	ModeKeepExisting = "keep_existing" // keep the provider's old data, discard the new
)

// Kinds of operation.
const (
	KindImport      = "import"       // POST /v1/customers
	KindPoolReplace = "pool_replace" // POST /v1/import-pool, mode replace
	KindPoolAppend  = "pool_append"  // POST /v1/import-pool, mode append
)

// Op says what a batch is for. Adapters read it in Translate and Plan.
type Op struct {
	Kind        string // KindImport, KindPoolReplace or KindPoolAppend
	Mode        string // for KindImport: one of the provider's Modes()
	StrictOwner bool   // the owner must exist at the provider (NXLink strict_binding)
	Strict      bool   // a field the provider lacks fails the record instead of warning
}

// Record is one checked, translated record on its way to the provider.
type Record struct {
	Index    int              // the caller's index in the request
	Customer *schema.Customer // normalised canonical record
	Wire     any              // the adapter's wire form, as Translate returned it
}

// Call is one outbound provider call, planned before anything is sent.
type Call struct {
	Method  string   // HTTP method, "POST"
	Path    string   // relative to the connection's base URL, e.g. "/saas/cdp/openapi/customers/batch_create"
	Body    []byte   // the exact JSON bytes that will be sent (and signed)
	Records []Record // the records the call carries, in wire order
	// Sequence, when not empty, orders calls: calls with the same Sequence
	// are sent one after another in plan order, and once one of them did not
	// go through, the later ones are not sent. Calls with different or empty
	// Sequences run concurrently.
	Sequence string
}

// Status of one record's result, as the answer shows it: answer.Status,
// named here so that an adapter filling an Outcome need not import the
// API's package.
type Status = answer.Status

// Record statuses (answer's).
const (
	StatusSucceeded = answer.StatusSucceeded
	StatusFailed    = answer.StatusFailed
	StatusUnknown   = answer.StatusUnknown // the provider may or may not have stored it: safe to retry
	StatusValid     = answer.StatusValid   // validate only: would be sent
)

// Outcome is what the provider said of one record of a call.
type Outcome struct {
	Status     Status
	ProviderID string
	Errors     []schema.Issue
	Warnings   []schema.Issue
	RetryAfter int // seconds, when the provider asked for a later retry
}

// CallReport records one provider call for support (the answer's
// provider_calls): answer.CallReport, which the adapter fills in its
// CallResult, named here so that it need not import the API's package.
// Attempts is filled by the import service.
type CallReport = answer.CallReport

// ProviderCounts is what the provider said it did with a call's records
// (answer.ProviderCounts, named here for the adapters).
type ProviderCounts = answer.ProviderCounts

// CallResult is the answer to one call: one Outcome per Call.Records entry,
// in the same order.
type CallResult struct {
	Outcomes []Outcome
	Report   CallReport
}

// ErrUnavailable marks a call that may be retried: a transport error, a
// timeout, an HTTP 5xx or a provider's own "server error" code. Adapters
// answer with a *ProviderError whose Retryable is set (it unwraps to this),
// or wrap it for a call that got no answer.
var ErrUnavailable = errors.New("provider unavailable")

// Provider is one connection's adapter: the provider's own record rules,
// translation to its wire format, and one call at a time over HTTP.
type Provider interface {
	// Modes lists the import modes (ModeMerge, ...) the provider honours.
	// Every import asks, so the list may be shared: callers do not modify it.
	Modes() []string

	// Translate applies the provider's own rules to a record that passed the
	// canonical and field-configuration checks (schema.CheckWith, then
	// Rules.Check, which made rec), and returns its wire form. It trusts
	// those checks and op (the import service's gate let it through: a kind
	// the provider offers, one of its Modes) and checks neither again: a
	// record or op that did not pass them gives an undefined wire form.
	// Records with errors are not sent. Fields the provider does not have
	// are unsupported_field warnings, or errors when op.Strict is set.
	Translate(op Op, rec fieldconfig.Checked) (wire any, errs, warns []schema.Issue)

	// Plan groups translated records into calls within the provider's cap.
	// It is also what POST /v1/customers/validate shows. Like Translate, it
	// trusts op.
	Plan(op Op, recs []Record) ([]Call, error)

	// Do performs one call once, with the deadline of ctx. It returns one
	// Outcome per record; a whole-call refusal is an Outcome per record, not an
	// error. An error wrapping ErrUnavailable may be retried; any other error
	// makes the call's records unknown.
	Do(ctx context.Context, call *Call) (CallResult, error)
}

// Streamer is a Provider whose calls for op can be planned window by window:
// Plan over the first StreamWindow(op) valid records gives the same calls as
// over the whole batch, and its calls use no Sequence. The import service then
// sends a window's calls while it still checks the rest of the batch. A
// window of 0 means op cannot be streamed.
type Streamer interface {
	StreamWindow(op Op) int
}

// Chunker is a Provider that says how many records one call for op carries
// at most: the size of an import job's chunks (gateway.md §7).
type Chunker interface {
	ChunkSize(op Op) int
}

// PoolImporter is a Provider with an import pool that a batch can replace (per
// agent) or append to (KindPoolReplace, KindPoolAppend).
type PoolImporter interface {
	Provider
	ImportPool()
}

// Querier is a Provider that can list an agent's contacts.
type Querier interface {
	// Query lists the contacts of agent (the provider's agent id), mapped to
	// canonical customers with the help of rules (option ids → labels).
	Query(ctx context.Context, agent string, rules *fieldconfig.Rules) ([]Contact, CallReport, error)
}

// Contact is one of an agent's contacts: the canonical customer plus what the
// provider reports of the conversation (RFC 3339 times in the provider's
// time zone; empty when the provider gave none).
type Contact struct {
	schema.Customer
	FirstChatAt string `json:"first_chat_at,omitempty"`
	LastChatAt  string `json:"last_chat_at,omitempty"`
} //	@name	Contact

// Redactor is implemented by a Provider whose wire bodies carry credentials:
// validate answers show the redacted body.
type Redactor interface {
	Redact(body map[string]any)
}

// redactedBody is a call's body as a validation shows it: decoded (numbers
// kept as written), redacted by p when it is a Redactor; empty when the
// body is not a JSON object.
func redactedBody(p Provider, body []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return map[string]any{}
	}
	if r, ok := p.(Redactor); ok {
		r.Redact(m)
	}
	return m
}

// Factory makes one provider's connections. The providers table
// (providers.All) holds one per provider; a new provider is one new folder
// and one row in that table.
type Factory struct {
	// Name is the provider's name in configuration ("provider: name").
	Name string
	// NewConfig returns a pointer to a zero provider-specific configuration,
	// decoded strictly from the connection's keys that are not Common's.
	// It may implement Validate() error, reporting every problem at once.
	NewConfig func() any
	// New makes the adapter for one connection.
	New func(common Common, cfg any, hc *http.Client) (Provider, error)
}

// WebhookReceiver is a Provider that receives the provider's webhooks
// (POST /v1/webhooks/{provider}/{connection}).
type WebhookReceiver interface {
	// ReceiveWebhook verifies one webhook body and turns it into canonical
	// events of the connection, with ReceivedAt set to now. A body that fails
	// verification is an error wrapping ErrWebhookUnauthorized; one that
	// cannot be read, ErrWebhookMalformed. Nothing is stored by this call.
	ReceiveWebhook(header http.Header, body []byte, now time.Time) ([]events.Event, error)
	// WebhookAnswer is the JSON body the provider expects once the events
	// are stored.
	WebhookAnswer() []byte
}

// Webhook errors.
var (
	ErrWebhookUnauthorized = errors.New("webhook not verified")
	ErrWebhookMalformed    = errors.New("webhook body malformed")
)

// Unsupported files an unsupported_field issue naming field: an error when
// op.Strict is set (the record is not sent), a warning otherwise. A field the
// provider lacks is never dropped silently.
func (op Op) Unsupported(errs, warns []schema.Issue, field, message string) ([]schema.Issue, []schema.Issue) {
	is := schema.Issue{Code: schema.CodeUnsupportedField, Field: field, Message: message}
	if op.Strict {
		return append(errs, is), warns
	}
	return errs, append(warns, is)
}
