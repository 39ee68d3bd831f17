package wscrmsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"crmgate/fieldconfig"
	"crmgate/providers/internal/wirejson"
)

// Config configures a Simulator: the tenant it serves, the token it
// requires, its agents and its backend's field settings.
type Config struct {
	// TenantID is the only company id accepted.
	TenantID int64
	// Token, when not empty, must arrive in header "token" (else code -1
	// "token error").
	Token string
	// Agents are the backend's agent accounts with their WhatsApp ids (the
	// query's whatsId).
	Agents []Agent
	// Fields are the backend's customer settings records are checked
	// against, in a connection's field-configuration terms: required fields
	// (canonical names, or extension fields by name), stages and sources
	// (with their integer ids), languages and extension fields. Tags are not
	// checked.
	Fields fieldconfig.Config
	// Delay is waited before each answer (0: none).
	Delay time.Duration
}

// Agent is one agent account of the backend.
type Agent struct {
	Account string // agentAccount
	WhatsID string // the agent's WhatsApp id
}

// Call is one request the simulator received.
type Call struct {
	Path   string
	Header http.Header
	Body   []byte
}

// maxRequestBytes bounds what the simulator reads of a request: 10 000
// records of a few KiB.
const maxRequestBytes = 64 << 20

// FailMode is how FailNext makes calls fail.
type FailMode int

// Failure modes.
const (
	FailHTTP503 FailMode = iota + 1 // HTTP 503 with a plain-text body
	FailCode500                     // HTTP 200 with top-level code 500
)

// Simulator is an in-memory WSCRM that follows the provider document: the
// three import endpoints and the friend-contact query, with the document's
// codes and answer shapes. State: one tenant's customers by WhatsApp number,
// each owned by the agent that last imported it (batchImport upserts:
// non-empty fields are merged, tabName adds tags, cancelTabName removes them,
// removal first), and each agent's import pool (batchImportWhatsContact
// replaces the pools of the agents it carries, batchImportAppendV2 adds to
// them, the same number overwriting its entry). The query answers an agent's
// friend contacts: the customers it owns and its import pool. It is safe for
// concurrent use.
type Simulator struct {
	cfg       Config
	ext       map[string]*fieldconfig.CustomField // extension fields by record key
	stageIDs  map[string]*int64
	sourceIDs map[string]*int64
	languages map[string]bool
	required  []string // record keys of the basic fields the backend requires

	mu        sync.Mutex
	customers map[string]*contact            // by whatsApp
	pools     map[string]map[string]*contact // agent account → whatsApp → entry
	busy      map[string]bool
	failN     int
	failMode  FailMode
	delay     time.Duration
	calls     []Call
	seq       int64
}

// contact is one stored customer or import-pool entry, in record keys.
type contact struct {
	whatsApp string
	agent    string
	fields   map[string]any // basic and extension keys, without agentAccount, whatsApp, tabName, cancelTabName
	tags     []string
	seq      int64 // creation order, for stable query answers
}

// New returns a simulator with empty state. The field settings are used as
// given (they are not validated): options without an id have no id in query
// answers, and a required name that is neither a basic field nor an
// extension field is not checked.
func New(cfg Config) *Simulator {
	s := &Simulator{
		cfg:       cfg,
		ext:       map[string]*fieldconfig.CustomField{},
		stageIDs:  map[string]*int64{},
		sourceIDs: map[string]*int64{},
		languages: map[string]bool{},
		customers: map[string]*contact{},
		pools:     map[string]map[string]*contact{},
		busy:      map[string]bool{},
		delay:     cfg.Delay,
	}
	for i := range cfg.Fields.CustomFields {
		f := cfg.Fields.CustomFields[i]
		s.ext[f.Key()] = &f
	}
	for _, o := range cfg.Fields.Stages {
		s.stageIDs[o.Label] = o.ID
	}
	for _, o := range cfg.Fields.Sources {
		s.sourceIDs[o.Label] = o.ID
	}
	for _, o := range cfg.Fields.Languages {
		s.languages[o.Label] = true
	}
	for _, r := range cfg.Fields.Required {
		if f, ok := basicFieldOf(r); ok {
			s.required = append(s.required, f.key)
			continue
		}
		for _, f := range s.ext {
			if f.Name == r {
				f.Required = true
			}
		}
	}
	return s
}

// SetBusy makes every record with this WhatsApp number fail with code 56
// ("friendWhatsId data is processing").
func (s *Simulator) SetBusy(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy[phone] = true
}

// FailNext makes the next n calls fail as mode says, without looking at them
// or changing any state (they are still listed by Calls). n ≤ 0 clears it.
func (s *Simulator) FailNext(n int, mode FailMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failMode = max(n, 0), mode
}

// SetDelay sets the time waited before each answer (0: none). A request whose
// context ends while waiting gets no answer.
func (s *Simulator) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls returns copies of the requests received so far, in arrival order.
func (s *Simulator) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = Call{Path: c.Path, Header: c.Header.Clone(), Body: bytes.Clone(c.Body)}
	}
	return out
}

