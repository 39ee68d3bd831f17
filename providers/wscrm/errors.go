package wscrm

import (
	"errors"
	"fmt"
	"strings"

	"crmgate/schema"
)

// WSCRM's own codes, as the provider document's error-code table lists them.
const (
	CodeOK                 = 200 // success (the document types it a string; examples are numbers)
	CodeServerError        = 500 // server error for the whole call: retried like an HTTP 5xx
	CodeParamError         = -1  // token error / TenantId Is Null / Admin Cannot import data / Data Is Null
	CodeInvalidGender      = 10  // sex not unknown, male or female
	CodeSourceMissing      = 14  // source label does not exist
	CodeStageMissing       = 15  // stage label does not exist
	CodeLanguageMissing    = 16  // languageTag value does not exist
	CodeTooManyRecords     = 19  // more than 10 000 records in one call
	CodeExtTooLong         = 21  // extension field longer than allowed
	CodeRequiredMissing    = 22  // a required field is empty
	CodeExtNumber          = 23  // extension number field not a number
	CodeDateFormat         = 24  // extension date field or birthday not in the expected form
	CodeExtTime            = 25  // extension time field not HH:mm:ss
	CodeExtSingleSelect    = 26  // single-select: several options, or one that no longer exists
	CodeExtMultiSelect     = 27  // multi-select: an option that no longer exists
	CodePhoneInvalid       = 28  // whatsApp not numeric
	CodePhoneEmpty         = 29  // whatsApp empty
	CodeCountryMissing     = 51  // country not known
	CodeBusy               = 56  // friendWhatsId data is processing (one-minute interval)
	CodeAttachmentTooMany  = 58  // more than 10 attachment URLs
	CodeAttachmentBadURL   = 59  // invalid attachment URL, network fluctuation or oversized file
	CodeAttachmentTooLarge = 60  // oversized attachment
)

// Limits the provider document sets.
const (
	MaxRecordsPerCall     = 10000 // records per import call (more: code 19)
	BusyRetryAfterSeconds = 60    // how long a record_busy record should wait before a retry
)

// fieldCustomFieldsGeneric is the Issue.Field of an extension-field code: the
// provider does not say which field.
const fieldCustomFieldsGeneric = schema.FieldCustomFields

// ErrorMapping is what one WSCRM code means canonically.
type ErrorMapping struct {
	Code       schema.Code // the canonical code
	Field      string      // the canonical field the code implies, "" when it names none
	RetryAfter int         // seconds to wait before a retry, 0 when a retry does not help
}

// errorTable is the provider document's error-code table read as canonical codes
// (providers.md, "Error codes → canonical codes").
var errorTable = map[int]ErrorMapping{
	CodeParamError:         {Code: schema.CodeProviderRejected},
	CodeServerError:        {Code: schema.CodeProviderUnavailable},
	CodeInvalidGender:      {Code: schema.CodeInvalidGender, Field: schema.FieldGender},
	CodeSourceMissing:      {Code: schema.CodeInvalidOption, Field: schema.FieldSource},
	CodeStageMissing:       {Code: schema.CodeInvalidOption, Field: schema.FieldStage},
	CodeLanguageMissing:    {Code: schema.CodeInvalidOption, Field: schema.FieldLanguage},
	CodeTooManyRecords:     {Code: schema.CodeBatchTooLarge},
	CodeExtTooLong:         {Code: schema.CodeTooLong, Field: fieldCustomFieldsGeneric},
	CodeRequiredMissing:    {Code: schema.CodeRequired},
	CodeExtNumber:          {Code: schema.CodeInvalidNumber, Field: fieldCustomFieldsGeneric},
	CodeDateFormat:         {Code: schema.CodeInvalidDate, Field: schema.FieldBirthday},
	CodeExtTime:            {Code: schema.CodeInvalidTime, Field: fieldCustomFieldsGeneric},
	CodeExtSingleSelect:    {Code: schema.CodeInvalidOption, Field: fieldCustomFieldsGeneric},
	CodeExtMultiSelect:     {Code: schema.CodeInvalidOption, Field: fieldCustomFieldsGeneric},
	CodePhoneInvalid:       {Code: schema.CodeInvalidPhone, Field: schema.FieldWhatsApp},
	CodePhoneEmpty:         {Code: schema.CodeRequired, Field: schema.FieldWhatsApp},
	CodeCountryMissing:     {Code: schema.CodeUnknownCountry, Field: schema.FieldCountry},
	CodeBusy:               {Code: schema.CodeRecordBusy, RetryAfter: BusyRetryAfterSeconds},
	CodeAttachmentTooMany:  {Code: schema.CodeAttachmentInvalid, Field: fieldCustomFieldsGeneric},
	CodeAttachmentBadURL:   {Code: schema.CodeAttachmentInvalid, Field: fieldCustomFieldsGeneric},
	CodeAttachmentTooLarge: {Code: schema.CodeAttachmentInvalid, Field: fieldCustomFieldsGeneric},
}

// MapCode returns the canonical meaning of a WSCRM code. A code the table does
// not list is provider_rejected with no field.
func MapCode(code int) ErrorMapping {
	if m, ok := errorTable[code]; ok {
		return m
	}
	return ErrorMapping{Code: schema.CodeProviderRejected}
}

// issueFor builds the canonical Issue of one WSCRM code and message. Code 24
// names the birthday unless the provider's message speaks of an extension
// field only (the code covers both).
func issueFor(code int, info string) schema.Issue {
	m := MapCode(code)
	field := m.Field
	if code == CodeDateFormat {
		low := strings.ToLower(info)
		if strings.Contains(low, "extension") && !strings.Contains(low, "birthday") {
			field = fieldCustomFieldsGeneric
		}
	}
	msg := "WSCRM refused the record"
	if info != "" {
		msg += ": " + info
	}
	return schema.Issue{
		Code:            m.Code,
		Field:           field,
		Message:         msg,
		ProviderCode:    fmt.Sprint(code),
		ProviderMessage: info,
	}
}

// errNotJSON marks a 2xx answer that could not be read: the outcome of the
// call is unknown.
var errNotJSON = errors.New("answer is not the documented JSON")
