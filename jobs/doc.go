// Package jobs is the spreadsheet side of import jobs (gateway.md §7): it
// reads an uploaded CSV or XLSX file row by row, maps its columns to the
// canonical customer, turns each row into the JSON of one canonical record
// for gateway.Service, writes the error report, and finds rows that repeat
// an earlier row's WhatsApp number. It knows nothing of HTTP, queues or
// providers; every limit and list it needs comes in as a parameter.
//
// # Reading
//
// An upload is read as a stream: a Reader holds the row it returns and a
// few KiB of look-ahead, whatever the size of the file (the tests hold
// heap growth to a few MiB over 200 000 CSV and 100 000 XLSX rows). A CSV can be read straight from the request body (NewCSVReader);
// an XLSX needs random access, so the caller spools the upload first
// (Spool, bounded by a byte limit) and opens the file (OpenFile, OpenXLSX).
// DetectKind tells the two apart by name, content type and content.
//
// The first row is the header: it is row 1, and every Row.Number counts
// from it as a spreadsheet does (blank lines of a CSV count as rows, a
// quoted cell that spans lines does not add any). A file with a header and
// no data row is not an error: it has no rows. Header cells are trimmed
// of surrounding space; two header cells that are equal after trimming are
// refused (ErrDuplicateHeader; "Phone" and "phone" are two columns, though
// both would match the same field, which NewMapping then reports). A cell
// with an empty header names no column: it is never mapped.
//
// What makes a whole file unusable is a *FileError wrapping one of the
// sentinel errors below, with the row where it is (0 when it is not about a
// row), returned by the opening function or by Reader.Next. Each is meant
// for one HTTP status, which the API chooses:
//
//	ErrNotUTF8, ErrNotXLSX                  415 (not what it claims to be)
//	ErrEmpty, ErrNoHeader, ErrDuplicateHeader 422
//	ErrTooManyRows, ErrTooLarge             413
//
// A caller that must refuse a file before anything runs reads it to the end
// once (the spooled copy can be read again).
//
// A single row that cannot be read is not a file error: Next returns it
// with an Issue of code CodeInvalidRow (broken quoting, or non-empty cells
// beyond the header) and reading goes on with the next row. Rows whose
// cells are all empty or space are skipped and counted (Reader.Skipped).
//
// # Mapping and records
//
// NewMapping matches columns to canonical fields (schema.Fields) and
// configured custom fields, automatically or as the job's mapping says;
// Mapping.Record turns a row into the JSON of one canonical record, with
// list fields split on commas and numbers as JSON numbers.
//
// # Report
//
// NewReportWriter writes the error report: the original header followed by
// ReportColumns, one line per row that did not succeed. Read back through
// a Reader and a Mapping, a report gives the records it was written from:
// the crmgate_* columns are ignored on upload.
//
// # Duplicates
//
// Dedupe remembers, per normalised WhatsApp number, the first row that had
// it, in a fixed few bytes per number.
package jobs
