package wscrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"crmgate/gateway"

	"crmgate/providers/internal/wirejson"
)

// Paths under the connection's base URL.
const (
	PathBatchImport  = "/wscrm-bus-api/customer/api/batchImport"
	PathPoolReplace  = "/wscrm-bus-api/customer/api/batchImportWhatsContact"
	PathPoolAppend   = "/wscrm-bus-api/customer/api/batchImportAppendV2"
	PathQuery        = "/wscrm-bus-api/open/customer/query"
	headerToken      = "token"
	contentTypeJSON  = "application/json"
	wireAgentAccount = "agentAccount"
	wireWhatsApp     = "whatsApp"
)

// Bounds on what is read of an answer. An import answer lists at most every
// record of the call once in errExcel ({errPhone, errInfo, errCode}: well
// under 1 KiB) and may echo the records in successExcel and
// notFollowSuccessExcels (each at most the request body again); around that
// sits a small envelope. So an import answer is bounded by
// answerBase + answerPerRecord per record + twice the request body: 70 KiB for
// a call of 5 records, about 16 MiB for 10 000 records of 300 bytes, instead
// of whatever the other end sends. A query answer lists an agent's contacts,
// whose number the call does not tell: it has a fixed bound.
const (
	answerBase          = 64 << 10
	answerPerRecord     = 1 << 10
	maxQueryAnswerBytes = 64 << 20
)

// importAnswerLimit is the most an answer to call may hold (see answerBase).
func importAnswerLimit(call *gateway.Call) int64 {
	return answerBase + answerPerRecord*int64(len(call.Records)) + 2*int64(len(call.Body))
}

// Wire keys of a batchImport record.
const (
	wireFriendName    = "friendName"
	wireSex           = "sex"
	wireBirthday      = "birthday"
	wireAddress       = "address"
	wireEmail         = "email"
	wireProfession    = "profession"
	wireIncome        = "income"
	wireDesc          = "desc"
	wireTabName       = "tabName"
	wireCancelTabName = "cancelTabName"
	wireStage         = "stage"
	wireSource        = "source"
	wireLanguageTag   = "languageTag"
	wireWelcome       = "welcome"
)

// basicKey indexes the basic keys of a record, in the document's order.
type basicKey int

const (
	keyAgentAccount basicKey = iota
	keyWhatsApp
	keyFriendName
	keySex
	keyBirthday
	keyAddress
	keyEmail
	keyProfession
	keyIncome
	keyDesc
	keyTabName
	keyCancelTabName
	keyStage
	keySource
	keyLanguageTag
	keyWelcome
	numBasicKeys
)

// basicNames are the wire names of the basic keys.
var basicNames = [numBasicKeys]string{
	wireAgentAccount, wireWhatsApp, wireFriendName, wireSex, wireBirthday, wireAddress, wireEmail,
	wireProfession, wireIncome, wireDesc, wireTabName, wireCancelTabName, wireStage, wireSource,
	wireLanguageTag, wireWelcome,
}

// basicIndex finds a basic key by its wire name; an extension field may not
// use one of these names.
var basicIndex = func() map[string]basicKey {
	m := make(map[string]basicKey, numBasicKeys)
	for i, n := range basicNames {
		m[n] = basicKey(i)
	}
	return m
}()

// wireRecord is one record of an import body: the basic keys (empty ones are
// left out) and the extension fields, top-level side by side. It is written
// by appendJSON in a fixed order (basic keys in the document's order, then
// extension fields sorted by key), so a record always marshals to the same
// bytes.
type wireRecord struct {
	basic [numBasicKeys]string
	ext   []wireExt // sorted by key, keys distinct and not basic
}

// wireExt is one extension field: its key and its value, a string or a
// json.Number.
type wireExt struct {
	key string
	val any
}

// str returns the value of a key ("" when absent); an extension value that
// is a number is returned as its text.
func (r *wireRecord) str(key string) string {
	v, _ := r.get(key)
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return ""
}

// get returns the value of a key and whether it is present.
func (r *wireRecord) get(key string) (any, bool) {
	if r == nil {
		return nil, false
	}
	if k, ok := basicIndex[key]; ok {
		return r.basic[k], r.basic[k] != ""
	}
	for _, e := range r.ext {
		if e.key == key {
			return e.val, true
		}
	}
	return nil, false
}

