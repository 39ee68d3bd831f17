package wscrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/httpcall"
	"crmgate/providers/internal/wirejson"
	"crmgate/schema"
)

// providerLabel is how messages name the provider.
const providerLabel = "WSCRM"

// send posts body to path with the connection's headers, within ctx, and
// reads at most limit bytes of the answer: httpcall.Do, whose errors say what
// each kind of failure is (their messages hold no URL and no Go
// identifier: users read them).
func (a *Adapter) send(ctx context.Context, path string, body []byte, limit int64) (httpcall.Answer, error) {
	return httpcall.Do(ctx, a.hc, httpcall.Request{Provider: providerLabel, BaseURL: a.base, Path: path,
		Header: a.header, Body: body, Limit: limit})
}

// Do performs one call once, within ctx's deadline, and maps the answer per
// providers.md:
//
//   - transport error, timeout, HTTP 5xx or 429, or top-level code 500: an
//     error wrapping gateway.ErrUnavailable (the caller retries); a 429 or
//     503 with Retry-After is a *gateway.RetryAfterError around it.
//   - a redirect (3xx, never followed): every record unknown, with an error
//     naming the status and Location; not retried.
//   - a 2xx answer longer than the call can hold (importAnswerLimit): an
//     error wrapping gateway.ErrAnswerTooLarge, read no further (the records
//     are unknown).
//   - another HTTP status, or a top-level code other than 200: every record
//     failed with the code's canonical meaning (-1: provider_rejected),
//     keeping the provider's code and message.
//   - code 200 (number or string): each errExcel entry is attributed by phone
//     to every record of the call with that whatsApp, which fails; a record
//     successExcel lists (and errExcel does not) succeeds. The others succeed
//     only when the counts account for them (successCount + errCount is the
//     number sent, errCount is the number of distinct phones errExcel lists,
//     and successCount covers the records left); otherwise, or when some
//     entry could not be attributed (errPhone empty or matching no record
//     sent), they are unknown, never a silent success. The counts are in the
//     report's ProviderCounts; when they do not match, the report's Note says
//     so and every record carries a count_mismatch warning.
//     notFollowSuccessCount and notFollowSuccessExcels are kept verbatim in
//     the report's Extra.
//   - a 2xx answer that is not the documented JSON: an error that does not
//     wrap gateway.ErrUnavailable (the records are unknown).
//
// Whole-call errors are *gateway.ProviderError where the provider answered.
// Their messages, and the report's Error, are for users: no Go identifiers.
func (a *Adapter) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	if call == nil {
		return gateway.CallResult{}, errors.New("wscrm.Do: no call")
	}
	report := gateway.CallReport{Path: call.Path, Records: len(call.Records)}
	ans, err := a.send(ctx, call.Path, call.Body, importAnswerLimit(call))
	report.HTTPStatus = ans.Status
	if err != nil {
		report.Error = err.Error()
		var pe *gateway.ProviderError
		switch {
		case errors.As(err, &pe) && pe.Location != "":
			// A redirect: the records were sent, and a 302 or 303 may come
			// after the call was processed. It is not retried (the same call
			// gets the same redirect; base_url needs fixing).
			is := schema.Issue{Code: schema.CodeProviderRejected,
				Message: fmt.Sprintf("WSCRM answered HTTP %d redirecting to %s; redirects are not followed (check the connection's base_url); whether this record was stored is unknown",
					pe.Status, pe.Location),
				ProviderCode:    fmt.Sprintf("http_%d", pe.Status),
				ProviderMessage: pe.Message}
			return gateway.CallResult{Outcomes: allWith(len(call.Records), gateway.StatusUnknown, is, 0), Report: report}, nil
		case errors.As(err, &pe) && !pe.Retryable:
			is := schema.Issue{Code: schema.CodeProviderRejected,
				Message:         fmt.Sprintf("WSCRM refused the call with HTTP %d", pe.Status),
				ProviderCode:    fmt.Sprintf("http_%d", pe.Status),
				ProviderMessage: pe.Message}
			return gateway.CallResult{Outcomes: allFailed(len(call.Records), is, 0), Report: report}, nil
		}
		return gateway.CallResult{Report: report}, err
	}
	env, err := readEnvelope(call.Path, ans.Body)
	if err != nil {
		report.Error = "the answer is not the documented JSON"
		return gateway.CallResult{Report: report}, err
	}
	report.ProviderCode = string(env.Code)
	code, ok := env.code()
	switch {
	case ok && code == CodeOK:
		return a.mapImport(call, env, report)
	case ok && code == CodeServerError:
		pe := env.wholeCallError(call.Path, ans.Status)
		report.Error = pe.Error()
		return gateway.CallResult{Report: report}, pe
	}
	m := MapCode(code) // a code that is not a number is not in the table: provider_rejected
	report.Error = fmt.Sprintf("code %s: %s", env.Code, env.text())
	is := schema.Issue{Code: m.Code, Field: m.Field,
		Message:         "WSCRM refused the whole call",
		ProviderCode:    string(env.Code),
		ProviderMessage: env.text()}
	if env.text() != "" {
		is.Message += ": " + env.text()
	}
	return gateway.CallResult{Outcomes: allFailed(len(call.Records), is, m.RetryAfter), Report: report}, nil
}

