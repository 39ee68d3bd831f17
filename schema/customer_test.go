package schema

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestAppendCustomFieldNames(t *testing.T) {
	c := &Customer{CustomFields: map[string]any{"b": 1, "a": 2, "c": 3}}
	got := c.AppendCustomFieldNames([]string{"z"})
	if want := []string{"z", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("AppendCustomFieldNames = %v, want %v", got, want)
	}
	if got := c.CustomFieldNames(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("CustomFieldNames = %v", got)
	}
	var buf [8]string
	if n := testing.AllocsPerRun(10, func() { _ = c.AppendCustomFieldNames(buf[:0]) }); n != 0 {
		t.Errorf("%v allocations into a buffer with room", n)
	}
}

// TestSetFieldsAsIsSet: SetFields holds exactly the fields IsSet reports
// set, for records with each field alone set and with random fields set.
func TestSetFieldsAsIsSet(t *testing.T) {
	level := 3
	setters := map[string]func(*Customer){
		FieldTags: func(c *Customer) { c.Tags = []string{"a"} }, FieldRemoveTags: func(c *Customer) { c.RemoveTags = []string{"a"} },
		FieldLevel: func(c *Customer) { c.Level = &level }, FieldCustomFields: func(c *Customer) { c.CustomFields = map[string]any{"a": 1} },
	}
	set := func(c *Customer, f string) {
		if fn, ok := setters[f]; ok {
			fn(c)
			return
		}
		v := reflect.ValueOf(c).Elem()
		for i := range v.NumField() {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); tag == f {
				v.Field(i).SetString("x")
				return
			}
		}
		t.Fatalf("no field %s", f)
	}
	records := []*Customer{{}}
	for _, f := range Fields {
		c := &Customer{}
		set(c, f)
		records = append(records, c)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		c := &Customer{}
		for _, f := range Fields {
			if r.IntN(3) == 0 {
				set(c, f)
			}
		}
		records = append(records, c)
	}
	for _, c := range records {
		got := c.SetFields()
		for i, f := range Fields {
			if in := got&(1<<i) != 0; in != c.IsSet(f) {
				t.Errorf("%+v: %s in SetFields %v, IsSet %v", c, f, in, c.IsSet(f))
			}
			if FieldsOf(f) != 1<<i {
				t.Errorf("FieldsOf(%s) = %b", f, FieldsOf(f))
			}
		}
	}
}
