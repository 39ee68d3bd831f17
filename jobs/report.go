package jobs

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"crmgate/schema"
)

// ReportRow is one line of the error report: a row that did not succeed.
type ReportRow struct {
	// Cells are the row's original cells (Row.Cells).
	Cells []string
	// Status is the row's result status ("failed", "unknown", ...).
	Status string
	// Errors are the row's errors, the first one first.
	Errors []schema.Issue
}

// ReportWriter writes an error report. Close must be called to complete
// it; after an error the report is incomplete.
type ReportWriter interface {
	WriteRow(ReportRow) error
	Close() error
}

// xlsxMaxRows is the most rows a worksheet holds.
const xlsxMaxRows = excelize.TotalRows

// NewReportWriter starts the error report of a file with this header, as
// kind (KindXLSX, or CSV for any other), written to w.
//
// The report's header is the file's, without any of its ReportColumns
// (a report uploaded again and failing again gets fresh ones), followed by
// ReportColumns. Each row's cells are written under the same columns: a
// shorter row is padded with empty cells and cells beyond the header (a
// row whose own message lists them) are left out, so that the crmgate_*
// columns stay in place. crmgate_code and crmgate_field are the first
// error's; crmgate_message joins every error's message with " | ".
//
// CSV is comma-separated, RFC 4180 (encoding/csv), UTF-8 with a byte-order
// mark so that spreadsheets read it as UTF-8; it is streamed to w row by
// row. XLSX is one sheet of text cells (a phone stays as written), written
// with the library's stream writer, which keeps rows in a temporary file
// of the system's temporary directory; the workbook goes to w on Close.
// An XLSX report holds at most 1 048 575 rows after its header: the row
// beyond is an ErrTooManyRows error.
func NewReportWriter(w io.Writer, kind Kind, header []string) (ReportWriter, error) {
	var keep []int
	out := make([]string, 0, len(header)+len(ReportColumns))
	for i, h := range header {
		if !isReportColumn(h) {
			keep = append(keep, i)
			out = append(out, h)
		}
	}
	out = append(out, ReportColumns...)
	cols := reportColumns{keep: keep, width: len(out)}
	if kind == KindXLSX {
		return newXLSXReport(w, cols, out)
	}
	if _, err := io.WriteString(w, "\xEF\xBB\xBF"); err != nil {
		return nil, fmt.Errorf("jobs: writing the report: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(out); err != nil {
		return nil, fmt.Errorf("jobs: writing the report: %w", err)
	}
	return &csvReport{w: cw, cols: cols}, nil
}

type reportColumns struct {
	keep  []int
	width int
}

func (c reportColumns) line(r ReportRow) []string {
	line := make([]string, 0, c.width)
	for _, i := range c.keep {
		v := ""
		if i < len(r.Cells) {
			v = r.Cells[i]
		}
		line = append(line, v)
	}
	var code, field string
	msgs := make([]string, 0, len(r.Errors))
	if len(r.Errors) > 0 {
		code, field = string(r.Errors[0].Code), r.Errors[0].Field
	}
	for _, e := range r.Errors {
		msgs = append(msgs, e.Message)
	}
	return append(line, r.Status, code, field, strings.Join(msgs, " | "))
}

type csvReport struct {
	w    *csv.Writer
	cols reportColumns
}

func (r *csvReport) WriteRow(row ReportRow) error {
	if err := r.w.Write(r.cols.line(row)); err != nil {
		return fmt.Errorf("jobs: writing the report: %w", err)
	}
	return nil
}

func (r *csvReport) Close() error {
	r.w.Flush()
	if err := r.w.Error(); err != nil {
		return fmt.Errorf("jobs: writing the report: %w", err)
	}
	return nil
}

type xlsxReport struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	cols reportColumns
	row  int
	buf  []any
}

func newXLSXReport(w io.Writer, cols reportColumns, header []string) (*xlsxReport, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("jobs: writing the report: %w", err)
	}
	r := &xlsxReport{w: w, f: f, sw: sw, cols: cols}
	if err := r.write(header); err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

func (r *xlsxReport) write(line []string) error {
	if r.row >= xlsxMaxRows {
		return fileErr(ErrTooManyRows, r.row+1, "an XLSX sheet holds at most %d rows", xlsxMaxRows)
	}
	r.row++
	r.buf = r.buf[:0]
	for _, v := range line {
		r.buf = append(r.buf, v)
	}
	cell, _ := excelize.CoordinatesToCellName(1, r.row)
	if err := r.sw.SetRow(cell, r.buf); err != nil {
		return fmt.Errorf("jobs: writing the report: %w", err)
	}
	return nil
}

func (r *xlsxReport) WriteRow(row ReportRow) error { return r.write(r.cols.line(row)) }

func (r *xlsxReport) Close() error {
	defer r.f.Close()
	if err := r.sw.Flush(); err != nil {
		return fmt.Errorf("jobs: writing the report: %w", err)
	}
	if _, err := r.f.WriteTo(r.w); err != nil {
		return fmt.Errorf("jobs: writing the report: %w", err)
	}
	return nil
}