// readEnvelope reads the top level of a 2xx answer to path. An answer that is
// not a JSON object with a code is an error wrapping errNotJSON, with the
// start of the answer.
func readEnvelope(path string, body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Code == "" {
		return env, fmt.Errorf("%s %s: %w: %s", providerLabel, path, errNotJSON, httpcall.Snippet(body))
	}
	return env, nil
}

// wholeCallError is the *gateway.ProviderError of an answer refusing the
// whole call to path; it is retryable for code 500.
func (e *envelope) wholeCallError(path string, status int) *gateway.ProviderError {
	code, _ := e.code()
	return &gateway.ProviderError{Provider: providerLabel, Path: path, Status: status, Code: string(e.Code),
		Message: e.text(), Retryable: code == CodeServerError}
}

// allFailed is n failed outcomes carrying the same issue.
func allFailed(n int, is schema.Issue, retryAfter int) []gateway.Outcome {
	return allWith(n, gateway.StatusFailed, is, retryAfter)
}

// allWith is n outcomes of one status carrying the same issue.
func allWith(n int, st gateway.Status, is schema.Issue, retryAfter int) []gateway.Outcome {
	out := make([]gateway.Outcome, n)
	for i := range out {
		out[i] = gateway.Outcome{Status: st, Errors: []schema.Issue{is}, RetryAfter: retryAfter}
	}
	return out
}

