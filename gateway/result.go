package gateway

import (
	"bytes"
	"encoding/json"
	"time"

	"crmgate/schema"
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

func (a *Answer) count() {
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
