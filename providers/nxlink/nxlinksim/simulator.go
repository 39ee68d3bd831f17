package nxlinksim

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
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

// MaxClockSkew is how far a call's ts may be from the server's clock: "NXCloud
// server allows maximum time difference of 60 seconds".
const MaxClockSkew = 60 * time.Second

// defaultMaxCalls is how many requests Calls keeps unless told otherwise.
const defaultMaxCalls = 1000

// maxBody is the most of a request body the Simulator reads.
const maxBody = 8 << 20

// Account is one NXLink account the Simulator knows.
type Account struct {
	AccessKey    string
	AccessSecret string
	TenantID     int64
	AppKey       string
	// Seats are the account's seat users: the values of belong_seat_user
	// that exist.
	Seats []string
}

// Config configures a Simulator.
type Config struct {
	Accounts []Account
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

// Call is one request the Simulator received, as it arrived.
type Call struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Customer is one customer the Simulator stores.
type Customer struct {
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
//   - 10001 (CodeBadRequest): Content-Type not application/json, a required
//     header (accessKey, ts, bizType, action, sign) missing, bizType not "2",
//     action not "mt", ts not a number, an algorithm header other than md5 or
//     sha256, a body that is not the documented JSON, type not 0, 1 or 2;
//   - 10002 (CodeUnknownKey): accessKey is not a known account;
//   - 10003 (CodeClockSkew): ts more than 60 000 ms from the clock;
//   - 10004 (CodeBadSign): sign is not the md5 (or, with header
//     "algorithm: sha256", SHA-256) signature of the headers and raw body;
//   - 10005 (CodeTenantMismatch): tenant_id or app_key not the account's;
//   - 10006 (CodeTooManyRecords): customers empty or more than 100;
//   - 12148 (CodeSeatNotFound, the document's third example): with
//     strict_binding false, a non-empty belong_seat_user that is not a seat
//     of the account; nothing of the call is stored.
//
// Otherwise every customer is checked against the document's table and
// lands in failItems with the first problem found, its message starting with
// the wire field: 13006 (CodeInvalidValue) a field the table does not list,
// a value of the wrong JSON type, gender not 0/1, weight not 1..5,
// customize_field not a JSON object string; 13001 (CodeNameRequired)
// full_name empty; 13003 (CodeInvalidPhone) a phone field (sms_phone,
// whats_app_phone, viber_phone, messenger, instagram, zalo) not digits only;
// 13004 (CodeTooLong) longer than the document allows; 13002
// (CodeChannelRequired) every channel empty; 13005 (CodeInvalidDate)
// birthday not yyyy-MM-dd; 12148 with strict_binding true, an unknown seat
// ("The belonging seat <x> does not exist. Please go to Management->Members
// to confirm").
//
// The others are stored, keyed per tenant by whats_app_phone or else by the
// first non-empty channel, by the call's type: 0 replaces a stored customer's
// fields, 1 merges the non-empty new fields over them, 2 keeps a stored
// customer as it is; a new customer gets the next customerId counting up
// from FirstCustomerID. They are listed in successItems.
type Simulator struct {
	now      func() time.Time
	accounts map[string]*account
	maxCalls int

	mu        sync.Mutex
	calls     []Call
	failNext  int
	delay     time.Duration
	nextID    int64
	customers map[string]*Customer // by tenant id + "/" + key
}

type account struct {
	Account
	seats map[string]bool
}

var _ http.Handler = (*Simulator)(nil)

// New makes a Simulator with cfg's accounts (a later account with the same
// access key replaces an earlier one) and no customers.
func New(cfg Config) *Simulator {
	s := &Simulator{
		now:       cfg.Now,
		accounts:  make(map[string]*account, len(cfg.Accounts)),
		maxCalls:  cfg.MaxCalls,
		delay:     cfg.Delay,
		nextID:    FirstCustomerID,
		customers: map[string]*Customer{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxCalls == 0 {
		s.maxCalls = defaultMaxCalls
	}
	for _, a := range cfg.Accounts {
		acc := &account{Account: a, seats: make(map[string]bool, len(a.Seats))}
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
// Config.MaxCalls), oldest first, whatever their answer was.
func (s *Simulator) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = Call{Method: c.Method, Path: c.Path, Header: c.Header.Clone(), Body: bytes.Clone(c.Body)}
	}
	return out
}

// Customers returns copies of the stored customers, ordered by customerId.
func (s *Simulator) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, 0, len(s.customers))
	for _, c := range s.customers {
		cp := *c
		cp.Fields = maps.Clone(c.Fields)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Customer) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ServeHTTP answers one call (see Simulator).
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	if s.maxCalls > 0 {
		if len(s.calls) >= s.maxCalls {
			s.calls = slices.Delete(s.calls, 0, len(s.calls)-s.maxCalls+1)
		}
		s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
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
	var reply func()
	switch {
	case fail:
		reply = func() { http.Error(w, "service unavailable", http.StatusServiceUnavailable) }
	case r.URL.Path != Path:
		reply = func() { http.NotFound(w, r) }
	case r.Method != http.MethodPost:
		reply = func() {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	default:
		a := s.handle(r.Header, body)
		reply = func() { write(w, a) }
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
	reply()
}

// refuse is a whole-call refusal.
func refuse(code int64, format string, args ...any) answer {
	msg := fmt.Sprintf(format, args...)
	return answer{Code: code, Message: &msg}
}

// handle checks one call and applies it to the state.
func (s *Simulator) handle(h http.Header, body []byte) answer {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		return refuse(CodeBadRequest, "Content-Type must be application/json")
	}
	for _, name := range requiredHeaders {
		if h.Get(name) == "" {
			return refuse(CodeBadRequest, "header %s is required", name)
		}
	}
	if h.Get("bizType") != bizType {
		return refuse(CodeBadRequest, "bizType must be %q", bizType)
	}
	if h.Get("action") != action {
		return refuse(CodeBadRequest, "action must be %q", action)
	}
	acc, ok := s.accounts[h.Get("accessKey")]
	if !ok {
		return refuse(CodeUnknownKey, "accessKey is not valid")
	}
	ts, err := strconv.ParseInt(h.Get("ts"), 10, 64)
	if err != nil {
		return refuse(CodeBadRequest, "ts must be milliseconds since the epoch")
	}
	if skew := s.now().UnixMilli() - ts; skew > MaxClockSkew.Milliseconds() || skew < -MaxClockSkew.Milliseconds() {
		return refuse(CodeClockSkew, "ts is %d ms away from the server time; at most %d ms are allowed", skew, MaxClockSkew.Milliseconds())
	}
	algo := h.Get("algorithm")
	if algo != "" && algo != "md5" && algo != "sha256" {
		return refuse(CodeBadRequest, "algorithm must be md5 or sha256")
	}
	want := signature(algo, h, body, acc.AccessSecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(h.Get("sign"))) != 1 {
		return refuse(CodeBadSign, "sign is not valid")
	}

	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return refuse(CodeBadRequest, "body is not valid: %v", err)
	}
	if req.Type == nil || *req.Type < discardOld || *req.Type > keepOld {
		return refuse(CodeBadRequest, "type must be 0, 1 or 2")
	}
	if req.TenantID == nil || *req.TenantID != acc.TenantID || req.AppKey == nil ||
		subtle.ConstantTimeCompare([]byte(*req.AppKey), []byte(acc.AppKey)) != 1 {
		return refuse(CodeTenantMismatch, "tenant_id or app_key does not belong to this account")
	}
	if n := len(req.Customers); n == 0 || n > MaxCustomers {
		return refuse(CodeTooManyRecords, "customers must hold 1 to %d records, not %d", MaxCustomers, n)
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
	data := &result{TotalCount: len(req.Customers), FailItems: []failure{}, SuccessItems: []success{}}
	for i, c := range req.Customers {
		if code, msg := check(c); code != 0 {
			data.FailItems = append(data.FailItems, failure{Index: i, ErrorCode: code, ErrorMessage: msg})
			continue
		}
		if seat, _ := c["belong_seat_user"].(string); strict && seat != "" && !acc.seats[seat] {
			data.FailItems = append(data.FailItems, failure{Index: i, ErrorCode: CodeSeatNotFound, ErrorMessage: seatMessage(seat)})
			continue
		}
		stored := s.store(acc.TenantID, *req.Type, c)
		phone, _ := stored.Fields["whats_app_phone"].(string)
		data.SuccessItems = append(data.SuccessItems, success{Index: i, CustomerID: stored.ID, WhatsAppPhone: phone})
	}
	data.SuccessCount, data.FailCount = len(data.SuccessItems), len(data.FailItems)
	return answer{Code: 0, Data: data}
}

// seatMessage is the document's message for a seat that does not exist.
func seatMessage(seat string) string {
	return "The belonging seat " + seat + " does not exist. Please go to Management->Members to confirm"
}

// store applies one checked customer to the state by the call's type and
// returns the stored customer. The caller holds s.mu.
func (s *Simulator) store(tenant, typ int64, c map[string]any) *Customer {
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
		nc := &Customer{TenantID: tenant, ID: s.nextID, Key: key, Fields: fields}
		s.nextID++
		s.customers[id] = nc
		return nc
	}
	switch typ {
	case discardOld:
		old.Fields = fields
	case updateOld:
		maps.Copy(old.Fields, fields)
	}
	return old
}

// customerKey is whats_app_phone, or else the first non-empty channel.
func customerKey(fields map[string]any) string {
	if p, _ := fields["whats_app_phone"].(string); p != "" {
		return "whats_app_phone:" + p
	}
	for _, ch := range channels {
		if v, _ := fields[ch].(string); v != "" {
			return ch + ":" + v
		}
	}
	return ""
}

// check returns the first problem of one customer, or code 0.
func check(c map[string]any) (int64, string) {
	for name := range c {
		if !isField[name] {
			return CodeInvalidValue, name + " is not a customer field"
		}
	}
	text := make(map[string]string, len(customerFields))
	for _, f := range customerFields {
		v, ok := c[f.name]
		if !ok || v == nil || !f.text {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return CodeInvalidValue, f.name + " must be a string"
		}
		text[f.name] = s
	}
	if strings.TrimSpace(text["full_name"]) == "" {
		return CodeNameRequired, "full_name is required"
	}
	for _, f := range customerFields {
		v := text[f.name]
		if f.digits && strings.Trim(v, "0123456789") != "" {
			return CodeInvalidPhone, f.name + " must be digits only"
		}
		if f.max > 0 && utf8.RuneCountInString(v) > f.max {
			return CodeTooLong, fmt.Sprintf("%s exceeds the maximum length of %d characters", f.name, f.max)
		}
	}
	if !slices.ContainsFunc(channels, func(ch string) bool { return text[ch] != "" }) {
		return CodeChannelRequired, strings.Join(channels, ", ") + " cannot all be empty"
	}
	if b := text["birthday"]; b != "" {
		if _, err := time.Parse("2006-01-02", b); err != nil {
			return CodeInvalidDate, "birthday must be in the format yyyy-MM-dd"
		}
	}
	if v, ok := c["gender"]; ok && v != nil {
		if g, ok := number(v); !ok || (g != 0 && g != 1) {
			return CodeInvalidValue, "gender must be 1 (male) or 0 (female)"
		}
	}
	if v, ok := c["weight"]; ok && v != nil {
		if w, ok := number(v); !ok || w < 1 || w > 5 {
			return CodeInvalidValue, "weight must be an integer from 1 to 5"
		}
	}
	if cf := text["customize_field"]; cf != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(cf), &obj); err != nil || obj == nil {
			return CodeInvalidValue, "customize_field must be a JSON object as a string"
		}
	}
	return 0, ""
}

// write writes a with HTTP 200 and a fresh traceId, in the document's shape
// (no HTML escaping: "Management->Members" as the document writes it).
func write(w http.ResponseWriter, a answer) {
	var id [16]byte
	rand.Read(id[:])
	a.TraceID = hex.EncodeToString(id[:])
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
