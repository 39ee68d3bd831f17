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
func (a *Adapter) Modes() []string { return modes }

var modes = []string{gateway.ModeMerge, gateway.ModeReplace, gateway.ModeKeepExisting}

// modeType maps a mode of Modes to the body's type (gateway.Provider: the
// import service's gate let only those through); "" is merge.
func modeType(mode string) int {
	switch mode {
	case gateway.ModeReplace:
		return typeReplace
	case gateway.ModeKeepExisting:
		return typeKeepExisting
	}
	return typeMerge
}

// unsupported lists the canonical fields NXLink has no field for.
var unsupported = []string{
	schema.FieldProfession, schema.FieldIncome, schema.FieldRemoveTags, schema.FieldStage,
	schema.FieldSource, schema.FieldLanguage, schema.FieldWelcomeMessage,
}

// unsupportedSet and channelSet are unsupported and channels as sets.
var unsupportedSet, channelSet = schema.FieldsOf(unsupported...), schema.FieldsOf(channels...)

// channels are the canonical fields of which NXLink needs at least one, in
// the document's order (sms_phone, whats_app_phone, email, viber_phone,
// messenger, instagram, line, zalo).
var channels = []string{
	schema.FieldPhone, schema.FieldWhatsApp, schema.FieldEmail, schema.FieldViber,
	schema.FieldMessenger, schema.FieldInstagram, schema.FieldLine, schema.FieldZalo,
}

