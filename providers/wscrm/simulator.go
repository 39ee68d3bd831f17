package wscrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"crmgate/fieldconfig"
)

// SimConfig configures a Simulator: the tenant it serves, the token it
// requires, its agents and its backend's field configuration.
type SimConfig struct {
	// TenantID is the only company id accepted.
	TenantID int64
	// Token, when not empty, must arrive in header "token" (else code -1
	// "token error").
	Token string
	// Agents maps agent accounts (agentAccount) to their WhatsApp ids (the
	// query's whatsId).
	Agents []Agent
	// Fields is the backend configuration records are checked against:
	// required fields, stages and sources (with their integer ids), languages
	// and extension fields. Tags are not checked.
	Fields fieldconfig.Config
	// Delay is waited before each answer (0: none).
	Delay time.Duration
}

// SimCall is one request the simulator received.
type SimCall struct {
	Path   string
	Header http.Header
	Body   []byte
}

// maxSimRequestBytes bounds what the simulator reads of a request: 10 000
// records of a few KiB.
const maxSimRequestBytes = 64 << 20

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
// each owned by the agent that last imported it (batchImport upserts: non-empty
// fields are merged, tabName adds tags, cancelTabName removes them, removal
// first), and each agent's import pool (batchImportWhatsContact replaces the
// pools of the agents it carries, batchImportAppendV2 adds to them, the same
// number overwriting its entry). The query answers an agent's friend
// contacts: the customers it owns and its import pool. It is safe for
// concurrent use.
type Simulator struct {
	cfg       SimConfig
	fields    map[string]*fieldconfig.CustomField // by wire key
	stageIDs  map[string]*int64
	sourceIDs map[string]*int64
	languages map[string]bool
	required  []string // wire keys of the basic fields the backend requires

	mu        sync.Mutex
	customers map[string]*simContact            // by whatsApp
	pools     map[string]map[string]*simContact // agent account → whatsApp → entry
	busy      map[string]bool
	failN     int
	failMode  FailMode
	delay     time.Duration
	calls     []SimCall
	seq       int64
}

// simContact is one stored customer or import-pool entry, in wire keys.
type simContact struct {
	whatsApp string
	agent    string
	fields   map[string]any // basic and extension keys, without agentAccount, whatsApp, tabName, cancelTabName
	tags     []string
	seq      int64 // creation order, for stable query answers
}

// canonicalToWire maps the canonical names a backend can require to the wire
// key checked; canonical fields WSCRM does not have are not checked.
var canonicalToWire = map[string]string{
	"name": wireFriendName, "whatsapp": wireWhatsApp, "owner": wireAgentAccount, "gender": wireSex,
	"birthday": wireBirthday, "email": wireEmail, "address": wireAddress, "profession": wireProfession,
	"income": wireIncome, "remarks": wireDesc, "tags": wireTabName, "stage": wireStage,
	"source": wireSource, "language": wireLanguageTag, "welcome_message": wireWelcome,
}

// NewSimulator returns a simulator with empty state. The field configuration
// is used as given (it is not validated): options without an id have no id
// in query answers.
func NewSimulator(cfg SimConfig) *Simulator {
	s := &Simulator{
		cfg:       cfg,
		fields:    map[string]*fieldconfig.CustomField{},
		stageIDs:  map[string]*int64{},
		sourceIDs: map[string]*int64{},
		languages: map[string]bool{},
		customers: map[string]*simContact{},
		pools:     map[string]map[string]*simContact{},
		busy:      map[string]bool{},
		delay:     cfg.Delay,
	}
	for i := range cfg.Fields.CustomFields {
		f := cfg.Fields.CustomFields[i]
		s.fields[f.Key()] = &f
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
		if k, ok := canonicalToWire[r]; ok {
			s.required = append(s.required, k)
		} else if f, ok := s.fieldByName(r); ok {
			f.Required = true
		}
	}
	return s
}

