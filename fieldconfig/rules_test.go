package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"crmgate/schema"
)

func id(n int64) *int64 { return &n }

// sampleConfig is the field configuration of gateway.md §4, extended with one
// custom field of every type.
func sampleConfig() Config {
	return Config{
		Required:  []string{"name", "owner"},
		Stages:    []Option{{Label: "New customer", ID: id(10)}, {Label: "Requirement match", ID: id(20)}},
		Sources:   []Option{{Label: "System assignment", ID: id(10)}, {Label: "Default", ID: id(11)}},
		Languages: []Option{{Label: "Auto"}, {Label: "Simplified Chinese (ZH)"}},
		Tags:      Tags{Strict: false, Known: []string{"VIP", "Soldier"}},
		CustomFields: []CustomField{
			{Name: "Faction", Type: TypeSingleSelect, Options: []string{"Guanlong Group", "Royal Family"}, MaxLength: 64, ProviderKey: "customize_1_14"},
			{Name: "Nickname", Type: TypeText, MaxLength: 5},
			{Name: "Story", Type: TypeTextarea, MaxLength: 10},
			{Name: "Score", Type: TypeNumber},
			{Name: "Joined", Type: TypeDate, Format: "2006/01/02"},
			{Name: "Born", Type: TypeDate},
			{Name: "CallAt", Type: TypeTime},
			{Name: "Hobbies", Type: TypeMultiSelect, Options: []string{"Chess", "Go", "Riding"}},
			{Name: "Files", Type: TypeAttachment},
		},
	}
}

func urls(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://files.example.com/%d.pdf", i)
	}
	return out
}

func codes(issues []schema.Issue) []string {
	var out []string
	for _, is := range issues {
		out = append(out, string(is.Code)+"@"+is.Field)
	}
	return out
}

