package nxlinksim

import "encoding/json"

// What the document fixes about the call.
const (
	// Path is the batch create call, relative to the base URL.
	Path = "/saas/cdp/openapi/customers/batch_create"
	// MaxCustomers is "Batch create, maximum 100 per request".
	MaxCustomers = 100
	// bizType and action are the fixed values of the WhatsApp business calls.
	bizType = "2"
	action  = "mt"
)

// The merge strategies of the body's type: "0: Discard old data, use new
// data 1: Update/add data items based on old data 2: Keep old data, discard
// new data".
const (
	discardOld = 0
	updateOld  = 1
	keepOld    = 2
)

// CodeSeatNotFound is the document's one code: a belong_seat_user that does
// not exist, in failItems with strict_binding true, as the whole call's code
// with strict_binding false.
const CodeSeatNotFound = 12148

// Whole-call codes (top-level code, data null) the simulator uses where the
// document names none. They are answered with HTTP 200, as the document's
// failure example is.
const (
	CodeBadRequest     = 10001 // a header missing or wrong, a body not the documented JSON, type not 0/1/2
	CodeUnknownKey     = 10002 // accessKey is not a known account
	CodeClockSkew      = 10003 // ts more than 60 000 ms from the server's clock
	CodeBadSign        = 10004 // sign does not match
	CodeTenantMismatch = 10005 // tenant_id or app_key is not the account's
	CodeTooManyRecords = 10006 // customers empty or more than 100
)

// Per-record codes (failItems[].errorCode) the simulator uses where the
// document names none. Each message starts with the wire field it is about
// ("whats_app_phone must be digits only").
const (
	CodeNameRequired    = 13001 // full_name empty
	CodeChannelRequired = 13002 // every channel empty
	CodeInvalidPhone    = 13003 // a phone field holds more than digits
	CodeTooLong         = 13004 // a field longer than the document allows
	CodeInvalidDate     = 13005 // birthday not yyyy-MM-dd
	CodeInvalidValue    = 13006 // a value of the wrong type or range, a field the document does not list
)

// request is the body as the document's "Batch Create Request Example"
// shows it. Customers stay generic: every value's JSON type is checked.
type request struct {
	Type          *int64           `json:"type"`
	TenantID      *int64           `json:"tenant_id"`
	AppKey        *string          `json:"app_key"`
	StrictBinding *bool            `json:"strict_binding"`
	Customers     []map[string]any `json:"customers"`
}

// answer is every answer, as the document's examples show it: code 0 with
// data, or another code with data null.
type answer struct {
	Code    int64   `json:"code"`
	Message *string `json:"message"`
	TraceID string  `json:"traceId"`
	Data    *result `json:"data"`
}

// result is the document's BatchCreateResultVO.
type result struct {
	TotalCount   int       `json:"totalCount"`
	SuccessCount int       `json:"successCount"`
	FailCount    int       `json:"failCount"`
	FailItems    []failure `json:"failItems"`
	SuccessItems []success `json:"successItems"`
}

type failure struct {
	Index        int    `json:"index"`
	ErrorCode    int64  `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

type success struct {
	Index         int    `json:"index"`
	CustomerID    int64  `json:"customerId"`
	WhatsAppPhone string `json:"whatsAppPhone"`
}

// A customer's fields, as the document's table lists them.
type fieldSpec struct {
	name   string
	text   bool // a String (else an integer)
	max    int  // "maximum length N characters"; 0: none stated
	digits bool // "digits only"
}

// customerFields is the document's customer table, in its order.
var customerFields = []fieldSpec{
	{name: "full_name", text: true, max: 255},
	{name: "first_name", text: true, max: 128},
	{name: "last_name", text: true, max: 128},
	{name: "sms_phone", text: true, max: 30, digits: true},
	{name: "whats_app_phone", text: true, max: 30, digits: true},
	{name: "viber_phone", text: true, max: 30, digits: true},
	{name: "messenger", text: true, max: 32, digits: true},
	{name: "instagram", text: true, max: 32, digits: true},
	{name: "zalo", text: true, max: 32, digits: true},
	{name: "line", text: true, max: 50},
	{name: "country", text: true, max: 50},
	{name: "email", text: true, max: 50},
	{name: "address", text: true, max: 100},
	{name: "birthday", text: true},
	{name: "tagStr", text: true},
	{name: "remark", text: true, max: 2000},
	{name: "time_zone", text: true},
	{name: "gender"},
	{name: "customize_field", text: true},
	{name: "belong_seat_user", text: true, max: 128},
	{name: "weight"},
}

// isField tells the fields of customerFields.
var isField = func() map[string]bool {
	m := make(map[string]bool, len(customerFields))
	for _, f := range customerFields {
		m[f.name] = true
	}
	return m
}()

// channels "cannot all be empty", in the document's order.
var channels = []string{"sms_phone", "whats_app_phone", "email", "viber_phone", "messenger", "instagram", "line", "zalo"}

// number reads an integer field as decoded with UseNumber.
func number(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