// Translate applies NXLink's own rules to a record that passed schema.Check
// and Rules.Check (gateway.Provider), and returns its wire form (nil when
// there are errors). It trusts what those checks found and checks none of it
// again: phones are digits, gender is male, female or unknown, the birthday a
// date, level 1 to 5, tags neither empty nor holding a comma, every custom
// field configured and no two sharing a key. It trusts op as well: an import
// (NXLink has no import pool) in one of Modes.
//
// Errors, each naming the canonical field: no name even from first/last name
// (required, "name"); a value longer than the document allows (too_long); no
// channel at all (required, "whatsapp"). Fields NXLink lacks (profession,
// income, remove_tags, stage, source, language, welcome_message) are
// unsupported_field warnings, or errors with op.Strict. A gender "unknown" is
// simply not sent.
func (a *Adapter) Translate(op gateway.Op, rec fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	var errs, warns []schema.Issue
	c := rec.Customer()
	set := c.SetFields()
	if set&unsupportedSet != 0 {
		for _, f := range unsupported {
			if c.IsSet(f) {
				errs, warns = op.Unsupported(errs, warns, f, "NXLink has no field "+f+"; it is not sent")
			}
		}
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
	// the canonical field (fromWire). Phones (sms_phone, whats_app_phone,
	// viber_phone: at most 30) are not among them: one that passed
	// schema.Check is a possible number, far shorter.
	for _, l := range [...]struct {
		wire  string
		value string
		max   int
	}{
		{"full_name", w.FullName, 255}, {"first_name", w.FirstName, 128},
		{"last_name", w.LastName, 128}, {"messenger", w.Messenger, 32},
		{"instagram", w.Instagram, 32}, {"zalo", w.Zalo, 32},
		{"line", w.Line, 50}, {"country", w.Country, 50},
		{"email", w.Email, 50}, {"address", w.Address, 100},
		{"remark", w.Remark, 2000}, {"belong_seat_user", w.BelongSeatUser, 128},
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

	if set&channelSet == 0 {
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

	w.CustomizeField = customizeField(rec.Custom())

	if len(errs) > 0 {
		return nil, errs, warns
	}
	return w, nil, warns
}

// customizeField encodes a checked record's custom fields as the JSON string
// of {provider_key: value} that customize_field carries, in their key order
// (as encoding/json sorts a map's keys); no custom fields give "". The object
// is written on the stack: one string per record, no map and no encoder.
func customizeField(custom []fieldconfig.CheckedField) string {
	if len(custom) == 0 {
		return ""
	}
	var stack [256]byte // the usual object on the stack
	buf := append(stack[:0], '{')
	for i, f := range custom {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(wirejson.AppendString(buf, f.Field.Key()), ':')
		buf = appendValue(buf, f.Field.Encode(f.Value))
	}
	buf = append(buf, '}')
	return string(buf)
}

// Plan groups translated records into batch create calls of at most 100
// customers, in order. Each call's body is marshalled once, and those bytes
// are what Do signs and sends. It trusts op as Translate does (an import in
// one of Modes) and refuses a record whose Wire is not Translate's, with a
// message that names no Go identifier (the import service shows it in the
// records' messages). No records give no calls.
func (a *Adapter) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	typ := modeType(op.Mode)
	calls := make([]gateway.Call, 0, (len(recs)+MaxBatch-1)/MaxBatch)
	for start := 0; start < len(recs); start += MaxBatch {
		chunk := recs[start:min(start+MaxBatch, len(recs))]
		req := batchRequest{
			Type:          typ,
			TenantID:      a.cfg.TenantID,
			AppKey:        a.cfg.AppKey.Reveal(),
			StrictBinding: op.StrictOwner,
			Customers:     make([]*wireCustomer, len(chunk)),
		}
		for i, r := range chunk {
			switch w := r.Wire.(type) {
			case *wireCustomer:
				if w == nil {
					return nil, fmt.Errorf("NXLink: record %d has no wire form", r.Index)
				}
				req.Customers[i] = w
			default:
				return nil, fmt.Errorf("NXLink: record %d was not translated for NXLink", r.Index)
			}
		}
		body := appendBatch(make([]byte, 0, bodySize(&req)), &req)
		// The body is the wire form now: the call's records do not keep
		// theirs, so that a call waiting for its turn holds its body only.
		carried := slices.Clone(chunk)
		for i := range carried {
			carried[i].Wire = nil
		}
		calls = append(calls, gateway.Call{
			Method:  http.MethodPost,
			Path:    BatchCreatePath,
			Body:    body,
			Records: carried,
		})
	}
	return calls, nil
}

// bodySize is a close estimate of the batch body's length, so that the body
// is written into one allocation of about its size: each field appendJSON
// writes, its key, quotes and separators, and an eighth more for escapes (a
// quarter for customize_field, JSON held in a string: its quotes are
// escaped). A body that needs more only grows once more.
func bodySize(req *batchRequest) int {
	n := 128 + len(req.AppKey)
	field := func(key, v string) {
		if v != "" {
			n += len(key) + 4 + len(v) + len(v)/8
		}
	}
	for _, w := range req.Customers {
		n += 2 + len(`"full_name":""`) + len(w.FullName) + len(w.FullName)/8
		field("first_name", w.FirstName)
		field("last_name", w.LastName)
		field("sms_phone", w.SMSPhone)
		field("whats_app_phone", w.WhatsAppPhone)
		field("viber_phone", w.ViberPhone)
		field("messenger", w.Messenger)
		field("instagram", w.Instagram)
		field("zalo", w.Zalo)
		field("line", w.Line)
		field("country", w.Country)
		field("email", w.Email)
		field("address", w.Address)
		field("birthday", w.Birthday)
		field("tagStr", w.TagStr)
		field("remark", w.Remark)
		field("time_zone", w.TimeZone)
		field("customize_field", w.CustomizeField)
		n += len(w.CustomizeField) / 8
		field("belong_seat_user", w.BelongSeatUser)
		n += len(`,"gender":0,"weight":` + "-9223372036854775808")
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
func (a *Adapter) StreamWindow(gateway.Op) int { return MaxBatch }

// ChunkSize is how many records one NXLink call carries (gateway.Chunker).
func (a *Adapter) ChunkSize(gateway.Op) int { return MaxBatch }