// appendJSON appends the record as a JSON object.
func (r *wireRecord) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	field := func(key string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = wirejson.AppendString(b, key)
		b = append(b, ':')
	}
	for k, v := range r.basic {
		if v != "" {
			field(basicNames[k])
			b = wirejson.AppendString(b, v)
		}
	}
	for _, e := range r.ext {
		field(e.key)
		switch v := e.val.(type) {
		case json.Number:
			if json.Valid([]byte(v)) && v != "" {
				b = append(b, v...)
			} else {
				b = wirejson.AppendString(b, string(v))
			}
		case string:
			b = wirejson.AppendString(b, v)
		default:
			b = wirejson.AppendString(b, fmt.Sprint(v))
		}
	}
	return append(b, '}')
}

// appendImportBody appends {"tenantId": N, "data": [records]}.
func appendImportBody(b []byte, tenant int64, recs []*wireRecord) []byte {
	b = append(b, `{"tenantId":`...)
	b = strconv.AppendInt(b, tenant, 10)
	b = append(b, `,"data":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.appendJSON(b)
	}
	return append(b, "]}"...)
}

// queryRequest is the body of open/customer/query.
type queryRequest struct {
	TenantID int64  `json:"tenantId"`
	WhatsID  string `json:"whatsId"`
}

// envelope is the top level of every answer: code (a number or a string),
// message or msg, and data whose shape depends on the endpoint.
type envelope struct {
	Code    flexString      `json:"code"`
	Message flexString      `json:"message"`
	Msg     flexString      `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

// text is the answer's message, msg first (the document's field table) then
// message (its examples).
func (e *envelope) text() string {
	if e.Msg != "" {
		return string(e.Msg)
	}
	return string(e.Message)
}

// code is the answer's code as a number; ok is false when it is not one.
func (e *envelope) code() (int, bool) { return e.Code.int() }

// importData is data of an import answer.
type importData struct {
	SuccessExcel           json.RawMessage `json:"successExcel"`
	ErrExcel               []errExcel      `json:"errExcel"`
	SuccessCount           flexString      `json:"successCount"`
	ErrCount               flexString      `json:"errCount"`
	NotFollowSuccessCount  json.RawMessage `json:"notFollowSuccessCount"`
	NotFollowSuccessExcels json.RawMessage `json:"notFollowSuccessExcels"`
}

// errExcel is one per-record failure, keyed by phone.
type errExcel struct {
	ErrPhone flexString `json:"errPhone"`
	ErrInfo  flexString `json:"errInfo"`
	ErrCode  flexString `json:"errCode"`
}

// queryContact is one item of a query answer's data. Most values may be null
// or "".
type queryContact struct {
	WhatsID       flexString      `json:"whatsId"`
	Name          flexString      `json:"name"`
	Sex           flexString      `json:"sex"`
	Email         flexString      `json:"email"`
	Birthday      flexString      `json:"birthday"`
	Address       flexString      `json:"address"`
	Profession    flexString      `json:"profession"`
	Income        flexString      `json:"income"`
	Desc          flexString      `json:"desc"`
	Country       flexString      `json:"country"`
	Stage         flexString      `json:"stage"`
	Source        flexString      `json:"source"`
	TabList       json.RawMessage `json:"tabList"`
	FirstChatTime flexString      `json:"firstChatTime"`
	LastChatTime  flexString      `json:"lastChatTime"`
	ExtendMap     map[string]any  `json:"extendMap"`
}

// flexString reads a JSON string, number, boolean or null as text (null and
// absent are ""). The provider types several values one way in its tables and
// another in its examples.
type flexString string

// UnmarshalJSON accepts any JSON scalar.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case b[0] == '{' || b[0] == '[':
		*f = flexString(b)
		return nil
	}
	*f = flexString(b)
	return nil
}

// int reads the value as an integer.
func (f flexString) int() (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(string(f)))
	return n, err == nil
}

// marshalBody marshals v once, without HTML escaping, and without the
// encoder's trailing newline: these are the bytes sent.
func marshalBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// decodeQueryData decodes a query answer's data list, numbers in extendMap
// kept as json.Number.
func decodeQueryData(d []byte, items *[]queryContact) error {
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.UseNumber()
	return dec.Decode(items)
}
