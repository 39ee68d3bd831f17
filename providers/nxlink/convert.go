package nxlink

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"

	"crmgate/providers/internal/wirejson"
)

// Modes lists the import modes NXLink honours: merge (type 1), replace
// (type 0) and keep_existing (type 2).
func (a *Adapter) Modes() []string {
	return []string{gateway.ModeMerge, gateway.ModeReplace, gateway.ModeKeepExisting}
}

// modeType maps a canonical mode to the body's type; "" is merge.
func modeType(mode string) (int, error) {
	switch mode {
	case gateway.ModeMerge, "":
		return typeMerge, nil
	case gateway.ModeReplace:
		return typeReplace, nil
	case gateway.ModeKeepExisting:
		return typeKeepExisting, nil
	}
	return 0, fmt.Errorf("mode %q is not one of merge, replace, keep_existing", mode)
}

// unsupported lists the canonical fields NXLink has no field for.
var unsupported = []string{
	schema.FieldProfession, schema.FieldIncome, schema.FieldRemoveTags, schema.FieldStage,
	schema.FieldSource, schema.FieldLanguage, schema.FieldWelcomeMessage,
}

// channels are the canonical fields of which NXLink needs at least one, in
// the document's order (sms_phone, whats_app_phone, email, viber_phone,
// messenger, instagram, line, zalo).
var channels = []string{
	schema.FieldPhone, schema.FieldWhatsApp, schema.FieldEmail, schema.FieldViber,
	schema.FieldMessenger, schema.FieldInstagram, schema.FieldLine, schema.FieldZalo,
}

// Translate applies NXLink's own rules to a record that passed schema.Check
// and rules.Check, and returns its wire form (nil when there are errors).
// It trusts what those checks found: phones are digits, gender is male,
// female or unknown, the birthday a date, level 1 to 5, tags neither empty
// nor holding a comma; a record that did not pass them gives an undefined
// wire form (the import service never translates one).
//
// Errors, each naming the canonical field: an operation other than an import
// (NXLink has no import pool); no name even from first/last name (required,
// "name"); a value longer than the document allows (too_long); no channel at
// all (required, "whatsapp"); a custom field that rules does not configure
// (unknown_field; a nil rules configures none). Fields NXLink lacks
// (profession, income, remove_tags, stage, source, language,
// welcome_message) are unsupported_field warnings, or errors with op.Strict.
// A gender "unknown" is simply not sent.
func (a *Adapter) Translate(op gateway.Op, c *schema.Customer, rules *fieldconfig.Rules) (any, []schema.Issue, []schema.Issue) {
	var errs, warns []schema.Issue
	if op.Kind != gateway.KindImport {
		errs = append(errs, schema.Issuef(schema.CodeInvalidValue, "",
			"NXLink supports customer imports only, not %q", op.Kind))
		return nil, errs, nil
	}
	if c == nil {
		errs = append(errs, schema.Issuef(schema.CodeRequired, schema.FieldName, "the record is empty"))
		return nil, errs, nil
	}

	for _, f := range unsupported {
		if !c.IsSet(f) {
			continue
		}
		errs, warns = op.Unsupported(errs, warns, f, "NXLink has no field "+f+"; it is not sent")
	}

	w := &wireCustomer{
		FullName:       c.FullName(),
		FirstName:      c.FirstName,
		LastName:       c.LastName,
		SMSPhone:       c.Phone,
		WhatsAppPhone:  c.WhatsApp,
		ViberPhone:     c.Viber,
		Messenger:      c.Messenger,
		Instagram:      c.Instagram,
		Zalo:           c.Zalo,
		Line:           c.Line,
		Country:        c.Country,
		Email:          c.Email,
		Address:        c.Address,
		Birthday:       c.Birthday,
		TagStr:         strings.Join(c.Tags, ","),
		Remark:         c.Remarks,
		TimeZone:       c.TimeZone,
		BelongSeatUser: c.Owner,
	}

	if w.FullName == "" {
		errs = append(errs, schema.Issuef(schema.CodeRequired, schema.FieldName,
			"NXLink requires a name (full_name); give name, or first_name and last_name"))
	}
	// The document's limits, in characters, by wire field; an error names
	// the canonical field (fromWire).
	for _, l := range [...]struct {
		wire  string
		value string
		max   int
	}{
		{"full_name", w.FullName, 255},
		{"first_name", w.FirstName, 128},
		{"last_name", w.LastName, 128},
		{"sms_phone", w.SMSPhone, 30},
		{"whats_app_phone", w.WhatsAppPhone, 30},
		{"viber_phone", w.ViberPhone, 30},
		{"messenger", w.Messenger, 32},
		{"instagram", w.Instagram, 32},
		{"zalo", w.Zalo, 32},
		{"line", w.Line, 50},
		{"country", w.Country, 50},
		{"email", w.Email, 50},
		{"address", w.Address, 100},
		{"remark", w.Remark, 2000},
		{"belong_seat_user", w.BelongSeatUser, 128},
	} {
		if len(l.value) <= l.max {
			continue // fewer bytes than the limit: fewer characters too
		}
		if n := utf8.RuneCountInString(l.value); n > l.max {
			field := fromWire[l.wire]
			errs = append(errs, schema.Issuef(schema.CodeTooLong, field,
				"%s is %d characters long; NXLink allows at most %d", field, n, l.max))
		}
	}

	hasChannel := false
	for _, f := range channels {
		if c.IsSet(f) {
			hasChannel = true
			break
		}
	}
	if !hasChannel {
		errs = append(errs, schema.Issuef(schema.CodeRequired, schema.FieldWhatsApp,
			"NXLink needs at least one of %s", strings.Join(channels, ", ")))
	}

	// Gender, birthday, level and tags passed schema.Check: gender is one
	// of the three, level 1 to 5, tags neither empty nor holding a comma.
	switch c.Gender {
	case "male":
		w.Gender = &genderMale
	case "female":
		w.Gender = &genderFemale
	}
	if c.Level != nil {
		w.Weight = *c.Level
	}

	custom, cerrs := customizeField(c, rules)
	errs = append(errs, cerrs...)
	w.CustomizeField = custom

	if len(errs) > 0 {
		return nil, errs, warns
	}
	return w, nil, warns
}

