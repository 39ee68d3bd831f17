package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel/trace"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/internal/plainrecord"
	"crmgate/internal/strictjson"
	"crmgate/schema"
)

// RulesSource gives the current field-configuration rules of a connection
// from memory. It must not block on the network.
type RulesSource interface {
	Rules(conn string) *fieldconfig.Rules
}

// Connection is one provider account, ready to import into. Its Common,
// Provider and Breaker are read when a Service first sends to it (the
// service composes its caller then; a Breaker replaced later is noticed).
type Connection struct {
	Common
	Provider Provider
	// Extra is the provider-specific configuration, as Factory.NewConfig's type.
	Extra any

	// Breaker pauses calls to a provider that keeps failing.
	Breaker *Breaker

	rules  RulesSource
	sem    chan struct{}            // bounds calls in flight to this connection
	caller atomic.Pointer[composed] // how calls are sent (Service.caller)
}

// NewConnection joins a connection's configuration, adapter and rules.
// It refuses a nil adapter or rules source.
func NewConnection(common Common, p Provider, extra any, rules RulesSource) (*Connection, error) {
	if p == nil || rules == nil {
		return nil, fmt.Errorf("gateway.NewConnection %q: provider and rules are required", common.ID)
	}
	common = common.WithDefaults()
	return &Connection{Common: common, Provider: p, Extra: extra, rules: rules, sem: make(chan struct{}, common.Concurrency), Breaker: &Breaker{}}, nil
}

// Rules returns the connection's current field-configuration rules.
func (c *Connection) Rules() *fieldconfig.Rules {
	if r := c.rules.Rules(c.ID); r != nil {
		return r
	}
	return emptyRules
}

var emptyRules = fieldconfig.MustCompile(fieldconfig.Config{})

// Capabilities says what a connection can do, derived from what its adapter
// implements.
type Capabilities struct {
	Import       bool     `json:"import"`
	ImportPool   bool     `json:"import_pool"`
	Query        bool     `json:"query"`
	Webhooks     bool     `json:"webhooks"`
	Modes        []string `json:"modes"`
	CustomFields []string `json:"custom_fields"`
} //	@name	Capabilities

// Capabilities derives the connection's capabilities from its adapter and
// field configuration.
func (c *Connection) Capabilities() Capabilities {
	_, pool := c.Provider.(PoolImporter)
	_, query := c.Provider.(Querier)
	_, hooks := c.Provider.(WebhookReceiver)
	cfg := c.Rules().Config()
	names := make([]string, 0, len(cfg.CustomFields))
	for _, f := range cfg.CustomFields {
		names = append(names, f.Name)
	}
	return Capabilities{Import: true, ImportPool: pool, Query: query, Webhooks: hooks,
		Modes: slices.Clone(c.Provider.Modes()), CustomFields: names}
}

// Input says which list of a Request holds its records.
type Input uint8

const (
	// InputRaw (the zero Input): Customers holds the records as JSON, one
	// per input record; Import decodes each. Decoded is not read.
	InputRaw Input = iota
	// InputDecoded: Decoded holds every record already decoded, by a caller
	// that found nothing in the batch the record decoder would refuse or
	// warn about (no unknown, duplicate or case-variant key, no value of the
	// wrong type, no NUL). Import normalises the records in place and does
	// not read Customers.
	InputDecoded
)

// Request is one batch to import or validate.
type Request struct {
	Op Op
	// Input says whether the records are Customers or Decoded.
	Input Input
	// Customers are the raw records, one per input record (InputRaw).
	Customers []json.RawMessage
	// Decoded are the decoded records, one per input record (InputDecoded).
	Decoded      []schema.Customer
	AllOrNothing bool
	ValidateOnly bool
	// DefaultRegion is how phones without a country code are read
	// (schema.CheckOptions); empty means the connection's default_region.
	// It should have passed schema.ParseRegion.
	DefaultRegion string
	// Journal, when not nil, keeps the outcomes of the request's calls as
	// they come back, and gives back those of an earlier attempt of the same
	// request that was interrupted (see Journal).
	Journal Journal
}

