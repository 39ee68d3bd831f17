package bench

import (
	"os"
	"testing"
)

// TestBinaryPages: the import's memory figure says how much of the binary's
// resident pages the import touched. Right after clearReferenced the test
// has touched only a sliver of its own binary, so what binaryPages reads as
// touched must be less than what is resident: a reading that counted every
// resident page as touched would tell nothing.
func TestBinaryPages(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/self/smaps here")
	}
	resident, referenced, ok := binaryPages()
	if !ok || resident == 0 || referenced > resident {
		t.Fatalf("binaryPages() = %d resident, %d referenced, ok %v; want some resident, no more referenced", resident, referenced, ok)
	}
	if !clearReferenced() {
		t.Fatal("clearReferenced: /proc/self/clear_refs not writable")
	}
	resident, referenced, ok = binaryPages()
	if !ok || referenced >= resident {
		t.Fatalf("after clearReferenced: %d of %d resident bytes of the binary read as touched; want fewer", referenced, resident)
	}
}