// customizeField encodes the record's custom fields as the JSON string of
// {provider_key: value} that customize_field carries, keys sorted. Nil values
// are not sent; a record without custom fields gives "".
func customizeField(c *schema.Customer, rules *fieldconfig.Rules) (string, []schema.Issue) {
	if len(c.CustomFields) == 0 {
		return "", nil
	}
	var errs []schema.Issue
	type entry struct {
		key, name string
		value     any
	}
	entries := make([]entry, 0, len(c.CustomFields))
	for _, name := range c.CustomFieldNames() {
		v := c.CustomFields[name]
		if v == nil {
			continue
		}
		var f *fieldconfig.CustomField
		ok := false
		if rules != nil {
			f, ok = rules.Field(name)
		}
		if !ok {
			errs = append(errs, schema.Issuef(schema.CodeUnknownField, schema.CustomFieldPath(name),
				"custom field %q is not configured for this connection", name))
			continue
		}
		entries = append(entries, entry{key: f.Key(), name: name, value: f.Encode(v)})
	}
	// The JSON object is written by hand, keys sorted as encoding/json sorts
	// a map's: one buffer per record instead of a map and an encoder.
	slices.SortStableFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(entries); i++ {
		if entries[i].key == entries[i-1].key {
			errs = append(errs, schema.Issuef(schema.CodeInvalidValue, schema.CustomFieldPath(entries[i].name),
				"custom fields %q and %q share the NXLink key %q", entries[i-1].name, entries[i].name, entries[i].key))
		}
	}
	if len(errs) > 0 || len(entries) == 0 {
		return "", errs
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	buf := append((*bp)[:0], '{')
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(wirejson.AppendString(buf, e.key), ':')
		var err error
		if buf, err = appendValue(buf, e.value); err != nil {
			*bp = buf
			return "", []schema.Issue{schema.Issuef(schema.CodeInvalidValue, schema.FieldCustomFields, "custom fields cannot be encoded: %v", err)}
		}
	}
	buf = append(buf, '}')
	*bp = buf
	return string(buf), nil
}

