package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"crmgate/internal/memtest"
	"crmgate/schema"
)

// readAll reads every row of r; a file error ends it and is returned.
func readAll(t *testing.T, r *Reader) ([]Row, error) {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func csvRows(t *testing.T, in string, opts ReadOptions) (*Reader, []Row, error) {
	t.Helper()
	r, err := NewCSVReader(strings.NewReader(in), opts)
	if err != nil {
		return nil, nil, err
	}
	rows, err := readAll(t, r)
	return r, rows, err
}

func TestCSVDelimiterAndBOM(t *testing.T) {
	t.Parallel()
	want := []string{"name", "whatsapp", "tags"}
	for name, in := range map[string]string{
		"comma":            "name,whatsapp,tags\nAda,+86 152 6666 7780,\"a,b\"\n",
		"semicolon":        "name;whatsapp;tags\nAda;+86 152 6666 7780;a,b\n",
		"tab":              "name\twhatsapp\ttags\nAda\t+86 152 6666 7780\ta,b\n",
		"BOM":              "\xEF\xBB\xBFname,whatsapp,tags\nAda,+86 152 6666 7780,\"a,b\"\n",
		"BOM semicolon":    "\xEF\xBB\xBFname;whatsapp;tags\r\nAda;+86 152 6666 7780;a,b\r\n",
		"spaces in header": " name , whatsapp,tags \nAda,+86 152 6666 7780,\"a,b\"",
	} {
		r, rows, err := csvRows(t, in, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, r.Header()); diff != "" {
			t.Errorf("%s: header (-want +got):\n%s", name, diff)
		}
		wantRows := []Row{{Number: 2, Cells: []string{"Ada", "+86 152 6666 7780", "a,b"}}}
		if diff := cmp.Diff(wantRows, rows); diff != "" {
			t.Errorf("%s: rows (-want +got):\n%s", name, diff)
		}
	}
	// Delimiters inside quotes do not count: three columns by ';'.
	r, _, err := csvRows(t, "\"Last, First\";\"a,b,c\";x\n1;2;3\n", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Last, First", "a,b,c", "x"}, r.Header()); diff != "" {
		t.Errorf("quoted header (-want +got):\n%s", diff)
	}
	// One column: no delimiter at all.
	r, rows, err := csvRows(t, "whatsapp\n8615266667780\n", ReadOptions{})
	if err != nil || len(r.Header()) != 1 || len(rows) != 1 {
		t.Errorf("one column: header %v rows %v err %v", r.Header(), rows, err)
	}
}

// TestCSVRowNumbers: rows are numbered as a spreadsheet numbers them, empty
// rows are skipped and counted, a quoted cell over lines is one row.
func TestCSVRowNumbers(t *testing.T) {
	t.Parallel()
	in := "name,remarks\n\nAda,one\n , \n\n\"Bob\",\"two\nlines\"\nCy,three\n,\n"
	r, rows, err := csvRows(t, in, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Number: 3, Cells: []string{"Ada", "one"}},
		{Number: 6, Cells: []string{"Bob", "two\nlines"}},
		{Number: 7, Cells: []string{"Cy", "three"}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if r.Skipped() != 4 || r.Rows() != 3 {
		t.Errorf("skipped %d rows %d; want 4 and 3", r.Skipped(), r.Rows())
	}
}

// TestCSVBrokenRows: a row that cannot be read is invalid_row with its row
// number, and reading goes on with the next row.
func TestCSVBrokenRows(t *testing.T) {
	t.Parallel()
	in := "name,whatsapp\n" +
		"Ada,\"861\"52\n" + // 2: text after a closing quote
		"Bob,86\"152\n" + // 3: a bare quote
		"Cy,8615266667780,,  \n" + // 4: empty cells beyond the header are dropped
		"Di,8615266667781,extra,more\n" + // 5: more cells than the header
		"Ed\n" + // 6: fewer cells: padded
		"Fay,8615266667782\n"
	_, rows, err := csvRows(t, in, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		s := fmt.Sprintf("%d %q", r.Number, r.Cells)
		if r.Issue != nil {
			s += " " + string(r.Issue.Code)
		}
		got = append(got, s)
	}
	want := []string{
		`2 ["Ada" "861\"52"] invalid_row`, // the cells as written, for the report
		`3 ["Bob" "86\"152"] invalid_row`,
		`4 ["Cy" "8615266667780"]`,
		`5 ["Di" "8615266667781" "extra" "more"] invalid_row`,
		`6 ["Ed" ""]`,
		`7 ["Fay" "8615266667782"]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if m := rows[3].Issue.Message; !strings.Contains(m, `"extra", "more"`) {
		t.Errorf("the message of a row with extra cells should list them: %q", m)
	}
	if m := rows[0].Issue.Message; !strings.Contains(m, "line 2") {
		t.Errorf("the message of broken quoting should name the line: %q", m)
	}
}

// TestCSVUnclosedQuote: a quote opened and never closed takes in the lines
// after it up to the next quote character, as encoding/csv reads it; the
// rows after that quote's line are read again.
func TestCSVUnclosedQuote(t *testing.T) {
	t.Parallel()
	in := "name,whatsapp\nAda,\"8615266667780\nBob,8615266667781\nCy,\"x\"\nDi,8615266667783\n"
	_, rows, err := csvRows(t, in, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Number != 2 || rows[0].Issue == nil || rows[0].Issue.Code != CodeInvalidRow {
		t.Fatalf("rows: %+v", rows)
	}
	if m := rows[0].Issue.Message; !strings.Contains(m, "line 2") || !strings.Contains(m, "line 4") {
		t.Errorf("message should name the lines the row spans: %q", m)
	}
	if diff := cmp.Diff(Row{Number: 3, Cells: []string{"Di", "8615266667783"}}, rows[1]); diff != "" {
		t.Errorf("the row after (-want +got):\n%s", diff)
	}
	// Never closed at all: the rest of the file is that one row.
	_, rows, err = csvRows(t, "name,whatsapp\nAda,1\nBob,\"2\nCy,3\nDi,4\n", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].Number != 3 || rows[1].Issue == nil {
		t.Fatalf("rows: %+v", rows)
	}
	// Nothing is lost: the broken row holds the text it took in.
	if diff := cmp.Diff([]string{"Bob", "2\nCy,3\nDi,4"}, rows[1].Cells); diff != "" {
		t.Errorf("cells of the broken row (-want +got):\n%s", diff)
	}
}

func TestCSVFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		opts     ReadOptions
		want     error
		row      int
	}{
		{"empty", "", ReadOptions{}, ErrEmpty, 0},
		{"only a BOM", "\xEF\xBB\xBF", ReadOptions{}, ErrEmpty, 0},
		{"only blank lines", "\n\r\n\n", ReadOptions{}, ErrEmpty, 0},
		{"only blank cells", " , \n,\n\t,\n", ReadOptions{}, ErrEmpty, 0},
		{"blank first row", "\nname,whatsapp\nAda,1\n", ReadOptions{}, ErrNoHeader, 1},
		{"header of empty cells", ",,\nAda,1,2\n", ReadOptions{}, ErrNoHeader, 1},
		{"broken header", "\"name,whatsapp\n", ReadOptions{}, ErrNoHeader, 1},
		{"repeated header", "name,whatsapp, name\nAda,1,2\n", ReadOptions{}, ErrDuplicateHeader, 1},
		{"UTF-16", "\xFF\xFEn\x00a\x00", ReadOptions{}, ErrNotUTF8, 0},
		{"Latin-1 header", "n\xe4me,whatsapp\n", ReadOptions{}, ErrNotUTF8, 1},
		{"Latin-1 row", "name,whatsapp\nAda,1\n\nJ\xfcrgen,2\nEd,3\n", ReadOptions{}, ErrNotUTF8, 4},
		{"NUL", "name,whatsapp\nAda,1\x00\n", ReadOptions{}, ErrNotUTF8, 2},
		{"too many rows", "name\nA\n\nB\nC\nD\n", ReadOptions{MaxRows: 2}, ErrTooManyRows, 5},
		{"too large", "name,whatsapp\n" + strings.Repeat("Ada,8615266667780\n", 100), ReadOptions{MaxBytes: 1000}, ErrTooLarge, 0},
		{"too large header", strings.Repeat("x", 2000), ReadOptions{MaxBytes: 1000}, ErrTooLarge, 0},
	}
	for _, tt := range tests {
		_, rows, err := csvRows(t, tt.in, tt.opts)
		var fe *FileError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Row != tt.row {
			t.Errorf("%s: err = %v (after %d rows); want %v at row %d", tt.name, err, len(rows), tt.want, tt.row)
		}
	}
	// Exactly at the limits is fine; "Phone" and "phone" are two columns.
	in := "Phone,phone\n1,2\n\n3,4\n"
	if _, rows, err := csvRows(t, in, ReadOptions{MaxRows: 2, MaxBytes: int64(len(in))}); err != nil || len(rows) != 2 {
		t.Errorf("at the limits: %d rows, %v", len(rows), err)
	}
}

func TestDetectKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct string
		head     []byte
		want     Kind
	}{
		{"contacts.xlsx", "", nil, KindXLSX},
		{"CONTACTS.XLSX", "application/octet-stream", []byte("name"), KindXLSX},
		{"upload", XLSXContentType + "; charset=binary", nil, KindXLSX},
		{"contacts.csv", "text/csv", []byte("PK\x03\x04\x14\x00"), KindXLSX},
		{"old.xls", "", oleMagic, KindXLSX},
		{"contacts.csv", "text/csv", []byte("name,wha"), KindCSV},
		{"", "", nil, KindCSV},
		{"notes.txt", "text/plain", []byte("PK"), KindCSV},
	}
	for _, tt := range tests {
		if got := DetectKind(tt.name, tt.ct, tt.head); got != tt.want {
			t.Errorf("DetectKind(%q, %q, %q) = %s, want %s", tt.name, tt.ct, tt.head, got, tt.want)
		}
	}
}

func TestSpool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Spool(strings.NewReader("name;whatsapp\nAda;8615266667780\n"), dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.Size() != 32 || string(s.Head()) != "name;wha" || DetectKind("", "", s.Head()) != KindCSV {
		t.Errorf("size %d head %q", s.Size(), s.Head())
	}
	r, err := s.Open(KindCSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r)
	if err != nil || len(rows) != 1 || rows[0].Cells[1] != "8615266667780" {
		t.Errorf("rows %v err %v", rows, err)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
	if err := s.Remove(); err != nil {
		t.Error(err)
	}
	// One byte over the limit: refused, nothing left behind.
	_, err = Spool(strings.NewReader(strings.Repeat("x", 101)), dir, 100)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in the directory: %v", left)
	}
	// An XLSX upload: spooled, told apart by its first bytes, opened.
	xlsx, err := os.ReadFile(writeXLSX(t, map[string][][]any{"S": {{"name"}, {"Ada"}}}, "S"))
	if err != nil {
		t.Fatal(err)
	}
	s, err = Spool(bytes.NewReader(xlsx), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	kind := DetectKind("upload", "application/octet-stream", s.Head())
	if kind != KindXLSX {
		t.Errorf("kind %s", kind)
	}
	if r, err := s.Open(kind, ReadOptions{}); err != nil {
		t.Error(err)
	} else {
		rows, err := readAll(t, r)
		if err != nil || len(rows) != 1 || rows[0].Cells[0] != "Ada" {
			t.Errorf("rows %v err %v", rows, err)
		}
		_ = r.Close()
	}
	_ = s.Remove()
	if s, err := Spool(strings.NewReader(strings.Repeat("x", 100)), dir, 100); err != nil {
		t.Errorf("exactly at the limit: %v", err)
	} else {
		_ = s.Remove()
	}
}

// writeXLSX writes a workbook whose sheets hold rows (nil rows stay empty)
// and returns its path.
func writeXLSX(t *testing.T, sheets map[string][][]any, order ...string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			if row == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "upload.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestXLSXReader(t *testing.T) {
	t.Parallel()
	path := writeXLSX(t, map[string][][]any{
		"Contacts": {
			{"Name", " WhatsApp ", "Level"},
			{"Ada", "+86 152 6666 7780", 3},
			nil,
			{"Bob", 8615266667781, nil},
			{"", "", ""},
			{"Cy", "8615266667782", "2", "", ""},
			{"Di", "8615266667783", "1", "extra"},
		},
		"Other": {{"ignored"}, {"x"}},
	}, "Contacts", "Other")
	r, err := OpenXLSX(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Kind() != KindXLSX {
		t.Errorf("kind %s", r.Kind())
	}
	if diff := cmp.Diff([]string{"Name", "WhatsApp", "Level"}, r.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	rows, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Number: 2, Cells: []string{"Ada", "+86 152 6666 7780", "3"}},
		{Number: 4, Cells: []string{"Bob", "8615266667781", ""}},
		{Number: 6, Cells: []string{"Cy", "8615266667782", "2"}},
		{Number: 7, Cells: []string{"Di", "8615266667783", "1", "extra"}},
	}
	for i := range rows {
		rows[i].Issue = nil // checked below
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if r.Skipped() != 2 {
		t.Errorf("skipped %d, want 2", r.Skipped())
	}
	r2, _ := OpenXLSX(path, ReadOptions{})
	defer r2.Close()
	rows, _ = readAll(t, r2)
	if rows[3].Issue == nil || rows[3].Issue.Code != CodeInvalidRow || rows[2].Issue != nil {
		t.Errorf("issues: %+v", rows)
	}
}

// TestXLSXDates: a date typed into a spreadsheet (the built-in short-date
// format, shown in the user's locale) is read as YYYY-MM-DD; a date in a
// format of its own is read as that format shows it.
func TestXLSXDates(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	short, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	custom := "dd.mm.yyyy"
	own, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	day := time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC)
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"birthday", "remarks"})
	_ = f.SetSheetRow("Sheet1", "A2", &[]any{day, day})
	_ = f.SetCellStyle("Sheet1", "A2", "A2", short)
	_ = f.SetCellStyle("Sheet1", "B2", "B2", own)
	path := filepath.Join(t.TempDir(), "dates.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	r, err := OpenXLSX(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, err := readAll(t, r)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v err %v", rows, err)
	}
	if diff := cmp.Diff([]string{"1990-05-06", "06.05.1990"}, rows[0].Cells); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestXLSXFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		opts ReadOptions
		want error
		row  int
	}{
		{"empty file", write("empty.xlsx", nil), ReadOptions{}, ErrEmpty, 0},
		{"not a zip", write("text.xlsx", []byte("name,whatsapp\nAda,1\n")), ReadOptions{}, ErrNotXLSX, 0},
		{"zip but no workbook", write("zip.xlsx", []byte("PK\x05\x06"+strings.Repeat("\x00", 18))), ReadOptions{}, ErrNotXLSX, 0},
		{"legacy xls", write("old.xls", append(append([]byte{}, oleMagic...), make([]byte, 600)...)), ReadOptions{}, ErrNotXLSX, 0},
		{"no rows", writeXLSX(t, map[string][][]any{"S": nil}, "S"), ReadOptions{}, ErrEmpty, 0},
		{"blank first row", writeXLSX(t, map[string][][]any{"S": {nil, {"name"}, {"Ada"}}}, "S"), ReadOptions{}, ErrNoHeader, 1},
		{"repeated header", writeXLSX(t, map[string][][]any{"S": {{"name", "name "}}}, "S"), ReadOptions{}, ErrDuplicateHeader, 1},
		{"too large", writeXLSX(t, map[string][][]any{"S": {{"name"}}}, "S"), ReadOptions{MaxBytes: 100}, ErrTooLarge, 0},
		{"too many rows", writeXLSX(t, map[string][][]any{"S": {{"name"}, {"A"}, {"B"}, nil, {"C"}}}, "S"), ReadOptions{MaxRows: 2}, ErrTooManyRows, 5},
	}
	for _, tt := range tests {
		r, err := OpenXLSX(tt.path, tt.opts)
		if err == nil {
			_, err = readAll(t, r)
			r.Close()
		}
		var fe *FileError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Row != tt.row {
			t.Errorf("%s: err = %v; want %v at row %d", tt.name, err, tt.want, tt.row)
		}
	}
}

// TestCSVReadingIsStreamed: reading a large CSV keeps a few rows in memory,
// not the file: the heap in use after a collection grows by far less than
// the file's size at any point of the reading.
func TestCSVReadingIsStreamed(t *testing.T) {
	const rows = 200_000
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &bytes.Buffer{}
	w.WriteString("name,whatsapp,tags,remarks\n")
	for i := range rows {
		fmt.Fprintf(w, "Customer %d,+86 152 %04d %04d,\"vip,imported\",a remark long enough to weigh something in memory %d\n", i, i/10000, i%10000, i)
		if w.Len() > 1<<20 {
			_, _ = f.Write(w.Bytes())
			w.Reset()
		}
	}
	_, _ = f.Write(w.Bytes())
	size, _ := f.Seek(0, io.SeekEnd)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	heap := memtest.HeapAlloc
	before := heap()
	r, err := OpenFile(path, KindCSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := NewMapping(r.Header(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	n := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_ = m.Record(row.Cells)
		if n++; n%20_000 == 0 {
			peak = max(peak, heap())
		}
	}
	if n != rows {
		t.Fatalf("read %d rows, want %d", n, rows)
	}
	growth := int64(peak) - int64(before)
	t.Logf("file %d bytes; heap growth at most %d bytes", size, growth)
	if limit := int64(4 << 20); growth > limit || growth > size/4 {
		t.Errorf("heap grew by %d bytes reading a %d-byte file; want under %d", growth, size, limit)
	}
}

// The issue of a broken row is an invalid_row schema.Issue.
var _ = schema.Issue{Code: CodeInvalidRow}

// BenchmarkReadAndMap reads and maps a 10 000-row CSV from memory.
func BenchmarkReadAndMap(b *testing.B) {
	var in bytes.Buffer
	in.WriteString("name,whatsapp,tags,level,remarks\n")
	for i := range 10_000 {
		fmt.Fprintf(&in, "Customer %d,+86 152 %04d %04d,\"vip,imported\",3,a remark %d\n", i, i/10000, i%10000, i)
	}
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		r, err := NewCSVReader(bytes.NewReader(in.Bytes()), ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		m, _ := NewMapping(r.Header(), nil, nil)
		for {
			row, err := r.Next()
			if err != nil {
				break
			}
			_ = m.Record(row.Cells)
		}
	}
}
