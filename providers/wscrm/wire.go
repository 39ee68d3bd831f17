package wscrm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"crmgate/gateway"

	"crmgate/providers/internal/wirejson"
)

// Paths under the connection's base URL.
const (
	PathBatchImport = "/wscrm-bus-api/customer/api/batchImport"
	PathPoolReplace = "/wscrm-bus-api/customer/api/batchImportWhatsContact"
	PathPoolAppend  = "/wscrm-bus-api/customer/api/batchImportAppendV2"
	PathQuery       = "/wscrm-bus-api/open/customer/query"
	headerToken     = "token"
	contentTypeJSON = "application/json"
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
			field(recordFields[k].name)
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
	Code    wirejson.Text   `json:"code"`
	Message wirejson.Text   `json:"message"`
	Msg     wirejson.Text   `json:"msg"`
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
func (e *envelope) code() (int, bool) {
	n, ok := e.Code.Int64()
	return int(n), ok
}

// importData is data of an import answer.
type importData struct {
	SuccessExcel           json.RawMessage `json:"successExcel"`
	ErrExcel               []errExcel      `json:"errExcel"`
	SuccessCount           wirejson.Text   `json:"successCount"`
	ErrCount               wirejson.Text   `json:"errCount"`
	NotFollowSuccessCount  json.RawMessage `json:"notFollowSuccessCount"`
	NotFollowSuccessExcels json.RawMessage `json:"notFollowSuccessExcels"`
}

// errExcel is one per-record failure, keyed by phone.
type errExcel struct {
	ErrPhone wirejson.Text `json:"errPhone"`
	ErrInfo  wirejson.Text `json:"errInfo"`
	ErrCode  wirejson.Text `json:"errCode"`
}

// queryContact is one item of a query answer's data. Most values may be null
// or "".
type queryContact struct {
	WhatsID       wirejson.Text  `json:"whatsId"`
	Name          wirejson.Text  `json:"name"`
	Sex           wirejson.Text  `json:"sex"`
	Email         wirejson.Text  `json:"email"`
	Birthday      wirejson.Text  `json:"birthday"`
	Address       wirejson.Text  `json:"address"`
	Profession    wirejson.Text  `json:"profession"`
	Income        wirejson.Text  `json:"income"`
	Desc          wirejson.Text  `json:"desc"`
	Country       wirejson.Text  `json:"country"`
	Stage         wirejson.Text  `json:"stage"`
	Source        wirejson.Text  `json:"source"`
	TabList       any            `json:"tabList"` // null, a list that may hold lists, or a string
	FirstChatTime wirejson.Text  `json:"firstChatTime"`
	LastChatTime  wirejson.Text  `json:"lastChatTime"`
	ExtendMap     map[string]any `json:"extendMap"`
}

// decodeQueryData decodes a query answer's data list, numbers in extendMap
// kept as json.Number.
func decodeQueryData(d []byte, items *[]queryContact) error {
	dec := json.NewDecoder(bytes.NewReader(d))
	dec.UseNumber()
	return dec.Decode(items)
}
