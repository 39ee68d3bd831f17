package fieldconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"crmgate/schema"
)

// Rules is a validated Config with its lookups built, ready to check records.
// It is immutable: share it freely between goroutines.
type Rules struct {
	cfg       Config
	required  []string
	stages    optionSet
	sources   optionSet
	languages optionSet
	tags      map[string]bool
	custom    map[string]*CustomField
	// sharesKey names, for a custom field whose provider key an earlier
	// field of the document also has, that earlier field.
	sharesKey map[string]string
}

type optionSet struct {
	labels map[string]bool
	byID   map[int64]string
}

func newOptionSet(opts []Option) optionSet {
	s := optionSet{labels: make(map[string]bool, len(opts)), byID: map[int64]string{}}
	for _, o := range opts {
		s.labels[o.Label] = true
		if o.ID != nil {
			s.byID[*o.ID] = o.Label
		}
	}
	return s
}

// Compile validates cfg and builds its lookups.
func Compile(cfg Config) (*Rules, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Rules{
		cfg:       cfg,
		stages:    newOptionSet(cfg.Stages),
		sources:   newOptionSet(cfg.Sources),
		languages: newOptionSet(cfg.Languages),
		tags:      make(map[string]bool, len(cfg.Tags.Known)),
		custom:    make(map[string]*CustomField, len(cfg.CustomFields)),
	}
	for _, t := range cfg.Tags.Known {
		r.tags[t] = true
	}
	byKey := make(map[string]string, len(cfg.CustomFields))
	for i := range r.cfg.CustomFields {
		f := &r.cfg.CustomFields[i]
		r.custom[f.Name] = f
		if first, ok := byKey[f.Key()]; ok {
			if r.sharesKey == nil {
				r.sharesKey = map[string]string{}
			}
			r.sharesKey[f.Name] = first
		} else {
			byKey[f.Key()] = f.Name
		}
		if f.Required {
			r.required = append(r.required, schema.CustomFieldPath(f.Name))
		}
	}
	for _, name := range cfg.Required {
		path := name
		if _, ok := r.custom[name]; ok {
			path = schema.CustomFieldPath(name)
		}
		// A custom field both marked required and listed in required is
		// reported once.
		if !slices.Contains(r.required, path) {
			r.required = append(r.required, path)
		}
	}
	return r, nil
}

// MustCompile is Compile for configurations known to be valid (tests, samples);
// it panics on an invalid one.
func MustCompile(cfg Config) *Rules {
	r, err := Compile(cfg)
	if err != nil {
		panic(err)
	}
	return r
}

// Config returns the document the rules were built from.
func (r *Rules) Config() Config { return r.cfg }

// Field returns the custom field called name.
func (r *Rules) Field(name string) (*CustomField, bool) {
	f, ok := r.custom[name]
	return f, ok
}

// StageLabel, SourceLabel map a provider's option id back to its label.
func (r *Rules) StageLabel(id int64) (string, bool) {
	l, ok := r.stages.byID[id]
	return l, ok
}

// SourceLabel maps a provider's source id back to its label.
func (r *Rules) SourceLabel(id int64) (string, bool) {
	l, ok := r.sources.byID[id]
	return l, ok
}

// Checked is a record that passed schema.Check and Rules.Check, as
// Rules.Check returns it: what a provider's Translate takes, and trusts.
// Only Rules.Check makes one.
type Checked struct {
	customer *schema.Customer
	custom   []CheckedField
}

// CheckedField is one custom field of a checked record that has a value.
type CheckedField struct {
	// Field is the field's definition in the rules that checked the record.
	Field *CustomField
	// Value is the value in normal form: a string, a json.Number or a
	// []string, as the field's type has it; never nil.
	Value any
}

// Customer is the checked record, normalised.
func (k Checked) Customer() *schema.Customer { return k.customer }

// Custom lists the record's custom fields that have a value, each resolved to
// its configured definition, in the order of their provider keys (Key); no
// two share a key. Custom fields given as null are not in it.
func (k Checked) Custom() []CheckedField { return k.custom }

