package secret

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	s := Value("hunter2")
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, s)} {
		if got != "***" && got != "*** *** *** ***" {
			t.Errorf("printed %q", got)
		}
	}
	b, _ := json.Marshal(struct{ S Value }{s})
	if string(b) != `{"S":"***"}` {
		t.Errorf("marshalled %s", b)
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if Value("").String() != "" {
		t.Error("an empty secret prints as empty")
	}
}