// mapImport maps a code-200 import answer to one outcome per record.
func (a *Adapter) mapImport(call *gateway.Call, env envelope, report gateway.CallReport) (gateway.CallResult, error) {
	var data importData
	if d := bytes.TrimSpace(env.Data); len(d) > 0 && d[0] == '{' {
		if err := json.Unmarshal(d, &data); err != nil {
			report.Error = "data is not the documented object"
			return gateway.CallResult{Report: report}, fmt.Errorf("%s %s: %w: data: %v", providerLabel, call.Path, errNotJSON, err)
		}
	}
	if len(data.NotFollowSuccessCount) > 0 || len(data.NotFollowSuccessExcels) > 0 {
		report.Extra = map[string]json.RawMessage{}
		if len(data.NotFollowSuccessCount) > 0 {
			report.Extra["notFollowSuccessCount"] = data.NotFollowSuccessCount
		}
		if len(data.NotFollowSuccessExcels) > 0 {
			report.Extra["notFollowSuccessExcels"] = data.NotFollowSuccessExcels
		}
	}

	byPhone := map[string][]int{}
	for i, r := range call.Records {
		phone := ""
		if w, _ := r.Wire.(*wireRecord); w != nil {
			phone = w.basic[keyWhatsApp]
		}
		if phone == "" && r.Customer != nil {
			phone = r.Customer.WhatsApp
		}
		byPhone[phone] = append(byPhone[phone], i)
	}
	errsOf := make([][]schema.Issue, len(call.Records))
	retry := make([]int, len(call.Records))
	var unattributed []schema.Issue
	seenUnattributed := map[string]bool{}
	failedPhones := map[int]bool{} // the distinct phones errExcel attributes, by their first record
	for _, e := range data.ErrExcel {
		n, ok := e.ErrCode.Int64()
		code := int(n)
		if !ok {
			code = -1000
		}
		is := issueFor(code, string(e.ErrInfo))
		if !ok {
			is.ProviderCode = string(e.ErrCode)
		}
		phone := strings.TrimSpace(string(e.ErrPhone))
		idxs := byPhone[phone]
		if len(idxs) == 0 && phone != "" {
			if d, ok := schema.Digits(phone); ok {
				idxs = byPhone[d]
			}
		}
		if phone == "" || len(idxs) == 0 {
			key := is.ProviderCode + "\x00" + is.ProviderMessage
			if !seenUnattributed[key] {
				seenUnattributed[key] = true
				u := schema.Issue{Code: schema.CodeProviderRejected,
					Message: fmt.Sprintf("WSCRM reported an error (code %s) it did not attribute to a record of this call (errPhone %q); "+
						"whether this record was stored is unknown", is.ProviderCode, phone),
					ProviderCode:    is.ProviderCode,
					ProviderMessage: is.ProviderMessage}
				unattributed = append(unattributed, u)
			}
			continue
		}
		failedPhones[idxs[0]] = true
		m := MapCode(code)
		for _, i := range idxs {
			errsOf[i] = append(errsOf[i], is)
			retry[i] = max(retry[i], m.RetryAfter)
		}
	}

	// Records successExcel names (and errExcel does not) are confirmed.
	confirmed := make([]bool, len(call.Records))
	nConfirmed := 0
	for _, phone := range successPhones(data.SuccessExcel) {
		idxs := byPhone[phone]
		if len(idxs) == 0 {
			if d, ok := schema.Digits(phone); ok {
				idxs = byPhone[d]
			}
		}
		for _, i := range idxs {
			if !confirmed[i] && len(errsOf[i]) == 0 {
				confirmed[i] = true
				nConfirmed++
			}
		}
	}
	rest := 0 // records neither listed as failed nor confirmed
	for i := range call.Records {
		if len(errsOf[i]) == 0 && !confirmed[i] {
			rest++
		}
	}

	// The rest succeeded only when WSCRM's counts account for them: every
	// record sent is counted, the failures it counted are the ones errExcel
	// lists (one distinct phone each), and the successes it counted cover
	// the records left. Otherwise they are unknown, never a silent success.
	sc64, okS := data.SuccessCount.Int64()
	ec64, okE := data.ErrCount.Int64()
	sc, ec := int(sc64), int(ec64)
	countsRead := okS && okE && sc >= 0 && ec >= 0
	if countsRead {
		report.ProviderCounts = &gateway.ProviderCounts{Succeeded: sc, Failed: ec}
	}
	n := len(call.Records)
	added := countsRead && sc+ec == n
	countsConfirm := added && ec == len(failedPhones) && rest <= sc-nConfirmed
	var warn []schema.Issue
	var unconfirmed []schema.Issue
	switch {
	case !added:
		report.Note = fmt.Sprintf("WSCRM counted %s succeeded + %s failed, but %d records were sent",
			orDash(string(data.SuccessCount)), orDash(string(data.ErrCount)), n)
	case !countsConfirm && len(unattributed) == 0:
		// (An unattributed error already says why the rest are unknown.)
		report.Note = fmt.Sprintf("WSCRM counted %d succeeded + %d failed of %d records sent, but its answer names %d failed and %d succeeded",
			sc, ec, n, len(failedPhones), nConfirmed)
	}
	if report.Note != "" {
		warn = []schema.Issue{schema.Issuef(schema.CodeCountMismatch, "", "%s", report.Note)}
	}
	if !countsConfirm && rest > 0 && len(unattributed) == 0 {
		report.Note += fmt.Sprintf("; %d record(s) it did not name are unknown", rest)
		unconfirmed = []schema.Issue{schema.Issuef(schema.CodeProviderUnavailable, "",
			"WSCRM's answer does not confirm this record (%s); whether it was stored is unknown, retry with the same Idempotency-Key",
			warn[0].Message)}
	}

	outs := make([]gateway.Outcome, len(call.Records))
	for i := range outs {
		o := gateway.Outcome{Warnings: cloneIssues(warn)}
		switch {
		case len(errsOf[i]) > 0:
			o.Status, o.Errors, o.RetryAfter = gateway.StatusFailed, errsOf[i], retry[i]
		case confirmed[i]:
			o.Status = gateway.StatusSucceeded
		case len(unattributed) > 0:
			o.Status, o.Errors = gateway.StatusUnknown, cloneIssues(unattributed)
		case !countsConfirm:
			o.Status, o.Errors = gateway.StatusUnknown, cloneIssues(unconfirmed)
		default:
			o.Status = gateway.StatusSucceeded
		}
		outs[i] = o
	}
	return gateway.CallResult{Outcomes: outs, Report: report}, nil
}