// Journal is where an import keeps what the provider answered, call by call,
// so that the same request sent again after an interruption (a crash of the
// gateway mid-batch) sends only what was not answered. An import reads
// Answered once, before anything is checked or planned, and calls Record from
// each call's goroutine once the call's outcomes are in its results.
type Journal interface {
	// Answered returns the results of an earlier attempt's answered records,
	// by input index, and the reports of the calls that answered them. Those
	// records are not sent again; their results and reports are part of the
	// answer.
	Answered() (results map[int]answer.Result, calls []CallReport)
	// Record keeps one call's report and the results of its records that the
	// provider answered (succeeded or failed; not unknown). It must not keep
	// results or report after it returns.
	Record(ctx context.Context, report CallReport, results []answer.Result)
}

// Errors of a whole request.
var (
	// ErrUnsupported: the connection cannot do what was asked (a mode or an
	// operation its provider does not offer). The API answers 422, with the
	// error's text as the problem's detail: what wraps it says, in words for
	// users, which mode or capability is missing, and names no Go code.
	ErrUnsupported = errors.New("not supported by this connection")
	// ErrUnknownMode: an import's mode is none of ModeMerge, ModeReplace
	// and ModeKeepExisting, whatever the connection. It wraps
	// ErrUnsupported; the API answers it as a field of the request that is
	// not valid.
	ErrUnknownMode = fmt.Errorf("%w: unknown import mode", ErrUnsupported)
)

// Service imports batches into connections. Its Retry and Tracer are read
// when it first sends to a connection: set them before.
type Service struct {
	// Retry is the backoff between attempts; zero means DefaultRetryPolicy.
	Retry RetryPolicy
	// Observe, when set, is told of every provider call once it is over
	// (retries included): for metrics. It must not block.
	Observe func(conn *Connection, report CallReport, err error, elapsed time.Duration)
	// Tracer, when set, records a span per validation pass and per provider
	// call (nil: nothing traced, and nothing spent on it).
	Tracer trace.Tracer
}

