package wiretest

import "testing"

// fakeT records what a helper reports instead of failing the real test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }

func TestSameJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		got, want string
		same      bool
	}{
		{`{"a":1,"b":[1,2]}`, "{\n \"b\": [1, 2],\n \"a\": 1\n}", true},
		{`{"n":1.50}`, `{"n":1.5}`, false}, // numbers are compared as written
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
	} {
		f := &fakeT{TB: t}
		SameJSON(f, []byte(tt.got), []byte(tt.want))
		if f.failed == tt.same {
			t.Errorf("SameJSON(%s, %s): reported a difference %v, want %v", tt.got, tt.want, f.failed, !tt.same)
		}
	}
}
