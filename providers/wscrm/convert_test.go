package wscrm

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
)

// The canonical records equivalent to the provider document's request
// examples. The batchImport example also carries "desc": "": crmgate leaves
// empty values out (batchImport merges; an empty value carries nothing), so
// the golden file does not have it. On the import-pool endpoints the
// single-select Faction is the JSON-array string providers.md prescribes
// (the document's extension-field explanation, not its example record).
var (
	docFengChangqing = schema.Customer{
		Owner: "kubrick101", WhatsApp: "+86 152 6666 7780", Name: "Feng Changqing", Gender: "male",
		Birthday: "2020-03-08", Address: "Chang'an", Email: "fengchangqing@tang.com",
		Profession: "Military Governor", Income: "100 gold",
		Tags: []string{"Soldier", "Strategy"}, RemoveTags: []string{"Strategy"},
		Stage: "New customer", Source: "System assignment", Language: "Auto",
		WelcomeMessage: "This is a welcome message",
		CustomFields: map[string]any{
			"Faction":         "Guanlong Group",
			"extensionField1": "This is the value of extensionField1",
		},
	}
	docLiHeng = schema.Customer{
		Owner: "kubrick101", WhatsApp: "8615266667780", FirstName: "Li", LastName: "Heng", Gender: "male",
		Birthday: "2020-03-08", Address: "Chang'an", Email: "liheng@tang.com",
		Profession: "Emperor", Income: "10000 gold", Remarks: "Emperor Suzong of Tang",
		Tags: []string{"Prince Zhong", "Retake Two Capitals"}, RemoveTags: []string{"Prince Zhong"},
		Stage: "New customer", Source: "System assignment", Language: "Auto",
		WelcomeMessage: "This is a welcome message",
		CustomFields: map[string]any{
			"Faction":         "Royal Family",
			"extensionField1": "This is the value of extensionField1",
		},
	}
)

func TestPlanBodiesMatchTheDocument(t *testing.T) {
	t.Parallel()
	a := testAdapter(t, "http://wscrm.invalid", "")
	rules := sampleRules()
	liHengNoRemove := docLiHeng
	liHengNoRemove.RemoveTags = nil
	tests := []struct {
		name, golden, path string
		op                 gateway.Op
		in                 schema.Customer
	}{
		{"batchImport", "batch_import.json", PathBatchImport, gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}, docFengChangqing},
		{"batchImportWhatsContact", "pool_replace.json", PathPoolReplace, gateway.Op{Kind: gateway.KindPoolReplace}, docLiHeng},
		{"batchImportAppendV2", "pool_append.json", PathPoolAppend, gateway.Op{Kind: gateway.KindPoolAppend}, liHengNoRemove},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := wiretest.Prepared(t, tt.in, rules)
			wire, errs, warns := a.Translate(tt.op, c)
			if len(errs) > 0 || len(warns) > 0 {
				t.Fatalf("Translate: errs %+v warns %+v", errs, warns)
			}
			calls, err := a.Plan(tt.op, []gateway.Record{{Index: 0, Customer: c.Customer(), Wire: wire}})
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 || calls[0].Path != tt.path || calls[0].Method != "POST" {
				t.Fatalf("calls = %+v, want one POST %s", calls, tt.path)
			}
			wiretest.SameJSON(t, calls[0].Body, testutil.ReadFile(t, "testdata", tt.golden))
		})
	}
}

