package schema

import (
	"fmt"
	"slices"
)

// Customer is the canonical customer record. Every field is optional here;
// which are required is the connection's field configuration plus the
// provider's own rules.
type Customer struct {
	Ref            string         `json:"ref,omitempty"`
	Name           string         `json:"name,omitempty" validate:"max=255"`
	FirstName      string         `json:"first_name,omitempty" validate:"max=128"`
	LastName       string         `json:"last_name,omitempty" validate:"max=128"`
	Gender         string         `json:"gender,omitempty" validate:"omitempty,oneof=male female unknown"`
	Birthday       string         `json:"birthday,omitempty" validate:"omitempty,datetime=2006-01-02"`
	WhatsApp       string         `json:"whatsapp,omitempty"`
	Phone          string         `json:"phone,omitempty"`
	Email          string         `json:"email,omitempty" validate:"omitempty,email"`
	Viber          string         `json:"viber,omitempty"`
	Messenger      string         `json:"messenger,omitempty"`
	Instagram      string         `json:"instagram,omitempty"`
	Zalo           string         `json:"zalo,omitempty"`
	Line           string         `json:"line,omitempty"`
	Country        string         `json:"country,omitempty"`
	Address        string         `json:"address,omitempty"`
	TimeZone       string         `json:"time_zone,omitempty"`
	Profession     string         `json:"profession,omitempty"`
	Income         string         `json:"income,omitempty"`
	Remarks        string         `json:"remarks,omitempty"`
	Tags           []string       `json:"tags,omitempty"`
	RemoveTags     []string       `json:"remove_tags,omitempty"`
	Stage          string         `json:"stage,omitempty"`
	Source         string         `json:"source,omitempty"`
	Language       string         `json:"language,omitempty"`
	WelcomeMessage string         `json:"welcome_message,omitempty"`
	Level          *int           `json:"level,omitempty" validate:"omitempty,min=1,max=5"`
	Owner          string         `json:"owner,omitempty"`
	CustomFields   map[string]any `json:"custom_fields,omitempty"`
} //	@name	Customer

// Field names of the canonical model, as they appear in JSON and in Issue.Field.
const (
	FieldRef            = "ref"
	FieldName           = "name"
	FieldFirstName      = "first_name"
	FieldLastName       = "last_name"
	FieldGender         = "gender"
	FieldBirthday       = "birthday"
	FieldWhatsApp       = "whatsapp"
	FieldPhone          = "phone"
	FieldEmail          = "email"
	FieldViber          = "viber"
	FieldMessenger      = "messenger"
	FieldInstagram      = "instagram"
	FieldZalo           = "zalo"
	FieldLine           = "line"
	FieldCountry        = "country"
	FieldAddress        = "address"
	FieldTimeZone       = "time_zone"
	FieldProfession     = "profession"
	FieldIncome         = "income"
	FieldRemarks        = "remarks"
	FieldTags           = "tags"
	FieldRemoveTags     = "remove_tags"
	FieldStage          = "stage"
	FieldSource         = "source"
	FieldLanguage       = "language"
	FieldWelcomeMessage = "welcome_message"
	FieldLevel          = "level"
	FieldOwner          = "owner"
	FieldCustomFields   = "custom_fields"
)

// Fields lists every canonical field name, in the model's order.
var Fields = []string{
	FieldRef, FieldName, FieldFirstName, FieldLastName, FieldGender, FieldBirthday,
	FieldWhatsApp, FieldPhone, FieldEmail, FieldViber, FieldMessenger, FieldInstagram,
	FieldZalo, FieldLine, FieldCountry, FieldAddress, FieldTimeZone, FieldProfession,
	FieldIncome, FieldRemarks, FieldTags, FieldRemoveTags, FieldStage, FieldSource,
	FieldLanguage, FieldWelcomeMessage, FieldLevel, FieldOwner, FieldCustomFields,
}

// FieldSet is a set of canonical fields: bit i stands for Fields[i].
type FieldSet uint64

// FieldsOf is the set of the named fields; a name that is not a canonical
// field is a programming error and panics.
func FieldsOf(names ...string) FieldSet {
	var s FieldSet
	for _, n := range names {
		i := slices.Index(Fields, n)
		if i < 0 {
			panic("schema: " + n + " is not a canonical field")
		}
		s |= 1 << i
	}
	return s
}