func (s *Simulator) fieldByName(name string) (*fieldconfig.CustomField, bool) {
	for _, f := range s.fields {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
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
func (s *Simulator) Calls() []SimCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimCall, len(s.calls))
	for i, c := range s.calls {
		out[i] = SimCall{Path: c.Path, Header: c.Header.Clone(), Body: bytes.Clone(c.Body)}
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSimRequestBytes))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, SimCall{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
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
		writeSimJSON(w, simError{Code: CodeServerError, Message: "Server error", Msg: "Server error"})
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
		writeSimJSON(w, simFail(CodeParamError, "token error"))
		return
	}
	if r.URL.Path == PathQuery {
		writeSimJSON(w, s.query(body))
		return
	}
	writeSimJSON(w, s.importBatch(r.URL.Path, body))
}

// simError is a whole-call error answer.
type simError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Msg     string `json:"msg"`
	Data    any    `json:"data"`
}

func simFail(code int, msg string) simError { return simError{Code: code, Message: msg, Msg: msg} }

// simImportAnswer is an import answer, in the document's shape.
type simImportAnswer struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Data    simImportData `json:"data"`
}

type simImportData struct {
	SuccessExcel           []any         `json:"successExcel"`
	ErrExcel               []simErrExcel `json:"errExcel"`
	SuccessCount           int           `json:"successCount"`
	ErrCount               int           `json:"errCount"`
	NotFollowSuccessCount  string        `json:"notFollowSuccessCount"`
	NotFollowSuccessExcels []any         `json:"notFollowSuccessExcels"`
}

type simErrExcel struct {
	ErrPhone string `json:"errPhone"`
	ErrInfo  string `json:"errInfo"`
	ErrCode  int    `json:"errCode"`
}

// tenantOK checks a body's tenantId: absent or 0 is "TenantId Is Null",
// another tenant's "token error".
func (s *Simulator) tenantOK(raw json.RawMessage) (simError, bool) {
	n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(string(raw)), `"`), 10, 64)
	switch {
	case err != nil || n == 0:
		return simFail(CodeParamError, "TenantId Is Null"), false
	case n != s.cfg.TenantID:
		return simFail(CodeParamError, "token error"), false
	}
	return simError{}, true
}

// importBatch serves the three import endpoints.
func (s *Simulator) importBatch(path string, body []byte) any {
	var req struct {
		TenantID json.RawMessage  `json:"tenantId"`
		Data     []map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return simFail(CodeParamError, "Data Is Null")
	}
	if e, ok := s.tenantOK(req.TenantID); !ok {
		return e
	}
	if len(req.Data) == 0 {
		return simFail(CodeParamError, "Data Is Null")
	}
	if len(req.Data) > MaxRecordsPerCall {
		return simFail(CodeTooManyRecords, "Exceeded 10,000 record limit")
	}
	pool := path != PathBatchImport
	s.mu.Lock()
	defer s.mu.Unlock()
	ans := simImportAnswer{Code: CodeOK, Message: "Success", Data: simImportData{
		SuccessExcel: []any{}, ErrExcel: []simErrExcel{}, NotFollowSuccessExcels: []any{},
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
			agent := simStr(rec[wireAgentAccount])
			if !replaced[agent] {
				replaced[agent] = true
				s.pools[agent] = map[string]*simContact{}
			}
			s.poolPut(agent, rec, true)
		}
	case PathPoolAppend:
		for _, rec := range ok {
			agent := simStr(rec[wireAgentAccount])
			if s.pools[agent] == nil {
				s.pools[agent] = map[string]*simContact{}
			}
			s.poolPut(agent, rec, false)
		}
	}
	return ans
}

