package nxlink

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FirstCustomerID is the customerId the Simulator gives its first customer
// (the document's example); later customers count up from it.
const FirstCustomerID int64 = 1214631327620775936

// MaxClockSkew is how far a call's ts may be from the server's clock.
const MaxClockSkew = 60 * time.Second

// defaultMaxCalls is how many requests Calls keeps unless told otherwise.
const defaultMaxCalls = 1000

// SimAccount is one NXLink account the Simulator knows.
type SimAccount struct {
	AccessKey    string
	AccessSecret string
	TenantID     int64
	AppKey       string
	// Seats are the account's seat users: the values of belong_seat_user
	// that exist.
	Seats []string
}

// SimConfig configures a Simulator.
type SimConfig struct {
	Accounts []SimAccount
	// Now is the server's clock for the ts check; nil means time.Now.
	Now func() time.Time
	// Delay is how long each call takes to be answered, counted from its
	// arrival, the simulator's own work included (0: at once). The call is
	// applied before the wait: a caller that gives up meanwhile loses only
	// the answer, as with the real provider.
	Delay time.Duration
	// MaxCalls is how many of the latest requests Calls keeps: 0 means
	// 1000, a negative value none.
	MaxCalls int
}

// SimCall is one request the Simulator received, as it arrived.
type SimCall struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// SimCustomer is one customer the Simulator stores.
type SimCustomer struct {
	TenantID int64
	ID       int64
	// Key identifies the customer within its tenant: "whats_app_phone:<digits>",
	// or the first non-empty channel as "<wire field>:<value>".
	Key string
	// Fields are the stored wire fields (numbers as json.Number).
	Fields map[string]any
}

// Simulator is an http.Handler that behaves as NXLink's batch create call, as
// the provider document describes it. It is safe for concurrent use; a call
// is applied to the state as a whole, one call at a time.
//
// It answers POST /saas/cdp/openapi/customers/batch_create only (other paths
// 404, other methods 405). Every refusal of the whole call is HTTP 200 with a
// non-zero top-level code and data null, as the provider answers:
//
//   - 10001 (SimCodeBadRequest): a required header (accessKey, ts, bizType,
//     action, sign) missing, bizType not "2", action not "mt", ts not a
//     number, an algorithm header other than md5 or sha256, a body that is
//     not the documented JSON, type not 0, 1 or 2;
//   - 10002 (SimCodeUnknownKey): accessKey is not a known account;
//   - 10003 (SimCodeClockSkew): ts more than 60 000 ms from the clock;
//   - 10004 (SimCodeBadSign): sign is not the md5 (or, with header
//     "algorithm: sha256", SHA-256) signature of the headers and raw body;
//   - 10005 (SimCodeTenantMismatch): tenant_id or app_key not the account's;
//   - 10006 (SimCodeTooManyRecords): customers empty or more than 100;
//   - 12148 (CodeSeatNotFound, the document's third example): with
//     strict_binding false, a non-empty belong_seat_user that is not a seat
//     of the account; nothing of the call is stored.
//
// Otherwise every customer is checked against the document's limits and
// lands in failItems with the first problem found, its message starting with
// the wire field: 13006 (SimCodeInvalidValue) a value of the wrong JSON type,
// gender not 0/1, weight not 1..5, customize_field not a JSON object string;
// 13001 (SimCodeNameRequired) full_name empty; 13003 (SimCodeInvalidPhone) a
// phone field (sms_phone, whats_app_phone, viber_phone, messenger, instagram,
// zalo) not digits only; 13004 (SimCodeTooLong) longer than the document
// allows; 13002 (SimCodeChannelRequired) every channel empty; 13005
// (SimCodeInvalidDate) birthday not yyyy-MM-dd; 12148 with strict_binding
// true, an unknown seat ("The belonging seat <x> does not exist. Please go
// to Management->Members to confirm").
//
// The others are stored, keyed per tenant by whats_app_phone or else by the
// first non-empty channel, by the call's type: 0 replaces a stored customer's
// fields, 1 merges the non-empty new fields over them, 2 keeps a stored
// customer as it is; a new customer gets the next customerId counting up
// from FirstCustomerID. They are listed in successItems.
type Simulator struct {
	now      func() time.Time
	accounts map[string]*simAccount
	maxCalls int

	mu        sync.Mutex
	calls     []SimCall
	failNext  int
	delay     time.Duration
	nextID    int64
	customers map[string]*SimCustomer // by tenant id + "/" + key
}