// Check reports every way c breaks the configuration: required fields,
// stage/source/language labels, tags, each custom field's type, options and
// length, a custom field that is not configured (unknown_field) and two
// custom fields of the record that the provider knows by one key
// (invalid_value, on the later one in key order). It normalises custom-field
// values in place (arrays become []string, numbers json.Number) and returns
// the record with its custom fields resolved; that record is what a
// provider translates when there are no issues. A record that passes Check
// encodes without error.
func (r *Rules) Check(c *schema.Customer) (Checked, []schema.Issue) {
	var errs []schema.Issue
	for _, f := range r.required {
		if name, ok := strings.CutPrefix(f, schema.FieldCustomFields+"."); ok {
			if v, ok := c.CustomFields[name]; !ok || isEmpty(v) {
				errs = append(errs, schema.Issuef(schema.CodeRequired, f, "custom field %q is required by this connection", name))
			}
			continue
		}
		if !c.IsSet(f) {
			errs = append(errs, schema.Issuef(schema.CodeRequired, f, "%s is required by this connection", f))
		}
	}
	for _, o := range [...]struct {
		field string
		value string
		set   *optionSet
	}{{schema.FieldStage, c.Stage, &r.stages}, {schema.FieldSource, c.Source, &r.sources}, {schema.FieldLanguage, c.Language, &r.languages}} {
		if o.value != "" && len(o.set.labels) > 0 && !o.set.labels[o.value] {
			errs = append(errs, schema.Issuef(schema.CodeInvalidOption, o.field, "%q is not a configured %s", o.value, o.field))
		}
	}
	if r.cfg.Tags.Strict {
		for _, t := range c.Tags {
			if !r.tags[t] {
				errs = append(errs, schema.Issuef(schema.CodeInvalidOption, schema.FieldTags, "tag %q is not configured for this connection", t))
			}
		}
	}
	k := Checked{customer: c}
	if len(c.CustomFields) == 0 {
		return k, errs
	}
	k.custom = make([]CheckedField, 0, len(c.CustomFields))
	var stack [8]string // the usual few names without an allocation
	for _, name := range c.AppendCustomFieldNames(stack[:0]) {
		f, ok := r.custom[name]
		if !ok {
			errs = append(errs, schema.Issuef(schema.CodeUnknownField, schema.CustomFieldPath(name), "custom field %q is not configured for this connection", name))
			continue
		}
		v := c.CustomFields[name]
		if v == nil {
			continue
		}
		norm, changed, issue := f.check(v)
		if issue != nil {
			issue.Field = schema.CustomFieldPath(name)
			errs = append(errs, *issue)
			continue
		}
		if changed {
			c.CustomFields[name] = norm
		}
		k.custom = append(k.custom, CheckedField{Field: f, Value: norm})
	}
	if len(k.custom) > 1 {
		slices.SortStableFunc(k.custom, func(a, b CheckedField) int { return strings.Compare(a.Field.Key(), b.Field.Key()) })
		if r.sharesKey != nil {
			for i := 1; i < len(k.custom); i++ {
				if a, b := k.custom[i-1].Field, k.custom[i].Field; a.Key() == b.Key() {
					errs = append(errs, schema.Issuef(schema.CodeInvalidValue, schema.CustomFieldPath(b.Name),
						"custom fields %q and %q are both sent as the provider's key %q; only one of them can be given", a.Name, b.Name, b.Key()))
				}
			}
		}
	}
	return k, errs
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}