// Import checks every record of req against the canonical model, the
// connection's field configuration and the provider's rules, sends the valid
// ones (unless req.ValidateOnly or, with AllOrNothing, any record failed) and
// answers with exactly one Result per input record in input order.
//
// It returns an error wrapping ErrUnsupported, with nothing sent, when the
// connection cannot honour req.Op; every other problem is a per-record result.
func (s *Service) Import(ctx context.Context, conn *Connection, req Request) (*answer.Answer, error) {
	if err := CheckOp(conn, req.Op); err != nil {
		return nil, err
	}
	start := time.Now()
	rules := conn.Rules()
	region := req.DefaultRegion
	if region == "" {
		region = conn.Common.DefaultRegion
	}
	n := len(req.Customers)
	if req.Input == InputDecoded {
		n = len(req.Decoded)
	}
	ans := &answer.Answer{Connection: conn.ID, Provider: conn.Common.Provider, Results: make([]answer.Result, n),
		ProviderCalls: []CallReport{}}
	var answered map[int]answer.Result
	if req.ValidateOnly {
		req.Journal = nil
	} else if req.Journal != nil {
		var calls []CallReport
		answered, calls = req.Journal.Answered()
		ans.ProviderCalls = append(ans.ProviderCalls, calls...)
	}
	// A streaming provider's calls go out as soon as a window of valid
	// records is ready, while later records are still being checked.
	window := 0
	if st, ok := conn.Provider.(Streamer); ok && !req.ValidateOnly && !req.AllOrNothing {
		window = st.StreamWindow(req.Op)
	}
	var (
		flight    = inFlight{ended: make(chan struct{}, 1)}
		upstream  time.Time
		anyFailed bool
		valid     = make([]Record, 0, min(n, max(window, 1)))
		check     trace.Span
	)
	if s.Tracer != nil {
		check = s.startValidation(ctx, conn, n)
	}
	for i := range n {
		if r, ok := answered[i]; ok {
			// Answered before an interruption: not sent again.
			r.Index, r.Warnings = i, nonNil(r.Warnings)
			ans.Results[i] = r
			continue
		}
		var (
			raw json.RawMessage
			pre *schema.Customer
		)
		if req.Input == InputDecoded {
			pre = &req.Decoded[i]
		} else {
			raw = req.Customers[i]
		}
		rec, ok := s.check(i, raw, pre, req.Op, conn.Provider, rules, region, &ans.Results[i])
		if !ok {
			anyFailed = true
			continue
		}
		valid = append(valid, rec)
		if window > 0 && len(valid) == window {
			// A few rounds of calls at most wait for a slot while the
			// rest of the batch is checked: a call's body exists from its
			// plan to its answer, and a large batch is checked much faster
			// than it is sent to a slow provider.
			flight.waitBelow(ctx, 4*max(conn.Common.Concurrency, 1))
			calls, err := conn.Provider.Plan(req.Op, valid)
			if err != nil {
				// Earlier windows are out: answer per record, never as a whole.
				planFailed(valid, err, ans.Results)
				calls = nil
			}
			if upstream.IsZero() {
				upstream = time.Now()
			}
			s.launch(ctx, conn, calls, ans.Results, &flight, req.Journal, false)
			valid = make([]Record, 0, window)
		}
		if window > 0 && i%16 == 15 {
			// Let launched calls and answers that came in run now rather
			// than at the next preemption: on one core, checking the rest
			// of the batch would otherwise hold them back.
			runtime.Gosched()
		}
	}
	if req.AllOrNothing && anyFailed {
		for _, r := range valid {
			res := &ans.Results[r.Index]
			res.Status = StatusFailed
			res.Errors = []schema.Issue{schema.Issuef(schema.CodeNotSent, "", "not sent: all_or_nothing is set and another record of the batch failed")}
		}
		valid = nil
	}
	calls, err := conn.Provider.Plan(req.Op, valid)
	if err != nil {
		planFailed(valid, err, ans.Results)
		calls = nil
	}
	ans.Timing.Validation = time.Since(start)
	if check != nil {
		endValidation(check, ans.Results, answered)
	}
	if req.ValidateOnly {
		ans.ProviderRequests = make([]answer.ProviderRequest, 0, len(calls))
		for _, c := range calls {
			ans.ProviderRequests = append(ans.ProviderRequests, answer.ProviderRequest{Method: c.Method, Path: c.Path, Body: redactedBody(conn.Provider, c.Body)})
		}
		ans.Count()
		return ans, nil
	}
	if upstream.IsZero() {
		upstream = time.Now()
	}
	s.launch(ctx, conn, calls, ans.Results, &flight, req.Journal, true)
	ans.ProviderCalls = append(ans.ProviderCalls, flight.wait()...)
	ans.Timing.Upstream = time.Since(upstream)
	ans.Count()
	return ans, nil
}

// planFailed fails records the provider could not put into calls (their wire
// form could not be encoded): nothing of them was sent.
func planFailed(recs []Record, err error, results []answer.Result) {
	for _, r := range recs {
		res := &results[r.Index]
		res.Status = StatusFailed
		res.Errors = append(res.Errors, schema.Issuef(schema.CodeInvalidValue, "", "not sent: the record could not be encoded for the provider: %v", err))
	}
}

// check decodes (unless pre is the record already decoded) and checks one
// record, writing its result; it returns the record ready to plan when it
// passed every check.
func (s *Service) check(i int, raw json.RawMessage, pre *schema.Customer, op Op, p Provider, rules *fieldconfig.Rules, region string, res *answer.Result) (Record, bool) {
	res.Index = i
	c, errs, warns := pre, []schema.Issue(nil), []schema.Issue(nil)
	if c == nil {
		c, errs, warns = decodeRecord(raw, op.Strict)
	}
	var wire any
	if c != nil {
		res.Ref = c.Ref
		e, w := schema.CheckWith(c, schema.CheckOptions{DefaultRegion: region})
		errs, warns = append(errs, e...), append(warns, w...)
		checked, e := rules.Check(c)
		errs = append(errs, e...)
		if len(errs) == 0 {
			wire, e, w = p.Translate(op, checked)
			errs, warns = append(errs, e...), append(warns, w...)
		}
	}
	res.Warnings = nonNil(warns)
	if len(errs) > 0 {
		res.Status, res.Errors = StatusFailed, errs
		return Record{}, false
	}
	res.Status = StatusValid
	return Record{Index: i, Customer: c, Wire: wire}, true
}

