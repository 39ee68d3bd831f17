package wscrm

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// Date layouts.
const (
	layoutDay      = "2006-01-02"
	layoutBirthday = "2006/01/02" // "currently only this format is supported"
)

// isPoolKind reports whether op writes an import pool; those endpoints take a
// single-select value as a JSON-array string.
func isPoolKind(kind string) bool {
	return kind == gateway.KindPoolReplace || kind == gateway.KindPoolAppend
}

// translate turns a checked canonical record into a WSCRM record (gateway.md
// §3). It trusts schema.Check and rules.Check: the birthday is a date
// YYYY-MM-DD; a record that did not pass them gives an undefined wire form
// (the import service never translates one). A missing owner or WhatsApp number is a required error (WSCRM needs
// both). A canonical field WSCRM has no place for is an unsupported_field
// warning, an error with op.Strict. A custom field rules does not know is an
// unknown_field error. rules may be nil when the record has no custom fields.
func translate(op gateway.Op, c *schema.Customer, rules *fieldconfig.Rules) (*wireRecord, []schema.Issue, []schema.Issue) {
	var errs, warns []schema.Issue
	if c == nil {
		return nil, []schema.Issue{schema.Issuef(schema.CodeRequired, "", "no record")}, nil
	}
	rec := &wireRecord{}
	if c.Owner == "" {
		errs = append(errs, schema.Issuef(schema.CodeRequired, schema.FieldOwner,
			"WSCRM needs the owning agent account (owner, sent as agentAccount)"))
	} else {
		rec.basic[keyAgentAccount] = c.Owner
	}
	if c.WhatsApp == "" {
		errs = append(errs, schema.Issuef(schema.CodeRequired, schema.FieldWhatsApp,
			"WSCRM needs the customer's WhatsApp number (whatsapp, sent as whatsApp)"))
	} else {
		rec.basic[keyWhatsApp] = c.WhatsApp
	}
	set := func(key basicKey, v string) { rec.basic[key] = v }
	set(keyFriendName, c.FullName())
	set(keySex, c.Gender)
	if c.Birthday != "" {
		// schema.Check took it as YYYY-MM-DD: WSCRM's YYYY/MM/DD.
		rec.basic[keyBirthday] = strings.ReplaceAll(c.Birthday, "-", "/")
	}
	set(keyAddress, c.Address)
	set(keyEmail, c.Email)
	set(keyProfession, c.Profession)
	set(keyIncome, c.Income)
	set(keyDesc, c.Remarks)
	set(keyTabName, strings.Join(c.Tags, ","))
	if len(c.RemoveTags) > 0 {
		if op.Kind == gateway.KindPoolAppend {
			errs, warns = op.Unsupported(errs, warns, schema.FieldRemoveTags,
				"WSCRM's import-pool append (batchImportAppendV2) cannot remove tags; remove_tags is not sent")
		} else {
			rec.basic[keyCancelTabName] = strings.Join(c.RemoveTags, ",")
		}
	}
	set(keyStage, c.Stage)
	set(keySource, c.Source)
	set(keyLanguageTag, c.Language)
	set(keyWelcome, c.WelcomeMessage)

	for _, f := range unsupportedFields {
		if !c.IsSet(f) {
			continue
		}
		errs, warns = op.Unsupported(errs, warns, f, "WSCRM has no field for "+f+"; it is not sent")
	}

	for _, name := range c.CustomFieldNames() {
		path := schema.CustomFieldPath(name)
		var f *fieldconfig.CustomField
		if rules != nil {
			f, _ = rules.Field(name)
		}
		if f == nil {
			errs = append(errs, schema.Issuef(schema.CodeUnknownField, path,
				"custom field %q is not configured for this connection", name))
			continue
		}
		v := c.CustomFields[name]
		if v == nil {
			continue
		}
		key := f.Key()
		if _, basic := basicIndex[key]; basic {
			errs = append(errs, schema.Issuef(schema.CodeInvalidValue, path,
				"custom field %q is sent as %q, which is one of WSCRM's own keys", name, key))
			continue
		}
		wv, err := encodeCustom(op.Kind, f, v)
		if err != nil {
			errs = append(errs, schema.Issuef(schema.CodeInvalidValue, path, "%v", err))
			continue
		}
		if _, dup := rec.get(key); dup {
			errs = append(errs, schema.Issuef(schema.CodeInvalidValue, path,
				"custom field %q is sent as %q, which another custom field of this record also uses", name, key))
			continue
		}
		rec.ext = append(rec.ext, wireExt{key: key, val: wv})
	}
	if len(rec.ext) > 1 {
		sort.Slice(rec.ext, func(i, j int) bool { return rec.ext[i].key < rec.ext[j].key })
	}
	return rec, errs, warns
}

