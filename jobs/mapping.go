package jobs

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"

	"crmgate/fieldconfig"
	"crmgate/schema"
)

// ReportColumns are the columns the error report adds after a row's own;
// a column with one of these headers is ignored on upload, so a report
// can be fixed and uploaded again as it is.
var ReportColumns = []string{"crmgate_status", "crmgate_code", "crmgate_field", "crmgate_message"}

// isReportColumn reports whether header is one of ReportColumns, compared
// as NewMapping compares headers.
func isReportColumn(header string) bool {
	k := matchKey(header)
	for _, c := range ReportColumns {
		if k == matchKey(c) {
			return true
		}
	}
	return false
}

// matchKey is how headers and field names are compared for matching: case,
// white space and "_" ignored.
func matchKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// valueKind is how a column's cell becomes a JSON value.
type valueKind uint8

const (
	valueString valueKind = iota
	valueList             // split on commas: tags, remove_tags, multi_select, attachment
	valueNumber           // a JSON number when the cell is one: level, number custom fields
)

// column is where one column of the file goes: field is a canonical field
// or "custom_fields.<name>" ("" when the column is not mapped).
type column struct {
	field  string
	custom string // the custom field's name, for custom_fields.<name>
	kind   valueKind
}

// Mapping is where each column of a file goes. It is built once per file
// and is safe for concurrent use.
type Mapping struct {
	header   []string
	columns  []column
	unmapped []string
	// fields and customs are the mapped columns in the order Record
	// writes their keys: by field name, custom_fields among them (at
	// customAt), and its custom fields by name.
	fields   []int
	customs  []int
	customAt int
}

// MappingError is a mapping that cannot work; Problems lists every problem
// found, each naming the column or field it is about.
type MappingError struct {
	Problems []string
}

func (e *MappingError) Error() string {
	return "jobs: the column mapping cannot work: " + strings.Join(e.Problems, "; ")
}

// NewMapping decides where each column of header goes, given the job's
// explicit mapping (column header → field; may be nil) and the
// connection's custom fields (their names and types; may be nil).
//
// A field is a canonical field (schema.Fields, but not "custom_fields"
// itself) or "custom_fields.<name>" of a configured custom field. Without an
// explicit mapping, a column whose header equals a field or a custom
// field's name, case, white space and "_" ignored, maps to it ("Whats App"
// to whatsapp, "faction" to custom_fields.Faction); a canonical field wins
// over a custom field of the same name. Columns named like ReportColumns
// are ignored, and a column with an empty header is never mapped.
//
// An explicit mapping overrides: its key names a column by its header,
// exactly (after trimming) or, when no header is exactly it, as automatic
// matching compares (it must then match one header only); its value names
// a field the same way, or is "" to leave the column unmapped. A column
// that automatic matching sends to a field the explicit mapping gives to
// another column stays unmapped.
//
// The error is a *MappingError listing every problem: a key that names no
// column of the file (or several), a value that is not a field, two columns
// mapped to the same field, a header that matches two custom fields.
// Columns left unmapped are listed by Unmapped.
func NewMapping(header []string, explicit map[string]string, custom []fieldconfig.CustomField) (*Mapping, error) {
	m := &Mapping{header: slices.Clone(header), columns: make([]column, len(header))}
	var problems []string
	resolve := newFieldResolver(custom)

	// Explicit entries first, in a stable order.
	explicitCol := map[int]string{} // column → the key that named it
	keys := make([]string, 0, len(explicit))
	for k := range explicit {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		col, problem := findColumn(header, k)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		if other, dup := explicitCol[col]; dup {
			problems = append(problems, fmt.Sprintf("mappings %q and %q both name column %q", other, k, header[col]))
			continue
		}
		explicitCol[col] = k
		target := strings.TrimSpace(explicit[k])
		if target == "" {
			continue
		}
		c, problem := resolve.explicit(target)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("mapping %q: %s", k, problem))
			continue
		}
		m.columns[col] = c
	}
	taken := map[string]int{} // field → column
	for i, c := range m.columns {
		if c.field == "" {
			continue
		}
		if j, dup := taken[c.field]; dup {
			problems = append(problems, fmt.Sprintf("columns %q and %q are both mapped to %s", header[j], header[i], c.field))
			continue
		}
		taken[c.field] = i
	}

	// Automatic matching of the other columns.
	auto := map[string]int{}
	for i, h := range header {
		if _, named := explicitCol[i]; named || h == "" || isReportColumn(h) {
			continue
		}
		c, problem := resolve.auto(h)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		if c.field == "" {
			continue
		}
		if _, byExplicit := taken[c.field]; byExplicit {
			continue
		}
		if j, dup := auto[c.field]; dup {
			problems = append(problems, fmt.Sprintf("columns %q and %q both match %s; map one of them explicitly (or to \"\")", header[j], h, c.field))
			continue
		}
		auto[c.field] = i
		m.columns[i] = c
	}
	if len(problems) > 0 {
		return nil, &MappingError{Problems: problems}
	}
	for i, h := range header {
		if m.columns[i].field == "" && h != "" && !isReportColumn(h) {
			m.unmapped = append(m.unmapped, h)
		}
	}
	m.order()
	return m, nil
}