// CheckOp is the one gate of an operation: whether conn can do op. An
// import's mode must be one of ModeMerge, ModeReplace and ModeKeepExisting
// (otherwise an error wrapping ErrUnknownMode) and one of the provider's
// Modes; a pool operation needs a PoolImporter; any other kind is refused.
// Each refusal wraps ErrUnsupported and says, in words for users, what is
// missing. Import calls it before anything else; a caller may call it
// earlier to refuse a request before reading the rest of it. Nothing after
// it (Translate, Plan) checks op again.
func CheckOp(conn *Connection, op Op) error {
	switch op.Kind {
	case KindImport:
		switch op.Mode {
		case ModeMerge, ModeReplace, ModeKeepExisting:
		default:
			return fmt.Errorf("%w %q (the modes are %s, %s and %s)", ErrUnknownMode, op.Mode, ModeMerge, ModeReplace, ModeKeepExisting)
		}
		if !slices.Contains(conn.Provider.Modes(), op.Mode) {
			return fmt.Errorf("%w: mode %q (this %s connection honours %s)", ErrUnsupported, op.Mode, conn.Common.Provider, strings.Join(conn.Provider.Modes(), ", "))
		}
	case KindPoolReplace, KindPoolAppend:
		if _, ok := conn.Provider.(PoolImporter); !ok {
			return fmt.Errorf("%w: capability import_pool (this %s connection has no import pool)", ErrUnsupported, conn.Common.Provider)
		}
	default:
		return fmt.Errorf("%w: operation %q", ErrUnsupported, op.Kind)
	}
	return nil
}

// inFlight tracks the calls launched for one request and their reports,
// in plan order.
type inFlight struct {
	wg      sync.WaitGroup
	reports []*CallReport
	open    atomic.Int64  // launched calls not yet answered or given up
	ended   chan struct{} // a nudge after each call ends (capacity 1)
}

// end counts one call as ended.
func (f *inFlight) end() {
	f.open.Add(-1)
	select {
	case f.ended <- struct{}{}:
	default: // a nudge is already waiting
	}
}

// waitBelow waits until fewer than n launched calls are open, or ctx ends.
func (f *inFlight) waitBelow(ctx context.Context, n int) {
	for f.open.Load() >= int64(n) {
		select {
		case <-f.ended:
		case <-ctx.Done():
			return
		}
	}
}

// wait waits for every launched call and returns their reports.
func (f *inFlight) wait() []CallReport {
	f.wg.Wait()
	out := make([]CallReport, len(f.reports))
	for i, r := range f.reports {
		out[i] = *r
	}
	return out
}

