package jobs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

// xlsxPartInMemory is the largest part of a workbook (a worksheet, the
// shared strings) unpacked in memory; larger ones are unpacked to TempDir
// and read from there as a stream.
const xlsxPartInMemory = 4 << 20

// OpenXLSX opens the XLSX file at path (a spooled upload) and reads the
// header of its first sheet, in the workbook's order. A file that is not
// an XLSX workbook (a legacy .xls, an encrypted workbook, anything that is
// not a zip of the right parts) is ErrNotXLSX; one larger than
// opts.MaxBytes ErrTooLarge; one whose first sheet has no rows ErrEmpty.
// Rows are read with the library's streaming iterator; cells are the text
// a spreadsheet shows (numbers and dates as their cell format writes
// them), except that a date in the built-in short-date format, the one a
// spreadsheet gives a date typed in and shows in its user's locale, is
// YYYY-MM-DD, the canonical form. The library ends a sheet whose XML breaks off without an error,
// so such a sheet reads as shorter, not as failed.
func OpenXLSX(path string, opts ReadOptions) (*Reader, error) {
	opts = opts.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("jobs.OpenXLSX: %w", err)
	}
	if fi.Size() == 0 {
		return nil, fileErr(ErrEmpty, 0, "no bytes")
	}
	if fi.Size() > opts.MaxBytes {
		return nil, fileErr(ErrTooLarge, 0, "more than %d bytes", opts.MaxBytes)
	}
	f, err := excelize.OpenFile(path, excelize.Options{TmpDir: opts.TempDir, UnzipXMLSizeLimit: xlsxPartInMemory,
		ShortDatePattern: "yyyy-mm-dd"})
	if err != nil {
		return nil, fileErr(ErrNotXLSX, 0, "%v", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, fileErr(ErrNotXLSX, 0, "the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		_ = f.Close()
		return nil, fileErr(ErrNotXLSX, 0, "sheet %q: %v", sheets[0], err)
	}
	r, err := newReader(KindXLSX, &xlsxSource{f: f, rows: rows}, opts)
	if err != nil {
		_ = rows.Close()
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
	num  int
	err  error
}

func (s *xlsxSource) next() (rawRow, error) {
	if s.err != nil {
		return rawRow{}, s.err
	}
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			s.err = fileErr(ErrNotXLSX, s.num+1, "%v", err)
		} else {
			s.err = io.EOF
		}
		return rawRow{}, s.err
	}
	s.num++
	cells, err := s.rows.Columns()
	if err != nil {
		s.err = fileErr(ErrNotXLSX, s.num, "%v", err)
		return rawRow{}, s.err
	}
	return rawRow{num: s.num, cells: cells}, nil
}

func (s *xlsxSource) close() error {
	return errors.Join(s.rows.Close(), s.f.Close())
}
