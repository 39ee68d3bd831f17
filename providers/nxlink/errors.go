package nxlink

import (
	"errors"
	"strings"

	"crmgate/schema"
)

// CodeSeatNotFound is the provider document's code for a belong_seat_user that
// does not exist: in failItems with strict_binding true, as the whole call's
// code otherwise.
const CodeSeatNotFound = 12148

// Per-record codes (failItems[].errorCode) that the Simulator uses where the
// provider document names none. Each message starts with the wire field it is
// about ("whats_app_phone must be digits only").
const (
	SimCodeNameRequired    = 13001 // full_name empty
	SimCodeChannelRequired = 13002 // every channel empty
	SimCodeInvalidPhone    = 13003 // a phone field holds more than digits
	SimCodeTooLong         = 13004 // a field longer than the document allows
	SimCodeInvalidDate     = 13005 // birthday not yyyy-MM-dd
	SimCodeInvalidValue    = 13006 // a value of the wrong type, weight not 1..5, gender not 0/1, customize_field not a JSON object
)

// Whole-call codes (top-level code, data null) that the Simulator uses where
// the provider document names none. It answers them with HTTP 200, as the
// provider does.
const (
	SimCodeBadRequest     = 10001 // a header missing, a malformed body, type not 0/1/2, a bad algorithm header
	SimCodeUnknownKey     = 10002 // accessKey is not a known account
	SimCodeClockSkew      = 10003 // ts more than 60 000 ms from the server's clock
	SimCodeBadSign        = 10004 // sign does not match
	SimCodeTenantMismatch = 10005 // tenant_id or app_key is not the account's
	SimCodeTooManyRecords = 10006 // customers empty or more than 100
)

// ErrBadAnswer marks a provider answer that cannot be read (not JSON, no
// data with code 0): the records of the call are unknown.
var ErrBadAnswer = errors.New("unreadable provider answer")

// codeMap is the provider code → canonical code table. Field is the canonical
// field the code is always about ("" when the code does not imply one; the
// message may still name it, see fieldFromMessage).
var codeMap = map[int64]struct {
	code  schema.Code
	field string
}{
	CodeSeatNotFound:       {schema.CodeOwnerNotFound, schema.FieldOwner},
	SimCodeNameRequired:    {schema.CodeRequired, schema.FieldName},
	SimCodeChannelRequired: {schema.CodeRequired, schema.FieldWhatsApp},
	SimCodeInvalidPhone:    {schema.CodeInvalidPhone, ""},
	SimCodeTooLong:         {schema.CodeTooLong, ""},
	SimCodeInvalidDate:     {schema.CodeInvalidDate, schema.FieldBirthday},
	SimCodeInvalidValue:    {schema.CodeInvalidValue, ""},
}

// canonicalCode maps a per-record provider code (failItems[].errorCode), with
// its message, to the canonical code and field. An unknown code is
// provider_rejected with no field.
func canonicalCode(code int64, message string) (schema.Code, string) {
	m, ok := codeMap[code]
	if !ok {
		return schema.CodeProviderRejected, ""
	}
	if m.field == "" {
		return m.code, fieldFromMessage(message)
	}
	return m.code, m.field
}

// wholeCallCode maps a top-level code other than 0: 12148 is owner_not_found
// (the owner field), anything else provider_rejected.
func wholeCallCode(code int64) (schema.Code, string) {
	if code == CodeSeatNotFound {
		return schema.CodeOwnerNotFound, schema.FieldOwner
	}
	return schema.CodeProviderRejected, ""
}

// wireFields maps each wire field to its canonical field.
var wireFields = map[string]string{
	"full_name":        schema.FieldName,
	"first_name":       schema.FieldFirstName,
	"last_name":        schema.FieldLastName,
	"sms_phone":        schema.FieldPhone,
	"whats_app_phone":  schema.FieldWhatsApp,
	"viber_phone":      schema.FieldViber,
	"messenger":        schema.FieldMessenger,
	"instagram":        schema.FieldInstagram,
	"zalo":             schema.FieldZalo,
	"line":             schema.FieldLine,
	"country":          schema.FieldCountry,
	"email":            schema.FieldEmail,
	"address":          schema.FieldAddress,
	"birthday":         schema.FieldBirthday,
	"tagStr":           schema.FieldTags,
	"remark":           schema.FieldRemarks,
	"time_zone":        schema.FieldTimeZone,
	"gender":           schema.FieldGender,
	"customize_field":  schema.FieldCustomFields,
	"belong_seat_user": schema.FieldOwner,
	"weight":           schema.FieldLevel,
}

// fieldFromMessage returns the canonical field of a message that starts with
// a wire field name followed by a space or a colon, or "".
func fieldFromMessage(message string) string {
	word, _, _ := strings.Cut(strings.TrimSpace(message), " ")
	return wireFields[strings.TrimSuffix(word, ":")]
}
