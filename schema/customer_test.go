package schema

import (
	"slices"
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
