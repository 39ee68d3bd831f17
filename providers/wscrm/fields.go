package wscrm

import (
	"strings"

	"crmgate/schema"
)

// WSCRM's field tables, one per direction: recordFields (canonical → the keys
// of an import record) and labelFields (the labels of WSCRM's profile
// webhook → canonical). The query answer is read by its wire type
// (queryContact) in fromContact.

// basicKey indexes the basic keys of an import record, in the document's
// order ("data Parameter Description").
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

// recordField is one basic key of an import record: its name on the wire,
// the canonical field it carries, and that field's value as sent ("" leaves
// the key out: batchImport merges, and an empty value carries nothing).
type recordField struct {
	name      string
	canonical string
	value     func(*schema.Customer) string
}

// recordFields is the canonical → wire table of an import record. Values
// are those of a record schema.Check and the field rules passed: gender is
// sent as given (male, female or unknown, as the document lists them),
// birthday YYYY-MM-DD becomes the document's only format yyyy/MM/dd, tags are
// joined with commas, and a name is the full name (first and last names
// joined when there is no name).
var recordFields = [numBasicKeys]recordField{
	keyAgentAccount:  {"agentAccount", schema.FieldOwner, func(c *schema.Customer) string { return c.Owner }},
	keyWhatsApp:      {"whatsApp", schema.FieldWhatsApp, func(c *schema.Customer) string { return c.WhatsApp }},
	keyFriendName:    {"friendName", schema.FieldName, (*schema.Customer).FullName},
	keySex:           {"sex", schema.FieldGender, func(c *schema.Customer) string { return c.Gender }},
	keyBirthday:      {"birthday", schema.FieldBirthday, func(c *schema.Customer) string { return strings.ReplaceAll(c.Birthday, "-", "/") }},
	keyAddress:       {"address", schema.FieldAddress, func(c *schema.Customer) string { return c.Address }},
	keyEmail:         {"email", schema.FieldEmail, func(c *schema.Customer) string { return c.Email }},
	keyProfession:    {"profession", schema.FieldProfession, func(c *schema.Customer) string { return c.Profession }},
	keyIncome:        {"income", schema.FieldIncome, func(c *schema.Customer) string { return c.Income }},
	keyDesc:          {"desc", schema.FieldRemarks, func(c *schema.Customer) string { return c.Remarks }},
	keyTabName:       {"tabName", schema.FieldTags, func(c *schema.Customer) string { return strings.Join(c.Tags, ",") }},
	keyCancelTabName: {"cancelTabName", schema.FieldRemoveTags, func(c *schema.Customer) string { return strings.Join(c.RemoveTags, ",") }},
	keyStage:         {"stage", schema.FieldStage, func(c *schema.Customer) string { return c.Stage }},
	keySource:        {"source", schema.FieldSource, func(c *schema.Customer) string { return c.Source }},
	keyLanguageTag:   {"languageTag", schema.FieldLanguage, func(c *schema.Customer) string { return c.Language }},
	keyWelcome:       {"welcome", schema.FieldWelcomeMessage, func(c *schema.Customer) string { return c.WelcomeMessage }},
}

// unsupportedFields are the canonical fields WSCRM has no place for.
// first_name and last_name are not listed: they build friendName.
var unsupportedFields = []string{
	schema.FieldPhone, schema.FieldViber, schema.FieldMessenger, schema.FieldInstagram,
	schema.FieldZalo, schema.FieldLine, schema.FieldCountry, schema.FieldTimeZone, schema.FieldLevel,
}

// unsupportedSet is unsupportedFields as a set.
var unsupportedSet = schema.FieldsOf(unsupportedFields...)

// basicIndex finds a basic key by its wire name; an extension field may not
// use one of these names.
var basicIndex = func() map[string]basicKey {
	m := make(map[string]basicKey, numBasicKeys)
	for k, f := range recordFields {
		m[f.name] = basicKey(k)
	}
	return m
}()

// labelFields is the wire → canonical table of WSCRM's profile-update
// webhook: its basic fields by the labels it writes ("field", fieldType 0;
// the document's table "Name(Name)", "Gender(Gender)", "DOB(Birthday)", ...).
var labelFields = map[string]string{
	"Name":        schema.FieldName,
	"Gender":      schema.FieldGender,
	"DOB":         schema.FieldBirthday,
	"Address":     schema.FieldAddress,
	"Email":       schema.FieldEmail,
	"Position":    schema.FieldProfession,
	"Income":      schema.FieldIncome,
	"Description": schema.FieldRemarks,
	"From":        schema.FieldSource,
	"State":       schema.FieldStage,
	"Language":    schema.FieldLanguage,
	"Tags":        schema.FieldTags,
}
