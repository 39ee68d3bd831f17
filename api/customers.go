package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"

	"crmgate/api/answer"
	"crmgate/gateway"
	"crmgate/internal/strictjson"
	"crmgate/schema"
)

// ImportRequest is the body of POST /v1/customers, /v1/customers/validate and
// /v1/import-pool. Its records are kept raw: each is a canonical customer
// (schema.Customer), decoded on its own so that a record's problems become its
// own result (DecodeImport). The comments and tags of its fields are the
// document's (openapi.yaml).
type ImportRequest struct {
	// The connection to import into; may be omitted when the token allows exactly one connection (or given as the query parameter connection).
	Connection string `json:"connection" example:"sandbox-nxlink"`
	// POST /v1/customers and /validate: merge (default; NXLink type 1, WSCRM batchImport), replace (NXLink type 0) or keep_existing (NXLink type 2); a mode the provider cannot honour is a 422. POST /v1/import-pool: replace (the agent's pool becomes the batch) or append.
	Mode string `json:"mode" enums:"merge,replace,keep_existing,append" example:"merge"`
	// A field the target provider does not have fails the record instead of a warning unsupported_field; an unknown key fails it instead of a warning unknown_field.
	Strict bool `json:"strict"`
	// The owner must exist at the provider (NXLink strict_binding).
	StrictOwner bool `json:"strict_owner"`
	// Send nothing when any record fails validation; the valid ones answer not_sent.
	AllOrNothing bool `json:"all_or_nothing"`
	// ISO 3166-1 alpha-2 region in which a phone written without + or 00 is read as a national number (CN: 152 6666 7780 is 8615266667780); empty means the connection's default_region. An unknown region is a 422.
	DefaultRegion string `json:"default_region,omitempty" example:"CN"`
	// The records, at most limits.max_records (10 000 by default). Unknown keys in a record are an unknown_field warning (an error with strict). A record that is not a valid customer (a value of the wrong type, say) fails on its own with invalid_value; the rest of the batch goes on.
	Customers []json.RawMessage `json:"customers" validate:"required" minItems:"1"`
} //	@name	ImportRequest

func issue(code schema.Code, field, msg string) schema.Issue {
	return schema.Issue{Code: code, Field: field, Message: msg}
}

func quote(s string) string { return strconv.Quote(s) }

// readJSON reads a JSON request body into v: 415 for another content type,
// 413 past the limit (while reading), 400 for malformed JSON or unknown keys.
// It answers the problem itself and reports whether v was filled.
func (s *Server) readJSON(c *gin.Context, v any) bool {
	body, ok := s.readBody(c)
	return ok && decodeJSON(c, body, v)
}

// readBody reads a JSON request body within the size limit.
func (s *Server) readBody(c *gin.Context) ([]byte, bool) {
	// The usual Content-Type is taken as it is, without the parameter map
	// mime.ParseMediaType makes.
	mt, err := "application/json", error(nil)
	if ct := c.GetHeader("Content-Type"); ct != mt {
		mt, _, err = mime.ParseMediaType(ct)
	}
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		fail(c, refuse(kindMediaType, "send the body as application/json"))
		return nil, false
	}
	if c.Request.ContentLength > s.opts.MaxBodyBytes {
		fail(c, overLimit(s.opts.MaxBodyBytes))
		return nil, false
	}
	body, err := readAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes), c.Request.ContentLength)
	if err != nil {
		fail(c, readFailed("the body", err))
		return nil, false
	}
	return body, true
}

// readAll is io.ReadAll into a buffer sized from the request's
// Content-Length when it gives one (already checked against the limit: the caller is authenticated and
// the announced size is bounded), so
// that a large body is read into one allocation of its size instead of a
// series of doubling ones.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	// One byte more than announced, so that the read that finds the end
	// does not have to grow the buffer.
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than announced: grow as ReadAll does
		}
	}
}

// decodeJSON decodes exactly one JSON value with no unknown, duplicate or
// case-variant keys and no invalid UTF-8 (see strictjson).
func decodeJSON(c *gin.Context, body []byte, v any) bool {
	if err := decodeStrict(body, v); err != nil {
		fail(c, notJSON("the body", err))
		return false
	}
	return true
}

