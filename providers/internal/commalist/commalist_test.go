package commalist

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                          {},
		" , ,":                      {},
		"Tag A,Tag B":               {"Tag A", "Tag B"},
		" Soldier , Strategy ,":     {"Soldier", "Strategy"},
		"http://1.img,http://2.img": {"http://1.img", "http://2.img"},
		"one":                       {"one"},
	} {
		got := Split(in)
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Split(%q) = %#v, want %#v", in, got, want)
		}
	}
}