func TestTranslateFields(t *testing.T) {
	t.Parallel()
	rules := sampleRules()
	base := schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}
	with := func(f func(*schema.Customer)) schema.Customer {
		c := base
		f(&c)
		return c
	}
	custom := func(name string, v any) schema.Customer {
		return with(func(c *schema.Customer) { c.CustomFields = map[string]any{name: v} })
	}
	imp := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	rep := gateway.Op{Kind: gateway.KindPoolReplace}
	app := gateway.Op{Kind: gateway.KindPoolAppend}
	tests := []struct {
		name string
		op   gateway.Op
		in   schema.Customer
		key  string
		want any // the wire value at key; nil: key absent
	}{
		{"owner", imp, base, "agentAccount", "kubrick101"},
		{"whatsapp", imp, base, "whatsApp", "8615266667780"},
		{"name", imp, with(func(c *schema.Customer) { c.Name = "Li Heng" }), "friendName", "Li Heng"},
		{"name wins over first/last", imp, with(func(c *schema.Customer) { c.Name, c.FirstName = "Li Heng", "X" }), "friendName", "Li Heng"},
		{"first and last", imp, with(func(c *schema.Customer) { c.FirstName, c.LastName = "Li", "Heng" }), "friendName", "Li Heng"},
		{"first only", imp, with(func(c *schema.Customer) { c.FirstName = "Li" }), "friendName", "Li"},
		{"no name", imp, base, "friendName", nil},
		{"gender unknown sent as given", imp, with(func(c *schema.Customer) { c.Gender = "unknown" }), "sex", "unknown"},
		{"birthday", imp, with(func(c *schema.Customer) { c.Birthday = "1999-12-31" }), "birthday", "1999/12/31"},
		{"address", imp, with(func(c *schema.Customer) { c.Address = "Chang'an" }), "address", "Chang'an"},
		{"email", imp, with(func(c *schema.Customer) { c.Email = "a@b.cn" }), "email", "a@b.cn"},
		{"profession", imp, with(func(c *schema.Customer) { c.Profession = "Poet" }), "profession", "Poet"},
		{"income", imp, with(func(c *schema.Customer) { c.Income = "5 gold" }), "income", "5 gold"},
		{"remarks", imp, with(func(c *schema.Customer) { c.Remarks = "a\nb" }), "desc", "a\nb"},
		{"empty remarks left out", imp, base, "desc", nil},
		{"tags", imp, with(func(c *schema.Customer) { c.Tags = []string{"VIP", "Soldier"} }), "tabName", "VIP,Soldier"},
		{"remove_tags on batchImport", imp, with(func(c *schema.Customer) { c.RemoveTags = []string{"VIP", "X"} }), "cancelTabName", "VIP,X"},
		{"remove_tags on pool replace", rep, with(func(c *schema.Customer) { c.RemoveTags = []string{"VIP"} }), "cancelTabName", "VIP"},
		{"remove_tags not on pool append", app, with(func(c *schema.Customer) { c.RemoveTags = []string{"VIP"} }), "cancelTabName", nil},
		{"stage", imp, with(func(c *schema.Customer) { c.Stage = "Requirement match" }), "stage", "Requirement match"},
		{"source", imp, with(func(c *schema.Customer) { c.Source = "Default" }), "source", "Default"},
		{"language", imp, with(func(c *schema.Customer) { c.Language = "Simplified Chinese (ZH)" }), "languageTag", "Simplified Chinese (ZH)"},
		{"welcome", imp, with(func(c *schema.Customer) { c.WelcomeMessage = "Hi" }), "welcome", "Hi"},
		{"phone not sent", imp, with(func(c *schema.Customer) { c.Phone = "8615266667781" }), "phone", nil},
		{"country not sent", imp, with(func(c *schema.Customer) { c.Country = "CN" }), "country", nil},

		{"text", imp, custom("extensionField1", "hello"), "extensionField1", "hello"},
		{"text on pool", rep, custom("extensionField1", "hello"), "extensionField1", "hello"},
		{"number", imp, custom("Level", json.Number("12.5")), "Level", json.Number("12.5")},
		{"number on pool", app, custom("Level", json.Number("3")), "Level", json.Number("3")},
		{"date", imp, custom("Joined", "2022-03-08"), "Joined", "2022-03-08"},
		{"date on pool", rep, custom("Joined", "2022-03-08"), "Joined", "2022-03-08"},
		{"time", imp, custom("Meeting", "12:00:00"), "Meeting", "12:00:00"},
		{"single-select plain on batchImport", imp, custom("Faction", "Royal Family"), "Faction", "Royal Family"},
		{"single-select JSON array on pool replace", rep, custom("Faction", "Royal Family"), "Faction", `["Royal Family"]`},
		{"single-select JSON array on pool append", app, custom("Faction", "Guanlong Group"), "Faction", `["Guanlong Group"]`},
		{"multi-select", imp, custom("Interests", []any{"Archery", "Poetry"}), "Interests", "Archery,Poetry"},
		{"multi-select on pool", rep, custom("Interests", []any{"Archery", "Poetry"}), "Interests", "Archery,Poetry"},
		{"attachment", imp, custom("Attachment", []any{"http://123.img", "https://456.img"}), "Attachment", "http://123.img,https://456.img"},
		{"attachment on pool", app, custom("Attachment", []any{"http://123.img"}), "Attachment", "http://123.img"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := wiretest.Prepared(t, tt.in, rules)
			wire, errs, _ := translate(tt.op, c)
			if len(errs) > 0 {
				t.Fatalf("errs: %+v", errs)
			}
			got, ok := wire.get(tt.key)
			if tt.want == nil {
				if ok {
					t.Fatalf("%s = %#v, want it absent", tt.key, got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s = %#v, want %#v", tt.key, got, tt.want)
			}
		})
	}
}