func decodeStrict(body []byte, v any) error {
	if err := checkText(body); err != nil {
		return err
	}
	return strictjson.Unmarshal(body, v)
}

// checkText refuses an empty body and one that is not UTF-8.
func checkText(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmptyBody
	}
	if !utf8.Valid(body) {
		at := 0
		for at < len(body) {
			r, n := utf8.DecodeRune(body[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return fmt.Errorf("%w (at byte %d)", errNotUTF8, at)
	}
	return nil
}

var (
	errEmptyBody = errors.New("the body is empty")
	errNotUTF8   = errors.New("the body is not valid UTF-8")
	errTwoValues = errors.New("the body holds more than one JSON value")
	errNotObject = errors.New("the body must be a JSON object")
)

// KeyError is a request body refused for one of its keys: unknown, a case
// variant of a known one, or given twice.
type KeyError struct {
	Key     string
	Code    schema.Code
	Message string
}

func (e *KeyError) Error() string { return e.Message }

// jsonError says what is wrong with a body the decoder refused.
func jsonError(err error) string {
	var ke *KeyError
	if errors.As(err, &ke) || errors.Is(err, errEmptyBody) || errors.Is(err, errNotUTF8) || errors.Is(err, errTwoValues) || errors.Is(err, errNotObject) {
		return err.Error()
	}
	return strictjson.Message(err)
}

// keyIssues names the key a decoding error is about, when it is about one.
func keyIssues(err error) []schema.Issue {
	var ke *KeyError
	if errors.As(err, &ke) {
		return []schema.Issue{{Code: ke.Code, Field: ke.Key, Message: ke.Message}}
	}
	if name, obj, ok := strictjson.IsDuplicate(err); ok {
		return []schema.Issue{issue(schema.CodeInvalidValue, join(strictjson.Path(obj), name), strictjson.Message(err))}
	}
	if name, obj, _, ok := strictjson.IsUnknown(err); ok {
		return []schema.Issue{issue(schema.CodeUnknownField, join(strictjson.Path(obj), name), strictjson.Message(err))}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// envelopeKeys are the keys of an import request.
var envelopeKeys = strictjson.Names(reflect.TypeFor[ImportRequest]())

// nulEscape is how a NUL character can appear in valid JSON.
var nulEscape = []byte(`\u0000`)

// DecodeImport decodes an import request body. In the common case (no
// unknown, duplicate or case-variant key, no value of the wrong type and no
// NUL character anywhere) the records are decoded in the same pass and
// returned as decoded: by decodePlain when the body has the plain shape,
// else by the strict whole-body decode; otherwise decoded is nil and each record is left raw
// in req.Customers, to be decoded on its own so that its problems become its
// own result. A body that is not such a request at all (malformed JSON,
// invalid UTF-8, an unknown, duplicate or case-variant envelope key, more
// than one value) is an error; a *KeyError names the key.
//
// The decoded records' strings may point into body: the caller must not
// modify body after the call (the request handlers never do; they read it
// once and hand it here).
func DecodeImport(body []byte) (req ImportRequest, decoded []schema.Customer, err error) {
	if err := checkText(body); err != nil {
		return req, nil, err
	}
	if req, decoded, ok := decodePlain(body); ok {
		return req, decoded, nil
	}
	if req, decoded, ok := decodeWhole(body); ok {
		return req, decoded, nil
	}
	req, err = decodeEnvelope(body)
	return req, nil, err
}

// decodeWhole decodes the whole body strictly in one pass, records and all;
// ok is false when anything in it is refused (the record-by-record decode
// then finds what and where).
func decodeWhole(body []byte) (req ImportRequest, cs []schema.Customer, ok bool) {
	var fast struct {
		ImportRequest
		Customers []schema.Customer `json:"customers"`
	}
	// The decoder fills the capacity it finds before it grows the slice,
	// so the records are decoded in place instead of copied on each growth.
	fast.Customers = make([]schema.Customer, 0, recordsEstimate(body))
	if strictjson.Unmarshal(body, &fast) != nil || bytes.Contains(body, nulEscape) {
		return req, nil, false
	}
	req = fast.ImportRequest
	if fast.Customers != nil {
		req.Customers = make([]json.RawMessage, len(fast.Customers))
	}
	return req, fast.Customers, true
}

// recordsEstimate estimates, from the bytes alone, how many records body
// holds: the objects that open an array element ("[{" or ",{", spaces
// allowed), which counts each record once, objects nested in arrays too,
// and never an object that is a member value (custom_fields). It is only a
// capacity: never more than the records of twice the body's size would take.
func recordsEstimate(body []byte) int {
	n := 0
	for i := 0; ; i++ {
		j := bytes.IndexByte(body[i:], '{')
		if j < 0 {
			break
		}
		i += j
		k := i - 1
		for k >= 0 && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
			k--
		}
		if k >= 0 && (body[k] == '[' || body[k] == ',') {
			n++
		}
	}
	return min(n, 2*len(body)/int(unsafe.Sizeof(schema.Customer{})))
}

// decodeEnvelope decodes an import request's envelope strictly and leaves
// each record raw (checked only to be one well-formed JSON value).
func decodeEnvelope(body []byte) (ImportRequest, error) {
	var req ImportRequest
	// Duplicates are checked here for the envelope, and by the record
	// decoder within each record.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return req, err
	}
	if tok.Kind() != '{' {
		return req, errNotObject
	}
	seen := map[string]bool{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return req, err
		}
		name := tok.String()
		if seen[name] {
			return req, &KeyError{Key: name, Code: schema.CodeInvalidValue, Message: fmt.Sprintf("the key %q appears twice", name)}
		}
		seen[name] = true
		switch name {
		case "customers":
			req.Customers, err = decodeRecords(dec, body)
		case "connection":
			err = strictjson.UnmarshalDecode(dec, &req.Connection)
		case "mode":
			err = strictjson.UnmarshalDecode(dec, &req.Mode)
		case "strict":
			err = strictjson.UnmarshalDecode(dec, &req.Strict)
		case "strict_owner":
			err = strictjson.UnmarshalDecode(dec, &req.StrictOwner)
		case "all_or_nothing":
			err = strictjson.UnmarshalDecode(dec, &req.AllOrNothing)
		case "default_region":
			err = strictjson.UnmarshalDecode(dec, &req.DefaultRegion)
		default:
			if v := strictjson.CaseVariant(name, envelopeKeys); v != "" {
				return req, &KeyError{Key: name, Code: schema.CodeUnknownField,
					Message: fmt.Sprintf("unknown key %q: keys are case-sensitive (%q)", name, v)}
			}
			return req, &KeyError{Key: name, Code: schema.CodeUnknownField, Message: fmt.Sprintf("unknown key %q", name)}
		}
		if err != nil {
			return req, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return req, err
	}
	switch _, err := dec.ReadToken(); {
	case errors.Is(err, io.EOF):
		return req, nil
	case err != nil:
		return req, err
	}
	return req, errTwoValues
}

// decodeRecords reads the customers array, each record as the bytes of body
// it is written in; null is no array.
func decodeRecords(dec *jsontext.Decoder, body []byte) ([]json.RawMessage, error) {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return nil, err
	case '[':
	default:
		return nil, &KeyError{Key: "customers", Code: schema.CodeInvalidValue, Message: "customers must be a JSON array"}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		out = append(out, json.RawMessage(body[end-len(v):end:end]))
	}
	_, err := dec.ReadToken()
	return out, err
}

// readImport reads and checks an import request's envelope, and resolves its
// connection.
func (s *Server) readImport(c *gin.Context, body []byte) (*ImportRequest, []schema.Customer, *gateway.Connection, bool) {
	req, decoded, err := DecodeImport(body)
	if err != nil {
		fail(c, notJSON("the body", err))
		return nil, nil, nil, false
	}
	if req.Connection == "" {
		req.Connection = c.Query("connection")
	}
	conn, ok := s.Connection(c, req.Connection)
	if !ok {
		return nil, nil, nil, false
	}
	switch {
	case req.Customers == nil:
		fail(c, errNoCustomers)
		return nil, nil, nil, false
	case len(req.Customers) == 0:
		fail(c, errEmptyCustomers)
		return nil, nil, nil, false
	case len(req.Customers) > s.opts.MaxRecords:
		fail(c, refuse(kindInvalid, fmt.Sprintf("%d records is more than the limit of %d per request", len(req.Customers), s.opts.MaxRecords),
			issue(schema.CodeBatchTooLarge, "customers", fmt.Sprintf("at most %d records per request", s.opts.MaxRecords))))
		return nil, nil, nil, false
	}
	return &req, decoded, conn, true
}

// Refusals of a request's customers, for /v1/customers and /v1/imports alike.
var (
	errNoCustomers    = refuse(kindInvalid, "customers is required", issue(schema.CodeRequired, "customers", "an array of canonical customers is required"))
	errEmptyCustomers = refuse(kindInvalid, "customers is empty", issue(schema.CodeRequired, "customers", "at least one customer is required"))
)

// modeRefusal refuses an import mode that is not merge, replace or
// keep_existing.
func modeRefusal(mode string) error {
	return refuse(kindInvalid, "mode must be merge, replace or keep_existing",
		issue(schema.CodeInvalidOption, "mode", "mode must be merge, replace or keep_existing, not "+quote(mode)))
}

func (s *Server) importCustomers(c *gin.Context)   { s.runImport(c, gateway.KindImport, false) }
func (s *Server) validateCustomers(c *gin.Context) { s.runImport(c, gateway.KindImport, true) }
func (s *Server) importPool(c *gin.Context)        { s.runImport(c, "", false) }

func (s *Server) runImport(c *gin.Context, kind string, validateOnly bool) {
	body, ok := s.readBody(c)
	if !ok {
		return
	}
	var journal gateway.Journal
	if !validateOnly {
		done, j, ok := s.idempotent(c, body)
		if !ok {
			return
		}
		defer done()
		journal = j
	}
	req, decoded, conn, ok := s.readImport(c, body)
	if !ok {
		return
	}
	op := gateway.Op{Kind: kind, Mode: req.Mode, Strict: req.Strict, StrictOwner: req.StrictOwner}
	if kind == gateway.KindImport {
		if op.Mode == "" {
			op.Mode = gateway.ModeMerge
		}
	} else {
		switch req.Mode {
		case "replace":
			op.Kind = gateway.KindPoolReplace
		case "append":
			op.Kind = gateway.KindPoolAppend
		default:
			fail(c, refuse(kindInvalid, "mode must be replace or append",
				issue(schema.CodeInvalidOption, "mode", "an import-pool mode is replace (the agent's pool becomes the batch) or append, not "+quote(req.Mode))))
			return
		}
	}
	// The gate is the import service's (Import asks it again, cheaply). An
	// unknown mode is refused before the region is looked at, what the
	// connection cannot do after it, as they always were.
	opErr := gateway.CheckOp(conn, op)
	if errors.Is(opErr, gateway.ErrUnknownMode) {
		fail(c, modeRefusal(req.Mode))
		return
	}
	region, err := schema.ParseRegion(req.DefaultRegion)
	if err != nil {
		fail(c, err)
		return
	}
	if opErr != nil {
		fail(c, opErr)
		return
	}
	in := gateway.Request{Op: op, Customers: req.Customers, AllOrNothing: req.AllOrNothing, ValidateOnly: validateOnly, Journal: journal, DefaultRegion: region}
	if decoded != nil {
		in.Input, in.Decoded = gateway.InputDecoded, decoded
	}
	ans, err := s.service.Import(c.Request.Context(), conn, in)
	if err != nil {
		fail(c, err)
		return
	}
	ans.RequestID = requestID(c)
	s.metrics.records(conn, ans)
	c.Header("Server-Timing", serverTiming(ans.Timing, c))
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	// Sized for the usual result (about a hundred bytes) so that a large
	// answer is not grown by doubling.
	out, err := ans.AppendJSON(slices.Grow((*buf)[:0], 256+128*len(ans.Results)))
	if err != nil {
		fail(c, err)
		return
	}
	if cap(out) <= maxPooledAnswer {
		*buf = out
	}
	if !validateOnly {
		// Kept before the first byte of the answer goes out, so that a
		// caller holding its answer finds the request looked up. The store
		// keeps its own copy of the answer's bytes.
		setJSONType(c.Writer.Header())
		s.keepHistory(c, conn, req, decoded, ans, out)
	}
	writeJSON(c, http.StatusOK, out)
	if !validateOnly {
		s.logImport(c, conn, op, ans) // after the answer went out
	}
}

// answerBuffers are the buffers import answers are written in
// (answer.Answer.AppendJSON), reused from one request to the next; one
// grown past maxPooledAnswer (the answer of some 8 000 records) is left to
// the garbage collector.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledAnswer = 1 << 20

// jsonContentType is the Content-Type of a JSON answer, as gin's c.JSON
// writes it.
var jsonContentType = []string{"application/json; charset=utf-8"}

// writeJSON answers code with body, JSON written beforehand, as gin's c.JSON
// would have answered with the value body encodes (its Content-Type unless
// one was set), and with its length, so that the caller holds the whole
// answer in one read.
//
// What the answer promises is kept before writeJSON is called: runImport
// stores the import's history first, and the answer of a request with an
// Idempotency-Key is held by its recorder until the key's answer is stored
// (idempotent). A caller holding its answer can only retry into its replay,
// and finds its request looked up.
//
// The answer is complete once written, so it goes out at once (flushed):
// the caller does not wait for what the handler does after it (the import's
// log line) nor for the middlewares on the way out. An answer held for its
// Idempotency-Key stays held: the recorder's Flush does nothing.
func writeJSON(c *gin.Context, code int, body []byte) {
	h := c.Writer.Header()
	setJSONType(h)
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	c.Status(code)
	_, _ = c.Writer.Write(body)
	c.Writer.Flush()
}

// setJSONType sets the Content-Type of a JSON answer unless one was set.
func setJSONType(h http.Header) {
	if len(h["Content-Type"]) == 0 {
		h["Content-Type"] = jsonContentType
	}
}

// logImport writes the one line of a processed import: its connection,
// counts, the provider's trace ids (what its support asks for) and how
// long it took. Like logRequests, it is built of typed attributes (logLine),
// and not at all when info is not logged.
func (s *Server) logImport(c *gin.Context, conn *gateway.Connection, op gateway.Op, ans *answer.Answer) {
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	traces := make([]string, 0, len(ans.ProviderCalls))
	for _, pc := range ans.ProviderCalls {
		if pc.TraceID != "" {
			traces = append(traces, pc.TraceID)
		}
	}
	s.logLine(ctx, slog.LevelInfo, "import", slog.String("request_id", ans.RequestID), slog.String("connection", conn.ID),
		slog.String("provider", conn.Common.Provider), slog.String("kind", op.Kind),
		slog.Int("total", ans.Total), slog.Int("succeeded", ans.Succeeded), slog.Int("failed", ans.Failed), slog.Int("unknown", ans.Unknown),
		slog.Int("provider_calls", len(ans.ProviderCalls)), slog.Any("trace_ids", traces),
		slog.Int64("duration_ms", sinceStart(c).Milliseconds()))
}

func serverTiming(t answer.Timing, c *gin.Context) string {
	var b [96]byte
	out := appendTiming(b[:0], "validation", t.Validation)
	out = appendTiming(append(out, ", "...), "upstream", t.Upstream)
	out = appendTiming(append(out, ", "...), "total", sinceStart(c))
	return string(out)
}

// CustomerPage is the answer of GET /v1/customers.
type CustomerPage struct {
	Connection string            `json:"connection"`
	Agent      string            `json:"agent"`
	Customers  []gateway.Contact `json:"customers"`
	NextCursor string            `json:"next_cursor,omitempty"`
} //	@name	CustomerPage

const (
	defaultPage = 100
	maxPage     = 1000
)

func (s *Server) listCustomers(c *gin.Context) {
	conn, ok := s.Connection(c, c.Query("connection"))
	if !ok {
		return
	}
	q, ok := conn.Provider.(gateway.Querier)
	if !ok {
		fail(c, refuse(kindUnsupported, "capability query: this "+conn.Common.Provider+" connection cannot list contacts"))
		return
	}
	agent := c.Query("agent")
	if agent == "" {
		fail(c, refuse(kindInvalid, "agent is required", issue(schema.CodeRequired, "agent", "the agent's id (WhatsApp id of the agent account) is required")))
		return
	}
	limit, err := pageLimit(c, defaultPage, maxPage)
	if err != nil {
		fail(c, err)
		return
	}
	offset := 0
	if cur := c.Query("cursor"); cur != "" {
		n, err := decodeCursor(cur)
		if err != nil {
			fail(c, errBadCursor)
			return
		}
		offset = n
	}
	list, report, err := q.Query(c.Request.Context(), agent, conn.Rules())
	if err != nil {
		s.log.Warn("query failed", "request_id", requestID(c), "connection", conn.ID, "err", err.Error(), "trace_id", report.TraceID)
		fail(c, providerFailed("the provider's contact query failed", err))
		return
	}
	page := CustomerPage{Connection: conn.ID, Agent: agent, Customers: []gateway.Contact{}}
	if offset < len(list) {
		end := min(offset+limit, len(list))
		page.Customers = list[offset:end]
		if end < len(list) {
			page.NextCursor = encodeCursor(end)
		}
	}
	c.JSON(http.StatusOK, page)
}

// pageLimit reads the query's limit: def when absent, a refusal when it is
// not a whole number from 1 to max.
func pageLimit(c *gin.Context, def, max int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, refuse(kindInvalid, fmt.Sprintf("limit must be 1 to %d", max),
			issue(schema.CodeInvalidValue, "limit", fmt.Sprintf("limit must be a whole number from 1 to %d", max)))
	}
	return n, nil
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	v, ok := strings.CutPrefix(string(b), "o:")
	if !ok {
		return 0, errors.New("bad cursor")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errors.New("bad cursor")
	}
	return n, nil
}