// launch starts the calls, concurrently within the connection's bound; each
// writes its records' outcomes into results (each record belongs to one
// call, so no two goroutines write the same result). Calls of one Sequence
// run one after another in one goroutine. Each call that went through is
// recorded in j (when not nil) from its goroutine. With last set (the
// request's final launch, which waits for every call next) the last group
// runs on the caller's goroutine instead of a new one: a single-record
// import starts no goroutine of its own.
func (s *Service) launch(ctx context.Context, conn *Connection, calls []Call, results []answer.Result, f *inFlight, j Journal, last bool) {
	send := s.caller(conn)
	var groups [][]int
	bySeq := map[string]int{}
	reports := make([]*CallReport, len(calls)) // the goroutines' own view: f.reports grows meanwhile
	f.open.Add(int64(len(calls)))
	for i, c := range calls {
		reports[i] = &CallReport{}
		f.reports = append(f.reports, reports[i])
		if c.Sequence == "" {
			groups = append(groups, []int{i})
			continue
		}
		g, ok := bySeq[c.Sequence]
		if !ok {
			g = len(groups)
			bySeq[c.Sequence] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	run := func(g []int) {
		broken := false
		for _, i := range g {
			call, report := &calls[i], reports[i]
			if broken {
				f.end()
				*report = CallReport{Path: call.Path, Records: len(call.Records), Note: "not sent: an earlier call of the same sequence did not go through"}
				for _, r := range call.Records {
					res := &results[r.Index]
					res.Status = StatusFailed
					res.Errors = append(res.Errors, schema.Issuef(schema.CodeNotSent, "", "not sent: an earlier call for the same agent did not go through"))
				}
				continue
			}
			ok := s.sendOne(ctx, send, conn, call, report, results)
			broken = !ok
			if ok && j != nil {
				j.Record(ctx, *report, answeredResults(call, results))
			}
			f.end()
		}
	}
	for k, g := range groups {
		if last && k == len(groups)-1 {
			run(g)
			break
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			run(g)
		}()
	}
}

// answeredResults are the results of call's records that the provider
// answered: what a retry of the request must not send again.
func answeredResults(call *Call, results []answer.Result) []answer.Result {
	out := make([]answer.Result, 0, len(call.Records))
	for _, r := range call.Records {
		if res := results[r.Index]; res.Status == StatusSucceeded || res.Status == StatusFailed {
			out = append(out, res)
		}
	}
	return out
}

// sendOne sends one call through send (the connection's caller: retries
// included) and applies its outcomes. It reports whether the call went
// through (the provider answered).
func (s *Service) sendOne(ctx context.Context, send CallFunc, conn *Connection, call *Call, report *CallReport, results []answer.Result) bool {
	start := time.Now()
	res, err := send(ctx, call)
	attempts := res.Report.Attempts
	if s.Observe != nil {
		defer func() { s.Observe(conn, *report, err, time.Since(start)) }()
	}
	if err != nil {
		*report = res.Report
		report.Path, report.Records, report.Attempts = call.Path, len(call.Records), attempts
		// The whole chain is for support (provider_calls); the record's
		// issue says what it means.
		report.Error = err.Error()
		code, status := schema.CodeProviderUnavailable, StatusUnknown
		msg := fmt.Sprintf("the provider did not answer after %d attempt(s): %s; the record may or may not be stored, retry with the same Idempotency-Key", attempts, Describe(err))
		switch {
		case attempts == 0:
			// Nothing went out: the record is certainly not stored.
			code, status = schema.CodeNotSent, StatusFailed
			msg = "not sent: " + Describe(err)
		case !errors.Is(err, ErrUnavailable):
			code = schema.CodeProviderRejected
			msg = Describe(err) + "; the record may or may not be stored"
		}
		retryAfter := seconds(RetryAfterOf(err))
		for _, r := range call.Records {
			res := &results[r.Index]
			res.Status = status
			res.RetryAfter = retryAfter
			res.Errors = append(res.Errors, schema.Issue{Code: code, Message: msg})
		}
		return false
	}
	*report = res.Report
	report.Path, report.Records, report.Attempts = call.Path, len(call.Records), attempts
	for k, r := range call.Records {
		var out Outcome
		if k < len(res.Outcomes) {
			out = res.Outcomes[k]
		} else {
			out = Outcome{Status: StatusUnknown, Errors: []schema.Issue{schema.Issuef(schema.CodeProviderRejected, "", "the provider's answer said nothing of this record")}}
		}
		dst := &results[r.Index]
		dst.Status = out.Status
		dst.ProviderID = out.ProviderID
		dst.Errors = append(dst.Errors, out.Errors...)
		dst.Warnings = append(dst.Warnings, out.Warnings...)
		dst.RetryAfter = out.RetryAfter
	}
	return true
}

// seconds rounds d up to whole seconds, for retry_after.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// decodeRecord decodes one canonical record. A key the model does not have is
// an unknown_field warning (an error when strict). A value of the wrong JSON
// type, a key given twice, a key that differs from a field only in case
// ("WhatsApp") and a NUL character in a value fail the record with
// invalid_value naming the key or field: what was meant cannot be known, and
// neither provider can store a NUL.
func decodeRecord(raw json.RawMessage, strict bool) (*schema.Customer, []schema.Issue, []schema.Issue) {
	// The plain shape (an import job's rows nearly always) without
	// reflection; everything else, and every problem, strictly.
	if c, ok := plainrecord.Decode(raw); ok {
		return c, nil, nil
	}
	return decodeRecordStrictly(raw, strict)
}

// decodeRecordStrictly is decodeRecord without the plain reader in front.
func decodeRecordStrictly(raw json.RawMessage, strict bool) (*schema.Customer, []schema.Issue, []schema.Issue) {
	var c schema.Customer
	err := strictjson.Unmarshal(raw, &c)
	if err == nil {
		if issues := nulFields(raw, &c); issues != nil {
			return nil, issues, nil
		}
		return &c, nil, nil
	}
	if name, obj, ok := strictjson.IsDuplicate(err); ok {
		return nil, []schema.Issue{schema.Issuef(schema.CodeInvalidValue, recordField(obj.AppendToken(name)),
			"the key %q appears twice; which value is meant cannot be known", name)}, nil
	}
	if _, _, _, ok := strictjson.IsUnknown(err); !ok {
		return nil, recordDecodeError(err), nil
	}
	// Decode again without the check, and name every unknown key.
	c = schema.Customer{}
	if err := strictjson.UnmarshalKnown(raw, &c); err != nil {
		return nil, recordDecodeError(err), nil
	}
	var errs, unknown []schema.Issue
	for _, k := range topLevelKeys(raw) {
		if slices.Contains(schema.Fields, k) {
			continue
		}
		if v := strictjson.CaseVariant(k, schema.Fields); v != "" {
			errs = append(errs, schema.Issuef(schema.CodeInvalidValue, k, "%q is not the field %q: keys are case-sensitive", k, v))
			continue
		}
		unknown = append(unknown, schema.Issuef(schema.CodeUnknownField, k, "%q is not a field of the canonical customer; it was not sent", k))
	}
	if strict {
		errs, unknown = append(errs, unknown...), nil
	}
	if len(errs) == 0 {
		errs = nulFields(raw, &c)
	}
	if len(errs) > 0 {
		return nil, errs, unknown
	}
	return &c, nil, unknown
}

// topLevelKeys lists the names of a JSON object, sorted.
func topLevelKeys(raw []byte) []string {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	var keys []string
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		keys = append(keys, tok.String())
		if err := dec.SkipValue(); err != nil {
			break
		}
	}
	sort.Strings(keys)
	return keys
}

// recordField is the Issue.Field of a JSON pointer into a record: the
// canonical field, or custom_fields.<name>.
func recordField(p jsontext.Pointer) string {
	var toks []string
	for t := range p.Tokens() {
		toks = append(toks, t)
		if len(toks) == 2 {
			break
		}
	}
	switch {
	case len(toks) == 0:
		return ""
	case len(toks) == 2 && toks[0] == schema.FieldCustomFields:
		return schema.CustomFieldPath(toks[1])
	}
	return toks[0]
}

// recordDecodeError is the issue of a record that could not be decoded.
func recordDecodeError(err error) []schema.Issue {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) && se.JSONPointer != "" {
		return []schema.Issue{schema.Issuef(schema.CodeInvalidValue, recordField(se.JSONPointer), "%s", strictjson.Message(err))}
	}
	if se != nil {
		return []schema.Issue{schema.Issuef(schema.CodeInvalidValue, "", "the record is not a JSON object")}
	}
	return []schema.Issue{schema.Issuef(schema.CodeInvalidValue, "", "the record is not valid JSON: %s", strictjson.Message(err))}
}

// nulFields fails a record with a NUL character in a value or a custom
// field's name, one issue per field. Only a record whose text holds the
// escape is looked at.
func nulFields(raw []byte, c *schema.Customer) []schema.Issue {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	var issues []schema.Issue
	bad := func(field string) {
		issues = append(issues, schema.Issuef(schema.CodeInvalidValue, field, "%s holds a NUL character (U+0000), which no provider can store", field))
	}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == schema.FieldCustomFields {
			for _, k := range c.CustomFieldNames() {
				if strings.IndexByte(k, 0) >= 0 || hasNUL(c.CustomFields[k]) {
					bad(schema.CustomFieldPath(k))
				}
			}
			continue
		}
		if hasNUL(v.Field(i).Interface()) {
			bad(name)
		}
	}
	return issues
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []string:
		return slices.ContainsFunc(x, func(s string) bool { return strings.IndexByte(s, 0) >= 0 })
	case []any:
		return slices.ContainsFunc(x, hasNUL)
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

func nonNil(s []schema.Issue) []schema.Issue {
	if s == nil {
		return []schema.Issue{}
	}
	return s
}