func TestCheckCustomFields(t *testing.T) {
	t.Parallel()
	rules := MustCompile(sampleConfig())
	tests := []struct {
		name  string
		field string
		value any
		want  string // "" = valid; else code
		norm  any    // normal form after a valid check (nil: same as value)
	}{
		{"text ok", "Nickname", "Li", "", nil},
		{"text at max length counts runes", "Nickname", "李衡李衡李", "", nil},
		{"text too long", "Nickname", "Li Heng", "too_long", nil},
		{"text not a string", "Nickname", json.Number("12"), "invalid_value", nil},
		{"textarea ok", "Story", "short", "", nil},
		{"textarea too long", "Story", "a very long story", "too_long", nil},
		{"textarea array", "Story", []any{"a"}, "invalid_value", nil},
		{"number json.Number", "Score", json.Number("12.5"), "", nil},
		{"number negative exponent", "Score", json.Number("-1e3"), "", nil},
		{"number float64", "Score", 3.0, "", json.Number("3")},
		{"number int", "Score", 7, "", json.Number("7")},
		{"number string", "Score", "12", "invalid_number", nil},
		{"number bool", "Score", true, "invalid_number", nil},
		{"number bad literal", "Score", json.Number("12abc"), "invalid_number", nil},
		{"number NaN literal", "Score", json.Number("NaN"), "invalid_number", nil},
		{"number Inf literal", "Score", json.Number("Inf"), "invalid_number", nil},
		{"number hex literal", "Score", json.Number("0x1p3"), "invalid_number", nil},
		{"number leading zero", "Score", json.Number("012"), "invalid_number", nil},
		{"number leading plus", "Score", json.Number("+1"), "invalid_number", nil},
		{"number trailing dot", "Score", json.Number("1."), "invalid_number", nil},
		{"number empty", "Score", json.Number(""), "invalid_number", nil},
		{"number sign only", "Score", json.Number("-"), "invalid_number", nil},
		{"number leading dot", "Score", json.Number(".5"), "invalid_number", nil},
		{"number bare exponent", "Score", json.Number("1e"), "invalid_number", nil},
		{"number signed bare exponent", "Score", json.Number("1e+"), "invalid_number", nil},
		{"number hex integer", "Score", json.Number("0x10"), "invalid_number", nil},
		{"number leading space", "Score", json.Number(" 1"), "invalid_number", nil},
		{"number out of float range", "Score", json.Number("1e400"), "invalid_number", nil},
		{"number zero fraction exponent", "Score", json.Number("-0.5E+2"), "", nil},
		{"date ok", "Born", "1990-02-28", "", nil},
		{"date impossible day", "Born", "1990-02-30", "invalid_date", nil},
		{"date slashes", "Born", "1990/02/28", "invalid_date", nil},
		{"date one-digit month", "Born", "1990-2-28", "invalid_date", nil},
		{"date number", "Born", json.Number("19900228"), "invalid_date", nil},
		{"time ok", "CallAt", "09:30:00", "", nil},
		{"time without seconds", "CallAt", "09:30", "invalid_time", nil},
		{"time one-digit hour", "CallAt", "9:30:00", "invalid_time", nil},
		{"time 24h", "CallAt", "24:00:00", "invalid_time", nil},
		{"single select ok", "Faction", "Royal Family", "", nil},
		{"single select unknown option", "Faction", "Rebels", "invalid_option", nil},
		{"single select case differs", "Faction", "royal family", "invalid_option", nil},
		{"single select array", "Faction", []any{"Royal Family"}, "invalid_option", nil},
		{"multi select ok", "Hobbies", []any{"Chess", "Go"}, "", []string{"Chess", "Go"}},
		{"multi select empty", "Hobbies", []any{}, "", []string{}},
		{"multi select unknown option", "Hobbies", []any{"Chess", "Darts"}, "invalid_option", nil},
		{"multi select string", "Hobbies", "Chess", "invalid_option", nil},
		{"multi select non-string element", "Hobbies", []any{"Chess", json.Number("1")}, "invalid_option", nil},
		{"attachment one", "Files", []any{"https://files.example.com/a.pdf"}, "", []string{"https://files.example.com/a.pdf"}},
		{"attachment http", "Files", []any{"http://files.example.com/a.pdf"}, "", []string{"http://files.example.com/a.pdf"}},
		{"attachment ten", "Files", urls(10), "", nil},
		{"attachment eleven", "Files", urls(11), "attachment_invalid", nil},
		{"attachment ftp", "Files", []any{"ftp://files.example.com/a.pdf"}, "attachment_invalid", nil},
		{"attachment no host", "Files", []any{"https:///a.pdf"}, "attachment_invalid", nil},
		{"attachment relative", "Files", []any{"/a.pdf"}, "attachment_invalid", nil},
		{"attachment comma", "Files", []any{"https://files.example.com/a,b.pdf"}, "attachment_invalid", nil},
		{"attachment string", "Files", "https://files.example.com/a.pdf", "attachment_invalid", nil},
		{"unknown field", "Colour", "red", "unknown_field", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &schema.Customer{Name: "Li Heng", Owner: "agent-1", CustomFields: map[string]any{tt.field: tt.value}}
			got := issuesOf(rules, c)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("Check(%s=%#v) = %v, want no issues", tt.field, tt.value, got)
				}
				want := tt.norm
				if want == nil {
					if l, ok := tt.value.([]any); ok {
						s := make([]string, len(l))
						for i := range l {
							s[i] = l[i].(string)
						}
						want = s
					} else {
						want = tt.value
					}
				}
				if !reflect.DeepEqual(c.CustomFields[tt.field], want) {
					t.Errorf("normal form = %#v, want %#v", c.CustomFields[tt.field], want)
				}
				return
			}
			wantIssue := tt.want + "@custom_fields." + tt.field
			if len(got) != 1 || codes(got)[0] != wantIssue {
				t.Fatalf("Check(%s=%#v) = %v, want exactly [%s]", tt.field, tt.value, codes(got), wantIssue)
			}
			if got[0].Message == "" {
				t.Errorf("issue without a message: %+v", got[0])
			}
		})
	}
}