// unsupportedFields are the canonical fields WSCRM has no place for.
// first_name and last_name are not listed: they build friendName.
var unsupportedFields = []string{
	schema.FieldPhone, schema.FieldViber, schema.FieldMessenger, schema.FieldInstagram,
	schema.FieldZalo, schema.FieldLine, schema.FieldCountry, schema.FieldTimeZone, schema.FieldLevel,
}

// encodeCustom is the wire value of one checked custom-field value:
// CustomField.Encode, except that a single-select on an import-pool endpoint is
// a JSON-array string (`["Gold"]`).
func encodeCustom(kind string, f *fieldconfig.CustomField, v any) (any, error) {
	if f.Type == fieldconfig.TypeSingleSelect && isPoolKind(kind) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is a single-select field: one option as a string is expected", f.Name)
		}
		b, err := json.Marshal([]string{s})
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	switch e := f.Encode(v).(type) {
	case string, json.Number:
		return e, nil
	default:
		return fmt.Sprint(e), nil
	}
}

// Contact is one friend contact of an agent as the query answers it: the
// canonical customer plus what schema.Customer has no field for.
type Contact struct {
	Customer schema.Customer
	// FirstChatAt and LastChatAt are RFC 3339 times in the provider's time
	// zone, "" when the provider gave none; a value that could not be read as
	// a time is kept as the provider wrote it.
	FirstChatAt string
	LastChatAt  string
}

// fromContact maps one query item to canonical form: dates become
// YYYY-MM-DD, stage and source ids become labels (an id the configuration does
// not know stays as its decimal string), tabList is flattened into tags,
// extendMap becomes custom_fields under their canonical names, chat times
// become RFC 3339 in loc. Null and empty values are left out. A value that
// cannot be read as documented is kept as the provider wrote it.
func fromContact(q *queryContact, rules *fieldconfig.Rules, loc *time.Location) Contact {
	c := schema.Customer{
		WhatsApp:   strings.TrimSpace(string(q.WhatsID)),
		Name:       string(q.Name),
		Gender:     contactGender(string(q.Sex)),
		Email:      string(q.Email),
		Birthday:   canonicalDay(string(q.Birthday), ""),
		Address:    string(q.Address),
		Profession: string(q.Profession),
		Income:     string(q.Income),
		Remarks:    string(q.Desc),
		Country:    string(q.Country),
		Tags:       flattenTags(q.TabList),
	}
	c.Stage = optionLabel(q.Stage, rules, (*fieldconfig.Rules).StageLabel)
	c.Source = optionLabel(q.Source, rules, (*fieldconfig.Rules).SourceLabel)
	if len(q.ExtendMap) > 0 {
		byKey := map[string]*fieldconfig.CustomField{}
		if rules != nil {
			cfg := rules.Config()
			for i := range cfg.CustomFields {
				f := &cfg.CustomFields[i]
				byKey[f.Key()] = f
			}
		}
		keys := make([]string, 0, len(q.ExtendMap))
		for k := range q.ExtendMap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := q.ExtendMap[k]
			if v == nil || v == "" {
				continue
			}
			name, val := k, v
			if f := byKey[k]; f != nil {
				name, val = f.Name, customFromWire(f, v)
			}
			if c.CustomFields == nil {
				c.CustomFields = map[string]any{}
			}
			c.CustomFields[name] = val
		}
	}
	return Contact{
		Customer:    c,
		FirstChatAt: chatTime(string(q.FirstChatTime), loc),
		LastChatAt:  chatTime(string(q.LastChatTime), loc),
	}
}