// order sorts the mapped columns as Record writes them.
func (m *Mapping) order() {
	for i, c := range m.columns {
		switch {
		case c.field == "":
		case c.custom != "":
			m.customs = append(m.customs, i)
		default:
			m.fields = append(m.fields, i)
		}
	}
	slices.SortFunc(m.fields, func(a, b int) int { return strings.Compare(m.columns[a].field, m.columns[b].field) })
	slices.SortFunc(m.customs, func(a, b int) int { return strings.Compare(m.columns[a].custom, m.columns[b].custom) })
	m.customAt = len(m.fields)
	for k, i := range m.fields {
		if m.columns[i].field > schema.FieldCustomFields {
			m.customAt = k
			break
		}
	}
}

// findColumn finds the column an explicit mapping key names.
func findColumn(header []string, key string) (int, string) {
	k := strings.TrimSpace(key)
	if i := slices.Index(header, k); i >= 0 && k != "" {
		return i, ""
	}
	var found []int
	for i, h := range header {
		if h != "" && matchKey(h) == matchKey(k) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 1:
		return found[0], ""
	case 0:
		return -1, fmt.Sprintf("mapping %q: the file has no such column", key)
	}
	names := make([]string, len(found))
	for i, j := range found {
		names[i] = strconv.Quote(header[j])
	}
	return -1, fmt.Sprintf("mapping %q: matches columns %s; name one exactly", key, strings.Join(names, ", "))
}

// fieldResolver knows the fields a column can go to.
type fieldResolver struct {
	canonical map[string]string // matchKey → field
	custom    []fieldconfig.CustomField
	byKey     map[string][]int // matchKey(name) → custom field indexes
}

func newFieldResolver(custom []fieldconfig.CustomField) *fieldResolver {
	r := &fieldResolver{canonical: map[string]string{}, custom: custom, byKey: map[string][]int{}}
	for _, f := range schema.Fields {
		if f != schema.FieldCustomFields {
			r.canonical[matchKey(f)] = f
		}
	}
	for i, f := range custom {
		k := matchKey(f.Name)
		r.byKey[k] = append(r.byKey[k], i)
	}
	return r
}

func (r *fieldResolver) canonicalColumn(field string) column {
	c := column{field: field}
	switch field {
	case schema.FieldTags, schema.FieldRemoveTags:
		c.kind = valueList
	case schema.FieldLevel:
		c.kind = valueNumber
	}
	return c
}

func (r *fieldResolver) customColumn(i int) column {
	f := r.custom[i]
	c := column{field: schema.CustomFieldPath(f.Name), custom: f.Name}
	switch f.Type {
	case fieldconfig.TypeMultiSelect, fieldconfig.TypeAttachment:
		c.kind = valueList
	case fieldconfig.TypeNumber:
		c.kind = valueNumber
	}
	return c
}

// explicit resolves a mapping's value: a canonical field or
// custom_fields.<name>, exactly or as matching compares.
func (r *fieldResolver) explicit(target string) (column, string) {
	if target == schema.FieldCustomFields || matchKey(target) == matchKey(schema.FieldCustomFields) {
		return column{}, "custom_fields is an object; map the column to custom_fields.<name>"
	}
	if name, ok := strings.CutPrefix(target, schema.FieldCustomFields+"."); ok {
		for i, f := range r.custom {
			if f.Name == name {
				return r.customColumn(i), ""
			}
		}
		switch idx := r.byKey[matchKey(name)]; len(idx) {
		case 1:
			return r.customColumn(idx[0]), ""
		case 0:
			return column{}, fmt.Sprintf("%q is not a configured custom field", name)
		}
		return column{}, fmt.Sprintf("%q matches several custom fields; name one exactly", name)
	}
	if f, ok := r.canonical[matchKey(target)]; ok {
		return r.canonicalColumn(f), ""
	}
	return column{}, fmt.Sprintf("%q is neither a canonical field nor custom_fields.<name> of a configured custom field", target)
}

