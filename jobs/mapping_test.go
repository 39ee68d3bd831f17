package jobs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/fieldconfig"
	"crmgate/internal/plainrecord"
	"crmgate/schema"
)

var testCustomFields = []fieldconfig.CustomField{
	{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"red", "blue"}},
	{Name: "Score", Type: fieldconfig.TypeNumber},
	{Name: "Colors", Type: fieldconfig.TypeMultiSelect, Options: []string{"red", "blue"}},
	{Name: "Files", Type: fieldconfig.TypeAttachment},
	{Name: "Joined", Type: fieldconfig.TypeDate},
}

func TestMappingAutomatic(t *testing.T) {
	t.Parallel()
	header := []string{"Name", "Whats App", "FIRST_NAME", "Tags", "faction", "Notes", "", "crmgate_status", "CRMGATE_Message", "welcome message", "Score"}
	m, err := NewMapping(header, nil, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Name": "name", "Whats App": "whatsapp", "FIRST_NAME": "first_name", "Tags": "tags",
		"faction": "custom_fields.Faction", "welcome message": "welcome_message", "Score": "custom_fields.Score",
	}
	if diff := cmp.Diff(want, m.Fields()); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Notes"}, m.Unmapped()); diff != "" {
		t.Errorf("unmapped (-want +got):\n%s", diff)
	}
	// Without custom fields, a custom field's column is unmapped.
	m, err = NewMapping(header, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"faction", "Notes", "Score"}, m.Unmapped()); diff != "" {
		t.Errorf("unmapped without custom fields (-want +got):\n%s", diff)
	}
}

func TestMappingExplicit(t *testing.T) {
	t.Parallel()
	header := []string{"Full Name", "Phone", "whatsapp", "Faction", "Groups", "Ignore me", "name"}
	m, err := NewMapping(header, map[string]string{
		"Full Name": "name",
		"phone":     "WhatsApp", // a key and a field as matching compares
		"Faction":   "custom_fields.Faction",
		"Groups":    "custom_fields.colors",
		"Ignore me": "",
	}, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Full Name": "name", "Phone": "whatsapp", "Faction": "custom_fields.Faction", "Groups": "custom_fields.Colors",
	}
	if diff := cmp.Diff(want, m.Fields()); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	// "whatsapp" and "name" would match automatically, but the mapping
	// gives those fields to other columns.
	if diff := cmp.Diff([]string{"whatsapp", "Ignore me", "name"}, m.Unmapped()); diff != "" {
		t.Errorf("unmapped (-want +got):\n%s", diff)
	}
	if got := m.Value([]string{"A", " +86 152 6666 7780 ", "x"}, "whatsapp"); got != "+86 152 6666 7780" {
		t.Errorf("Value = %q", got)
	}
}