type simAccount struct {
	SimAccount
	seats map[string]bool
}

var _ http.Handler = (*Simulator)(nil)

// NewSimulator makes a Simulator with cfg's accounts (a later account with
// the same access key replaces an earlier one) and no customers.
func NewSimulator(cfg SimConfig) *Simulator {
	s := &Simulator{
		now:       cfg.Now,
		accounts:  make(map[string]*simAccount, len(cfg.Accounts)),
		maxCalls:  cfg.MaxCalls,
		delay:     cfg.Delay,
		nextID:    FirstCustomerID,
		customers: map[string]*SimCustomer{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxCalls == 0 {
		s.maxCalls = defaultMaxCalls
	}
	for _, a := range cfg.Accounts {
		acc := &simAccount{SimAccount: a, seats: make(map[string]bool, len(a.Seats))}
		acc.Seats = slices.Clone(a.Seats)
		for _, seat := range a.Seats {
			acc.seats[seat] = true
		}
		s.accounts[a.AccessKey] = acc
	}
	return s
}

// FailNext makes the next n calls answer HTTP 503 without looking at them
// (n ≤ 0 stops it).
func (s *Simulator) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// SetDelay sets how long each call takes to be answered (≤ 0: at once).
func (s *Simulator) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = max(d, 0)
}

// Calls returns copies of the latest requests received (see
// SimConfig.MaxCalls), oldest first, whatever their answer was.
func (s *Simulator) Calls() []SimCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimCall, len(s.calls))
	for i, c := range s.calls {
		out[i] = SimCall{Method: c.Method, Path: c.Path, Header: c.Header.Clone(), Body: bytes.Clone(c.Body)}
	}
	return out
}

