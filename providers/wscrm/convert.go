package wscrm

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// isPoolKind reports whether op writes an import pool; those endpoints take a
// single-select value as a JSON-array string.
func isPoolKind(kind string) bool {
	return kind == gateway.KindPoolReplace || kind == gateway.KindPoolAppend
}

// translate turns a checked record into a WSCRM record (gateway.md §3) by
// recordFields. It trusts schema.Check and Rules.Check and checks nothing of
// theirs again: the birthday is a date YYYY-MM-DD, every custom field is
// configured with a value of its type (a single-select one of its options),
// no two share a key. A missing owner or WhatsApp number is a required error
// (WSCRM needs both). A canonical field WSCRM has no place for, and
// remove_tags on the append endpoint (which has no cancelTabName), is an
// unsupported_field warning, an error with op.Strict. A custom field sent
// as one of WSCRM's own keys (email) is an invalid_value error: only WSCRM
// knows its keys.
func translate(op gateway.Op, k fieldconfig.Checked) (*wireRecord, []schema.Issue, []schema.Issue) {
	var errs, warns []schema.Issue
	c := k.Customer()
	rec := &wireRecord{}
	for k := range recordFields {
		rec.basic[k] = recordFields[k].value(c)
	}
	for _, k := range []basicKey{keyAgentAccount, keyWhatsApp} {
		if rec.basic[k] == "" {
			f := &recordFields[k]
			errs = append(errs, schema.Issuef(schema.CodeRequired, f.canonical, "WSCRM needs %s (%s, sent as %s)", requiredWhat[k], f.canonical, f.name))
		}
	}
	if rec.basic[keyCancelTabName] != "" && op.Kind == gateway.KindPoolAppend {
		rec.basic[keyCancelTabName] = ""
		errs, warns = op.Unsupported(errs, warns, schema.FieldRemoveTags,
			"WSCRM's import-pool append (batchImportAppendV2) cannot remove tags; remove_tags is not sent")
	}
	if c.SetFields()&unsupportedSet != 0 {
		for _, f := range unsupportedFields {
			if c.IsSet(f) {
				errs, warns = op.Unsupported(errs, warns, f, "WSCRM has no field for "+f+"; it is not sent")
			}
		}
	}
	if custom := k.Custom(); len(custom) > 0 {
		// In key order already, as the body writes them.
		rec.ext = make([]wireExt, 0, len(custom))
		for _, cf := range custom {
			key := cf.Field.Key()
			if _, basic := basicIndex[key]; basic {
				errs = append(errs, schema.Issuef(schema.CodeInvalidValue, schema.CustomFieldPath(cf.Field.Name),
					"custom field %q is sent as %q, which is one of WSCRM's own keys", cf.Field.Name, key))
				continue
			}
			rec.ext = append(rec.ext, wireExt{key: key, val: encodeCustom(op.Kind, cf)})
		}
	}
	return rec, errs, warns
}

// requiredWhat says what the keys WSCRM requires hold, for messages.
var requiredWhat = map[basicKey]string{
	keyAgentAccount: "the owning agent account",
	keyWhatsApp:     "the customer's WhatsApp number",
}

// encodeCustom is the wire value of one checked custom-field value:
// CustomField.Encode, except that a single-select on an import-pool endpoint is
// a JSON-array string (`["Gold"]`).
func encodeCustom(kind string, cf fieldconfig.CheckedField) any {
	if cf.Field.Type == fieldconfig.TypeSingleSelect && isPoolKind(kind) {
		b, _ := json.Marshal([]any{cf.Value}) // a string: cannot fail
		return string(b)
	}
	switch e := cf.Field.Encode(cf.Value).(type) {
	case string, json.Number:
		return e
	default:
		return fmt.Sprint(e)
	}
}

// fromContact maps one query item to canonical form: dates become
// YYYY-MM-DD, gender its canonical spelling, stage and source ids labels (an
// id the configuration does not know stays as its decimal string), tabList
// tags, extendMap custom_fields under their canonical names, chat times RFC
// 3339 in loc. Null and empty values are left out. A value that cannot be
// read as documented is kept as the provider wrote it.
func fromContact(q *queryContact, rules *fieldconfig.Rules, loc *time.Location) gateway.Contact {
	c := schema.Customer{
		WhatsApp:   strings.TrimSpace(string(q.WhatsID)),
		Name:       string(q.Name),
		Gender:     canonicalGender(string(q.Sex)),
		Email:      string(q.Email),
		Birthday:   canonicalDay(string(q.Birthday), ""),
		Address:    string(q.Address),
		Profession: string(q.Profession),
		Income:     string(q.Income),
		Remarks:    string(q.Desc),
		Country:    string(q.Country),
	}
	if tags := listOf(q.TabList); len(tags) > 0 {
		c.Tags = tags
	}
	c.Stage = optionLabel(string(q.Stage), rules, (*fieldconfig.Rules).StageLabel)
	c.Source = optionLabel(string(q.Source), rules, (*fieldconfig.Rules).SourceLabel)
	if len(q.ExtendMap) > 0 {
		byKey := map[string]*fieldconfig.CustomField{}
		if rules != nil {
			cfg := rules.Config()
			for i := range cfg.CustomFields {
				f := &cfg.CustomFields[i]
				byKey[f.Key()] = f
			}
		}
		for _, k := range slices.Sorted(maps.Keys(q.ExtendMap)) {
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
	return gateway.Contact{
		Customer:    c,
		FirstChatAt: chatTime(string(q.FirstChatTime), loc),
		LastChatAt:  chatTime(string(q.LastChatTime), loc),
	}
}

// optionLabel maps a stage/source id to its label.
func optionLabel(v string, rules *fieldconfig.Rules, label func(*fieldconfig.Rules, int64) (string, bool)) string {
	s := strings.TrimSpace(v)
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

// customFromWire turns an extendMap value into the field's canonical form:
// date → YYYY-MM-DD, multi-select and attachment → []string (listOf),
// single-select given as a JSON-array string → its one option, number →
// json.Number.
func customFromWire(f *fieldconfig.CustomField, v any) any {
	switch f.Type {
	case fieldconfig.TypeDate:
		if s, ok := v.(string); ok {
			return canonicalDay(s, f.Format)
		}
	case fieldconfig.TypeMultiSelect, fieldconfig.TypeAttachment:
		return listOf(v)
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
