// Package answer is the JSON of an import's answer: what POST /v1/customers,
// POST /v1/customers/validate and POST /v1/import-pool answer and
// GET /v1/requests/{request_id} gives back. The import service (gateway)
// fills it; the API (which files its records in the history) and import
// jobs read it. It imports only schema and the standard library.
//
// The adapters fill a call's CallReport and their records' Status through
// gateway's names for them (gateway.CallReport, gateway.StatusSucceeded …),
// so that no provider imports the API's packages.
package answer

import (
	"encoding/json"
	"time"

	"crmgate/schema"
)

// Status of one record's result.
type Status string //	@name	RecordStatus

// Record statuses.
const (
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusUnknown   Status = "unknown" // the provider may or may not have stored it: safe to retry
	StatusValid     Status = "valid"   // validate only: would be sent
)

// Result is the answer for one input record. Exactly one per input record,
// in input order.
type Result struct {
	Index      int            `json:"index"`
	Ref        string         `json:"ref,omitempty"`
	Status     Status         `json:"status"`
	ProviderID string         `json:"provider_id,omitempty"`
	Errors     []schema.Issue `json:"errors,omitempty"`
	Warnings   []schema.Issue `json:"warnings"`
	RetryAfter int            `json:"retry_after,omitempty"`
} //	@name	RecordResult

// CallReport records one provider call for support: the answer lists it in
// provider_calls. The adapter fills it; Attempts is filled by the import
// service.
type CallReport struct {
	Path         string                     `json:"path"`
	HTTPStatus   int                        `json:"http_status"`
	ProviderCode string                     `json:"provider_code,omitempty"`
	TraceID      string                     `json:"trace_id,omitempty"`
	Records      int                        `json:"records"`
	Attempts     int                        `json:"attempts"`
	Error        string                     `json:"error,omitempty"`
	Note         string                     `json:"note,omitempty"`
	Extra        map[string]json.RawMessage `json:"extra,omitempty"` // provider fields kept verbatim
	// ProviderCounts are the provider's own counts of the call's records,
	// when it gave them (WSCRM's successCount and errCount).
	ProviderCounts *ProviderCounts `json:"provider_counts,omitempty"`
} //	@name	ProviderCall

// ProviderCounts is what the provider said it did with a call's records.
type ProviderCounts struct {
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
} //	@name	ProviderCounts

// ProviderRequest is a call that would be sent, as POST /v1/customers/validate
// shows it: the path relative to the connection's base URL and the JSON body
// (credentials redacted).
type ProviderRequest struct {
	Method string         `json:"method"`
	Path   string         `json:"path"`
	Body   map[string]any `json:"body"`
} //	@name	ProviderRequest

// Answer is the whole answer to an import or a validation.
type Answer struct {
	RequestID        string            `json:"request_id"`
	Connection       string            `json:"connection"`
	Provider         string            `json:"provider"`
	Total            int               `json:"total"`
	Succeeded        int               `json:"succeeded"`
	Failed           int               `json:"failed"`
	Unknown          int               `json:"unknown"`
	Valid            *int              `json:"valid,omitempty"` // validate only
	Results          []Result          `json:"results"`
	ProviderCalls    []CallReport      `json:"provider_calls"`
	ProviderRequests []ProviderRequest `json:"provider_requests,omitempty"`

	// Timing is where the time went, for the Server-Timing header.
	Timing Timing `json:"-"`
} //	@name	ImportAnswer

// Timing splits an import's time.
type Timing struct {
	Validation time.Duration
	Upstream   time.Duration
}

// Count sets Total, Succeeded, Failed and Unknown from Results, and Valid
// when a record is valid or ProviderRequests is set (a validation, even one
// with no valid record); otherwise Valid is left as it is.
func (a *Answer) Count() {
	a.Total = len(a.Results)
	a.Succeeded, a.Failed, a.Unknown = 0, 0, 0
	valid := 0
	for _, r := range a.Results {
		switch r.Status {
		case StatusSucceeded:
			a.Succeeded++
		case StatusFailed:
			a.Failed++
		case StatusUnknown:
			a.Unknown++
		case StatusValid:
			valid++
		}
	}
	if valid > 0 || a.ProviderRequests != nil {
		a.Valid = &valid
	}
}