// successPhones reads the phones successExcel lists, which the provider
// document shows only empty: each item a phone (string or number) or an
// object holding one (whatsApp, phone, successPhone, friendWhatsId or
// whatsId, in any case). Anything else is ignored.
func successPhones(raw json.RawMessage) []string {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		var s wirejson.Text
		if err := json.Unmarshal(it, &s); err == nil && len(s) > 0 && s[0] != '{' && s[0] != '[' {
			if p := strings.TrimSpace(string(s)); p != "" {
				out = append(out, p)
			}
			continue
		}
		var obj map[string]wirejson.Text
		if err := json.Unmarshal(it, &obj); err != nil {
			continue
		}
		for k, v := range obj {
			switch strings.ToLower(k) {
			case "whatsapp", "phone", "successphone", "friendwhatsid", "whatsid":
				if p := strings.TrimSpace(string(v)); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func cloneIssues(in []schema.Issue) []schema.Issue {
	if len(in) == 0 {
		return nil
	}
	return append([]schema.Issue(nil), in...)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Query lists the friend contacts of agent (the agent's WhatsApp id, or an
// agent account listed in the connection's agents, which is mapped to its
// WhatsApp id), mapped to canonical customers with rules (stage/source ids →
// labels; rules may be nil, then ids stay as decimal strings), with their
// chat times (RFC 3339 in the connection's provider time zone). An empty
// agent is an error. Transport errors, timeouts, HTTP 5xx and code 500 wrap
// gateway.ErrUnavailable; code -1 and other codes are a
// *gateway.ProviderError that does not. The errors' messages are for users.
func (a *Adapter) Query(ctx context.Context, agent string, rules *fieldconfig.Rules) ([]gateway.Contact, gateway.CallReport, error) {
	report := gateway.CallReport{Path: PathQuery}
	agent = strings.TrimSpace(agent)
	if agent == "" {
		return nil, report, errors.New("WSCRM query: no agent given")
	}
	whatsID := agent
	for _, ag := range a.cfg.Agents {
		if ag.Account == agent {
			whatsID = ag.WhatsID
			break
		}
	}
	body, err := wirejson.Marshal(queryRequest{TenantID: a.cfg.TenantID, WhatsID: whatsID})
	if err != nil {
		return nil, report, fmt.Errorf("wscrm.Query: %w", err)
	}
	ans, err := a.send(ctx, PathQuery, body, maxQueryAnswerBytes)
	report.HTTPStatus = ans.Status
	if err != nil {
		report.Error = err.Error()
		return nil, report, err
	}
	env, err := readEnvelope(PathQuery, ans.Body)
	if err != nil {
		report.Error = "the answer is not the documented JSON"
		return nil, report, err
	}
	report.ProviderCode = string(env.Code)
	if code, ok := env.code(); !ok || code != CodeOK {
		pe := env.wholeCallError(PathQuery, ans.Status)
		report.Error = pe.Error()
		return nil, report, pe
	}
	var items []queryContact
	if d := bytes.TrimSpace(env.Data); len(d) > 0 && string(d) != "null" && string(d) != `""` {
		if err := decodeQueryData(d, &items); err != nil {
			report.Error = "data is not the documented list"
			return nil, report, fmt.Errorf("%s %s: %w: data: %v", providerLabel, PathQuery, errNotJSON, err)
		}
	}
	report.Records = len(items)
	out := make([]gateway.Contact, len(items))
	for i := range items {
		out[i] = fromContact(&items[i], rules, a.loc)
	}
	return out, report, nil
}
