package jobs

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"crmgate/internal/memtest"

	"github.com/xuri/excelize/v2"
)

// TestXLSXReadingIsStreamed: the sheet of a large workbook is read from
// a temporary file as a stream, not unpacked in memory.
func TestXLSXReadingIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large workbook")
	}
	const rows = 100_000
	path := writeBigXLSX(t, rows)
	heap := memtest.HeapAlloc
	before := heap()
	r, err := OpenXLSX(path, ReadOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var peak uint64
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n++; n%10_000 == 0 {
			peak = max(peak, heap())
		}
	}
	if n != rows {
		t.Fatalf("read %d rows, want %d", n, rows)
	}
	growth := int64(peak) - int64(before)
	t.Logf("heap growth at most %d bytes", growth)
	if limit := int64(8 << 20); growth > limit {
		t.Errorf("heap grew by %d bytes reading %d rows; want under %d", growth, rows, limit)
	}
}

// writeBigXLSX writes a workbook of rows data rows with the library's
// stream writer and returns its path.
func writeBigXLSX(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	_ = sw.SetRow("A1", []any{"name", "whatsapp", "tags", "remarks"})
	for i := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("Customer %d", i), fmt.Sprintf("+86 152 %04d %04d", i/10000, i%10000),
			"vip,imported", fmt.Sprintf("a remark long enough to weigh something in memory %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	return path
}
