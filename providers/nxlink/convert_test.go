package nxlink

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"crmgate/providers/internal/wiretest"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// wireMap is the JSON object of a Translate result.
func wireMap(t *testing.T, wire any) map[string]any {
	t.Helper()
	b, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func base() schema.Customer { return schema.Customer{Name: "Li Heng", WhatsApp: "8615266667780"} }

func TestTranslateFields(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	three := 3
	tests := []struct {
		name string
		edit func(c *schema.Customer)
		want map[string]any // beside full_name and whats_app_phone
	}{
		{"name only", func(c *schema.Customer) {}, map[string]any{}},
		{"first and last", func(c *schema.Customer) { c.FirstName, c.LastName = "Heng", "Li" }, map[string]any{"first_name": "Heng", "last_name": "Li"}},
		{"gender male", func(c *schema.Customer) { c.Gender = "male" }, map[string]any{"gender": json.Number("1")}},
		{"gender female", func(c *schema.Customer) { c.Gender = "female" }, map[string]any{"gender": json.Number("0")}},
		{"gender unknown omitted", func(c *schema.Customer) { c.Gender = "unknown" }, map[string]any{}},
		{"birthday", func(c *schema.Customer) { c.Birthday = "1976-04-12" }, map[string]any{"birthday": "1976-04-12"}},
		{"phone", func(c *schema.Customer) { c.Phone = "18163725558" }, map[string]any{"sms_phone": "18163725558"}},
		{"email", func(c *schema.Customer) { c.Email = "li@example.com" }, map[string]any{"email": "li@example.com"}},
		{"viber", func(c *schema.Customer) { c.Viber = "8618163725558" }, map[string]any{"viber_phone": "8618163725558"}},
		{"messenger", func(c *schema.Customer) { c.Messenger = "9876543210" }, map[string]any{"messenger": "9876543210"}},
		{"instagram", func(c *schema.Customer) { c.Instagram = "1122334455" }, map[string]any{"instagram": "1122334455"}},
		{"zalo", func(c *schema.Customer) { c.Zalo = "1234567890" }, map[string]any{"zalo": "1234567890"}},
		{"line", func(c *schema.Customer) { c.Line = "line123456" }, map[string]any{"line": "line123456"}},
		{"country", func(c *schema.Customer) { c.Country = "China" }, map[string]any{"country": "China"}},
		{"address", func(c *schema.Customer) { c.Address = "Wujin District" }, map[string]any{"address": "Wujin District"}},
		{"time zone", func(c *schema.Customer) { c.TimeZone = "GMT+8" }, map[string]any{"time_zone": "GMT+8"}},
		{"remarks", func(c *schema.Customer) { c.Remarks = "Important customer" }, map[string]any{"remark": "Important customer"}},
		{"tags", func(c *schema.Customer) { c.Tags = []string{"test", "99"} }, map[string]any{"tagStr": "test,99"}},
		{"level", func(c *schema.Customer) { c.Level = &three }, map[string]any{"weight": json.Number("3")}},
		{"owner", func(c *schema.Customer) { c.Owner = "agent1@example.com" }, map[string]any{"belong_seat_user": "agent1@example.com"}},
		{"custom fields, keys sorted, typed values", func(c *schema.Customer) {
			c.CustomFields = map[string]any{"Score": json.Number("12.5"), "Nickname": "aa", "Hobbies": []string{"Chess", "Go"}, "Joined": "2024-01-02", "Plain": "x <&> y", "Faction": nil}
		}, map[string]any{"customize_field": `{"Plain":"x <&> y","customize_1_14":"aa","customize_1_16":12.5,"customize_1_17":"2024-01-02","customize_1_18":"Chess,Go"}`}},
		{"ref is echoed only", func(c *schema.Customer) { c.Ref = "crm-17" }, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tt.edit(&c)
			wire, errs, warns := a.Translate(importOp, checked(t, c))
			if len(errs) > 0 || len(warns) > 0 {
				t.Fatalf("errs %+v warns %+v", errs, warns)
			}
			want := map[string]any{"full_name": "Li Heng", "whats_app_phone": "8615266667780"}
			for k, v := range tt.want {
				want[k] = v
			}
			if got := wireMap(t, wire); !reflect.DeepEqual(got, want) {
				t.Errorf("wire\ngot:  %v\nwant: %v", got, want)
			}
		})
	}
}

