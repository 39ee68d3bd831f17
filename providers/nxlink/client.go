package nxlink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmgate/gateway"
	"crmgate/providers/internal/factory"
	"crmgate/providers/internal/httpcall"
	"crmgate/schema"
)

// Bounds on what is read of an answer. An answer lists each record of the
// call at most once, in successItems ({index, customerId}) or failItems
// ({index, errorCode, errorMessage}): well under 2 KiB each, around an
// envelope of code, message, traceId and totalCount. So an answer to a call of
// n records (n ≤ 100) is bounded by answerBase + n × answerPerRecord, 216 KiB
// for a full call; more is not an answer to this call.
const (
	answerBase      = 16 << 10
	answerPerRecord = 2 << 10
)

// providerLabel is NXLink's name as users read it in messages.
const providerLabel = "NXLink"

// answerLimit is the most an answer to a call of n records may hold.
func answerLimit(n int) int64 { return answerBase + answerPerRecord*int64(n) }

// Adapter is one NXLink connection: it implements gateway.Provider and
// gateway.Redactor. It is safe for concurrent use once built; set Now before
// the first call only.
type Adapter struct {
	common gateway.Common
	cfg    Config
	hc     *http.Client
	url    string // base URL without a trailing slash

	// Now is the clock of the ts header; nil means time.Now.
	Now func() time.Time
}

var (
	_ gateway.Provider = (*Adapter)(nil)
	_ gateway.Redactor = (*Adapter)(nil)
)

// New makes the adapter of one connection. It refuses a nil or invalid cfg,
// an invalid common (id, base_url) and a nil hc; every problem is reported at
// once. Zero values of common's limits take gateway's defaults. The adapter
// uses a copy of hc that follows no redirect: the signed body and its
// credentials would go along, replayable while the ts is fresh.
func New(common gateway.Common, cfg *Config, hc *http.Client) (*Adapter, error) {
	if err := factory.Check(common, cfg, hc); err != nil {
		return nil, fmt.Errorf("nxlink.New: %w", err)
	}
	return &Adapter{
		common: common.WithDefaults(),
		cfg:    *cfg,
		hc:     gateway.NoRedirect(hc),
		url:    strings.TrimSuffix(common.BaseURL, "/"),
	}, nil
}

func (a *Adapter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Do sends one planned call once, through httpcall: call.Body is sent as it
// is, signed with the connection's algorithm under a ts from Now, within ctx
// and the connection's per-call timeout. Its errors name NXLink and the path,
// never a Go identifier: the import service shows them in the records'
// messages.
//
// A transport error, a timeout and an HTTP 5xx or 429 are errors wrapping
// gateway.ErrUnavailable (retry; a *gateway.ProviderError, and a 429 or 503
// with Retry-After is a *gateway.RetryAfterError around it). A redirect is
// not followed: every record is unknown, with an issue naming the status and
// Location, and the call is not retried. An answer longer than the call can
// hold (answerLimit) is an error wrapping gateway.ErrAnswerTooLarge, read no
// further: the records are unknown. An answer that cannot be read (not JSON,
// code 0 without data, another HTTP status without a provider code) is an
// error wrapping ErrBadAnswer (with a non-2xx status, also the
// *gateway.ProviderError of that status): the records are unknown. Otherwise
// the result holds one Outcome per record: top-level code 0 maps
// successItems to succeeded (ProviderID = customerId) and failItems to
// failed, and a record in neither list is unknown; any other top-level code
// fails every record with that code (12148 owner_not_found, otherwise
// provider_rejected). The report is filled whenever an answer arrived, also
// with an error.
func (a *Adapter) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	rep := gateway.CallReport{Path: call.Path, Records: len(call.Records)}
	ans, err := httpcall.Do(ctx, a.hc, httpcall.Request{
		Provider: providerLabel,
		Method:   call.Method,
		BaseURL:  a.url,
		Path:     call.Path,
		Header:   a.header(call.Body),
		Body:     call.Body,
		Limit:    answerLimit(len(call.Records)),
	})
	rep.HTTPStatus = ans.Status
	var pe *gateway.ProviderError
	if err != nil && (!errors.As(err, &pe) || pe.Retryable) {
		return gateway.CallResult{Report: rep}, err
	}
	if pe != nil && pe.Location != "" {
		// The records were sent, and a 302 or 303 may come after the call
		// was processed: unknown. Not retried: the same call gets the same
		// redirect (base_url needs fixing).
		rep.Error = pe.Error()
		is := schema.Issue{Code: schema.CodeProviderRejected,
			Message: fmt.Sprintf("NXLink answered HTTP %d redirecting to %s; redirects are not followed (check the connection's base_url); whether this record was stored is unknown",
				pe.Status, pe.Location),
			ProviderCode: fmt.Sprintf("http_%d", pe.Status)}
		out := make([]gateway.Outcome, len(call.Records))
		for i := range out {
			out[i] = gateway.Outcome{Status: gateway.StatusUnknown, Errors: []schema.Issue{is}}
		}
		return gateway.CallResult{Outcomes: out, Report: rep}, nil
	}
	// A 2xx answer, or another status whose body may still carry a code.
	res, err := mapAnswer(len(call.Records), ans.Status, ans.Body)
	res.Report.Path = rep.Path
	res.Report.HTTPStatus = rep.HTTPStatus
	res.Report.Records = rep.Records
	switch {
	case err == nil:
		return res, nil
	case pe != nil:
		pe.Code = res.Report.ProviderCode
		return res, fmt.Errorf("%w: %w", ErrBadAnswer, pe)
	}
	return res, fmt.Errorf("%s %s: %w", providerLabel, call.Path, err)
}

