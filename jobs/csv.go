package jobs

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// NewCSVReader reads a CSV upload from r and reads its header. The file is
// UTF-8, with or without a byte-order mark; its delimiter is the one of
// comma, semicolon and tab found most often outside quotes in the header
// line (its first 64 KiB; a tie goes to the first of them in that order;
// none at all is one column, comma-separated). Quoting is RFC 4180 (encoding/csv, no lazy
// quotes). r is read as it is consumed, never whole; more than
// opts.MaxBytes bytes is ErrTooLarge. Closing the Reader does not close r.
//
// Invalid UTF-8 in any cell, a NUL byte, or a UTF-16 byte-order mark is
// ErrNotUTF8 naming the row. A row with broken quoting is an invalid_row
// row and reading goes on with the next line, except for a quote that is
// opened and never closed: the row then takes in every line up to the next
// quote character (the end of the file if there is none), as any CSV
// reader must, and its message names the lines it spans; such a row, like
// any row, is held in memory whole while it is read.
func NewCSVReader(r io.Reader, opts ReadOptions) (*Reader, error) {
	opts = opts.withDefaults()
	lr := &limitedReader{r: r, left: opts.MaxBytes, max: opts.MaxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		return nil, fileErr(ErrNotUTF8, 0, "the file is UTF-16; save it as UTF-8 CSV")
	}
	line, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, fmt.Errorf("jobs: reading the CSV file: %w", err)
	}
	rec := &recorder{r: br}
	cr := csv.NewReader(rec)
	cr.Comma = detectDelimiter(line)
	cr.FieldsPerRecord = -1
	return newReader(KindCSV, &csvSource{r: cr, rec: rec}, opts)
}

// detectDelimiter counts the candidate delimiters outside quotes up to the
// first line break outside quotes.
func detectDelimiter(b []byte) rune {
	var counts [3]int
	quoted := false
scan:
	for _, c := range b {
		switch c {
		case '"':
			quoted = !quoted
		case '\n', '\r':
			if !quoted {
				break scan
			}
		case ',':
			if !quoted {
				counts[0]++
			}
		case ';':
			if !quoted {
				counts[1]++
			}
		case '\t':
			if !quoted {
				counts[2]++
			}
		}
	}
	delims := [3]rune{',', ';', '\t'}
	best := 0
	for i := 1; i < 3; i++ {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return delims[best]
}

// csvSource numbers the records as a spreadsheet numbers rows: encoding/csv
// skips blank lines, so the lines between two records come back as empty
// rows.
type csvSource struct {
	r       *csv.Reader
	rec     *recorder
	num     int // the last row returned
	endLine int // the last line of the last record read
	blank   int // empty rows owed before pending
	pending *rawRow
	err     error
}

func (s *csvSource) next() (rawRow, error) {
	if s.blank > 0 {
		s.blank--
		s.num++
		return rawRow{num: s.num}, nil
	}
	if s.pending != nil {
		row := *s.pending
		s.pending = nil
		s.num++
		row.num = s.num
		return row, nil
	}
	if s.err != nil {
		return rawRow{}, s.err
	}
	rec, err := s.r.Read()
	raw := s.rec.record(s.r.InputOffset())
	var row rawRow
	var start, end int
	var pe *csv.ParseError
	switch {
	case err == nil:
		start, _ = s.r.FieldPos(0)
		lastLine, _ := s.r.FieldPos(len(rec) - 1)
		end = lastLine + strings.Count(rec[len(rec)-1], "\n")
	case errors.As(err, &pe):
		start, end = pe.StartLine, pe.Line
		if start == 0 {
			start = end
		}
		row.broken = fmt.Sprintf("broken quoting on line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		if start != end {
			row.broken = fmt.Sprintf("broken quoting: the row begins on line %d and an opened quote runs to line %d, column %d (%v)", start, pe.Line, pe.Column, pe.Err)
		}
		rec = lazyCells(raw, s.r.Comma)
	default:
		var fe *FileError
		if errors.As(err, &fe) {
			s.err = fe
		} else if errors.Is(err, io.EOF) {
			s.err = io.EOF
		} else {
			s.err = fmt.Errorf("jobs: reading the CSV file: %w", err)
		}
		return rawRow{}, s.err
	}
	row.cells = rec
	rowNum := s.num + 1 + max(0, start-s.endLine-1)
	for i, c := range rec {
		if !utf8.ValidString(c) {
			s.err = fileErr(ErrNotUTF8, rowNum, "cell %d is not valid UTF-8", i+1)
			return rawRow{}, s.err
		}
		if strings.IndexByte(c, 0) >= 0 {
			s.err = fileErr(ErrNotUTF8, rowNum, "cell %d holds a NUL byte (a UTF-16 or binary file?)", i+1)
			return rawRow{}, s.err
		}
	}
	s.blank = max(0, start-s.endLine-1)
	s.endLine = end
	s.pending = &row
	return s.next()
}

func (s *csvSource) close() error { return nil }

// lazyCells reads the text of a record that broke as a spreadsheet would
// show it (quotes taken as they come), so that the report keeps every
// character of it.
func lazyCells(raw []byte, comma rune) []string {
	raw = bytes.TrimRight(raw, "\r\n")
	lr := csv.NewReader(bytes.NewReader(raw))
	lr.Comma = comma
	lr.LazyQuotes = true
	lr.FieldsPerRecord = -1
	cells, err := lr.Read()
	if err != nil || lr.InputOffset() < int64(len(raw)) {
		// Lazy quotes still read it as more than one record: keep it
		// whole in one cell.
		return []string{string(raw)}
	}
	return cells
}

// recorder keeps the bytes the CSV reader has taken from r since the end of
// the last record: that record's text and the reader's look-ahead (a few
// KiB), never more than the record being read.
type recorder struct {
	r     io.Reader
	buf   []byte
	start int   // buf[start:] has not been returned by record
	base  int64 // the input offset of buf[start]
}

func (r *recorder) Read(p []byte) (int, error) {
	if r.start > 0 && r.start >= len(r.buf)/2 {
		n := copy(r.buf, r.buf[r.start:])
		r.buf, r.start = r.buf[:n], 0
	}
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// record returns the text from the end of the previous record to end (the
// reader's InputOffset after a record). It is valid until the next Read.
func (r *recorder) record(end int64) []byte {
	n := min(max(int(end-r.base), 0), len(r.buf)-r.start)
	text := r.buf[r.start : r.start+n]
	r.start += n
	r.base += int64(n)
	return text
}

// limitedReader reads at most max bytes of r; the byte after them is an
// ErrTooLarge *FileError.
type limitedReader struct {
	r    io.Reader
	left int64 // bytes still allowed; -1 once the limit is passed
	max  int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, fileErr(ErrTooLarge, 0, "more than %d bytes", l.max)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n - 1, fileErr(ErrTooLarge, 0, "more than %d bytes", l.max)
	}
	return n, err
}
