package keyed

import (
	"errors"
	"fmt"
	"testing"
)

func TestProblems(t *testing.T) {
	t.Parallel()
	var ps Problems
	if ps.Err() != nil {
		t.Fatal("no problem is not a nil error")
	}
	ps.Add("required[0]", "%q is neither a canonical field nor a configured custom field", "x")
	ps.Add("", "the document is empty")
	err := fmt.Errorf("fieldconfig.Memory.Put: %w", ps.Err())
	if got, want := err.Error(), `fieldconfig.Memory.Put: required[0]: "x" is neither a canonical field nor a configured custom field; the document is empty`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var back Problems
	if !errors.As(err, &back) || len(back) != 2 || back[0].Key != "required[0]" || back[1].Message != "the document is empty" {
		t.Fatalf("errors.As = %+v", back)
	}
	if !errors.Is(err, Problem{Key: "", Message: "the document is empty"}) {
		t.Error("a problem is not found in the list by errors.Is")
	}
}
