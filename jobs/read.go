package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"crmgate/schema"
)

// Kind is the kind of an uploaded file; it is also the job's source.kind.
type Kind string //	@name	ImportSourceKind

// The kinds of a job's source: an uploaded file, or a JSON array of
// records. They stand in one block, so that the API document lists them in
// one order.
const (
	KindCSV  Kind = "csv"
	KindXLSX Kind = "xlsx"
	KindJSON Kind = "json"
)

// XLSXContentType is the media type of an XLSX file.
const XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Default limits (gateway.md §7: limits.max_job_rows, limits.max_upload_bytes).
const (
	DefaultMaxRows  = 1 << 20   // data rows, the header not counted
	DefaultMaxBytes = 512 << 20 // bytes of one upload
)

// Per-row codes of import jobs, beside schema's.
const (
	// CodeInvalidRow: the row could not be read (broken quoting, more
	// cells than the header).
	CodeInvalidRow = schema.CodeInvalidRow
	// CodeDuplicateInJob: the row's normalised WhatsApp number repeats an
	// earlier row of the same job.
	CodeDuplicateInJob = schema.CodeDuplicateInJob
)

// What makes a whole file unusable; always wrapped in a *FileError.
var (
	ErrNotUTF8         = errors.New("not a UTF-8 CSV file")
	ErrNotXLSX         = errors.New("not a valid XLSX file")
	ErrEmpty           = errors.New("the file is empty")
	ErrNoHeader        = errors.New("the file has no header")
	ErrDuplicateHeader = errors.New("the header repeats a column")
	ErrTooManyRows     = errors.New("the file has more rows than allowed")
	ErrTooLarge        = errors.New("the file is larger than allowed")
)