// header is the signed header of a call carrying body, spelled as the
// document spells it (http.Header.Set would write Accesskey).
func (a *Adapter) header(body []byte) http.Header {
	ts := strconv.FormatInt(a.now().UnixMilli(), 10)
	algo := a.cfg.algorithm()
	// The values in one array, each header a slice of it with room for
	// nothing more (an append copies): one allocation, not one per header.
	v := &[...]string{"application/json", a.cfg.AccessKey, ts, BizType, Action,
		Sign(algo, a.cfg.AccessKey, Action, BizType, ts, body, a.cfg.AccessSecret.Reveal()), AlgorithmSHA256}
	h := make(http.Header, len(v))
	for i, k := range [...]string{"Content-Type", headerAccessKey, headerTS, headerBizType, headerAction, headerSign} {
		h[k] = v[i : i+1 : i+1]
	}
	if algo == AlgorithmSHA256 {
		h[headerAlgorithm] = v[6:7:7]
	}
	return h
}

// mapAnswer reads one answer of the batch create call carrying n records and
// returns one Outcome per record (see Do). Report's ProviderCode and TraceID
// are filled whenever the answer is JSON.
func mapAnswer(n, status int, body []byte) (gateway.CallResult, error) {
	var res gateway.CallResult
	ans, err := decodeAnswer(body)
	if err != nil {
		return res, fmt.Errorf("%w: HTTP %d, not JSON: %v (%q)", ErrBadAnswer, status, err, httpcall.Snippet(body))
	}
	res.Report.ProviderCode = ans.Code.String()
	res.Report.TraceID = ans.TraceID
	if ans.Code == "" {
		return res, fmt.Errorf("%w: HTTP %d without a code (%q)", ErrBadAnswer, status, httpcall.Snippet(body))
	}
	code, err := ans.Code.Int64()
	if err != nil {
		return res, fmt.Errorf("%w: code %q is not an integer", ErrBadAnswer, ans.Code)
	}
	message := ""
	if ans.Message != nil {
		message = *ans.Message
	}

	if code != 0 {
		canon, field := wholeCallCode(code)
		is := schema.Issue{
			Code:            canon,
			Field:           field,
			Message:         wholeCallMessage(canon, message),
			ProviderCode:    ans.Code.String(),
			ProviderMessage: message,
		}
		res.Outcomes = make([]gateway.Outcome, n)
		for i := range res.Outcomes {
			res.Outcomes[i] = gateway.Outcome{Status: gateway.StatusFailed, Errors: []schema.Issue{is}}
		}
		return res, nil
	}
	if status < 200 || status > 299 {
		return res, fmt.Errorf("%w: HTTP %d with code 0", ErrBadAnswer, status)
	}
	if ans.Data == nil {
		return res, fmt.Errorf("%w: code 0 without data", ErrBadAnswer)
	}

	res.Outcomes = make([]gateway.Outcome, n)
	seen := make([]bool, n)
	var notes []string
	place := func(idx json.Number) (int, bool) {
		i, err := idx.Int64()
		if err != nil || i < 0 || i >= int64(n) {
			notes = append(notes, fmt.Sprintf("index %q is not a record of the call", idx))
			return 0, false
		}
		if seen[i] {
			notes = append(notes, fmt.Sprintf("index %d is listed twice", i))
			return 0, false
		}
		seen[i] = true
		return int(i), true
	}
	for _, it := range ans.Data.SuccessItems {
		i, ok := place(it.Index)
		if !ok {
			continue
		}
		res.Outcomes[i] = gateway.Outcome{Status: gateway.StatusSucceeded, ProviderID: it.CustomerID.String()}
	}
	for _, it := range ans.Data.FailItems {
		i, ok := place(it.Index)
		if !ok {
			continue
		}
		pc, _ := it.ErrorCode.Int64()
		canon, field := canonicalCode(pc, it.ErrorMessage)
		res.Outcomes[i] = gateway.Outcome{Status: gateway.StatusFailed, Errors: []schema.Issue{{
			Code:            canon,
			Field:           field,
			Message:         itemMessage(canon, it.ErrorMessage),
			ProviderCode:    it.ErrorCode.String(),
			ProviderMessage: it.ErrorMessage,
		}}}
	}
	missing := 0
	for i, ok := range seen {
		if ok {
			continue
		}
		missing++
		res.Outcomes[i] = gateway.Outcome{Status: gateway.StatusUnknown, Errors: []schema.Issue{schema.Issuef(
			schema.CodeProviderUnavailable, "", "NXLink's answer lists this record neither as a success nor as a failure")}}
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d records are in neither successItems nor failItems", missing, n))
	}
	if t, err := ans.Data.TotalCount.Int64(); err == nil && t != int64(n) {
		notes = append(notes, fmt.Sprintf("totalCount %d, but %d records were sent", t, n))
	}
	res.Report.Note = strings.Join(notes, "; ")
	return res, nil
}

// wholeCallMessage explains a whole-call refusal in the gateway's words.
func wholeCallMessage(code schema.Code, message string) string {
	switch code {
	case schema.CodeOwnerNotFound:
		return "NXLink refused the whole call: a seat (owner) of the call does not exist"
	}
	if message == "" {
		return "NXLink refused the whole call"
	}
	return "NXLink refused the whole call: " + message
}

// itemMessage explains a per-record refusal in the gateway's words.
func itemMessage(code schema.Code, message string) string {
	switch code {
	case schema.CodeOwnerNotFound:
		return "the owner is not a seat of this NXLink account"
	case schema.CodeProviderRejected:
		if message == "" {
			return "NXLink refused the record"
		}
		return "NXLink refused the record: " + message
	}
	if message == "" {
		return "NXLink refused the record (" + string(code) + ")"
	}
	return message
}