func TestTranslateNameFallback(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	for _, tt := range []struct{ first, last, want string }{
		{"Heng", "Li", "Heng Li"}, {"Heng", "", "Heng"}, {"", "Li", "Li"},
	} {
		c := schema.Customer{FirstName: tt.first, LastName: tt.last, Email: "li@example.com"}
		wire, errs, _ := a.Translate(importOp, checked(t, c))
		if len(errs) > 0 {
			t.Fatalf("%+v", errs)
		}
		if got := wire.(*wireCustomer).FullName; got != tt.want {
			t.Errorf("full_name %q, want %q", got, tt.want)
		}
	}
}

// throughChecks is what the import service does with a record: schema.Check,
// the connection's rules, then Translate when both passed. It returns the
// wire form and every error.
func throughChecks(a *Adapter, c *schema.Customer) (any, []schema.Issue) {
	return throughRules(a, *c, testRules)
}

// throughRules is throughChecks with other rules.
func throughRules(a *Adapter, c schema.Customer, rules *fieldconfig.Rules) (any, []schema.Issue) {
	k, errs := wiretest.Check(c, rules)
	if len(errs) > 0 {
		return nil, errs
	}
	wire, errs, _ := a.Translate(importOp, k)
	return wire, errs
}

// TestTranslateLimits: each record breaks one rule and fails with one error
// naming it, through the checks the import service runs before Translate
// (a phone too long for NXLink is not a possible number either).
func TestTranslateLimits(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	digits := func(n int) string { return strings.Repeat("1", n) }
	zero, six := 0, 6
	tests := []struct {
		name  string
		edit  func(c *schema.Customer)
		code  schema.Code
		field string
	}{
		{"no name at all", func(c *schema.Customer) { c.Name = "" }, schema.CodeRequired, "name"},
		{"name 256", func(c *schema.Customer) { c.Name = long(256) }, schema.CodeTooLong, "name"},
		{"first+last over 255", func(c *schema.Customer) { c.Name, c.FirstName, c.LastName = "", long(128), long(128) }, schema.CodeTooLong, "name"},
		{"first_name 129", func(c *schema.Customer) { c.FirstName = long(129) }, schema.CodeTooLong, "first_name"},
		{"last_name 129", func(c *schema.Customer) { c.LastName = long(129) }, schema.CodeTooLong, "last_name"},
		{"phone 31 digits", func(c *schema.Customer) { c.Phone = digits(31) }, schema.CodeInvalidPhone, "phone"},
		{"whatsapp 31 digits", func(c *schema.Customer) { c.WhatsApp = digits(31) }, schema.CodeInvalidPhone, "whatsapp"},
		{"viber 31 digits", func(c *schema.Customer) { c.Viber = digits(31) }, schema.CodeInvalidPhone, "viber"},
		{"messenger 33 digits", func(c *schema.Customer) { c.Messenger = digits(33) }, schema.CodeTooLong, "messenger"},
		{"instagram 33 digits", func(c *schema.Customer) { c.Instagram = digits(33) }, schema.CodeTooLong, "instagram"},
		{"zalo 33 digits", func(c *schema.Customer) { c.Zalo = digits(33) }, schema.CodeTooLong, "zalo"},
		{"whatsapp not digits", func(c *schema.Customer) { c.WhatsApp = "+86 152" }, schema.CodeInvalidPhone, "whatsapp"},
		{"zalo not digits", func(c *schema.Customer) { c.Zalo = "z1" }, schema.CodeInvalidPhone, "zalo"},
		{"line 51", func(c *schema.Customer) { c.Line = long(51) }, schema.CodeTooLong, "line"},
		{"country 51", func(c *schema.Customer) { c.Country = long(51) }, schema.CodeTooLong, "country"},
		{"email 51", func(c *schema.Customer) { c.Email = strings.Repeat("a", 39) + "@example.com" }, schema.CodeTooLong, "email"},
		{"address 101", func(c *schema.Customer) { c.Address = long(101) }, schema.CodeTooLong, "address"},
		{"remarks 2001", func(c *schema.Customer) { c.Remarks = long(2001) }, schema.CodeTooLong, "remarks"},
		{"owner 129", func(c *schema.Customer) { c.Owner = long(129) }, schema.CodeTooLong, "owner"},
		{"level 0", func(c *schema.Customer) { c.Level = &zero }, schema.CodeInvalidValue, "level"},
		{"level 6", func(c *schema.Customer) { c.Level = &six }, schema.CodeInvalidValue, "level"},
		{"birthday not a date", func(c *schema.Customer) { c.Birthday = "1976/04/12" }, schema.CodeInvalidDate, "birthday"},
		{"gender other", func(c *schema.Customer) { c.Gender = "other" }, schema.CodeInvalidGender, "gender"},
		{"tag with a comma", func(c *schema.Customer) { c.Tags = []string{"a,b"} }, schema.CodeInvalidTag, "tags"},
		{"custom field not configured", func(c *schema.Customer) { c.CustomFields = map[string]any{"Nope": "x"} }, schema.CodeUnknownField, "custom_fields.Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tt.edit(&c)
			wire, errs := throughChecks(a, &c)
			if wire != nil {
				t.Errorf("a record with errors has a wire form")
			}
			if len(errs) != 1 || errs[0].Code != tt.code || errs[0].Field != tt.field || errs[0].Message == "" {
				t.Errorf("errs %+v, want one %s on %s", errs, tt.code, tt.field)
			}
		})
	}
	// At the limits, everything passes (a phone that passes the checks is
	// far shorter than NXLink's 30 digits).
	c := schema.Customer{
		Name: long(255), FirstName: long(128), LastName: long(128), Phone: "8618163725558", WhatsApp: "8615266667780",
		Viber: "8618163725558", Messenger: digits(32), Instagram: digits(32), Zalo: digits(32), Line: long(50),
		Country: long(50), Email: strings.Repeat("a", 38) + "@example.com", Address: long(100),
		Remarks: long(2000), Owner: long(128),
	}
	if _, errs := throughChecks(a, &c); len(errs) > 0 {
		t.Errorf("at the limits: %+v", errs)
	}
}

