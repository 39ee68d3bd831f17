package wscrmsim

import "crmgate/schema"

// What the provider document fixes, as the simulator reads it. Nothing here
// is taken from the adapter.

// The document's paths.
const (
	PathBatchImport = "/wscrm-bus-api/customer/api/batchImport"
	PathPoolReplace = "/wscrm-bus-api/customer/api/batchImportWhatsContact"
	PathPoolAppend  = "/wscrm-bus-api/customer/api/batchImportAppendV2"
	PathQuery       = "/wscrm-bus-api/open/customer/query"
)

// headerToken carries the connection's token (providers.md: the document's
// error -1 is "token error", and it shows no other place for one).
const headerToken = "token"

// The codes of the document's answers and of its error-code table.
const (
	CodeOK                 = 200 // success
	CodeServerError        = 500 // server error, for the whole call
	CodeParamError         = -1  // token error / TenantId Is Null / Admin Cannot import data / Data Is Null
	CodeInvalidGender      = 10  // Gender field sex format is invalid
	CodeSourceMissing      = 14  // Source field value does not exist
	CodeStageMissing       = 15  // Stage field value does not exist
	CodeLanguageMissing    = 16  // Customer language value does not exist
	CodeTooManyRecords     = 19  // Exceeded 10,000 record limit
	CodeExtTooLong         = 21  // Extension field content exceeds length
	CodeRequiredMissing    = 22  // Required field validation failed
	CodeExtNumber          = 23  // Extension field - number type format error
	CodeDateFormat         = 24  // Extension field - date type format error / birthday field type format error
	CodeExtTime            = 25  // Extension field - time type format error
	CodeExtSingleSelect    = 26  // Extension field - single-select type format error
	CodeExtMultiSelect     = 27  // Extension field - multi-select type format error
	CodePhoneInvalid       = 28  // Phone number error: not numeric
	CodePhoneEmpty         = 29  // Phone number is empty
	CodeBusy               = 56  // friendWhatsId data is processing (one-minute interval)
	CodeAttachmentTooMany  = 58  // Extension field - attachment url too long: more than 10 URLs
	CodeAttachmentBadURL   = 59  // Extension field - invalid attachment URL
	CodeAttachmentTooLarge = 60  // Extension field - attachment file too large
)

// The document's limits.
const (
	MaxRecords     = 10000 // records in one import call (code 19)
	MaxAttachments = 10    // URLs in one attachment field (code 58)
)

// The keys of an import record (the document's "data Parameter Description"
// and its request examples). Any other key is an extension field.
const (
	keyAgentAccount  = "agentAccount"
	keyWhatsApp      = "whatsApp"
	keyFriendName    = "friendName"
	keySex           = "sex"
	keyBirthday      = "birthday"
	keyAddress       = "address"
	keyEmail         = "email"
	keyProfession    = "profession"
	keyIncome        = "income"
	keyDesc          = "desc"
	keyTabName       = "tabName"
	keyCancelTabName = "cancelTabName"
	keyStage         = "stage"
	keySource        = "source"
	keyLanguageTag   = "languageTag"
	keyWelcome       = "welcome"
)

// The document's value forms.
const (
	layoutBirthday = "2006/01/02"          // birthday: "currently only this format is supported"; also how the query answers dates
	layoutDate     = "2006-01-02"          // extension date fields, as every example writes them; the profile webhook's DOB
	layoutTime     = "15:04:05"            // extension time fields
	layoutUpdateAt = "2006-01-02 15:04:05" // a profile change's updateAt (no zone)
)

// sexValues are the values the import endpoints take for sex ("Gender:
// unknown, male, female"), each with the spelling the webhooks (and this
// simulator's query answers) use for it: MALE, FEMALE and the document's own
// UNKOWNN.
var sexValues = map[string]string{"male": "MALE", "female": "FEMALE", "unknown": "UNKOWNN"}

// Items of a profile-update webhook (USER_SYNC_PORTRAIT).
const (
	itemProfileUpdate = 1 // type: a profile field changed
	fieldTypeBasic    = 0 // fieldType: a basic field
	fieldTypeExt      = 1 // fieldType: an extension field
)

// fieldConfig values of a profile-update item: the value's kind.
const (
	configSingleLine   = 1
	configMultiLine    = 2
	configSingleSelect = 3
	configMultiSelect  = 4
	configNumber       = 5
	configDate         = 6
	configTime         = 7
	configAttachment   = 8
)

// basicField is one basic field of WSCRM's customer: the canonical field it
// is, its key in an import record, and, when the profile webhook carries it,
// its label there and its fieldConfig.
type basicField struct {
	canonical string
	key       string
	label     string // "" when the webhook does not carry the field
	config    int
}

// basicFields is WSCRM's basic fields: the import record's keys beside the
// profile webhook's field table ("Name(Name)", "Gender(Gender)", "DOB
// (Birthday)", ... "Tags"). The canonical names are how a backend's field
// configuration names required fields and how a sandbox change names the
// field it changes.
var basicFields = []basicField{
	{schema.FieldOwner, keyAgentAccount, "", 0}, {schema.FieldWhatsApp, keyWhatsApp, "", 0},
	{schema.FieldName, keyFriendName, "Name", configSingleLine}, {schema.FieldGender, keySex, "Gender", configSingleSelect},
	{schema.FieldBirthday, keyBirthday, "DOB", configDate}, {schema.FieldAddress, keyAddress, "Address", configSingleLine},
	{schema.FieldEmail, keyEmail, "Email", configSingleLine}, {schema.FieldProfession, keyProfession, "Position", configSingleLine},
	{schema.FieldIncome, keyIncome, "Income", configSingleLine}, {schema.FieldRemarks, keyDesc, "Description", configMultiLine},
	{schema.FieldTags, keyTabName, "Tags", configMultiSelect}, {schema.FieldStage, keyStage, "State", configSingleSelect},
	{schema.FieldSource, keySource, "From", configSingleSelect}, {schema.FieldLanguage, keyLanguageTag, "Language", configSingleSelect},
	{schema.FieldWelcomeMessage, keyWelcome, "", 0},
}

// basicFieldOf returns the basic field of a canonical name or a webhook
// label.
func basicFieldOf(name string) (basicField, bool) {
	for _, f := range basicFields {
		if f.canonical == name || (f.label != "" && f.label == name) {
			return f, true
		}
	}
	return basicField{}, false
}
