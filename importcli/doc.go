// Package importcli is the `crmgate import` command: it uploads a CSV or
// XLSX file to a running gateway as an import job (gateway.md §7,
// POST /v1/imports, the file streamed as it is read), follows the job with
// a progress bar until it ends, prints its counters, and writes the error
// report beside the file when any row did not succeed. `crmgate import
// --watch ID` follows a job already created.
//
// Exit statuses: 0 when every row succeeded (or, in a dry run, was valid);
// 1 when any did not, or the gateway refused the upload (its problem+json
// printed: title, detail, errors); 2 for bad usage; 130 after Ctrl-C, which
// stops following the job but leaves it running at the gateway and prints
// the --watch command that follows it again.
//
// Client is the HTTP side on its own, for other programs (the benchmarks
// use it to upload).
package importcli
