package jobs

import (
	"path/filepath"
	"reflect"
	"testing"

	"crmgate/schema"
)

// A chunk written to a spill and read back is the same chunk: records,
// cells (empty ones included), refs, phones and errors; read without its
// cells, the same but for them. A chunk cut short is refused.
func TestSpillItemsRoundTrip(t *testing.T) {
	t.Parallel()
	items := []Item{
		{Index: 0, Row: 2, Record: []byte(`{"name":"Ada","whatsapp":"+86 152 6666 7780"}`), Cells: []string{"Ada", "+86 152 6666 7780", ""}, Ref: "r-1", Phone: "8615266667780"},
		{Index: 1, Row: 4, Cells: []string{"Bob", "12", "ünï"}, Errors: []schema.Issue{{Code: CodeInvalidRow, Message: "broken quoting"}, {Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "x"}}},
		{Index: 2, Record: []byte(`{}`)},
		{Index: 1 << 40, Row: 1 << 30},
	}
	s, err := newSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := s.write([]byte("something before")); err != nil {
		t.Fatal(err)
	}
	sp, err := s.write(appendItems(nil, items))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.read(sp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeItems(b, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, items) {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, items)
	}
	// Without cells, the same items but for their cells.
	got, err = decodeItems(b, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		want := items[i]
		want.Cells = nil
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("read back without cells\n%#v\nwant\n%#v", got[i], want)
		}
	}
	for cut := range len(b) {
		for _, cells := range []bool{true, false} {
			if _, err := decodeItems(b[:cut], cells); err == nil {
				t.Fatalf("a chunk cut at %d of %d bytes decoded (cells %v)", cut, len(b), cells)
			}
		}
	}
}

// The spill's file is unlinked at once: nothing is left in its directory.
func TestSpillLeavesNoFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := newSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := s.write([]byte("rows")); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 && s.name == "" {
		t.Fatalf("files left in the spill's directory: %v", left)
	}
}