// Pool returns the WhatsApp numbers in an agent's import pool, sorted.
func (s *Simulator) Pool(agent string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.pools[agent]))
	for p := range s.pools[agent] {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP answers POST requests on the four documented paths; any other
// method is 405 and any other path 404.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	delay := s.delay
	fail := FailMode(0)
	if s.failN > 0 {
		s.failN--
		fail = s.failMode
	}
	s.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	switch fail {
	case FailHTTP503:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	case FailCode500:
		writeJSON(w, refusal(CodeServerError, "Server error"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case PathBatchImport, PathPoolReplace, PathPoolAppend, PathQuery:
	default:
		http.NotFound(w, r)
		return
	}
	if s.cfg.Token != "" && r.Header.Get(headerToken) != s.cfg.Token {
		writeJSON(w, refusal(CodeParamError, "token error"))
		return
	}
	if r.URL.Path == PathQuery {
		writeJSON(w, s.query(body))
		return
	}
	writeJSON(w, s.importBatch(r.URL.Path, body))
}

// wholeCall is a whole-call answer: a refusal, message in both of the
// document's spellings (msg in its field tables, message in its examples),
// data null.
type wholeCall struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Msg     string `json:"msg"`
	Data    any    `json:"data"`
}

func refusal(code int, msg string) wholeCall { return wholeCall{Code: code, Message: msg, Msg: msg} }

// importAnswer is an import answer, in the document's shape.
type importAnswer struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    importData `json:"data"`
}

type importData struct {
	SuccessExcel           []any      `json:"successExcel"`
	ErrExcel               []errExcel `json:"errExcel"`
	SuccessCount           int        `json:"successCount"`
	ErrCount               int        `json:"errCount"`
	NotFollowSuccessCount  string     `json:"notFollowSuccessCount"`
	NotFollowSuccessExcels []any      `json:"notFollowSuccessExcels"`
}

type errExcel struct {
	ErrPhone string `json:"errPhone"`
	ErrInfo  string `json:"errInfo"`
	ErrCode  int    `json:"errCode"`
}

// tenantOK checks a body's tenantId: absent or 0 is "TenantId Is Null",
// another tenant's "token error".
func (s *Simulator) tenantOK(tenant wirejson.Text) (wholeCall, bool) {
	n, ok := tenant.Int64()
	switch {
	case !ok || n == 0:
		return refusal(CodeParamError, "TenantId Is Null"), false
	case n != s.cfg.TenantID:
		return refusal(CodeParamError, "token error"), false
	}
	return wholeCall{}, true
}

// importBatch serves the three import endpoints.
func (s *Simulator) importBatch(path string, body []byte) any {
	var req struct {
		TenantID wirejson.Text    `json:"tenantId"`
		Data     []map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return refusal(CodeParamError, "Data Is Null")
	}
	if e, ok := s.tenantOK(req.TenantID); !ok {
		return e
	}
	if len(req.Data) == 0 {
		return refusal(CodeParamError, "Data Is Null")
	}
	if len(req.Data) > MaxRecords {
		return refusal(CodeTooManyRecords, "Exceeded 10,000 record limit")
	}
	pool := path != PathBatchImport
	s.mu.Lock()
	defer s.mu.Unlock()
	ans := importAnswer{Code: CodeOK, Message: "Success", Data: importData{
		SuccessExcel: []any{}, ErrExcel: []errExcel{}, NotFollowSuccessExcels: []any{},
	}}
	var ok []map[string]any
	for _, rec := range req.Data {
		if e := s.checkRecord(rec, pool); e != nil {
			ans.Data.ErrExcel = append(ans.Data.ErrExcel, *e)
			continue
		}
		ok = append(ok, rec)
	}
	ans.Data.SuccessCount, ans.Data.ErrCount = len(ok), len(ans.Data.ErrExcel)
	switch path {
	case PathBatchImport:
		for _, rec := range ok {
			s.upsert(rec)
		}
	case PathPoolReplace:
		replaced := map[string]bool{}
		for _, rec := range ok {
			agent := text(rec[keyAgentAccount])
			if !replaced[agent] {
				replaced[agent] = true
				s.pools[agent] = map[string]*contact{}
			}
			s.poolPut(agent, rec, true)
		}
	case PathPoolAppend:
		for _, rec := range ok {
			agent := text(rec[keyAgentAccount])
			if s.pools[agent] == nil {
				s.pools[agent] = map[string]*contact{}
			}
			s.poolPut(agent, rec, false)
		}
	}
	return ans
}

// writeJSON writes v as an HTTP 200 JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := wirejson.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// text reads a decoded record value as text, trimmed.
func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	}
	b, _ := json.Marshal(v)
	return strings.TrimSpace(string(b))
}
