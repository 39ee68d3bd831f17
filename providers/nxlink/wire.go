package nxlink

import "encoding/json"

// BatchCreatePath is the batch create call, relative to the base URL.
const BatchCreatePath = "/saas/cdp/openapi/customers/batch_create"

// MaxBatch is how many customers one call may carry.
const MaxBatch = 100

// Header names, spelled as the provider document spells them.
const (
	headerAccessKey = "accessKey"
	headerTS        = "ts"
	headerBizType   = "bizType"
	headerAction    = "action"
	headerSign      = "sign"
	headerAlgorithm = "algorithm"
)

// Merge strategies (the body's "type").
const (
	typeReplace      = 0 // discard old data, use new data
	typeMerge        = 1 // update/add data items based on old data
	typeKeepExisting = 2 // keep old data, discard new data
)

// wireCustomer is one element of the body's "customers". Empty values are
// left out; full_name is required by the document and always sent. gender is
// a pointer because 0 (female) is a value.
type wireCustomer struct {
	FullName       string `json:"full_name"`
	FirstName      string `json:"first_name,omitempty"`
	LastName       string `json:"last_name,omitempty"`
	SMSPhone       string `json:"sms_phone,omitempty"`
	WhatsAppPhone  string `json:"whats_app_phone,omitempty"`
	ViberPhone     string `json:"viber_phone,omitempty"`
	Messenger      string `json:"messenger,omitempty"`
	Instagram      string `json:"instagram,omitempty"`
	Zalo           string `json:"zalo,omitempty"`
	Line           string `json:"line,omitempty"`
	Country        string `json:"country,omitempty"`
	Email          string `json:"email,omitempty"`
	Address        string `json:"address,omitempty"`
	Birthday       string `json:"birthday,omitempty"`
	TagStr         string `json:"tagStr,omitempty"`
	Remark         string `json:"remark,omitempty"`
	TimeZone       string `json:"time_zone,omitempty"`
	Gender         *int   `json:"gender,omitempty"`
	CustomizeField string `json:"customize_field,omitempty"`
	BelongSeatUser string `json:"belong_seat_user,omitempty"`
	Weight         int    `json:"weight,omitempty"`
}

// batchRequest is the body of the batch create call. type and
// strict_binding are always sent (type 0 is a value).
type batchRequest struct {
	Type          int             `json:"type"`
	TenantID      int64           `json:"tenant_id"`
	AppKey        string          `json:"app_key"`
	StrictBinding bool            `json:"strict_binding"`
	Customers     []*wireCustomer `json:"customers"`
}

// batchResponse is every answer of the provider: code 0 with data, or a
// whole-call code with data null. Numbers stay json.Number so that a
// customerId such as 1214631327620775936 is kept exactly.
type batchResponse struct {
	Code    json.Number `json:"code"`
	Message *string     `json:"message"`
	TraceID string      `json:"traceId"`
	Data    *batchData  `json:"data"`
}

// batchData is what the gateway reads of the document's
// BatchCreateResultVO (successCount and failCount are not read: the items
// say it).
type batchData struct {
	TotalCount   json.Number   `json:"totalCount"`
	FailItems    []failItem    `json:"failItems"`
	SuccessItems []successItem `json:"successItems"`
}

// failItem is one record the provider refused; Index is its position in the call.
type failItem struct {
	Index        json.Number `json:"index"`
	ErrorCode    json.Number `json:"errorCode"`
	ErrorMessage string      `json:"errorMessage"`
}

// successItem is one record the provider stored; Index is its position in
// the call (its whatsAppPhone is not read).
type successItem struct {
	Index      json.Number `json:"index"`
	CustomerID json.Number `json:"customerId"`
}
