// Package plainrecord decodes canonical records (schema.Customer) of the
// plain JSON shape that nearly every caller sends, without reflection, and
// nothing else: a key it does not know exactly, a key twice in one object, a
// backslash escape, null, a nested value inside custom_fields, a level that
// is not a plain integer or a value of another type make it report false,
// and the strict decoder behind it decides. Whenever it accepts, the strict
// decoder accepts too and gives the same record (api's FuzzDecodePlainIsStrict
// for whole bodies, gateway's FuzzPlainRecordIsStrict for one record).
//
// It is the record reader of api's import bodies and of every record the
// import service decodes on its own (an import job's rows, a body the plain
// reader of api left to the strict decoders).
package plainrecord

import (
	"encoding/json"
	"unicode/utf8"

	"crmgate/internal/plainjson"
	"crmgate/schema"
)

// Scanner reads records from the text of its plainjson.Scanner; the
// records' strings are substrings of that text.
type Scanner struct{ plainjson.Scanner }

// Decode decodes one record, raw and nothing else. Its strings share one
// copy of raw (raw may change afterwards).
func Decode(raw []byte) (*schema.Customer, bool) {
	if !utf8.Valid(raw) {
		return nil, false
	}
	p := Scanner{plainjson.Scanner{S: string(raw)}}
	c := new(schema.Customer)
	if !p.Record(c) || !p.End() {
		return nil, false
	}
	return c, true
}

// Records reads an array of records, with room for about n.
func (p *Scanner) Records(n int) ([]schema.Customer, bool) {
	cs := make([]schema.Customer, 0, n)
	ok := p.Array(func() bool {
		cs = append(cs, schema.Customer{})
		return p.Record(&cs[len(cs)-1])
	})
	return cs, ok
}

// Record reads one record into c, each key at most once: the canonical
// fields, tags and remove_tags as arrays of strings, level as a plain
// integer, custom_fields as an object of strings, numbers (json.Number, their
// text) and booleans. It reports false for anything else.
func (p *Scanner) Record(c *schema.Customer) bool {
	return p.Object(func(key string) (uint64, bool) {
		bit, ok := p.field(c, key)
		return uint64(bit), ok
	})
}

// field reads the value of key into c and returns the key's bit among the
// record's fields.
func (p *Scanner) field(c *schema.Customer, key string) (uint32, bool) {
	var dst *string
	var bit uint32
	switch key {
	case schema.FieldRef:
		dst, bit = &c.Ref, 1<<0
	case schema.FieldName:
		dst, bit = &c.Name, 1<<1
	case schema.FieldFirstName:
		dst, bit = &c.FirstName, 1<<2
	case schema.FieldLastName:
		dst, bit = &c.LastName, 1<<3
	case schema.FieldGender:
		dst, bit = &c.Gender, 1<<4
	case schema.FieldBirthday:
		dst, bit = &c.Birthday, 1<<5
	case schema.FieldWhatsApp:
		dst, bit = &c.WhatsApp, 1<<6
	case schema.FieldPhone:
		dst, bit = &c.Phone, 1<<7
	case schema.FieldEmail:
		dst, bit = &c.Email, 1<<8
	case schema.FieldViber:
		dst, bit = &c.Viber, 1<<9
	case schema.FieldMessenger:
		dst, bit = &c.Messenger, 1<<10
	case schema.FieldInstagram:
		dst, bit = &c.Instagram, 1<<11
	case schema.FieldZalo:
		dst, bit = &c.Zalo, 1<<12
	case schema.FieldLine:
		dst, bit = &c.Line, 1<<13
	case schema.FieldCountry:
		dst, bit = &c.Country, 1<<14
	case schema.FieldAddress:
		dst, bit = &c.Address, 1<<15
	case schema.FieldTimeZone:
		dst, bit = &c.TimeZone, 1<<16
	case schema.FieldProfession:
		dst, bit = &c.Profession, 1<<17
	case schema.FieldIncome:
		dst, bit = &c.Income, 1<<18
	case schema.FieldRemarks:
		dst, bit = &c.Remarks, 1<<19
	case schema.FieldStage:
		dst, bit = &c.Stage, 1<<20
	case schema.FieldSource:
		dst, bit = &c.Source, 1<<21
	case schema.FieldLanguage:
		dst, bit = &c.Language, 1<<22
	case schema.FieldWelcomeMessage:
		dst, bit = &c.WelcomeMessage, 1<<23
	case schema.FieldOwner:
		dst, bit = &c.Owner, 1<<24
	case schema.FieldTags:
		var ok bool
		c.Tags, ok = p.Strs()
		return 1 << 25, ok
	case schema.FieldRemoveTags:
		var ok bool
		c.RemoveTags, ok = p.Strs()
		return 1 << 26, ok
	case schema.FieldLevel:
		var ok bool
		c.Level, ok = p.Level()
		return 1 << 27, ok
	case schema.FieldCustomFields:
		var ok bool
		c.CustomFields, ok = p.customFields()
		return 1 << 28, ok
	default:
		return 0, false
	}
	var ok bool
	*dst, ok = p.Str()
	return bit, ok
}

// customFields reads an object of strings, numbers (as json.Number, their
// text) and booleans.
func (p *Scanner) customFields() (map[string]any, bool) {
	m := map[string]any{}
	ok := p.Object(func(key string) (uint64, bool) {
		if _, twice := m[key]; twice {
			return 0, false
		}
		var ok bool
		switch c := p.Peek(); {
		case c == '"':
			m[key], ok = p.Str()
		case c == 't' || c == 'f':
			m[key], ok = p.Bool()
		case c == '-' || (c >= '0' && c <= '9'):
			var text string
			text, ok = p.Number()
			m[key] = json.Number(text)
		}
		return 0, ok
	})
	return m, ok
}
