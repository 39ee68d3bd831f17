package schema

// Code is a stable, documented machine code for a per-record error or warning.
// Codes never change meaning; new ones may be added.
type Code string //	@name	ErrorCode

// The canonical codes. Each keeps the provider's own code and message beside it
// when it came from the provider (Issue.ProviderCode, Issue.ProviderMessage).
const (
	CodeRequired            Code = "required"             // a required field is empty
	CodeInvalidPhone        Code = "invalid_phone"        // not a phone number, or not possible for its country
	CodeInvalidGender       Code = "invalid_gender"       // gender not male/female/unknown
	CodeInvalidDate         Code = "invalid_date"         // not a date in the expected form
	CodeInvalidTime         Code = "invalid_time"         // not HH:mm:ss
	CodeInvalidNumber       Code = "invalid_number"       // not a number
	CodeInvalidOption       Code = "invalid_option"       // stage/source/language/select/tag value not configured
	CodeInvalidEmail        Code = "invalid_email"        // not an e-mail address
	CodeInvalidValue        Code = "invalid_value"        // a value of the wrong JSON type or out of range
	CodeTooLong             Code = "too_long"             // longer than allowed
	CodeTooLarge            Code = "too_large"            // an upload or file over the size or row limit
	CodeUnknownCountry      Code = "unknown_country"      // country not known to the provider
	CodeInvalidTag          Code = "invalid_tag"          // a tag that is empty or contains a comma
	CodeAttachmentInvalid   Code = "attachment_invalid"   // too many, unreachable or oversized attachments
	CodeOwnerNotFound       Code = "owner_not_found"      // the owning agent/seat does not exist
	CodeRecordBusy          Code = "record_busy"          // retry after about a minute
	CodeBatchTooLarge       Code = "batch_too_large"      // the provider's per-call cap was exceeded
	CodeProviderRejected    Code = "provider_rejected"    // the provider refused the whole call
	CodeProviderUnavailable Code = "provider_unavailable" // outcome unknown after retries
	CodeNotSent             Code = "not_sent"             // valid, but not sent because another record failed (all_or_nothing)
	CodeUnknownField        Code = "unknown_field"        // a key the canonical model does not have
	CodeUnsupportedField    Code = "unsupported_field"    // the target provider has no such field (warning; error when strict)
	CodePhoneUnverified     Code = "phone_unverified"     // possible but not valid per the phone metadata (warning)
	CodeCountMismatch       Code = "count_mismatch"       // the provider's counts do not add up to what was sent (warning)
	CodeCanceled            Code = "canceled"             // an import job was canceled before the record was sent
	CodeDuplicateInJob      Code = "duplicate_in_job"     // the record repeats an earlier row's WhatsApp number in the same import job
	CodeInvalidRow          Code = "invalid_row"          // an import file's row could not be read
	CodeInvalidMapping      Code = "invalid_mapping"      // an import job's column mapping names a column the file lacks or a field that does not exist
)

// Issue is one per-record error or warning.
type Issue struct {
	Code            Code   `json:"code"`
	Field           string `json:"field,omitempty"`
	Message         string `json:"message"`
	ProviderCode    string `json:"provider_code,omitempty"`
	ProviderMessage string `json:"provider_message,omitempty"`
} //	@name	Issue

// Issuef builds an Issue with a formatted message.
func Issuef(code Code, field, format string, args ...any) Issue {
	return Issue{Code: code, Field: field, Message: sprintf(format, args...)}
}