// FileError is a whole-file refusal: Err is one of the sentinel errors
// above, Row the spreadsheet row where the problem is (header = 1; 0 when
// it is not about one row), Detail what exactly is wrong.
type FileError struct {
	Err    error
	Row    int
	Detail string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Row > 0 {
		fmt.Fprintf(&b, " (row %d)", e.Row)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

func fileErr(err error, row int, format string, args ...any) *FileError {
	return &FileError{Err: err, Row: row, Detail: fmt.Sprintf(format, args...)}
}

// ReadOptions are the limits of one upload; a zero field takes its default.
type ReadOptions struct {
	// MaxRows is how many data rows (not empty, the header not counted)
	// the file may hold (DefaultMaxRows). The first row beyond it is an
	// ErrTooManyRows error.
	MaxRows int
	// MaxBytes is how many bytes the file may hold (DefaultMaxBytes).
	MaxBytes int64
	// TempDir is where XLSX parts too large for memory are unpacked (the
	// system's temporary directory when empty).
	TempDir string
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// zipMagic opens every XLSX (a zip archive); oleMagic opens legacy .xls
// and encrypted workbooks, which are not CSV either.
var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// DetectKind tells an XLSX upload from a CSV one: XLSX when the file name
// ends in ".xlsx" (any case), the content type is XLSXContentType (with or
// without parameters), or head, the first bytes of the file, begins a zip
// archive or an OLE compound file (a legacy or encrypted workbook, which
// OpenXLSX then refuses with ErrNotXLSX); CSV otherwise.
func DetectKind(name, contentType string, head []byte) Kind {
	ct, _, _ := strings.Cut(contentType, ";")
	switch {
	case strings.EqualFold(filepath.Ext(name), ".xlsx"),
		strings.EqualFold(strings.TrimSpace(ct), XLSXContentType),
		bytes.HasPrefix(head, zipMagic), bytes.HasPrefix(head, oleMagic):
		return KindXLSX
	}
	return KindCSV
}

// Spooled is an upload copied to a temporary file, for the random access
// XLSX needs and for reading a file more than once.
type Spooled struct {
	path string
	size int64
	head []byte
}

// Spool copies r to a new file in dir (the system's temporary directory
// when empty) and reads at most maxBytes bytes (DefaultMaxBytes when not
// positive). A longer input is an ErrTooLarge *FileError and an input that
// cannot be read is returned as is; on any error nothing is left on disk.
// The caller removes the file with Remove.
func Spool(r io.Reader, dir string, maxBytes int64) (*Spooled, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	f, err := os.CreateTemp(dir, "crmgate-upload-")
	if err != nil {
		return nil, fmt.Errorf("jobs.Spool: %w", err)
	}
	s := &Spooled{path: f.Name()}
	fail := func(err error) (*Spooled, error) {
		_ = f.Close()
		_ = os.Remove(s.path)
		return nil, err
	}
	n, err := io.Copy(f, io.LimitReader(r, maxBytes+1))
	if err != nil {
		return fail(fmt.Errorf("jobs.Spool: %w", err))
	}
	if n > maxBytes {
		return fail(fileErr(ErrTooLarge, 0, "more than %d bytes", maxBytes))
	}
	s.size = n
	head := make([]byte, 8)
	k, _ := f.ReadAt(head, 0)
	s.head = head[:k]
	if err := f.Close(); err != nil {
		return fail(fmt.Errorf("jobs.Spool: %w", err))
	}
	return s, nil
}

// Path is the spooled file's name.
func (s *Spooled) Path() string { return s.path }

// Size is how many bytes were spooled.
func (s *Spooled) Size() int64 { return s.size }

// Head is the first (up to 8) bytes of the file, for DetectKind.
func (s *Spooled) Head() []byte { return s.head }

// Open reads the spooled file as kind, as OpenFile does.
func (s *Spooled) Open(kind Kind, opts ReadOptions) (*Reader, error) {
	return OpenFile(s.path, kind, opts)
}

// Remove deletes the spooled file. Readers of it should be closed first.
func (s *Spooled) Remove() error { return os.Remove(s.path) }

// Row is one row of the file after the header.
type Row struct {
	// Number is the row's number in the spreadsheet (header = 1).
	Number int
	// Cells are the row's cells as they were read, untrimmed: at least one
	// per header column (a shorter row is padded with ""), and more only
	// for a row whose Issue says so. Empty cells beyond the header are
	// dropped.
	Cells []string
	// Issue is not nil when the row could not be read: code
	// CodeInvalidRow, and a message saying why. Cells then hold the row
	// as it was written, so that the report keeps it: every cell of a row
	// with too many; for broken quoting, the row's text read with its
	// quotes taken as they come (a quote never closed keeps the whole text
	// in one cell).
	Issue *schema.Issue
}

// rawRow is a row as a format reads it: num is its spreadsheet number,
// broken says why it could not be read ("" when it could).
type rawRow struct {
	num    int
	cells  []string
	broken string
}

// rowSource is one file format's rows, in order, the header first; io.EOF
// after the last, a *FileError for a file that cannot be read on.
type rowSource interface {
	next() (rawRow, error)
	close() error
}

// Reader reads the rows of one upload. It is not safe for concurrent use.
type Reader struct {
	kind    Kind
	src     rowSource
	opts    ReadOptions
	header  []string
	rows    int
	skipped int
	err     error
}

// OpenFile opens the file at path as kind (an unknown kind is CSV) and
// reads its header.
func OpenFile(path string, kind Kind, opts ReadOptions) (*Reader, error) {
	if kind == KindXLSX {
		return OpenXLSX(path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jobs.OpenFile: %w", err)
	}
	r, err := NewCSVReader(f, opts)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	r.src = closingSource{r.src, f}
	return r, nil
}

type closingSource struct {
	rowSource
	c io.Closer
}

func (s closingSource) close() error { return errors.Join(s.rowSource.close(), s.c.Close()) }

// newReader reads the header of src: a file without any non-empty row is
// ErrEmpty, one whose first row is empty or unreadable ErrNoHeader, one
// with a header cell twice ErrDuplicateHeader.
func newReader(kind Kind, src rowSource, opts ReadOptions) (*Reader, error) {
	r := &Reader{kind: kind, src: src, opts: opts}
	first, err := src.next()
	if errors.Is(err, io.EOF) {
		return nil, fileErr(ErrEmpty, 0, "no rows")
	}
	if err != nil {
		return nil, err
	}
	if first.broken != "" {
		return nil, fileErr(ErrNoHeader, first.num, "the header row cannot be read: %s", first.broken)
	}
	if allEmpty(first.cells) {
		for {
			raw, err := src.next()
			if errors.Is(err, io.EOF) {
				return nil, fileErr(ErrEmpty, 0, "every row is empty")
			}
			if err != nil {
				return nil, err
			}
			if raw.broken != "" || !allEmpty(raw.cells) {
				return nil, fileErr(ErrNoHeader, 1, "the first row is empty; it must name the columns")
			}
		}
	}
	header := make([]string, len(first.cells))
	for i, c := range first.cells {
		header[i] = strings.TrimSpace(c)
	}
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if h == "" {
			continue
		}
		if j, dup := seen[h]; dup {
			return nil, fileErr(ErrDuplicateHeader, first.num, "%q is the header of columns %d and %d", h, j+1, i+1)
		}
		seen[h] = i
	}
	r.header = header
	return r, nil
}

// Kind is the kind of file being read.
func (r *Reader) Kind() Kind { return r.kind }

// Header is the header row, each cell trimmed of surrounding space, empty
// cells at its end dropped. The caller must not modify it.
func (r *Reader) Header() []string { return r.header }

// Rows is how many data rows Next has returned so far.
func (r *Reader) Rows() int { return r.rows }

// Skipped is how many empty rows have been skipped so far.
func (r *Reader) Skipped() int { return r.skipped }

// Next returns the next non-empty row. It returns io.EOF after the last
// row, and a *FileError when the file cannot be read on (invalid UTF-8,
// more than MaxRows rows, more than MaxBytes bytes); after an error every
// call returns it again.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		raw, err := r.src.next()
		if err != nil {
			r.err = err
			return Row{}, err
		}
		if raw.broken == "" && allEmpty(raw.cells) {
			r.skipped++
			continue
		}
		r.rows++
		if r.rows > r.opts.MaxRows {
			r.err = fileErr(ErrTooManyRows, raw.num, "more than %d data rows", r.opts.MaxRows)
			return Row{}, r.err
		}
		return r.row(raw), nil
	}
}

// row pads raw to the header's width and checks what lies beyond it.
func (r *Reader) row(raw rawRow) Row {
	row := Row{Number: raw.num, Cells: raw.cells}
	width := len(r.header)
	last := len(row.Cells)
	for last > width && strings.TrimSpace(row.Cells[last-1]) == "" {
		last--
	}
	row.Cells = row.Cells[:last]
	for len(row.Cells) < width {
		row.Cells = append(row.Cells, "")
	}
	switch {
	case raw.broken != "":
		row.Issue = &schema.Issue{Code: CodeInvalidRow, Message: raw.broken}
	case len(row.Cells) > width:
		extra := make([]string, 0, len(row.Cells)-width)
		for _, c := range row.Cells[width:] {
			extra = append(extra, fmt.Sprintf("%q", c))
		}
		row.Issue = &schema.Issue{Code: CodeInvalidRow, Message: fmt.Sprintf(
			"row %d has %d cells but the header has %d; the cells beyond it are %s",
			raw.num, len(row.Cells), width, strings.Join(extra, ", "))}
	}
	return row
}

// Close releases the file; it does not remove a spooled copy.
func (r *Reader) Close() error { return r.src.close() }

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