// simStr reads a wire value as text.
func simStr(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// splitTags splits a comma-joined tag list, dropping empty items.
func splitTags(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkRecord applies the document's per-record checks; the first failure is
// the record's errExcel entry. pool selects the import-pool form of
// single-select values.
func (s *Simulator) checkRecord(rec map[string]any, pool bool) *simErrExcel {
	phone := simStr(rec[wireWhatsApp])
	fail := func(code int, info string) *simErrExcel {
		return &simErrExcel{ErrPhone: phone, ErrInfo: info, ErrCode: code}
	}
	if simStr(rec[wireAgentAccount]) == "" {
		return fail(CodeRequiredMissing, "Required field validation failed: agentAccount")
	}
	if phone == "" {
		return fail(CodePhoneEmpty, "Phone number is empty")
	}
	for _, r := range phone {
		if r < '0' || r > '9' {
			return fail(CodePhoneInvalid, "PHONE_ERROR")
		}
	}
	if s.busy[phone] {
		return fail(CodeBusy, "friendWhatsId data is processing")
	}
	if v := simStr(rec[wireSex]); v != "" && v != "male" && v != "female" && v != "unknown" {
		return fail(CodeInvalidGender, "Gender field sex format is invalid")
	}
	if v := simStr(rec[wireBirthday]); v != "" {
		if _, err := time.Parse(layoutBirthday, v); err != nil {
			return fail(CodeDateFormat, "birthday field type format error")
		}
	}
	if v := simStr(rec[wireStage]); v != "" && len(s.stageIDs) > 0 {
		if _, ok := s.stageIDs[v]; !ok {
			return fail(CodeStageMissing, "Stage field value does not exist")
		}
	}
	if v := simStr(rec[wireSource]); v != "" && len(s.sourceIDs) > 0 {
		if _, ok := s.sourceIDs[v]; !ok {
			return fail(CodeSourceMissing, "Source field value does not exist")
		}
	}
	if v := simStr(rec[wireLanguageTag]); v != "" && len(s.languages) > 0 && !s.languages[v] {
		return fail(CodeLanguageMissing, "Customer language value does not exist")
	}
	for _, k := range s.required {
		if simStr(rec[k]) == "" {
			return fail(CodeRequiredMissing, "Required field validation failed: "+k)
		}
	}
	keys := make([]string, 0, len(s.fields))
	for k := range s.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := s.fields[k]
		v, present := rec[k]
		text := simStr(v)
		if !present || text == "" {
			if f.Required {
				return fail(CodeRequiredMissing, "Required field validation failed: "+k)
			}
			continue
		}
		if code, info := simCheckExtension(f, v, text, pool); code != 0 {
			return fail(code, info)
		}
	}
	return nil
}

// simCheckExtension checks one extension-field value; 0 means it passes.
func simCheckExtension(f *fieldconfig.CustomField, v any, text string, pool bool) (int, string) {
	switch f.Type {
	case fieldconfig.TypeNumber:
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return CodeExtNumber, "Extension field - number type format error: " + f.Key()
		}
	case fieldconfig.TypeDate:
		layouts := []string{layoutDay, layoutBirthday}
		if f.Format != "" {
			layouts = []string{f.Format}
		}
		ok := false
		for _, l := range layouts {
			if _, err := time.Parse(l, text); err == nil {
				ok = true
			}
		}
		if !ok {
			return CodeDateFormat, "Extension field - date type format error: " + f.Key()
		}
	case fieldconfig.TypeTime:
		if _, err := time.Parse("15:04:05", text); err != nil || len(text) != 8 {
			return CodeExtTime, "Extension field - time type format error: " + f.Key()
		}
	case fieldconfig.TypeSingleSelect:
		opt := text
		if pool {
			var one []string
			if err := json.Unmarshal([]byte(text), &one); err != nil || len(one) != 1 {
				return CodeExtSingleSelect, "Extension field - single-select type format error: " + f.Key()
			}
			opt = one[0]
		}
		if !slices.Contains(f.Options, opt) {
			return CodeExtSingleSelect, "Extension field - single-select type format error: " + f.Key()
		}
	case fieldconfig.TypeMultiSelect:
		for _, o := range strings.Split(text, ",") {
			if !slices.Contains(f.Options, strings.TrimSpace(o)) {
				return CodeExtMultiSelect, "Extension field - multi-select type format error: " + f.Key()
			}
		}
	case fieldconfig.TypeAttachment:
		urls := strings.Split(text, ",")
		if len(urls) > fieldconfig.MaxAttachments {
			return CodeAttachmentTooMany, "Extension field - attachment url too long: " + f.Key()
		}
		for _, u := range urls {
			p, err := url.Parse(strings.TrimSpace(u))
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return CodeAttachmentBadURL, "Extension field - invalid attachment URL: " + f.Key()
			}
		}
	}
	if _, isString := v.(string); isString && f.MaxLength > 0 && utf8.RuneCountInString(text) > f.MaxLength {
		return CodeExtTooLong, "Extension field content exceeds length: " + f.Key()
	}
	return 0, ""
}

