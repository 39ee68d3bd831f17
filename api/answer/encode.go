package answer

import (
	"encoding/json"
	"strconv"

	"crmgate/internal/jsonappend"
	"crmgate/schema"
)

// An import's answer is written for every request, most of them of one
// record: AppendJSON writes it without reflection, into a buffer the caller
// may reuse, the same bytes as encoding/json's Marshal (TestAppendJSONAsMarshal
// holds them equal).

// AppendJSON appends a as json.Marshal writes it: compact, keys in the
// order of the fields, omitempty and nil slices as Marshal has them, strings
// escaped as Marshal escapes them (HTML characters, U+2028 and U+2029
// included, invalid UTF-8 as U+FFFD). The parts only a validation or some
// providers' calls carry (provider_requests, a call's extra fields) are
// written by Marshal itself; an error is Marshal's on them.
func (a *Answer) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"request_id":`...)
	b = appendString(b, a.RequestID)
	b = append(b, `,"connection":`...)
	b = appendString(b, a.Connection)
	b = append(b, `,"provider":`...)
	b = appendString(b, a.Provider)
	b = appendInt(b, `,"total":`, a.Total)
	b = appendInt(b, `,"succeeded":`, a.Succeeded)
	b = appendInt(b, `,"failed":`, a.Failed)
	b = appendInt(b, `,"unknown":`, a.Unknown)
	if a.Valid != nil {
		b = appendInt(b, `,"valid":`, *a.Valid)
	}
	b = append(b, `,"results":`...)
	if a.Results == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.Results {
			if i > 0 {
				b = append(b, ',')
			}
			b = a.Results[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"provider_calls":`...)
	if a.ProviderCalls == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.ProviderCalls {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = a.ProviderCalls[i].appendJSON(b); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if len(a.ProviderRequests) > 0 {
		b = append(b, `,"provider_requests":`...)
		enc, err := json.Marshal(a.ProviderRequests)
		if err != nil {
			return b, err
		}
		b = append(b, enc...)
	}
	return append(b, '}'), nil
}

// appendJSON appends r as json.Marshal writes it.
func (r *Result) appendJSON(b []byte) []byte {
	b = appendInt(b, `{"index":`, r.Index)
	if r.Ref != "" {
		b = append(b, `,"ref":`...)
		b = appendString(b, r.Ref)
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(r.Status))
	if r.ProviderID != "" {
		b = append(b, `,"provider_id":`...)
		b = appendString(b, r.ProviderID)
	}
	if len(r.Errors) > 0 {
		b = append(b, `,"errors":`...)
		b = appendIssues(b, r.Errors)
	}
	b = append(b, `,"warnings":`...)
	if r.Warnings == nil {
		b = append(b, "null"...)
	} else {
		b = appendIssues(b, r.Warnings)
	}
	if r.RetryAfter != 0 {
		b = appendInt(b, `,"retry_after":`, r.RetryAfter)
	}
	return append(b, '}')
}

// appendIssues appends a non-nil list of issues as json.Marshal writes it.
func appendIssues(b []byte, issues []schema.Issue) []byte {
	b = append(b, '[')
	for i := range issues {
		if i > 0 {
			b = append(b, ',')
		}
		is := &issues[i]
		b = append(b, `{"code":`...)
		b = appendString(b, string(is.Code))
		if is.Field != "" {
			b = append(b, `,"field":`...)
			b = appendString(b, is.Field)
		}
		b = append(b, `,"message":`...)
		b = appendString(b, is.Message)
		if is.ProviderCode != "" {
			b = append(b, `,"provider_code":`...)
			b = appendString(b, is.ProviderCode)
		}
		if is.ProviderMessage != "" {
			b = append(b, `,"provider_message":`...)
			b = appendString(b, is.ProviderMessage)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSON appends c as json.Marshal writes it; its extra fields (raw
// JSON, in sorted keys) are Marshal's.
func (c *CallReport) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"path":`...)
	b = appendString(b, c.Path)
	b = appendInt(b, `,"http_status":`, c.HTTPStatus)
	if c.ProviderCode != "" {
		b = append(b, `,"provider_code":`...)
		b = appendString(b, c.ProviderCode)
	}
	if c.TraceID != "" {
		b = append(b, `,"trace_id":`...)
		b = appendString(b, c.TraceID)
	}
	b = appendInt(b, `,"records":`, c.Records)
	b = appendInt(b, `,"attempts":`, c.Attempts)
	if c.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, c.Error)
	}
	if c.Note != "" {
		b = append(b, `,"note":`...)
		b = appendString(b, c.Note)
	}
	if len(c.Extra) > 0 {
		b = append(b, `,"extra":`...)
		enc, err := json.Marshal(c.Extra)
		if err != nil {
			return b, err
		}
		b = append(b, enc...)
	}
	if c.ProviderCounts != nil {
		b = appendInt(b, `,"provider_counts":{"succeeded":`, c.ProviderCounts.Succeeded)
		b = appendInt(b, `,"failed":`, c.ProviderCounts.Failed)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendInt appends key (its quotes and colon included) and n.
func appendInt(b []byte, key string, n int) []byte {
	return strconv.AppendInt(append(b, key...), int64(n), 10)
}

// appendString appends s quoted as json.Marshal quotes a string, HTML
// escaping included.
func appendString(b []byte, s string) []byte { return jsonappend.String(b, s, true) }