func TestTranslateNeedsAChannel(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	c := schema.Customer{Name: "Li Heng", Country: "China"}
	_, errs := throughChecks(a, &c)
	want := []schema.Issue{{Code: schema.CodeRequired, Field: "whatsapp",
		Message: "NXLink needs at least one of phone, whatsapp, email, viber, messenger, instagram, line, zalo"}}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errs %+v", errs)
	}
	for _, edit := range []func(c *schema.Customer){
		func(c *schema.Customer) { c.Phone = "8618163725558" }, func(c *schema.Customer) { c.Email = "a@example.com" },
		func(c *schema.Customer) { c.Viber = "8618163725558" }, func(c *schema.Customer) { c.Messenger = "1" },
		func(c *schema.Customer) { c.Instagram = "1" }, func(c *schema.Customer) { c.Line = "l" },
		func(c *schema.Customer) { c.Zalo = "1" }, func(c *schema.Customer) { c.WhatsApp = "8615266667780" },
	} {
		c := schema.Customer{Name: "Li Heng"}
		edit(&c)
		if _, errs := throughChecks(a, &c); len(errs) > 0 {
			t.Errorf("%+v: %+v", c, errs)
		}
	}
}

func TestTranslateUnsupportedFields(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	c := base()
	c.Profession, c.Income, c.RemoveTags = "Engineer", "high", []string{"old"}
	c.Stage, c.Source, c.Language, c.WelcomeMessage = "New customer", "Default", "Auto", "hi"
	fields := []string{"profession", "income", "remove_tags", "stage", "source", "language", "welcome_message"}
	for _, strict := range []bool{false, true} {
		op := importOp
		op.Strict = strict
		wire, errs, warns := a.Translate(op, checked(t, c))
		issues := warns
		if strict {
			issues = errs
			if wire != nil || len(warns) != 0 {
				t.Errorf("strict: wire %v warns %+v", wire, warns)
			}
		} else if len(errs) != 0 || wire == nil {
			t.Errorf("not strict: errs %+v", errs)
		}
		var got []string
		for _, is := range issues {
			if is.Code != schema.CodeUnsupportedField || !strings.Contains(is.Message, is.Field) {
				t.Errorf("strict=%v: issue %+v", strict, is)
			}
			got = append(got, is.Field)
		}
		if !reflect.DeepEqual(got, fields) {
			t.Errorf("strict=%v: fields %v, want %v", strict, got, fields)
		}
		if wire != nil {
			if m := wireMap(t, wire); len(m) != 2 {
				t.Errorf("unsupported fields were sent: %v", m)
			}
		}
	}
}

