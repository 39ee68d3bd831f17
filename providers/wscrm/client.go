package wscrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// Adapter is one WSCRM connection: it implements gateway.Provider,
// gateway.PoolImporter and gateway.Querier. It is safe for concurrent use.
type Adapter struct {
	cfg    Config
	common gateway.Common
	hc     *http.Client
	base   string         // common.BaseURL without a trailing slash
	loc    *time.Location // cfg.Location(), resolved once
	header http.Header    // sent with every call: content type, and the token when set
}

var (
	_ gateway.Provider     = (*Adapter)(nil)
	_ gateway.PoolImporter = (*Adapter)(nil)
	_ gateway.Querier      = (*Adapter)(nil)
)

// Modes returns only gateway.ModeMerge: batchImport updates or adds on top
// of what WSCRM has; it cannot replace a customer or keep the old data.
func (a *Adapter) Modes() []string { return []string{gateway.ModeMerge} }

// ImportPool marks the adapter as a gateway.PoolImporter.
func (a *Adapter) ImportPool() {}

// Translate turns a checked canonical record into its batchImport (or
// import-pool) record, per gateway.md §3: owner → agentAccount and whatsapp →
// whatsApp are required (missing: a required error naming the canonical
// field); birthday is sent as YYYY/MM/DD; tags and remove_tags are
// comma-joined; custom fields are top-level keys named by the field's key,
// their values CustomField.Encode'd, except single-select on the import-pool
// kinds, which is a JSON-array string. Canonical fields WSCRM has no place
// for, and remove_tags on gateway.KindPoolAppend, are unsupported_field
// warnings (errors with op.Strict). The wire form is opaque to the caller;
// hand it back to Plan.
func (a *Adapter) Translate(op gateway.Op, c *schema.Customer, rules *fieldconfig.Rules) (any, []schema.Issue, []schema.Issue) {
	rec, errs, warns := translate(op, c, rules)
	return rec, errs, warns
}

