package jobs

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"crmgate/internal/memtest"
	"crmgate/schema"
)

func TestDedupe(t *testing.T) {
	t.Parallel()
	d := NewDedupe(0)
	steps := []struct {
		number string
		row    int
		first  int
		dup    bool
	}{
		{"8615266667780", 2, 0, false},
		{"8615266667781", 3, 0, false},
		{"", 4, 0, false},
		{"", 5, 0, false}, // no number is never a duplicate
		{"8615266667780", 6, 2, true},
		{"8615266667780", 7, 2, true}, // the first row is kept
		{"0123", 8, 0, false},
		{"123", 9, 0, false}, // leading zeros count
		{"00123", 10, 0, false},
		{"1234567890123456789", 11, 0, false}, // beyond 18 digits: hashed
		{"1234567890123456789", 12, 11, true},
		{"123456789012345678", 13, 0, false},
		{"not digits", 14, 0, false},
		{"not digits", 15, 14, true},
		{"999999999999999999", 16, 0, false},
	}
	for _, s := range steps {
		first, dup := d.See(s.number, s.row)
		if first != s.first || dup != s.dup {
			t.Errorf("See(%q, %d) = %d, %v; want %d, %v", s.number, s.row, first, dup, s.first, s.dup)
		}
	}
	if d.Len() != 9 {
		t.Errorf("Len = %d, want 9", d.Len())
	}
}

// TestDedupeNormalised: numbers typed differently are one number once
// normalised, which is what the caller gives See.
func TestDedupeNormalised(t *testing.T) {
	t.Parallel()
	d := NewDedupe(4)
	for i, in := range []string{"+86 152 6666 7780", "152-6666-7780", "0086 15266667780", "8615266667780"} {
		n, _, err := schema.NormalizePhoneIn(in, "CN")
		if err != nil {
			t.Fatal(err)
		}
		first, dup := d.See(n, i+2)
		if (i == 0) == dup || (dup && first != 2) {
			t.Errorf("%q (%s): first %d dup %v", in, n, first, dup)
		}
	}
}

// TestDedupeMemory: a job's worth of distinct numbers (1 048 576, the
// default max_job_rows) costs a bounded few bytes per number, far less
// than keeping the numbers.
func TestDedupeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million entries")
	}
	const n = 1 << 20
	heap := memtest.HeapAlloc
	before := heap()
	d := NewDedupe(0)
	var b strings.Builder
	for i := range n {
		b.Reset()
		b.WriteString("86152")
		b.WriteString(strconv.Itoa(10_000_000 + i))
		if _, dup := d.See(b.String(), i+2); dup {
			t.Fatalf("row %d: a distinct number seen as a duplicate", i+2)
		}
	}
	used := int64(heap()) - int64(before)
	runtime.KeepAlive(d)
	t.Logf("%d numbers: %d bytes (%.1f per number)", d.Len(), used, float64(used)/n)
	if limit := int64(48 << 20); used > limit {
		t.Errorf("%d numbers take %d bytes; want at most %d", n, used, limit)
	}
}