func TestTranslateIssues(t *testing.T) {
	t.Parallel()
	// The configuration requires no field, so that WSCRM's own need of an
	// owner and a WhatsApp number is what fails a record without them.
	cfg := testFields()
	cfg.Required = nil
	rules := fieldconfig.MustCompile(cfg)
	level := 3
	ok := schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780"}
	tests := []struct {
		name       string
		op         gateway.Op
		in         schema.Customer
		errs, warn []string // "code field"
	}{
		{"no owner", gateway.Op{Kind: gateway.KindImport}, schema.Customer{WhatsApp: "8615266667780"}, []string{"required owner"}, nil},
		{"no whatsapp", gateway.Op{Kind: gateway.KindImport}, schema.Customer{Owner: "a"}, []string{"required whatsapp"}, nil},
		{"neither", gateway.Op{Kind: gateway.KindPoolReplace}, schema.Customer{Name: "x"}, []string{"required owner", "required whatsapp"}, nil},
		{"unsupported fields warn", gateway.Op{Kind: gateway.KindImport},
			func() schema.Customer {
				c := ok
				c.Phone, c.Viber, c.Messenger, c.Instagram, c.Zalo, c.Line = "8615266667781", "8615266667782", "3", "4", "8615266667783", "l"
				c.Country, c.TimeZone, c.Level = "CN", "Asia/Shanghai", &level
				c.FirstName, c.LastName, c.Name = "Li", "Heng", "Li Heng"
				return c
			}(), nil,
			[]string{"unsupported_field phone", "unsupported_field viber", "unsupported_field messenger", "unsupported_field instagram",
				"unsupported_field zalo", "unsupported_field line", "unsupported_field country", "unsupported_field time_zone", "unsupported_field level"}},
		{"unsupported field strict", gateway.Op{Kind: gateway.KindImport, Strict: true},
			func() schema.Customer { c := ok; c.Country = "CN"; return c }(), []string{"unsupported_field country"}, nil},
		{"remove_tags on append warns", gateway.Op{Kind: gateway.KindPoolAppend},
			func() schema.Customer { c := ok; c.RemoveTags = []string{"VIP"}; return c }(), nil, []string{"unsupported_field remove_tags"}},
		{"remove_tags on append strict", gateway.Op{Kind: gateway.KindPoolAppend, Strict: true},
			func() schema.Customer { c := ok; c.RemoveTags = []string{"VIP"}; return c }(), []string{"unsupported_field remove_tags"}, nil},
		{"unknown custom field", gateway.Op{Kind: gateway.KindImport},
			func() schema.Customer { c := ok; c.CustomFields = map[string]any{"Nope": "x"}; return c }(), []string{"unknown_field custom_fields.Nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs, warns := throughChecks(tt.op, tt.in, rules)
			if got := issueKeys(errs); !reflect.DeepEqual(got, tt.errs) {
				t.Errorf("errs = %v, want %v", got, tt.errs)
			}
			if got := issueKeys(warns); !reflect.DeepEqual(got, tt.warn) {
				t.Errorf("warnings = %v, want %v", got, tt.warn)
			}
		})
	}
}

// TestBirthdayThroughTheChecks: a birthday that is not YYYY-MM-DD fails at
// schema.Check, before translate, which trusts it and writes YYYY/MM/DD.
func TestBirthdayThroughTheChecks(t *testing.T) {
	t.Parallel()
	rules := fieldconfig.MustCompile(testFields())
	for _, tt := range []struct {
		birthday string
		errs     []string
		wire     string
	}{
		{"08/03/2020", []string{"invalid_date birthday"}, ""},
		{"2020-02-30", []string{"invalid_date birthday"}, ""},
		{"2020-03-08", nil, "2020/03/08"},
	} {
		c := schema.Customer{Owner: "kubrick101", WhatsApp: "+86 152 6666 7780", Birthday: tt.birthday}
		wire, errs, _ := throughChecks(gateway.Op{Kind: gateway.KindImport}, c, rules)
		if len(errs) == 0 {
			if got := wire.str("birthday"); got != tt.wire {
				t.Errorf("%q: birthday sent as %q, want %q", tt.birthday, got, tt.wire)
			}
		}
		if got := issueKeys(errs); !reflect.DeepEqual(got, tt.errs) {
			t.Errorf("%q: errs = %v, want %v", tt.birthday, got, tt.errs)
		}
	}
}

func issueKeys(is []schema.Issue) []string {
	var out []string
	for _, i := range is {
		out = append(out, string(i.Code)+" "+i.Field)
	}
	return out
}