// TestMappingErrors: a mapping that cannot work names every problem.
func TestMappingErrors(t *testing.T) {
	t.Parallel()
	header := []string{"Phone", "phone", "Mobile", "Tel", "Faction", "Fax", "Group", "group "}
	custom := append([]fieldconfig.CustomField{{Name: "group", Type: fieldconfig.TypeText}, {Name: "Group", Type: fieldconfig.TypeText}}, testCustomFields...)
	_, err := NewMapping(header, map[string]string{
		"Email":   "email",                 // no such column
		"Mobile":  "whatsapp",              //
		"Tel":     "whatsapp",              // the same field twice
		"Faction": "custom_fields.Unknown", // not a configured custom field
		"Fax":     "fax",                   // not a field
		"Phone":   "custom_fields",         // the object itself
		"PHONE ":  "phone",                 // matches two columns
		"phone":   "remarks",               // exact: fine
	}, custom)
	me, ok := err.(*MappingError)
	if !ok {
		t.Fatalf("err = %v, want a *MappingError", err)
	}
	want := []string{
		`mapping "Email": the file has no such column`,
		`mapping "Faction": "Unknown" is not a configured custom field`,
		`mapping "Fax": "fax" is neither a canonical field nor custom_fields.<name> of a configured custom field`,
		`mapping "PHONE ": matches columns "Phone", "phone"; name one exactly`,
		`mapping "Phone": custom_fields is an object; map the column to custom_fields.<name>`,
		`columns "Mobile" and "Tel" are both mapped to whatsapp`,
		`column "Group" matches custom fields "group", "Group"; map it explicitly`,
		`column "group " matches custom fields "group", "Group"; map it explicitly`,
	}
	if diff := cmp.Diff(want, me.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// Two columns that both match one field automatically.
	_, err = NewMapping([]string{"Phone", "phone"}, nil, nil)
	if me, ok := err.(*MappingError); !ok || len(me.Problems) != 1 || !strings.Contains(me.Problems[0], `columns "Phone" and "phone" both match phone`) {
		t.Errorf("err = %v", err)
	}
	// Resolved by mapping one of them away.
	if _, err := NewMapping([]string{"Phone", "phone"}, map[string]string{"phone": ""}, nil); err != nil {
		t.Errorf("err = %v", err)
	}
}

// decodeStrict decodes a record as the import path does: no unknown key,
// numbers kept as written.
func decodeStrict(t *testing.T, raw json.RawMessage) schema.Customer {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var c schema.Customer
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return c
}

func TestMappingRecord(t *testing.T) {
	t.Parallel()
	header := []string{"Ref", "Name", "WhatsApp", "Tags", "Remove Tags", "Level", "Score", "Colors", "Files", "Faction", "Joined", "Notes", "Birthday"}
	m, err := NewMapping(header, nil, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cells []string
		want  string
	}{
		{
			[]string{" r-1 ", " Ada Lovelace ", "+86 152 6666 7780", "vip, imported,, ", "old", "3", "12.50", "red,blue", "https://x/a.png, https://x/b.png", "red", "2024-01-02", "a note", ""},
			`{"custom_fields":{"Colors":["red","blue"],"Faction":"red","Files":["https://x/a.png","https://x/b.png"],"Joined":"2024-01-02","Score":12.50},` +
				`"level":3,"name":"Ada Lovelace","ref":"r-1","remove_tags":["old"],"tags":["vip","imported"],"whatsapp":"+86 152 6666 7780"}`,
		},
		// Not numbers stay strings for the checks to report; +5 and .5 are numbers.
		{[]string{"", "", "", "", "", "high", "12,5", "", "", "", "", "", ""}, `{"custom_fields":{"Score":"12,5"},"level":"high"}`},
		{[]string{"", "", "", "", "", "+5", ".5", "", "", "", "", "", ""}, `{"custom_fields":{"Score":0.5},"level":5}`},
		{[]string{"", "", "", "", "", "NaN", "0x10", "", "", "", "", "", ""}, `{"custom_fields":{"Score":"0x10"},"level":"NaN"}`},
		// Empty cells and lists of nothing are left out; short rows too.
		{[]string{"", " ", "", " , ,", ""}, `{}`},
		{nil, `{}`},
		{[]string{"r-2", "Bob", "8615266667781", "", "", "", "", "", "", "", "", "", "1990-05-06", "beyond"}, `{"birthday":"1990-05-06","name":"Bob","ref":"r-2","whatsapp":"8615266667781"}`},
	}
	for _, tt := range tests {
		got := m.Record(tt.cells)
		if string(got) != tt.want {
			t.Errorf("Record(%q)\n got %s\nwant %s", tt.cells, got, tt.want)
		}
	}
	c := decodeStrict(t, m.Record(tests[0].cells))
	if c.Level == nil || *c.Level != 3 || c.Ref != "r-1" || len(c.Tags) != 2 || c.CustomFields["Score"] != json.Number("12.50") {
		t.Errorf("decoded: %+v", c)
	}
}

// A row of scalar columns and tags, the usual sheet, is written in the
// plain shape the import service decodes without reflection
// (plainrecord), to the same record; a multi-select column, an array inside
// custom_fields, is not, and goes to the strict decoder.
func TestMappingRecordIsPlain(t *testing.T) {
	t.Parallel()
	header := []string{"Ref", "Name", "WhatsApp", "Email", "Tags", "Level", "Score", "Faction", "Joined", "Notes"}
	m, err := NewMapping(header, nil, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	for _, cells := range [][]string{
		{"r-1", "Ada Lovelace", "+86 152 6666 7780", "ada@example.com", "vip, imported", "3", "12.50", "red", "2024-01-02", "a note"},
		{"r-2", "Bob", "8615266667781", "", "", "5", "7", "", "", ""},
		{"", "", "", "", "", "", "", "", "", ""},
	} {
		raw := m.Record(cells)
		got, ok := plainrecord.Decode(raw)
		if !ok {
			t.Errorf("row %q: %s is left to the strict decoder", cells, raw)
			continue
		}
		if want := decodeStrict(t, raw); !cmp.Equal(*got, want) {
			t.Errorf("row %q: plain %+v, strict %+v", cells, *got, want)
		}
	}
	colors, err := NewMapping([]string{"WhatsApp", "Colors"}, nil, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	if raw := colors.Record([]string{"8615266667781", "red,blue"}); func() bool { _, ok := plainrecord.Decode(raw); return ok }() {
		t.Errorf("%s has an array in custom_fields, yet the plain reader took it", raw)
	}
}