// upsert merges one valid batchImport record into the customers. Call with
// s.mu held.
func (s *Simulator) upsert(rec map[string]any) {
	phone := simStr(rec[wireWhatsApp])
	c := s.customers[phone]
	if c == nil {
		s.seq++
		c = &simContact{whatsApp: phone, fields: map[string]any{}, seq: s.seq}
		s.customers[phone] = c
	}
	c.agent = simStr(rec[wireAgentAccount])
	for k, v := range rec {
		switch k {
		case wireAgentAccount, wireWhatsApp, wireTabName, wireCancelTabName:
			continue
		}
		if simStr(v) != "" {
			c.fields[k] = v
		}
	}
	c.tags = applyTags(c.tags, splitTags(simStr(rec[wireTabName])), splitTags(simStr(rec[wireCancelTabName])))
}

// applyTags removes cancel from tags, then adds add (no duplicates).
func applyTags(tags, add, cancel []string) []string {
	var out []string
	for _, t := range tags {
		if !slices.Contains(cancel, t) {
			out = append(out, t)
		}
	}
	for _, t := range add {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// poolPut stores one valid record in an agent's pool, overwriting the entry
// of the same number. cancelTabName is honoured only by the replace endpoint.
// Call with s.mu held.
func (s *Simulator) poolPut(agent string, rec map[string]any, cancel bool) {
	phone := simStr(rec[wireWhatsApp])
	s.seq++
	e := &simContact{whatsApp: phone, agent: agent, fields: map[string]any{}, seq: s.seq}
	if old := s.pools[agent][phone]; old != nil {
		e.seq = old.seq
	}
	for k, v := range rec {
		switch k {
		case wireAgentAccount, wireWhatsApp, wireTabName, wireCancelTabName:
			continue
		}
		if simStr(v) != "" {
			e.fields[k] = v
		}
	}
	var removed []string
	if cancel {
		removed = splitTags(simStr(rec[wireCancelTabName]))
	}
	e.tags = applyTags(nil, splitTags(simStr(rec[wireTabName])), removed)
	s.pools[agent][phone] = e
}

// simQueryAnswer is the query answer, in the document's shape.
type simQueryAnswer struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    []simQueryItem `json:"data"`
}

// simQueryItem is one friend contact, fields in the document's order.
type simQueryItem struct {
	WhatsID       string         `json:"whatsId"`
	Name          string         `json:"name"`
	Sex           *string        `json:"sex"`
	Email         string         `json:"email"`
	Birthday      *string        `json:"birthday"`
	Address       string         `json:"address"`
	Profession    string         `json:"profession"`
	Income        string         `json:"income"`
	Desc          string         `json:"desc"`
	Country       *string        `json:"country"`
	Stage         *int64         `json:"stage"`
	Source        *int64         `json:"source"`
	TabList       []string       `json:"tabList"`
	FirstChatTime *string        `json:"firstChatTime"`
	LastChatTime  *string        `json:"lastChatTime"`
	ExtendMap     map[string]any `json:"extendMap"`
}

// query serves open/customer/query. An unknown whatsId has no contacts.
func (s *Simulator) query(body []byte) any {
	var req struct {
		TenantID json.RawMessage `json:"tenantId"`
		WhatsID  flexString      `json:"whatsId"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return simFail(CodeParamError, "parameter error")
	}
	if e, ok := s.tenantOK(req.TenantID); !ok {
		return e
	}
	whatsID := strings.TrimSpace(string(req.WhatsID))
	if whatsID == "" {
		return simFail(CodeParamError, "whatsId Is Null")
	}
	account := ""
	for _, a := range s.cfg.Agents {
		if a.WhatsID == whatsID {
			account = a.Account
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	merged := map[string]*simContact{}
	if account != "" {
		for _, c := range s.customers {
			if c.agent == account {
				merged[c.whatsApp] = c
			}
		}
		for phone, e := range s.pools[account] {
			c, ok := merged[phone]
			if !ok {
				merged[phone] = e
				continue
			}
			both := &simContact{whatsApp: phone, agent: account, fields: map[string]any{}, seq: min(c.seq, e.seq)}
			for k, v := range e.fields {
				both.fields[k] = v
			}
			for k, v := range c.fields {
				both.fields[k] = v
			}
			both.tags = applyTags(c.tags, e.tags, nil)
			merged[phone] = both
		}
	}
	list := make([]*simContact, 0, len(merged))
	for _, c := range merged {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	ans := simQueryAnswer{Code: CodeOK, Message: "Success", Data: make([]simQueryItem, 0, len(list))}
	for _, c := range list {
		ans.Data = append(ans.Data, s.queryItem(c))
	}
	return ans
}

// queryItem writes one contact as the query answers it: empty text as "",
// unknown sex, birthday, country, stage, source and tags as null, dates as
// yyyy/MM/dd, sex upper-case (MALE, FEMALE, UNKOWNN, as WSCRM's webhooks
// spell it), single-select values as the plain option.
func (s *Simulator) queryItem(c *simContact) simQueryItem {
	str := func(k string) string { return simStr(c.fields[k]) }
	it := simQueryItem{
		WhatsID:    c.whatsApp,
		Name:       str(wireFriendName),
		Email:      str(wireEmail),
		Address:    str(wireAddress),
		Profession: str(wireProfession),
		Income:     str(wireIncome),
		Desc:       str(wireDesc),
		Stage:      s.stageIDs[str(wireStage)],
		Source:     s.sourceIDs[str(wireSource)],
		TabList:    c.tags,
	}
	if sex := str(wireSex); sex != "" {
		up := strings.ToUpper(sex)
		if up == "UNKNOWN" {
			up = "UNKOWNN"
		}
		it.Sex = &up
	}
	if b := str(wireBirthday); b != "" {
		it.Birthday = &b
	}
	if num, err := phonenumbers.Parse("+"+c.whatsApp, ""); err == nil {
		if region := phonenumbers.GetRegionCodeForNumber(num); region != "" && region != "ZZ" {
			it.Country = &region
		}
	}
	for k, v := range c.fields {
		f := s.fields[k]
		if f == nil {
			continue
		}
		if it.ExtendMap == nil {
			it.ExtendMap = map[string]any{}
		}
		text := simStr(v)
		switch f.Type {
		case fieldconfig.TypeNumber:
			it.ExtendMap[k] = json.Number(text)
		case fieldconfig.TypeDate:
			layout := layoutDay
			if f.Format != "" {
				layout = f.Format
			}
			if t, err := time.Parse(layout, text); err == nil {
				text = t.Format(layoutBirthday)
			}
			it.ExtendMap[k] = text
		case fieldconfig.TypeSingleSelect:
			var one []string
			if strings.HasPrefix(text, "[") && json.Unmarshal([]byte(text), &one) == nil && len(one) == 1 {
				text = one[0]
			}
			it.ExtendMap[k] = text
		default:
			it.ExtendMap[k] = text
		}
	}
	return it
}

// writeSimJSON writes v as an HTTP 200 JSON answer.
func writeSimJSON(w http.ResponseWriter, v any) {
	b, err := marshalBody(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
