package nxlink

import (
	"errors"
	"strings"

	"crmgate/schema"
)

// codeSeatNotFound is the provider document's code for a belong_seat_user
// that does not exist: in failItems with strict_binding true, as the whole
// call's code otherwise.
const codeSeatNotFound = 12148

// ErrBadAnswer marks a provider answer that cannot be read (not JSON, no
// data with code 0): the records of the call are unknown.
var ErrBadAnswer = errors.New("unreadable provider answer")

// codeMap is the per-record code (failItems[].errorCode) → canonical code
// table. Field is the canonical field the code is always about ("" when the
// code does not imply one; the message may still name it, see
// fieldFromMessage). The document names 12148 only; the others are the codes
// crmgate reads where it names none (providers.md's error table: missing
// full_name or every channel empty, a non-digit phone, a length limit, a bad
// birthday, a value out of range), which the sandbox's simulator answers with.
var codeMap = map[int64]struct {
	code  schema.Code
	field string
}{
	codeSeatNotFound: {schema.CodeOwnerNotFound, schema.FieldOwner},
	13001:            {schema.CodeRequired, schema.FieldName},     // full_name empty
	13002:            {schema.CodeRequired, schema.FieldWhatsApp}, // every channel empty
	13003:            {schema.CodeInvalidPhone, ""},               // a phone field not digits only
	13004:            {schema.CodeTooLong, ""},                    // longer than the document allows
	13005:            {schema.CodeInvalidDate, schema.FieldBirthday},
	13006:            {schema.CodeInvalidValue, ""},
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
	if code == codeSeatNotFound {
		return schema.CodeOwnerNotFound, schema.FieldOwner
	}
	return schema.CodeProviderRejected, ""
}

// fromWire is the wire → canonical table: each wire field of the document
// with the canonical field it carries (Translate is the other direction).
var fromWire = map[string]string{
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
	return fromWire[strings.TrimSuffix(word, ":")]
}