func TestCheckRequired(t *testing.T) {
	t.Parallel()
	cfg := sampleConfig()
	cfg.Required = []string{"name", "owner", "whatsapp", "tags", "Score"}
	cfg.CustomFields = append(cfg.CustomFields, CustomField{Name: "Region", Type: TypeText, Required: true})
	rules := MustCompile(cfg)
	full := func() *schema.Customer {
		return &schema.Customer{Name: "Li Heng", Owner: "a", WhatsApp: "8615266667780", Tags: []string{"VIP"},
			CustomFields: map[string]any{"Score": json.Number("1"), "Region": "HK"}}
	}
	tests := []struct {
		name   string
		mutate func(c *schema.Customer)
		want   []string
	}{
		{"all present", func(*schema.Customer) {}, nil},
		{"name from first name", func(c *schema.Customer) { c.Name, c.FirstName = "", "Li" }, nil},
		{"name from last name", func(c *schema.Customer) { c.Name, c.LastName = "", "Heng" }, nil},
		{"name missing", func(c *schema.Customer) { c.Name = "" }, []string{"required@name"}},
		{"owner missing", func(c *schema.Customer) { c.Owner = "" }, []string{"required@owner"}},
		{"tags empty", func(c *schema.Customer) { c.Tags = []string{} }, []string{"required@tags"}},
		{"custom required by list missing", func(c *schema.Customer) { delete(c.CustomFields, "Score") }, []string{"required@custom_fields.Score"}},
		{"custom required by field null", func(c *schema.Customer) { c.CustomFields["Region"] = nil }, []string{"required@custom_fields.Region"}},
		{"custom required by field empty string", func(c *schema.Customer) { c.CustomFields["Region"] = "" }, []string{"required@custom_fields.Region"}},
		{"everything missing", func(c *schema.Customer) { *c = schema.Customer{} },
			[]string{"required@custom_fields.Region", "required@name", "required@owner", "required@whatsapp", "required@tags", "required@custom_fields.Score"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := full()
			tt.mutate(c)
			if got := codes(issuesOf(rules, c)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

// A custom field both listed in required and marked required is reported once.
func TestCheckRequiredTwiceReportedOnce(t *testing.T) {
	t.Parallel()
	cfg := Config{Required: []string{"Region", "name"}, CustomFields: []CustomField{{Name: "Region", Type: TypeText, Required: true}}}
	rules := MustCompile(cfg)
	got := codes(issuesOf(rules, &schema.Customer{}))
	want := []string{"required@custom_fields.Region", "required@name"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %v, want %v", got, want)
	}
}

func TestCheckOptionsAndTags(t *testing.T) {
	t.Parallel()
	loose := MustCompile(sampleConfig())
	strictCfg := sampleConfig()
	strictCfg.Tags.Strict = true
	strict := MustCompile(strictCfg)
	open := MustCompile(Config{}) // nothing configured: any label passes
	tests := []struct {
		name  string
		rules *Rules
		c     schema.Customer
		want  []string
	}{
		{"configured stage", loose, schema.Customer{Stage: "New customer"}, nil},
		{"unknown stage", loose, schema.Customer{Stage: "Lost"}, []string{"invalid_option@stage"}},
		{"stage by id is not a label", loose, schema.Customer{Stage: "10"}, []string{"invalid_option@stage"}},
		{"configured source", loose, schema.Customer{Source: "Default"}, nil},
		{"unknown source", loose, schema.Customer{Source: "Fair"}, []string{"invalid_option@source"}},
		{"configured language", loose, schema.Customer{Language: "Simplified Chinese (ZH)"}, nil},
		{"unknown language", loose, schema.Customer{Language: "Klingon"}, []string{"invalid_option@language"}},
		{"all three unknown", loose, schema.Customer{Stage: "x", Source: "y", Language: "z"},
			[]string{"invalid_option@stage", "invalid_option@source", "invalid_option@language"}},
		{"no options configured", open, schema.Customer{Stage: "x", Source: "y", Language: "z", Tags: []string{"t"}}, nil},
		{"unknown tag, not strict", loose, schema.Customer{Tags: []string{"VIP", "New"}}, nil},
		{"known tags, strict", strict, schema.Customer{Tags: []string{"VIP", "Soldier"}}, nil},
		{"unknown tags, strict", strict, schema.Customer{Tags: []string{"VIP", "New", "vip"}},
			[]string{"invalid_option@tags", "invalid_option@tags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.c
			c.Name, c.Owner = "n", "o"
			if got := codes(issuesOf(tt.rules, &c)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

// Check reports every problem of a record, not only the first.
func TestCheckReportsEverything(t *testing.T) {
	t.Parallel()
	rules := MustCompile(sampleConfig())
	c := &schema.Customer{Stage: "Lost", CustomFields: map[string]any{
		"Nickname": "far too long", "Score": "x", "Colour": "red", "Born": "yesterday",
	}}
	want := []string{"required@name", "required@owner", "invalid_option@stage",
		"invalid_date@custom_fields.Born", "unknown_field@custom_fields.Colour",
		"too_long@custom_fields.Nickname", "invalid_number@custom_fields.Score"}
	if got := codes(issuesOf(rules, c)); !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %v\nwant %v", got, want)
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	rules := MustCompile(sampleConfig())
	tests := []struct {
		field string
		in    any // canonical value, checked first
		want  any
	}{
		{"Nickname", "Li", "Li"},
		{"Story", "a\nb", "a\nb"},
		{"Score", json.Number("12.50"), json.Number("12.50")},
		{"Score", 3.0, json.Number("3")},
		{"Joined", "2024-03-09", "2024/03/09"}, // the field's Format
		{"Born", "2024-03-09", "2024-03-09"},   // default format
		{"CallAt", "09:30:00", "09:30:00"},
		{"Faction", "Royal Family", "Royal Family"},
		{"Hobbies", []any{"Chess", "Go"}, "Chess,Go"},
		{"Hobbies", []any{}, ""},
		{"Files", []any{"https://a.example/1.png", "https://a.example/2.png"}, "https://a.example/1.png,https://a.example/2.png"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.field, tt.in), func(t *testing.T) {
			t.Parallel()
			c := &schema.Customer{Name: "n", Owner: "o", CustomFields: map[string]any{tt.field: tt.in}}
			if issues := issuesOf(rules, c); len(issues) != 0 {
				t.Fatalf("Check: %v", issues)
			}
			f, ok := rules.Field(tt.field)
			if !ok {
				t.Fatalf("Field(%q) not found", tt.field)
			}
			got := f.Encode(c.CustomFields[tt.field])
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Encode = %#v, want %#v", got, tt.want)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("encoded value does not marshal: %v", err)
			}
		})
	}
}

func TestCompileRejectsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string // the keys of the problems, in order
	}{
		{"unknown required", Config{Required: []string{"nickname"}}, []string{"required[0]"}},
		{"empty and duplicate labels", Config{Stages: []Option{{Label: ""}}, Sources: []Option{{Label: "a"}, {Label: "a"}}},
			[]string{"stages[0].label", "sources[1].label"}},
		{"bad custom fields", Config{CustomFields: []CustomField{
			{Name: "", Type: "colour"},
			{Name: "A", Type: TypeText, MaxLength: -1, Format: "2006"},
			{Name: "A", Type: TypeSingleSelect},
		}}, []string{"custom_fields[0].name", "custom_fields[0].type", "custom_fields[1].max_length",
			"custom_fields[1].format", "custom_fields[2].name", "custom_fields[2].options"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.cfg)
			if err == nil {
				t.Fatal("Compile accepted an invalid configuration")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %q is not a Problems", err)
			}
			keys := make([]string, len(ps))
			for i, p := range ps {
				keys[i] = p.Key
				if p.Message == "" || strings.Contains(p.Message, p.Key) {
					t.Errorf("problem %+v: the message repeats the key or is empty", p)
				}
			}
			if !slices.Equal(keys, tt.want) {
				t.Errorf("problem keys %q, want %q", keys, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
		})
	}
}

// A Store refuses an invalid document with ErrInvalid, and the problems
// travel with it: the API lists them without parsing the message.
func TestStoreInvalidCarriesProblems(t *testing.T) {
	t.Parallel()
	_, err := NewMemory().Put(context.Background(), "a", Config{Required: []string{"nope"}, Stages: []Option{{}}}, 0)
	var ps Problems
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &ps) {
		t.Fatalf("Put = %v, want ErrInvalid with Problems", err)
	}
	want := Problems{
		{Key: "required[0]", Message: `"nope" is neither a canonical field nor a configured custom field`},
		{Key: "stages[0].label", Message: "must not be empty"},
	}
	if !slices.Equal(ps, want) {
		t.Errorf("problems %+v, want %+v", ps, want)
	}
}

func TestOptionLabels(t *testing.T) {
	t.Parallel()
	rules := MustCompile(sampleConfig())
	if l, ok := rules.StageLabel(20); !ok || l != "Requirement match" {
		t.Errorf("StageLabel(20) = %q, %v", l, ok)
	}
	if l, ok := rules.SourceLabel(11); !ok || l != "Default" {
		t.Errorf("SourceLabel(11) = %q, %v", l, ok)
	}
	if _, ok := rules.StageLabel(99); ok {
		t.Error("StageLabel(99) found a label")
	}
}

// issuesOf is the issues of Rules.Check.
func issuesOf(r *Rules, c *schema.Customer) []schema.Issue {
	_, issues := r.Check(c)
	return issues
}

// Check resolves a passing record's custom fields: each to its definition
// and normal value, in provider-key order, nulls left out.
func TestCheckResolvesCustomFields(t *testing.T) {
	t.Parallel()
	rules := MustCompile(sampleConfig())
	c := &schema.Customer{Name: "n", Owner: "o", CustomFields: map[string]any{
		"Nickname": "Fox", "Faction": "Royal Family", "Score": json.Number("7"), "Hobbies": []any{"Go"}, "Born": nil,
	}}
	k, issues := rules.Check(c)
	if len(issues) != 0 {
		t.Fatalf("Check: %v", issues)
	}
	if k.Customer() != c {
		t.Error("the checked record is not the record checked")
	}
	var got []string
	for _, f := range k.Custom() {
		want, _ := rules.Field(f.Field.Name)
		if f.Field != want {
			t.Errorf("%s: not the configured definition", f.Field.Name)
		}
		got = append(got, fmt.Sprintf("%s=%v", f.Field.Key(), f.Value))
	}
	// customize_1_14 is Faction's key; the others are their names.
	if want := []string{"Hobbies=[Go]", "Nickname=Fox", "Score=7", "customize_1_14=Royal Family"}; !slices.Equal(got, want) {
		t.Errorf("custom %q, want %q", got, want)
	}
	if _, ok := k.Custom()[0].Value.([]string); !ok {
		t.Errorf("multi-select value %#v is not normalised", k.Custom()[0].Value)
	}
	if k, _ := rules.Check(&schema.Customer{Name: "n", Owner: "o"}); k.Custom() != nil {
		t.Errorf("no custom fields resolve to %v", k.Custom())
	}
}

// Two configured custom fields the provider knows by one key cannot both be
// sent: the later one in key order fails with invalid_value; either alone
// passes. A record of empty rules names any custom field unknown_field.
func TestCheckSharedProviderKey(t *testing.T) {
	t.Parallel()
	rules := MustCompile(Config{CustomFields: []CustomField{
		{Name: "A", Type: TypeText, ProviderKey: "customize_1_1"},
		{Name: "B", Type: TypeText, ProviderKey: "customize_1_1"},
		{Name: "customize_1_1", Type: TypeText},
		{Name: "C", Type: TypeText, ProviderKey: "customize_1_2"},
	}})
	issues := issuesOf(rules, &schema.Customer{CustomFields: map[string]any{"A": "x", "B": "y", "C": "z"}})
	if len(issues) != 1 || issues[0].Code != schema.CodeInvalidValue || issues[0].Field != "custom_fields.B" || issues[0].Message == "" {
		t.Errorf("A and B: %+v", issues)
	}
	issues = issuesOf(rules, &schema.Customer{CustomFields: map[string]any{"A": "x", "customize_1_1": "y"}})
	if len(issues) != 1 || issues[0].Field != "custom_fields.customize_1_1" {
		t.Errorf("A and the field named by A's key: %+v", issues)
	}
	for _, name := range []string{"A", "B", "customize_1_1"} {
		if issues := issuesOf(rules, &schema.Customer{CustomFields: map[string]any{name: "x", "C": "z", "B2": nil}}); len(issues) != 1 || issues[0].Code != schema.CodeUnknownField {
			t.Errorf("%s alone (and an unknown B2): %+v", name, issues)
		}
	}
	issues = issuesOf(MustCompile(Config{}), &schema.Customer{CustomFields: map[string]any{"Nickname": "aa"}})
	if len(issues) != 1 || issues[0].Code != schema.CodeUnknownField || issues[0].Field != "custom_fields.Nickname" {
		t.Errorf("empty rules: %+v", issues)
	}
}
