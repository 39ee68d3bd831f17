package api

import (
	"encoding/json"
	"strconv"

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
// Every string it returns is a substring of one copy of the body, so the
// records' strings cost one allocation in all instead of one each, and a
// record is held once. body must be valid UTF-8 (checkText).
func decodePlain(body []byte) (req ImportRequest, cs []schema.Customer, ok bool) {
	p := plainScanner{s: string(body)}
	if !p.byte('{') {
		return req, nil, false
	}
	var seen uint8
	const (
		seenConnection = 1 << iota
		seenMode
		seenStrict
		seenStrictOwner
		seenAllOrNothing
		seenRegion
		seenCustomers
	)
	for first := true; ; first = false {
		if p.peek() == '}' && first {
			break
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return req, nil, false
		}
		var bit uint8
		switch key {
		case "connection":
			bit = seenConnection
			req.Connection, ok = p.str()
		case "mode":
			bit = seenMode
			req.Mode, ok = p.str()
		case "strict":
			bit = seenStrict
			req.Strict, ok = p.bool()
		case "strict_owner":
			bit = seenStrictOwner
			req.StrictOwner, ok = p.bool()
		case "all_or_nothing":
			bit = seenAllOrNothing
			req.AllOrNothing, ok = p.bool()
		case "default_region":
			bit = seenRegion
			req.DefaultRegion, ok = p.str()
		case "customers":
			bit = seenCustomers
			cs, ok = p.records(recordsEstimate(body))
		default:
			return req, nil, false
		}
		if !ok || seen&bit != 0 {
			return req, nil, false
		}
		seen |= bit
		if p.peek() == ',' {
			p.i++
			continue
		}
		break
	}
	if !p.byte('}') || seen&seenCustomers == 0 {
		return req, nil, false
	}
	p.space()
	if p.i != len(p.s) {
		return req, nil, false
	}
	req.Customers = make([]json.RawMessage, len(cs))
	return req, cs, true
}

// plainScanner reads JSON from s at i. Each method skips the whitespace
// before what it reads and reports false for anything outside the plain
// shape, leaving i wherever it stopped (the caller then gives up).
type plainScanner struct {
	s string
	i int
}

func (p *plainScanner) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek is the next byte after whitespace, or 0 at the end.
func (p *plainScanner) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// byte reads the byte c.
func (p *plainScanner) byte(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string without escapes or control characters.
func (p *plainScanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) && !stringStops[p.s[p.i]] {
		p.i++
	}
	if p.i == len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	p.i++
	return p.s[start : p.i-1], true
}

// stringStops are the bytes that end a plain string's scan: its closing
// quote, and the backslash and control characters it does not take.
var stringStops = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// bool reads true or false.
func (p *plainScanner) bool() (bool, bool) {
	switch p.peek() {
	case 't':
		return true, p.word("true")
	case 'f':
		return false, p.word("false")
	}
	return false, false
}

func (p *plainScanner) word(w string) bool {
	if len(p.s)-p.i < len(w) || p.s[p.i:p.i+len(w)] != w {
		return false
	}
	p.i += len(w)
	return p.delimited()
}

// delimited reports whether a literal or number ended where it should: at
// the end or before whitespace or a structural character.
func (p *plainScanner) delimited() bool {
	if p.i == len(p.s) {
		return true
	}
	switch p.s[p.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']', ':':
		return true
	}
	return false
}

// number reads a JSON number and returns its text.
func (p *plainScanner) number() (string, bool) {
	p.space()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return "", false
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return "", false
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return "", false
		}
	}
	return p.s[start:p.i], p.delimited()
}

func (p *plainScanner) digits() int {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// level reads a non-negative integer of at most 18 digits without a
// leading zero.
func (p *plainScanner) level() (*int, bool) {
	text, ok := p.number()
	if !ok || len(text) == 0 || len(text) > 18 || (len(text) > 1 && text[0] == '0') {
		return nil, false
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return nil, false
		}
	}
	n, err := strconv.Atoi(text)
	return &n, err == nil
}

// strs reads an array of strings.
func (p *plainScanner) strs() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []string{}
	if p.peek() == ']' {
		p.i++
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

// records reads the array of records, with room for about n.
func (p *plainScanner) records(n int) ([]schema.Customer, bool) {
	if !p.byte('[') {
		return nil, false
	}
	cs := make([]schema.Customer, 0, n)
	if p.peek() == ']' {
		p.i++
		return cs, true
	}
	for {
		cs = append(cs, schema.Customer{})
		if !p.record(&cs[len(cs)-1]) {
			return nil, false
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return cs, true
		default:
			return nil, false
		}
	}
}

// record reads one record into c, each key at most once.
func (p *plainScanner) record(c *schema.Customer) bool {
	if !p.byte('{') {
		return false
	}
	if p.peek() == '}' {
		p.i++
		return true
	}
	var seen uint32
	for {
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		bit, ok := p.field(c, key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
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
		c.Tags, ok = p.strs()
		return 1 << 25, ok
	case schema.FieldRemoveTags:
		var ok bool
		c.RemoveTags, ok = p.strs()
		return 1 << 26, ok
	case schema.FieldLevel:
		var ok bool
		c.Level, ok = p.level()
		return 1 << 27, ok
	case schema.FieldCustomFields:
		var ok bool
		c.CustomFields, ok = p.customFields()
		return 1 << 28, ok
	default:
		return 0, false
	}
	var ok bool
	*dst, ok = p.str()
	return bit, ok
}

// customFields reads an object of strings, numbers (as json.Number, their
// text) and booleans.
func (p *plainScanner) customFields() (map[string]any, bool) {
	if !p.byte('{') {
		return nil, false
	}
	m := map[string]any{}
	if p.peek() == '}' {
		p.i++
		return m, true
	}
	for {
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return nil, false
		}
		if _, twice := m[key]; twice {
			return nil, false
		}
		switch c := p.peek(); {
		case c == '"':
			m[key], ok = p.str()
		case c == 't' || c == 'f':
			m[key], ok = p.bool()
		case c == '-' || (c >= '0' && c <= '9'):
			var text string
			text, ok = p.number()
			m[key] = json.Number(text)
		default:
			return nil, false
		}
		if !ok {
			return nil, false
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, true
		default:
			return nil, false
		}
	}
}