// NXLink has no import pool, knows no other operation and no mode beside
// Modes: the import service's gate refuses them for an NXLink connection, with nothing sent
// (Translate and Plan trust the gate and check the kind no more).
func TestImportRefusesOtherOperations(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	conn, err := gateway.NewConnection(gateway.Common{ID: "test-nxlink", Provider: Name, BaseURL: "http://127.0.0.1:1"}, a, nil, wiretest.RulesOf{R: testRules})
	if err != nil {
		t.Fatal(err)
	}
	raw := []json.RawMessage{json.RawMessage(`{"name":"Li Heng","whatsapp":"8615266667780"}`)}
	for _, op := range []gateway.Op{
		{Kind: gateway.KindPoolReplace, Mode: gateway.ModeMerge}, {Kind: gateway.KindPoolAppend, Mode: gateway.ModeMerge},
		{Mode: gateway.ModeMerge}, {Kind: gateway.KindImport, Mode: "append"},
	} {
		ans, err := (&gateway.Service{}).Import(t.Context(), conn, gateway.Request{Op: op, Customers: raw})
		if !errors.Is(err, gateway.ErrUnsupported) || ans != nil {
			t.Errorf("%+v: %v, %+v", op, err, ans)
		}
	}
}

// A custom field the rules do not configure fails the record at the checks,
// before Translate; without one, a record passes with any rules.
func TestUnconfiguredCustomFieldThroughTheChecks(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	none := fieldconfig.MustCompile(fieldconfig.Config{})
	c := base()
	if _, errs := throughRules(a, c, none); len(errs) != 0 {
		t.Errorf("no rules, no custom fields: %+v", errs)
	}
	c.CustomFields = map[string]any{"Nickname": "aa"}
	if _, errs := throughRules(a, c, none); len(errs) != 1 || errs[0].Code != schema.CodeUnknownField {
		t.Errorf("no rules, a custom field: %+v", errs)
	}
}

// Two custom fields NXLink knows by one key: the later fails, at the checks.
func TestSharedProviderKeyThroughTheChecks(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	rules := fieldconfig.MustCompile(fieldconfig.Config{CustomFields: []fieldconfig.CustomField{
		{Name: "A", Type: fieldconfig.TypeText, ProviderKey: "customize_1_1"},
		{Name: "B", Type: fieldconfig.TypeText, ProviderKey: "customize_1_1"},
	}})
	c := base()
	c.CustomFields = map[string]any{"A": "x", "B": "y"}
	if _, errs := throughRules(a, c, rules); len(errs) != 1 || errs[0].Field != "custom_fields.B" {
		t.Errorf("errs %+v", errs)
	}
}