// Plan groups translated records into batch create calls of at most 100
// customers, in order. Each call's body is marshalled once, and those bytes
// are what Do signs and sends. It refuses an operation other than an import,
// a mode NXLink does not have and a record whose Wire is not Translate's,
// with a message that names no Go identifier (the import service shows it in
// the records' messages). No records give no calls.
func (a *Adapter) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	if op.Kind != gateway.KindImport {
		return nil, fmt.Errorf("NXLink supports customer imports only, not %q", op.Kind)
	}
	typ, err := modeType(op.Mode)
	if err != nil {
		return nil, fmt.Errorf("NXLink: %w", err)
	}
	calls := make([]gateway.Call, 0, (len(recs)+MaxBatch-1)/MaxBatch)
	for start := 0; start < len(recs); start += MaxBatch {
		chunk := recs[start:min(start+MaxBatch, len(recs))]
		req := batchRequest{
			Type:          typ,
			TenantID:      a.cfg.TenantID,
			AppKey:        a.cfg.AppKey.Reveal(),
			StrictBinding: op.StrictOwner,
			Customers:     make([]wireCustomer, len(chunk)),
		}
		for i, r := range chunk {
			switch w := r.Wire.(type) {
			case *wireCustomer:
				if w == nil {
					return nil, fmt.Errorf("NXLink: record %d has no wire form", r.Index)
				}
				req.Customers[i] = *w
			default:
				return nil, fmt.Errorf("NXLink: record %d was not translated for NXLink", r.Index)
			}
		}
		body := appendBatch(make([]byte, 0, bodySize(&req)), &req)
		calls = append(calls, gateway.Call{
			Method:  http.MethodPost,
			Path:    BatchCreatePath,
			Body:    body,
			Records: slices.Clone(chunk),
		})
	}
	return calls, nil
}

// bodySize is a close upper bound of the batch body's length, so that the
// body is written into one allocation.
func bodySize(req *batchRequest) int {
	n := 128 + len(req.AppKey)
	for i := range req.Customers {
		w := &req.Customers[i]
		// Keys and quotes, and room for escapes.
		n += 360 + len(w.FullName) + len(w.FirstName) + len(w.LastName) + len(w.SMSPhone) + len(w.WhatsAppPhone) +
			len(w.ViberPhone) + len(w.Messenger) + len(w.Instagram) + len(w.Zalo) + len(w.Line) + len(w.Country) +
			len(w.Email) + len(w.Address) + len(w.Birthday) + len(w.TagStr) + len(w.Remark) + len(w.TimeZone) +
			len(w.CustomizeField)*5/4 + len(w.BelongSeatUser)
	}
	return n
}

// Redact hides the body's app_key (gateway.Redactor): validate answers show
// the body without it. A body without app_key is left as it is.
func (a *Adapter) Redact(body map[string]any) {
	if _, ok := body["app_key"]; ok {
		body["app_key"] = "***"
	}
}

// The gender values of the wire form, shared by every record (never
// written through).
var genderMale, genderFemale = 1, 0

// StreamWindow lets the import service send each full chunk of MaxBatch
// records while it still checks the rest of the batch (gateway.Streamer):
// chunks never depend on later records.
func (a *Adapter) StreamWindow(op gateway.Op) int {
	if op.Kind != gateway.KindImport {
		return 0
	}
	return MaxBatch
}

// ChunkSize is how many records one NXLink call carries (gateway.Chunker).
func (a *Adapter) ChunkSize(gateway.Op) int { return MaxBatch }