// ConnectionInfo is one entry of GET /v1/connections.
type ConnectionInfo struct {
	ID           string               `json:"id"`
	Provider     string               `json:"provider"`
	Capabilities gateway.Capabilities `json:"capabilities"`
	// The circuit breaker of this gateway instance for the connection.
	Circuit gateway.Circuit `json:"circuit"`
} //	@name	ConnectionInfo

// ConnectionList is the answer of GET /v1/connections.
type ConnectionList struct {
	// The connections the token is allowed, in configuration order.
	Connections []ConnectionInfo `json:"connections"`
} //	@name	ConnectionList

func (s *Server) listConnections(c *gin.Context) {
	p := principal(c)
	out := []ConnectionInfo{}
	for _, conn := range s.order {
		if p.Allowed(conn.ID) {
			out = append(out, ConnectionInfo{ID: conn.ID, Provider: conn.Common.Provider, Capabilities: conn.Capabilities(),
				Circuit: conn.Breaker.Circuit()})
		}
	}
	c.JSON(http.StatusOK, ConnectionList{Connections: out})
}

// SandboxAccepted is the answer of POST /v1/sandbox/{connection}/changes:
// the simulator sent its webhook and the gateway accepted it.
type SandboxAccepted struct {
	Connection string `json:"connection" example:"sandbox-wscrm"`
	// Always sent.
	Status string `json:"status" enums:"sent" example:"sent"`
} //	@name	SandboxAccepted

func (s *Server) sandboxChange(c *gin.Context) {
	conn, ok := s.Connection(c, c.Param("connection"))
	if !ok {
		return
	}
	sim, ok := s.opts.Changes[conn.ID]
	if !ok {
		fail(c, refuse(kindUnsupported, "this sandbox connection's simulator sends no webhooks"))
		return
	}
	var body json.RawMessage
	if !s.readJSON(c, &body) {
		return
	}
	if err := sim.SimulateChange(c.Request.Context(), body, conn.Rules()); err != nil {
		fail(c, simulatorFailed(err))
		return
	}
	c.JSON(http.StatusAccepted, SandboxAccepted{Connection: conn.ID, Status: "sent"})
}