// check verifies one value against the field and returns its normal form;
// changed is false when that is v itself (the caller need not store it).
func (f *CustomField) check(v any) (norm any, changed bool, _ *schema.Issue) {
	fail := func(code schema.Code, format string, args ...any) (any, bool, *schema.Issue) {
		is := schema.Issuef(code, "", format, args...)
		return nil, false, &is
	}
	switch f.Type {
	case TypeText, TypeTextarea:
		s, ok := v.(string)
		if !ok {
			return fail(schema.CodeInvalidValue, "%s is a %s field: a string is expected", f.Name, f.Type)
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return fail(schema.CodeTooLong, "%s is longer than %d characters", f.Name, f.MaxLength)
		}
		return v, false, nil
	case TypeNumber:
		n, ok := toNumber(v)
		if !ok {
			return fail(schema.CodeInvalidNumber, "%s is a number field: a JSON number is expected, not %s", f.Name, describe(v))
		}
		if f.MaxLength > 0 && len(n) > f.MaxLength {
			return fail(schema.CodeTooLong, "%s is longer than %d characters", f.Name, f.MaxLength)
		}
		if _, same := v.(json.Number); same {
			return v, false, nil
		}
		return n, true, nil
	case TypeDate:
		s, ok := v.(string)
		if !ok || !schema.IsDate(s) {
			return fail(schema.CodeInvalidDate, "%s is a date field: YYYY-MM-DD is expected, not %s", f.Name, describe(v))
		}
		return v, false, nil
	case TypeTime:
		s, ok := v.(string)
		if !ok || !schema.IsTimeOfDay(s) {
			return fail(schema.CodeInvalidTime, "%s is a time field: HH:mm:ss is expected, not %s", f.Name, describe(v))
		}
		return v, false, nil
	case TypeSingleSelect:
		s, ok := v.(string)
		if !ok {
			return fail(schema.CodeInvalidOption, "%s is a single-select field: one option as a string is expected", f.Name)
		}
		if !slices.Contains(f.Options, s) {
			return fail(schema.CodeInvalidOption, "%q is not an option of %s", s, f.Name)
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return fail(schema.CodeTooLong, "%s is longer than %d characters", f.Name, f.MaxLength)
		}
		return v, false, nil
	case TypeMultiSelect:
		list, ok := toStrings(v)
		if !ok {
			return fail(schema.CodeInvalidOption, "%s is a multi-select field: an array of options is expected", f.Name)
		}
		for _, s := range list {
			if !slices.Contains(f.Options, s) {
				return fail(schema.CodeInvalidOption, "%q is not an option of %s", s, f.Name)
			}
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(strings.Join(list, ",")) > f.MaxLength {
			return fail(schema.CodeTooLong, "%s is longer than %d characters", f.Name, f.MaxLength)
		}
		return list, true, nil
	case TypeAttachment:
		list, ok := toStrings(v)
		if !ok {
			return fail(schema.CodeAttachmentInvalid, "%s is an attachment field: an array of URLs is expected", f.Name)
		}
		if len(list) > MaxAttachments {
			return fail(schema.CodeAttachmentInvalid, "%s holds %d URLs; at most %d are allowed", f.Name, len(list), MaxAttachments)
		}
		for _, s := range list {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(s, ",") {
				return fail(schema.CodeAttachmentInvalid, "%q is not an http(s) URL", s)
			}
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(strings.Join(list, ",")) > f.MaxLength {
			return fail(schema.CodeTooLong, "%s is longer than %d characters", f.Name, f.MaxLength)
		}
		return list, true, nil
	}
	return fail(schema.CodeInvalidValue, "%s has an unknown type %q", f.Name, f.Type)
}

// Encode turns a checked value of the field into its wire value, as both
// providers encode extension fields: number → JSON number, date in the field's
// Format, multi-select and attachment → comma-joined string, everything else
// a string.
//
// A value that is its own wire value (a number, a string other than a
// reformatted date) is returned as the same interface value, not boxed again.
func (f *CustomField) Encode(v any) any {
	switch x := v.(type) {
	case json.Number:
		return v
	case []string:
		return strings.Join(x, ",")
	case string:
		if f.Type == TypeDate && f.Format != "" && f.Format != "2006-01-02" {
			if t, err := time.Parse("2006-01-02", x); err == nil {
				return t.Format(f.Format)
			}
		}
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func toNumber(v any) (json.Number, bool) {
	switch x := v.(type) {
	case json.Number:
		// ParseFloat alone would let NaN, Inf and hex floats through, which
		// are not JSON and would break encoding the wire payload.
		if !isJSONNumber(string(x)) {
			return "", false
		}
		if _, err := x.Float64(); err != nil {
			return "", false
		}
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false
		}
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64)), true
	case int:
		return json.Number(strconv.Itoa(x)), true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	}
	return "", false
}

// isJSONNumber reports whether s is a number literal of the JSON grammar
// (RFC 8259 §6), with nothing before or after it.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func toStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any, []string:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}