// SetFields is the set of c's fields that hold a value, each as IsSet reads
// it: one pass instead of a lookup by name for each field asked about.
func (c *Customer) SetFields() FieldSet {
	var s FieldSet
	for i, v := range [...]string{c.Ref, c.Name, c.FirstName, c.LastName, c.Gender, c.Birthday,
		c.WhatsApp, c.Phone, c.Email, c.Viber, c.Messenger, c.Instagram,
		c.Zalo, c.Line, c.Country, c.Address, c.TimeZone, c.Profession,
		c.Income, c.Remarks, "", "", c.Stage, c.Source,
		c.Language, c.WelcomeMessage, "", c.Owner, ""} {
		if v != "" {
			s |= 1 << i
		}
	}
	if c.FirstName != "" || c.LastName != "" {
		s |= 1 << 1 // a name can be built of them
	}
	if len(c.Tags) > 0 {
		s |= 1 << 20
	}
	if len(c.RemoveTags) > 0 {
		s |= 1 << 21
	}
	if c.Level != nil {
		s |= 1 << 26
	}
	if len(c.CustomFields) > 0 {
		s |= 1 << 28
	}
	return s
}

// CustomFieldPath is the Issue.Field of a custom field: "custom_fields.<name>".
func CustomFieldPath(name string) string { return FieldCustomFields + "." + name }

// IsSet reports whether the named canonical field holds a value. For "name" a
// first/last-name pair counts, because both providers can build a name from it.
// An unknown field name is never set.
func (c *Customer) IsSet(field string) bool {
	switch field {
	case FieldName:
		return c.Name != "" || c.FirstName != "" || c.LastName != ""
	case FieldTags:
		return len(c.Tags) > 0
	case FieldRemoveTags:
		return len(c.RemoveTags) > 0
	case FieldLevel:
		return c.Level != nil
	case FieldCustomFields:
		return len(c.CustomFields) > 0
	}
	s, ok := c.stringField(field)
	return ok && s != ""
}

// FullName is the record's name, or its first and last names joined by a space.
func (c *Customer) FullName() string {
	if c.Name != "" {
		return c.Name
	}
	switch {
	case c.FirstName != "" && c.LastName != "":
		return c.FirstName + " " + c.LastName
	case c.FirstName != "":
		return c.FirstName
	}
	return c.LastName
}

// CustomFieldNames lists the custom field names in sorted order.
func (c *Customer) CustomFieldNames() []string {
	return c.AppendCustomFieldNames(make([]string, 0, len(c.CustomFields)))
}

// AppendCustomFieldNames appends the custom field names to dst in sorted
// order (dst's own elements stay where they are): a caller's buffer on its
// stack holds a record's usual few without an allocation.
func (c *Customer) AppendCustomFieldNames(dst []string) []string {
	dst = slices.Grow(dst, len(c.CustomFields))
	start := len(dst)
	for k := range c.CustomFields {
		dst = append(dst, k)
	}
	slices.Sort(dst[start:])
	return dst
}

func (c *Customer) stringField(field string) (string, bool) {
	switch field {
	case FieldRef:
		return c.Ref, true
	case FieldName:
		return c.Name, true
	case FieldFirstName:
		return c.FirstName, true
	case FieldLastName:
		return c.LastName, true
	case FieldGender:
		return c.Gender, true
	case FieldBirthday:
		return c.Birthday, true
	case FieldWhatsApp:
		return c.WhatsApp, true
	case FieldPhone:
		return c.Phone, true
	case FieldEmail:
		return c.Email, true
	case FieldViber:
		return c.Viber, true
	case FieldMessenger:
		return c.Messenger, true
	case FieldInstagram:
		return c.Instagram, true
	case FieldZalo:
		return c.Zalo, true
	case FieldLine:
		return c.Line, true
	case FieldCountry:
		return c.Country, true
	case FieldAddress:
		return c.Address, true
	case FieldTimeZone:
		return c.TimeZone, true
	case FieldProfession:
		return c.Profession, true
	case FieldIncome:
		return c.Income, true
	case FieldRemarks:
		return c.Remarks, true
	case FieldStage:
		return c.Stage, true
	case FieldSource:
		return c.Source, true
	case FieldLanguage:
		return c.Language, true
	case FieldWelcomeMessage:
		return c.WelcomeMessage, true
	case FieldOwner:
		return c.Owner, true
	}
	return "", false
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