// contactGender reads the provider's spellings (male, MALE, UNKOWNN, ...).
// Anything else is kept lowercased.
func contactGender(s string) string {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "unkownn", "unknow", "unknown":
		return "unknown"
	default:
		return l
	}
}

// canonicalDay reads yyyy/MM/dd, yyyy-MM-dd (optionally followed by a time)
// or the given layout, and returns YYYY-MM-DD; anything else is returned as
// given.
func canonicalDay(s, layout string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	day := s
	if i := strings.IndexAny(day, " T"); i > 0 {
		day = day[:i]
	}
	layouts := []string{layoutDay, layoutBirthday}
	if layout != "" {
		layouts = append([]string{layout}, layouts...)
	}
	for _, l := range layouts {
		for _, cand := range []string{s, day} {
			if t, err := time.Parse(l, cand); err == nil {
				return t.Format(layoutDay)
			}
		}
	}
	return s
}

// optionLabel maps a stage/source id to its label.
func optionLabel(v flexString, rules *fieldconfig.Rules, label func(*fieldconfig.Rules, int64) (string, bool)) string {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return ""
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s // already a label
	}
	if rules != nil {
		if l, ok := label(rules, id); ok {
			return l
		}
	}
	return strconv.FormatInt(id, 10)
}

// flattenTags reads tabList: null, a list of strings, a list that "may
// include string arrays", or a comma-joined string. Empty tags are dropped.
func flattenTags(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case string:
			for _, p := range strings.Split(t, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		case float64:
			out = append(out, strconv.FormatFloat(t, 'f', -1, 64))
		}
	}
	walk(v)
	return out
}

// customFromWire turns an extendMap value into the field's canonical form:
// date → YYYY-MM-DD, multi-select and attachment → []string, single-select
// given as a JSON-array string → its one option, number → json.Number.
func customFromWire(f *fieldconfig.CustomField, v any) any {
	switch f.Type {
	case fieldconfig.TypeDate:
		if s, ok := v.(string); ok {
			return canonicalDay(s, f.Format)
		}
	case fieldconfig.TypeMultiSelect, fieldconfig.TypeAttachment:
		switch t := v.(type) {
		case string:
			var out []string
			for _, p := range strings.Split(t, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		case []any:
			out := make([]string, 0, len(t))
			for _, e := range t {
				out = append(out, fmt.Sprint(e))
			}
			return out
		}
	case fieldconfig.TypeSingleSelect:
		if s, ok := v.(string); ok && strings.HasPrefix(s, "[") {
			var one []string
			if json.Unmarshal([]byte(s), &one) == nil && len(one) == 1 {
				return one[0]
			}
		}
	case fieldconfig.TypeText, fieldconfig.TypeTextarea, fieldconfig.TypeTime:
		if n, ok := v.(json.Number); ok {
			return n.String()
		}
	case fieldconfig.TypeNumber:
		switch t := v.(type) {
		case string:
			// A JSON number literal only: ParseFloat also takes NaN, Inf and
			// hex floats, which cannot be written back as JSON.
			if _, err := strconv.ParseFloat(t, 64); err == nil && json.Valid([]byte(t)) {
				return json.Number(t)
			}
		case float64:
			return json.Number(strconv.FormatFloat(t, 'f', -1, 64))
		}
	}
	return v
}

// chatTime reads a zone-less provider time ("yyyy-MM-dd HH:mm:ss",
// "yyyy/MM/dd HH:mm:ss"), an RFC 3339 time or epoch milliseconds, and writes
// it as RFC 3339 in loc. Anything else is returned as given.
func chatTime(s string, loc *time.Location) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc).Format(time.RFC3339)
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006/01/02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 12 {
		return time.UnixMilli(ms).In(loc).Format(time.RFC3339)
	}
	return s
}