func TestPlanModesAndChunks(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	if got := a.Modes(); !reflect.DeepEqual(got, []string{"merge", "replace", "keep_existing"}) {
		t.Errorf("Modes %v", got)
	}
	one := records(t, a, importOp, base())
	for _, tt := range []struct {
		mode   string
		strict bool
		want   string
	}{
		{"merge", false, `{"type":1,"tenant_id":123,"app_key":"46oKF=os","strict_binding":false,"customers":[{"full_name":"Li Heng","whats_app_phone":"8615266667780"}]}`},
		{"replace", true, `{"type":0,"tenant_id":123,"app_key":"46oKF=os","strict_binding":true,"customers":[{"full_name":"Li Heng","whats_app_phone":"8615266667780"}]}`},
		{"keep_existing", false, `{"type":2,"tenant_id":123,"app_key":"46oKF=os","strict_binding":false,"customers":[{"full_name":"Li Heng","whats_app_phone":"8615266667780"}]}`},
	} {
		calls, err := a.Plan(gateway.Op{Kind: gateway.KindImport, Mode: tt.mode, StrictOwner: tt.strict}, one)
		if err != nil || len(calls) != 1 {
			t.Fatalf("%s: %v", tt.mode, err)
		}
		if string(calls[0].Body) != tt.want {
			t.Errorf("%s: body\ngot:  %s\nwant: %s", tt.mode, calls[0].Body, tt.want)
		}
	}
	if _, err := a.Plan(importOp, []gateway.Record{{Index: 0, Wire: map[string]any{}}}); err == nil || strings.Contains(err.Error(), "nxlink.") || strings.Contains(err.Error(), "map[") {
		t.Errorf("Plan of a foreign wire form: %v, want a refusal naming no Go identifier or type", err)
	}
	if calls, err := a.Plan(importOp, nil); err != nil || len(calls) != 0 {
		t.Errorf("no records: %v %v", calls, err)
	}

	for _, n := range []int{1, 99, 100, 101, 200, 250} {
		recs := make([]gateway.Record, n)
		for i := range recs {
			recs[i] = gateway.Record{Index: i * 2, Wire: &wireCustomer{FullName: "c", Email: "c@example.com"}}
		}
		calls, err := a.Plan(importOp, recs)
		if err != nil {
			t.Fatal(err)
		}
		if want := (n + 99) / 100; len(calls) != want {
			t.Errorf("%d records: %d calls, want %d", n, len(calls), want)
		}
		next := 0
		for _, c := range calls {
			var body batchRequest
			if err := json.Unmarshal(c.Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(c.Records) > 100 || len(body.Customers) != len(c.Records) {
				t.Errorf("%d records: a call carries %d records, %d customers", n, len(c.Records), len(body.Customers))
			}
			for _, r := range c.Records {
				if r.Index != next*2 {
					t.Fatalf("%d records: out of order at %d", n, next)
				}
				if r.Wire != nil {
					t.Fatalf("%d records: record %d of a call still holds its wire form beside the body", n, r.Index)
				}
				next++
			}
		}
		if next != n {
			t.Errorf("%d records: %d planned", n, next)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	body := map[string]any{"type": 1, "app_key": nxlinktest.AppKey, "tenant_id": 123}
	a.Redact(body)
	if !reflect.DeepEqual(body, map[string]any{"type": 1, "app_key": "***", "tenant_id": 123}) {
		t.Errorf("%v", body)
	}
	empty := map[string]any{}
	a.Redact(empty)
	if len(empty) != 0 {
		t.Errorf("Redact added keys: %v", empty)
	}
}

// The two field tables agree: each wire field fromWire (wire → canonical)
// names is where Translate (canonical → wire) puts that canonical field, and
// Translate writes no wire field fromWire does not know.
func TestFieldTablesAgree(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	values := map[string]string{ // a value Translate takes, by canonical field
		schema.FieldGender: `"female"`, schema.FieldLevel: `3`, schema.FieldTags: `["a"]`,
		schema.FieldBirthday: `"1976-04-12"`, schema.FieldCustomFields: `{"Nickname":"aa"}`,
		schema.FieldEmail: `"li@example.com"`,
	}
	for wire, canonical := range fromWire {
		v, ok := values[canonical]
		if !ok {
			v = `"8618163725558"` // a phone that passes the checks, and a handle
		}
		var c schema.Customer
		if err := json.Unmarshal([]byte(`{"email":"li@example.com","name":"Li Heng",`+strconv.Quote(canonical)+`:`+v+`}`), &c); err != nil {
			t.Fatalf("%s: %v", canonical, err)
		}
		w, errs, _ := a.Translate(importOp, checked(t, c))
		if len(errs) > 0 {
			t.Fatalf("%s: %+v", canonical, errs)
		}
		if _, ok := wireMap(t, w)[wire]; !ok {
			t.Errorf("fromWire reads %s as %s, but Translate does not send %s there: %v", wire, canonical, canonical, wireMap(t, w))
		}
	}
	for _, c := range docCustomers() {
		w, errs, _ := a.Translate(importOp, checked(t, c))
		if len(errs) > 0 {
			t.Fatalf("%+v", errs)
		}
		for key := range wireMap(t, w) {
			if _, ok := fromWire[key]; !ok {
				t.Errorf("Translate sends %s, which fromWire does not read back", key)
			}
		}
	}
}