// auto matches a header to a field; no match is the zero column.
func (r *fieldResolver) auto(header string) (column, string) {
	k := matchKey(header)
	if f, ok := r.canonical[k]; ok {
		return r.canonicalColumn(f), ""
	}
	switch idx := r.byKey[k]; len(idx) {
	case 0:
		return column{}, ""
	case 1:
		return r.customColumn(idx[0]), ""
	default:
		names := make([]string, len(idx))
		for i, j := range idx {
			names[i] = strconv.Quote(r.custom[j].Name)
		}
		return column{}, fmt.Sprintf("column %q matches custom fields %s; map it explicitly", header, strings.Join(names, ", "))
	}
}

// Header is the header the mapping was built for.
func (m *Mapping) Header() []string { return m.header }

// Unmapped lists, in the file's order, the columns that go to no field
// (ReportColumns and columns with an empty header not included).
func (m *Mapping) Unmapped() []string { return slices.Clone(m.unmapped) }

// Fields is where each mapped column goes: header → field.
func (m *Mapping) Fields() map[string]string {
	out := map[string]string{}
	for i, c := range m.columns {
		if c.field != "" {
			out[m.header[i]] = c.field
		}
	}
	return out
}

// Value is the cell of cells mapped to field (a canonical field or
// custom_fields.<name>), trimmed; "" when no column goes to field or the
// row has no such cell.
func (m *Mapping) Value(cells []string, field string) string {
	for i, c := range m.columns {
		if c.field == field && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
	}
	return ""
}

// Record is the JSON of the canonical record of one row (Row.Cells, one
// cell per header column; missing cells are empty, cells beyond the header
// ignored), for gateway.Service. Each mapped cell is trimmed of surrounding
// space, and an empty one is left out. tags, remove_tags, multi_select and
// attachment custom fields are arrays, the cell split on commas, each
// part trimmed, empty parts dropped. level and number custom fields are
// JSON numbers when the cell is a finite decimal number ("3", "-1.5",
// "2e3"), and strings otherwise, for the record's checks to report. Every
// other field, ref included, is a string; custom fields go under
// custom_fields. A row with no mapped value is {}.
func (m *Mapping) Record(cells []string) json.RawMessage {
	// Written straight, keys in order (as encoding/json orders a map's):
	// this runs for every row of every file.
	b := make([]byte, 0, 64+16*len(m.fields))
	b = append(b, '{')
	for k := 0; k <= len(m.fields); k++ {
		if k == m.customAt {
			b = m.appendCustoms(b, cells)
		}
		if k < len(m.fields) {
			b = m.appendField(b, cells, m.fields[k], m.columns[m.fields[k]].field)
		}
	}
	return append(b, '}')
}

// appendCustoms writes "custom_fields" and its object when any custom
// field of the row has a value.
func (m *Mapping) appendCustoms(b []byte, cells []string) []byte {
	start := len(b)
	if start > 1 {
		b = append(b, ',')
	}
	b = appendQuoted(b, schema.FieldCustomFields)
	b = append(b, ':', '{')
	open := len(b)
	for _, i := range m.customs {
		b = m.appendField(b, cells, i, m.columns[i].custom)
	}
	if len(b) == open {
		return b[:start]
	}
	return append(b, '}')
}

// appendField writes key and column i's value, after a comma unless it is
// the first of its object; nothing when the cell is empty.
func (m *Mapping) appendField(b []byte, cells []string, i int, key string) []byte {
	if i >= len(cells) {
		return b
	}
	s := strings.TrimSpace(cells[i])
	if s == "" {
		return b
	}
	var list []string
	if m.columns[i].kind == valueList {
		if list = splitList(s); len(list) == 0 {
			return b
		}
	}
	if c := b[len(b)-1]; c != '{' {
		b = append(b, ',')
	}
	b = appendQuoted(b, key)
	b = append(b, ':')
	switch m.columns[i].kind {
	case valueList:
		b = append(b, '[')
		for k, v := range list {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, v)
		}
		return append(b, ']')
	case valueNumber:
		if n, ok := jsonNumber(s); ok {
			return append(b, n...)
		}
	}
	return appendQuoted(b, s)
}

// appendQuoted writes s as a JSON string (invalid UTF-8 replaced, as
// encoding/json does; readers refuse it before a record is made).
func appendQuoted(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}

func splitList(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// jsonNumber returns s as a JSON number when it is a finite decimal number:
// as written when it has JSON's syntax, else as Go formats the value
// ("+5" → 5, ".5" → 0.5). Hexadecimal, infinities and NaN are not numbers
// here.
func jsonNumber(s string) (json.Number, bool) {
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-.eE", r) {
			return "", false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	if json.Valid([]byte(s)) {
		return json.Number(s), true
	}
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), true
}