// Plan groups translated records into calls of at most 10 000 records, each
// body {"tenantId": N, "data": [...]} marshalled once:
//
//   - gateway.KindImport (mode merge only): batchImport.
//   - gateway.KindPoolAppend: batchImportAppendV2.
//   - gateway.KindPoolReplace: records are grouped by agent (agentAccount).
//     Agents whose records fit are packed together, whole, into
//     batchImportWhatsContact calls (each replaces the pool of every agent it
//     carries, and only theirs). An agent with more than 10 000 records gets a
//     batchImportWhatsContact call with its first 10 000 and
//     batchImportAppendV2 calls with the rest, so its pool ends holding exactly
//     the batch.
//
// ORDERING: the append calls of an agent in a replace plan must be sent only
// after that agent's replace call went through; sent earlier, the replace
// would discard them. Those calls share a gateway.Call.Sequence
// ("agent:" + the account), in that order, so the import service sends them
// one after another and not at all once one did not go through. All other
// calls have no Sequence and are independent.
//
// A record whose Wire is not this adapter's is an error, as is a kind or mode
// WSCRM does not have.
func (a *Adapter) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	for i := range recs {
		if w, ok := recs[i].Wire.(*wireRecord); !ok || w == nil {
			return nil, fmt.Errorf("wscrm.Plan: record %d was not translated by this adapter", recs[i].Index)
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	switch op.Kind {
	case gateway.KindImport, "":
		if op.Mode != "" && op.Mode != gateway.ModeMerge {
			return nil, fmt.Errorf("wscrm.Plan: mode %q is not honoured by WSCRM (only %s)", op.Mode, gateway.ModeMerge)
		}
		return a.chunk(PathBatchImport, recs)
	case gateway.KindPoolAppend:
		return a.chunk(PathPoolAppend, recs)
	case gateway.KindPoolReplace:
		return a.planReplace(recs)
	}
	return nil, fmt.Errorf("wscrm.Plan: unknown operation kind %q", op.Kind)
}

// chunk splits recs into calls of at most MaxRecordsPerCall to path.
func (a *Adapter) chunk(path string, recs []gateway.Record) ([]gateway.Call, error) {
	var calls []gateway.Call
	for start := 0; start < len(recs); start += MaxRecordsPerCall {
		end := min(start+MaxRecordsPerCall, len(recs))
		call, err := a.call(path, recs[start:end])
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// planReplace is Plan for gateway.KindPoolReplace.
func (a *Adapter) planReplace(recs []gateway.Record) ([]gateway.Call, error) {
	var agents []string
	byAgent := map[string][]gateway.Record{}
	for _, r := range recs {
		agent := r.Wire.(*wireRecord).basic[keyAgentAccount]
		if _, ok := byAgent[agent]; !ok {
			agents = append(agents, agent)
		}
		byAgent[agent] = append(byAgent[agent], r)
	}
	var calls []gateway.Call
	var packed []gateway.Record
	flush := func() error {
		if len(packed) == 0 {
			return nil
		}
		call, err := a.call(PathPoolReplace, packed)
		if err != nil {
			return err
		}
		calls = append(calls, call)
		packed = nil
		return nil
	}
	for _, agent := range agents {
		rs := byAgent[agent]
		if len(rs) <= MaxRecordsPerCall {
			if len(packed)+len(rs) > MaxRecordsPerCall {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			packed = append(packed, rs...)
			continue
		}
		first, err := a.call(PathPoolReplace, rs[:MaxRecordsPerCall])
		if err != nil {
			return nil, err
		}
		rest, err := a.chunk(PathPoolAppend, rs[MaxRecordsPerCall:])
		if err != nil {
			return nil, err
		}
		seq := append([]gateway.Call{first}, rest...)
		for i := range seq {
			seq[i].Sequence = "agent:" + agent
		}
		calls = append(calls, seq...)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return calls, nil
}

// call builds one call: the body is marshalled here, once.
func (a *Adapter) call(path string, recs []gateway.Record) (gateway.Call, error) {
	data := make([]*wireRecord, len(recs))
	for i, r := range recs {
		data[i] = r.Wire.(*wireRecord)
	}
	body := appendImportBody(make([]byte, 0, 64+len(recs)*320), a.cfg.TenantID, data)
	return gateway.Call{Method: http.MethodPost, Path: path, Body: body, Records: recs}, nil
}

// post sends body to path and returns the HTTP status and the answer's bytes,
// of which at most limit are read. A transport error, a timeout, HTTP 5xx or
// 429 is an error wrapping gateway.ErrUnavailable (a *gateway.RetryAfterError
// around it when a 429 or 503 says when to retry); another non-2xx status,
// redirects included (they are never followed), is a *ProviderError that
// does not. A 2xx answer longer than limit is an error wrapping
// gateway.ErrAnswerTooLarge: reading stops there.
func (a *Adapter) post(ctx context.Context, op, path string, body []byte, limit int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", contentTypeJSON)
	req.Header.Set("Accept", contentTypeJSON)
	if a.cfg.Token != "" {
		req.Header.Set(headerToken, a.cfg.Token.Reveal())
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w: %s: %w", op, gateway.ErrUnavailable, path, scrubURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Only the start of an error answer is read: it is for the message.
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, errorAnswerBytes))
		pe := &ProviderError{Op: op, Path: path, HTTPStatus: resp.StatusCode, Message: answerSnippet(raw)}
		if gateway.IsRedirect(resp.StatusCode) {
			pe.Location = gateway.RedirectLocation(resp)
		}
		return resp.StatusCode, raw, gateway.WithRetryAfter(pe, resp.StatusCode, resp.Header, time.Now())
	}
	raw, err := gateway.ReadAnswer(resp.Body, limit)
	if errors.Is(err, gateway.ErrAnswerTooLarge) {
		return resp.StatusCode, nil, fmt.Errorf("%s: %s: %w", op, path, err)
	}
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s: %w: %s: reading the answer: %v", op, gateway.ErrUnavailable, path, err)
	}
	return resp.StatusCode, raw, nil
}

// scrubURL drops the URL from a *url.Error: base URLs may carry credentials.
func scrubURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// answerSnippet is the start of an answer, for error messages.
func answerSnippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
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
func (a *Adapter) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	const op = "wscrm.Do"
	if call == nil {
		return gateway.CallResult{}, errors.New("wscrm.Do: no call")
	}
	report := gateway.CallReport{Path: call.Path, Records: len(call.Records)}
	status, raw, err := a.post(ctx, op, call.Path, call.Body, importAnswerLimit(call))
	report.HTTPStatus = status
	if err != nil {
		report.Error = err.Error()
		var pe *ProviderError
		if errors.As(err, &pe) && pe.Location != "" {
			// A redirect: the records were sent, and a 302 or 303 may come
			// after the call was processed. It is not retried (the same call
			// gets the same redirect; base_url needs fixing).
			is := schema.Issue{Code: schema.CodeProviderRejected,
				Message: fmt.Sprintf("WSCRM answered HTTP %d redirecting to %s; redirects are not followed (check the connection's base_url); whether this record was stored is unknown",
					status, pe.Location),
				ProviderCode:    fmt.Sprintf("http_%d", status),
				ProviderMessage: pe.Message}
			return gateway.CallResult{Outcomes: allWith(len(call.Records), gateway.StatusUnknown, is, 0), Report: report}, nil
		}
		if errors.As(err, &pe) && !pe.Retryable() {
			is := schema.Issue{Code: schema.CodeProviderRejected,
				Message:         fmt.Sprintf("WSCRM refused the call with HTTP %d", status),
				ProviderCode:    fmt.Sprintf("http_%d", status),
				ProviderMessage: pe.Message}
			return gateway.CallResult{Outcomes: allFailed(len(call.Records), is, 0), Report: report}, nil
		}
		return gateway.CallResult{Report: report}, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Code == "" {
		report.Error = "the answer is not the documented JSON"
		return gateway.CallResult{Report: report}, fmt.Errorf("%s: %s: %w: %s", op, call.Path, errNotJSON, answerSnippet(raw))
	}
	report.ProviderCode = string(env.Code)
	code, ok := env.Code.int()
	switch {
	case ok && code == CodeOK:
		return a.mapImport(call, env, report)
	case ok && code == CodeServerError:
		pe := &ProviderError{Op: op, Path: call.Path, HTTPStatus: status, Code: string(env.Code), Message: env.text()}
		report.Error = pe.Error()
		return gateway.CallResult{Report: report}, pe
	}
	if !ok {
		code = -1000 // not a number: not in the table, provider_rejected
	}
	m := MapCode(code)
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
			return gateway.CallResult{Report: report}, fmt.Errorf("wscrm.Do: %s: %w: data: %v", call.Path, errNotJSON, err)
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
		w, _ := r.Wire.(*wireRecord)
		phone := w.str(wireWhatsApp)
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
		code, ok := e.ErrCode.int()
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
	sc, okS := data.SuccessCount.int()
	ec, okE := data.ErrCount.int()
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
		var s flexString
		if err := json.Unmarshal(it, &s); err == nil && len(s) > 0 && s[0] != '{' && s[0] != '[' {
			if p := strings.TrimSpace(string(s)); p != "" {
				out = append(out, p)
			}
			continue
		}
		var obj map[string]flexString
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
// labels; rules may be nil, then ids stay as decimal strings). The chat times
// are dropped here; QueryContacts keeps them. An empty agent is an error.
// Transport errors, timeouts, HTTP 5xx and code 500 wrap
// gateway.ErrUnavailable; code -1 and other codes are a *ProviderError that
// does not.
func (a *Adapter) Query(ctx context.Context, agent string, rules *fieldconfig.Rules) ([]gateway.Contact, gateway.CallReport, error) {
	contacts, report, err := a.QueryContacts(ctx, agent, rules)
	if err != nil {
		return nil, report, err
	}
	out := make([]gateway.Contact, len(contacts))
	for i, c := range contacts {
		out[i] = gateway.Contact{Customer: c.Customer, FirstChatAt: c.FirstChatAt, LastChatAt: c.LastChatAt}
	}
	return out, report, nil
}

// QueryContacts is Query keeping what schema.Customer has no field for (the
// chat times, RFC 3339 in the connection's provider time zone).
func (a *Adapter) QueryContacts(ctx context.Context, agent string, rules *fieldconfig.Rules) ([]Contact, gateway.CallReport, error) {
	const op = "wscrm.Query"
	report := gateway.CallReport{Path: PathQuery}
	agent = strings.TrimSpace(agent)
	if agent == "" {
		return nil, report, errors.New("wscrm.Query: no agent given")
	}
	whatsID := agent
	for _, ag := range a.cfg.Agents {
		if ag.Account == agent {
			whatsID = ag.WhatsID
			break
		}
	}
	body, err := marshalBody(queryRequest{TenantID: a.cfg.TenantID, WhatsID: whatsID})
	if err != nil {
		return nil, report, fmt.Errorf("%s: %w", op, err)
	}
	status, raw, err := a.post(ctx, op, PathQuery, body, maxQueryAnswerBytes)
	report.HTTPStatus = status
	if err != nil {
		report.Error = err.Error()
		return nil, report, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Code == "" {
		report.Error = "the answer is not the documented JSON"
		return nil, report, fmt.Errorf("%s: %w: %s", op, errNotJSON, answerSnippet(raw))
	}
	report.ProviderCode = string(env.Code)
	if code, ok := env.Code.int(); !ok || code != CodeOK {
		pe := &ProviderError{Op: op, Path: PathQuery, HTTPStatus: status, Code: string(env.Code), Message: env.text()}
		report.Error = pe.Error()
		return nil, report, pe
	}
	var items []queryContact
	if d := bytes.TrimSpace(env.Data); len(d) > 0 && string(d) != "null" && string(d) != `""` {
		if err := decodeQueryData(d, &items); err != nil {
			report.Error = "data is not the documented list"
			return nil, report, fmt.Errorf("%s: %w: data: %v", op, errNotJSON, err)
		}
	}
	report.Records = len(items)
	loc := a.loc
	out := make([]Contact, len(items))
	for i := range items {
		out[i] = fromContact(&items[i], rules, loc)
	}
	return out, report, nil
}

// ChunkSize is how many records one WSCRM call carries (gateway.Chunker).
func (a *Adapter) ChunkSize(gateway.Op) int { return MaxRecordsPerCall }