func TestCustomFieldKeyCollision(t *testing.T) {
	t.Parallel()
	cfg := testFields()
	cfg.CustomFields = append(cfg.CustomFields, fieldconfig.CustomField{Name: "Mail", Type: fieldconfig.TypeText, ProviderKey: "email"})
	rules := fieldconfig.MustCompile(cfg)
	c := schema.Customer{Owner: "a", WhatsApp: "8615266667780", Email: "x@y.cn", CustomFields: map[string]any{"Mail": "other"}}
	wire, errs, _ := translate(gateway.Op{Kind: gateway.KindImport}, wiretest.Prepared(t, c, rules))
	if got := issueKeys(errs); !reflect.DeepEqual(got, []string{"invalid_value custom_fields.Mail"}) {
		t.Fatalf("errs = %v", got)
	}
	if got := wire.str("email"); got != "x@y.cn" {
		t.Fatalf("email = %v, the basic field must not be overwritten", got)
	}
}

func TestFromContact(t *testing.T) {
	t.Parallel()
	cfg := testFields()
	cfg.CustomFields = append(cfg.CustomFields,
		fieldconfig.CustomField{Name: "Date", Type: fieldconfig.TypeDate},
		fieldconfig.CustomField{Name: "Since", Type: fieldconfig.TypeDate, Format: "02.01.2006"},
		fieldconfig.CustomField{Name: "Code name", Type: fieldconfig.TypeText, ProviderKey: "cn_1"})
	rules := fieldconfig.MustCompile(cfg)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		name string
		item string
		want gateway.Contact
	}{
		{"nulls and empties", `{"whatsId":"86187272722","name":"","sex":null,"email":"","birthday":null,"address":"","profession":"","income":"","desc":"","country":null,"stage":null,"source":null,"tabList":null,"firstChatTime":null,"lastChatTime":null,"extendMap":null}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "86187272722"}}},
		{"basic fields", `{"whatsId":"8615266667780","name":"Li Heng","sex":"MALE","email":"liheng@tang.com","birthday":"2020/03/08","address":"Chang'an","profession":"Emperor","income":"10000 gold","desc":"a\nb","country":"CN","stage":20,"source":11}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "8615266667780", Name: "Li Heng", Gender: "male", Email: "liheng@tang.com",
				Birthday: "2020-03-08", Address: "Chang'an", Profession: "Emperor", Income: "10000 gold", Remarks: "a\nb",
				Country: "CN", Stage: "Requirement match", Source: "Default"}}},
		{"provider spellings", `{"whatsId":"1","sex":"UNKOWNN","birthday":"2020-03-08","stage":"10","source":99}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "1", Gender: "unknown", Birthday: "2020-03-08", Stage: "New customer", Source: "99"}}},
		{"female lower case", `{"whatsId":"1","sex":"female"}`, gateway.Contact{Customer: schema.Customer{WhatsApp: "1", Gender: "female"}}},
		{"tags flattened", `{"whatsId":"1","tabList":["VIP",["Soldier","Strategy"],"",null]}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "1", Tags: []string{"VIP", "Soldier", "Strategy"}}}},
		{"extension fields", `{"whatsId":"1","extendMap":{"Date":"2024/07/08","Since":"01.02.2021","Joined":"2022-03-08","Level":7,"Interests":"Archery,Poetry","Attachment":"http://1.img,http://2.img","Faction":"[\"Royal Family\"]","cn_1":"Fox","Other":"kept","Empty":""}}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "1", CustomFields: map[string]any{
				"Date": "2024-07-08", "Since": "2021-02-01", "Joined": "2022-03-08", "Level": json.Number("7"),
				"Interests": []string{"Archery", "Poetry"}, "Attachment": []string{"http://1.img", "http://2.img"},
				"Faction": "Royal Family", "Code name": "Fox", "Other": "kept"}}}},
		{"chat times", `{"whatsId":"1","firstChatTime":"2024-07-08 09:10:11","lastChatTime":"1720400000000"}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "1"}, FirstChatAt: "2024-07-08T09:10:11+08:00",
				LastChatAt: time.UnixMilli(1720400000000).In(shanghai).Format(time.RFC3339)}},
		{"unreadable values kept", `{"whatsId":"1","birthday":"someday","firstChatTime":"yesterday"}`,
			gateway.Contact{Customer: schema.Customer{WhatsApp: "1", Birthday: "someday"}, FirstChatAt: "yesterday"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var items []queryContact
			if err := decodeQueryData([]byte("["+tt.item+"]"), &items); err != nil {
				t.Fatal(err)
			}
			got := fromContact(&items[0], rules, shanghai)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}
