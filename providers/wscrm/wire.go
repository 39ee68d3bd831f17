package wscrm

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Paths under the connection's base URL.
const (
	PathBatchImport  = "/wscrm-bus-api/customer/api/batchImport"
	PathPoolReplace  = "/wscrm-bus-api/customer/api/batchImportWhatsContact"
	PathPoolAppend   = "/wscrm-bus-api/customer/api/batchImportAppendV2"
	PathQuery        = "/wscrm-bus-api/open/customer/query"
	headerToken      = "token"
	contentTypeJSON  = "application/json"
	maxAnswerBytes   = 64 << 20
	wireAgentAccount = "agentAccount"
	wireWhatsApp     = "whatsApp"
)

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

// wireKeys are the basic keys of a record; an extension field may not use one.
var wireKeys = map[string]bool{
	wireAgentAccount: true, wireWhatsApp: true, wireFriendName: true, wireSex: true,
	wireBirthday: true, wireAddress: true, wireEmail: true, wireProfession: true,
	wireIncome: true, wireDesc: true, wireTabName: true, wireCancelTabName: true,
	wireStage: true, wireSource: true, wireLanguageTag: true, wireWelcome: true,
}

// wireRecord is one record of an import body: basic keys and extension fields
// side by side at the top level. encoding/json writes map keys sorted, so a
// record always marshals to the same bytes.
type wireRecord map[string]any

// str returns the string value of a key, "" when absent or not a string.
func (r wireRecord) str(key string) string {
	s, _ := r[key].(string)
	return s
}

// importRequest is the body of the three import endpoints.
type importRequest struct {
	TenantID int64        `json:"tenantId"`
	Data     []wireRecord `json:"data"`
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
