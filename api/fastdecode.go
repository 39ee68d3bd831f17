package api

import (
	"encoding/json"
	"unsafe"

	"crmgate/internal/plainjson"

	"crmgate/schema"
)

// decodePlain is DecodeImport's first tier: a scanner, without reflection,
// for an import body of the plain shape that nearly every caller sends, and
// for nothing else. It decodes the envelope's keys and each record's
// canonical fields, with custom_fields values that are strings, numbers or
// booleans. Anything else (a key it does not know exactly, a key twice in
// one object, a backslash escape, null, a nested value inside
// custom_fields, a level that is not a plain integer, a value of another
// type, no customers key, anything after the body) makes it answer ok =
// false, and the strict decoders behind it decide as before.
//
// So its correctness is one property: whenever it accepts a body, the
// strict whole-body decode accepts it too and gives the same request and
// records. FuzzDecodePlainIsStrict holds it to that; TestDecodePlainShapes
// lists the edges.
//
// Every string it returns points into body itself, without a copy (the
// body is the caller's and never written again: DecodeImport's contract),
// so the records' strings cost nothing beyond the body the request already
// holds, and a record is held once. body must be valid UTF-8 (checkText).
func decodePlain(body []byte) (req ImportRequest, cs []schema.Customer, ok bool) {
	p := plainScanner{plainjson.Scanner{S: unsafe.String(unsafe.SliceData(body), len(body))}}
	ok = p.Object(func(key string) (uint64, bool) {
		var ok bool
		switch key {
		case "connection":
			req.Connection, ok = p.Str()
			return 1 << 0, ok
		case "mode":
			req.Mode, ok = p.Str()
			return 1 << 1, ok
		case "strict":
			req.Strict, ok = p.Bool()
			return 1 << 2, ok
		case "strict_owner":
			req.StrictOwner, ok = p.Bool()
			return 1 << 3, ok
		case "all_or_nothing":
			req.AllOrNothing, ok = p.Bool()
			return 1 << 4, ok
		case "default_region":
			req.DefaultRegion, ok = p.Str()
			return 1 << 5, ok
		case "customers":
			cs, ok = p.records(recordsEstimate(body))
			return 1 << 6, ok
		}
		return 0, false
	})
	if !ok || cs == nil || !p.End() {
		return req, nil, false
	}
	req.Customers = make([]json.RawMessage, len(cs))
	return req, cs, true
}

// plainScanner is the scanner with the readers of the import body's parts.
type plainScanner struct{ plainjson.Scanner }

// records reads the array of records, with room for about n.
func (p *plainScanner) records(n int) ([]schema.Customer, bool) {
	cs := make([]schema.Customer, 0, n)
	ok := p.Array(func() bool {
		cs = append(cs, schema.Customer{})
		return p.record(&cs[len(cs)-1])
	})
	return cs, ok
}

// record reads one record into c, each key at most once.
func (p *plainScanner) record(c *schema.Customer) bool {
	return p.Object(func(key string) (uint64, bool) {
		bit, ok := p.field(c, key)
		return uint64(bit), ok
	})
}

// field reads the value of key into c and returns the key's bit among the
// record's fields.
func (p *plainScanner) field(c *schema.Customer, key string) (uint32, bool) {
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
func (p *plainScanner) customFields() (map[string]any, bool) {
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