// Customers returns copies of the stored customers, ordered by customerId.
func (s *Simulator) Customers() []SimCustomer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimCustomer, 0, len(s.customers))
	for _, c := range s.customers {
		cp := *c
		cp.Fields = make(map[string]any, len(c.Fields))
		for k, v := range c.Fields {
			cp.Fields[k] = v
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b SimCustomer) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// simAnswer is the Simulator's answer, in the document's shape.
type simAnswer struct {
	Code    int64    `json:"code"`
	Message *string  `json:"message"`
	TraceID string   `json:"traceId"`
	Data    *simData `json:"data"`
}

type simData struct {
	TotalCount   int          `json:"totalCount"`
	SuccessCount int          `json:"successCount"`
	FailCount    int          `json:"failCount"`
	FailItems    []simFail    `json:"failItems"`
	SuccessItems []simSuccess `json:"successItems"`
}

type simFail struct {
	Index        int    `json:"index"`
	ErrorCode    int64  `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

type simSuccess struct {
	Index         int    `json:"index"`
	CustomerID    int64  `json:"customerId"`
	WhatsAppPhone string `json:"whatsAppPhone"`
}

// simRequest is the body as the Simulator reads it; customers stay generic
// so that every value's JSON type can be checked.
type simRequest struct {
	Type          *int64           `json:"type"`
	TenantID      *int64           `json:"tenant_id"`
	AppKey        *string          `json:"app_key"`
	StrictBinding *bool            `json:"strict_binding"`
	Customers     []map[string]any `json:"customers"`
}

// ServeHTTP answers one call (see Simulator).
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	if s.maxCalls > 0 {
		if len(s.calls) >= s.maxCalls {
			s.calls = slices.Delete(s.calls, 0, len(s.calls)-s.maxCalls+1)
		}
		s.calls = append(s.calls, SimCall{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	}
	fail := s.failNext > 0
	if fail {
		s.failNext--
	}
	delay := s.delay
	s.mu.Unlock()

	// The answer is worked out first and written once the delay since the
	// call arrived has passed: the call takes the delay, not the delay plus
	// the simulator's own work.
	var answer func()
	switch {
	case fail:
		answer = func() { http.Error(w, "service unavailable", http.StatusServiceUnavailable) }
	case r.URL.Path != BatchCreatePath:
		answer = func() { http.NotFound(w, r) }
	case r.Method != http.MethodPost:
		answer = func() {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	default:
		a := s.handle(r.Header, body)
		answer = func() { writeAnswer(w, a) }
	}
	if wait := delay - time.Since(arrived); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	answer()
}

// refuse is a whole-call refusal.
func refuse(code int64, format string, args ...any) simAnswer {
	msg := fmt.Sprintf(format, args...)
	return simAnswer{Code: code, Message: &msg}
}

// handle checks one call and applies it to the state.
func (s *Simulator) handle(h http.Header, body []byte) simAnswer {
	for _, name := range []string{headerAccessKey, headerTS, headerBizType, headerAction, headerSign} {
		if h.Get(name) == "" {
			return refuse(SimCodeBadRequest, "header %s is required", name)
		}
	}
	if h.Get(headerBizType) != BizType {
		return refuse(SimCodeBadRequest, "bizType must be %q", BizType)
	}
	if h.Get(headerAction) != Action {
		return refuse(SimCodeBadRequest, "action must be %q", Action)
	}
	acc, ok := s.accounts[h.Get(headerAccessKey)]
	if !ok {
		return refuse(SimCodeUnknownKey, "accessKey is not valid")
	}
	ts, err := strconv.ParseInt(h.Get(headerTS), 10, 64)
	if err != nil {
		return refuse(SimCodeBadRequest, "ts must be milliseconds since the epoch")
	}
	if skew := s.now().UnixMilli() - ts; skew > MaxClockSkew.Milliseconds() || skew < -MaxClockSkew.Milliseconds() {
		return refuse(SimCodeClockSkew, "ts is %d ms away from the server time; at most %d ms are allowed", skew, MaxClockSkew.Milliseconds())
	}
	algo := h.Get(headerAlgorithm)
	if algo != "" && algo != AlgorithmMD5 && algo != AlgorithmSHA256 {
		return refuse(SimCodeBadRequest, "algorithm must be md5 or sha256")
	}
	want := Sign(algo, acc.AccessKey, h.Get(headerAction), h.Get(headerBizType), h.Get(headerTS), body, acc.AccessSecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(h.Get(headerSign))) != 1 {
		return refuse(SimCodeBadSign, "sign is not valid")
	}

	var req simRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return refuse(SimCodeBadRequest, "body is not valid: %v", err)
	}
	if req.Type == nil || *req.Type < typeReplace || *req.Type > typeKeepExisting {
		return refuse(SimCodeBadRequest, "type must be 0, 1 or 2")
	}
	if req.TenantID == nil || *req.TenantID != acc.TenantID || req.AppKey == nil ||
		subtle.ConstantTimeCompare([]byte(*req.AppKey), []byte(acc.AppKey)) != 1 {
		return refuse(SimCodeTenantMismatch, "tenant_id or app_key does not belong to this account")
	}
	if n := len(req.Customers); n == 0 || n > MaxBatch {
		return refuse(SimCodeTooManyRecords, "customers must hold 1 to %d records, not %d", MaxBatch, n)
	}
	strict := req.StrictBinding != nil && *req.StrictBinding

	s.mu.Lock()
	defer s.mu.Unlock()
	if !strict {
		for _, c := range req.Customers {
			if seat, _ := c["belong_seat_user"].(string); seat != "" && !acc.seats[seat] {
				return refuse(CodeSeatNotFound, "%s", seatMessage(seat))
			}
		}
	}
	data := &simData{TotalCount: len(req.Customers), FailItems: []simFail{}, SuccessItems: []simSuccess{}}
	for i, c := range req.Customers {
		if code, msg := checkSimCustomer(c); code != 0 {
			data.FailItems = append(data.FailItems, simFail{Index: i, ErrorCode: code, ErrorMessage: msg})
			continue
		}
		if seat, _ := c["belong_seat_user"].(string); strict && seat != "" && !acc.seats[seat] {
			data.FailItems = append(data.FailItems, simFail{Index: i, ErrorCode: CodeSeatNotFound, ErrorMessage: seatMessage(seat)})
			continue
		}
		stored := s.store(acc.TenantID, *req.Type, c)
		phone, _ := stored.Fields["whats_app_phone"].(string)
		data.SuccessItems = append(data.SuccessItems, simSuccess{Index: i, CustomerID: stored.ID, WhatsAppPhone: phone})
	}
	data.SuccessCount, data.FailCount = len(data.SuccessItems), len(data.FailItems)
	return simAnswer{Code: 0, Data: data}
}

// seatMessage is the document's message for a seat that does not exist.
func seatMessage(seat string) string {
	return "The belonging seat " + seat + " does not exist. Please go to Management->Members to confirm"
}

// store applies one checked customer to the state by the call's type and
// returns the stored customer. The caller holds s.mu.
func (s *Simulator) store(tenant, typ int64, c map[string]any) *SimCustomer {
	fields := make(map[string]any, len(c))
	for k, v := range c {
		if v != nil && v != "" {
			fields[k] = v
		}
	}
	key := customerKey(fields)
	id := strconv.FormatInt(tenant, 10) + "/" + key
	old, ok := s.customers[id]
	if !ok {
		nc := &SimCustomer{TenantID: tenant, ID: s.nextID, Key: key, Fields: fields}
		s.nextID++
		s.customers[id] = nc
		return nc
	}
	switch typ {
	case typeReplace:
		old.Fields = fields
	case typeMerge:
		for k, v := range fields {
			old.Fields[k] = v
		}
	}
	return old
}

// simChannels are the channels in the document's order.
var simChannels = []string{"sms_phone", "whats_app_phone", "email", "viber_phone", "messenger", "instagram", "line", "zalo"}

// customerKey is whats_app_phone, or else the first non-empty channel.
func customerKey(fields map[string]any) string {
	if p, _ := fields["whats_app_phone"].(string); p != "" {
		return "whats_app_phone:" + p
	}
	for _, ch := range simChannels {
		if v, _ := fields[ch].(string); v != "" {
			return ch + ":" + v
		}
	}
	return ""
}

// simLimits are the document's string fields with their limits (0: none).
var simLimits = []struct {
	field  string
	max    int
	digits bool
}{
	{"full_name", maxFullName, false},
	{"first_name", maxFirstLast, false},
	{"last_name", maxFirstLast, false},
	{"sms_phone", maxPhone, true},
	{"whats_app_phone", maxPhone, true},
	{"viber_phone", maxPhone, true},
	{"messenger", maxSocial, true},
	{"instagram", maxSocial, true},
	{"zalo", maxSocial, true},
	{"line", maxLine, false},
	{"country", maxCountry, false},
	{"email", maxEmail, false},
	{"address", maxAddress, false},
	{"birthday", 0, false},
	{"tagStr", 0, false},
	{"remark", maxRemark, false},
	{"time_zone", 0, false},
	{"customize_field", 0, false},
	{"belong_seat_user", maxSeatUser, false},
}

// checkSimCustomer returns the first problem of one customer, or code 0.
func checkSimCustomer(c map[string]any) (int64, string) {
	str := make(map[string]string, len(simLimits))
	for _, l := range simLimits {
		v, ok := c[l.field]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return SimCodeInvalidValue, l.field + " must be a string"
		}
		str[l.field] = s
	}
	if strings.TrimSpace(str["full_name"]) == "" {
		return SimCodeNameRequired, "full_name is required"
	}
	for _, l := range simLimits {
		v := str[l.field]
		if l.digits && v != "" && !allDigits(v) {
			return SimCodeInvalidPhone, l.field + " must be digits only"
		}
		if l.max > 0 && utf8.RuneCountInString(v) > l.max {
			return SimCodeTooLong, fmt.Sprintf("%s exceeds the maximum length of %d characters", l.field, l.max)
		}
	}
	hasChannel := false
	for _, ch := range simChannels {
		if str[ch] != "" {
			hasChannel = true
		}
	}
	if !hasChannel {
		return SimCodeChannelRequired, strings.Join(simChannels, ", ") + " cannot all be empty"
	}
	if b := str["birthday"]; b != "" {
		if _, err := time.Parse("2006-01-02", b); err != nil {
			return SimCodeInvalidDate, "birthday must be in the format yyyy-MM-dd"
		}
	}
	if v, ok := c["gender"]; ok && v != nil {
		if n, ok := v.(json.Number); !ok || (n != "0" && n != "1") {
			return SimCodeInvalidValue, "gender must be 1 (male) or 0 (female)"
		}
	}
	if v, ok := c["weight"]; ok && v != nil {
		n, ok := v.(json.Number)
		w, err := strconv.Atoi(string(n))
		if !ok || err != nil || w < 1 || w > 5 {
			return SimCodeInvalidValue, "weight must be an integer from 1 to 5"
		}
	}
	if cf := str["customize_field"]; cf != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(cf), &obj); err != nil || obj == nil {
			return SimCodeInvalidValue, "customize_field must be a JSON object as a string"
		}
	}
	return 0, ""
}

// writeAnswer writes the answer with HTTP 200 and a fresh traceId.
func writeAnswer(w http.ResponseWriter, a simAnswer) {
	var id [16]byte
	rand.Read(id[:])
	a.TraceID = hex.EncodeToString(id[:])
	body, err := marshal(a)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
