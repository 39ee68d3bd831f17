package importcli

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Exit statuses of the command.
const (
	ExitOK          = 0   // every row succeeded (or, in a dry run, was valid)
	ExitRowsFailed  = 1   // some row did not, or the job could not be created or followed
	ExitUsage       = 2   // bad usage: unknown flag, no file, no --connection
	ExitInterrupted = 130 // Ctrl-C: the job goes on; --watch follows it again
)

// Environment variables read for the flags' defaults.
const (
	EnvURL   = "CRMGATE_URL"
	EnvToken = "CRMGATE_TOKEN"
)

// DefaultURL is the gateway the command talks to when neither --url nor
// CRMGATE_URL says otherwise.
const DefaultURL = "http://127.0.0.1:8080"

// PollInterval is how often a running job is read.
const PollInterval = 500 * time.Millisecond

// Upload retries: an upload whose answer never came (the connection broke
// after the body was sent), or that the gateway asked to send again later
// (409: the first upload with its key is still being read; 503), is sent
// again up to UploadAttempts times in all, UploadRetryWait after the first
// try and twice as long after each next one. Every attempt of one
// invocation carries the same Idempotency-Key, so the gateway makes one job
// of them.
const (
	UploadAttempts  = 3
	UploadRetryWait = time.Second
)

const usage = `usage: crmgate import FILE --connection ID [--map "Phone=whatsapp,Name=name"]
                      [--default-region CN] [--mode merge] [--dry-run] [--url URL] [--token TOKEN]
       crmgate import --watch ID [--url URL] [--token TOKEN]
`

// Main runs `crmgate import` with args (those after "import") and returns
// the exit status. When ctx ends (Ctrl-C) it stops following the job,
// which goes on at the gateway, prints the command that follows it again
// and returns ExitInterrupted.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, code := parse(args, stderr)
	if c == nil {
		return code
	}
	c.stdout, c.stderr = stdout, stderr
	return c.run(ctx)
}

type command struct {
	file      string
	watch     string
	opts      Options
	client    *Client
	poll      time.Duration
	retryWait time.Duration

	stdout, stderr io.Writer
}

// parse reads the flags, which may come before or after FILE. A nil
// command comes with the exit status to return.
func parse(args []string, stderr io.Writer) (*command, int) {
	fs := flag.NewFlagSet("crmgate import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	conn := fs.String("connection", "", "connection id (required with FILE)")
	mapping := fs.String("map", "", `column mapping, "Header=field,Header=custom_fields.Name"`)
	region := fs.String("default-region", "", "ISO 3166-1 region for numbers without a country code (e.g. CN)")
	mode := fs.String("mode", "", "merge (default), replace or keep_existing")
	dry := fs.Bool("dry-run", false, "check and translate every row, send nothing")
	watch := fs.String("watch", "", "follow the job ID instead of uploading")
	base := fs.String("url", envOr(EnvURL, DefaultURL), "the gateway's URL ("+EnvURL+")")
	token := fs.String("token", "", "bearer token (default: "+EnvToken+", never printed)")
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK
			}
			return nil, ExitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	bad := func(format string, a ...any) (*command, int) {
		fmt.Fprintf(stderr, "crmgate import: "+format+"\n", a...)
		fmt.Fprint(stderr, usage)
		return nil, ExitUsage
	}
	if *token == "" {
		*token = os.Getenv(EnvToken)
	}
	c := &command{watch: *watch, poll: PollInterval, retryWait: UploadRetryWait,
		client: &Client{URL: *base, Token: *token, HTTP: &http.Client{}}}
	switch {
	case *watch != "" && len(files) > 0:
		return bad("--watch follows a job already created: give no FILE")
	case *watch != "":
		return c, 0
	case len(files) == 0:
		return bad("no FILE given")
	case len(files) > 1:
		return bad("one FILE at a time (got %s)", strings.Join(files, ", "))
	case *conn == "":
		return bad("--connection is required")
	}
	m, err := parseMapping(*mapping)
	if err != nil {
		return bad("--map: %v", err)
	}
	c.file = files[0]
	if st, err := os.Stat(c.file); err != nil || st.IsDir() {
		if err == nil {
			err = errors.New("is a directory")
		}
		return bad("%s: %v", c.file, err)
	}
	// One key for this invocation: its every attempt is the same upload.
	c.opts = Options{Connection: *conn, Mode: *mode, DryRun: *dry, DefaultRegion: *region, Mapping: m,
		IdempotencyKey: "crmgate-import-" + rand.Text()}
	return c, 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// parseMapping reads "Header=field,Header=field" (spaces around either
// side are trimmed). An empty string is no mapping.
func parseMapping(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		col, field, ok := strings.Cut(pair, "=")
		col, field = strings.TrimSpace(col), strings.TrimSpace(field)
		if !ok || col == "" || field == "" {
			return nil, fmt.Errorf("%q is not Header=field", strings.TrimSpace(pair))
		}
		if _, dup := m[col]; dup {
			return nil, fmt.Errorf("column %q mapped twice", col)
		}
		m[col] = field
	}
	return m, nil
}

func (c *command) run(ctx context.Context) int {
	var (
		job *Job
		err error
	)
	if c.watch != "" {
		job, err = c.client.Get(ctx, c.watch)
	} else {
		job, err = c.upload(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(c.stderr, "crmgate import: interrupted before the gateway answered; no job id was received")
			return ExitInterrupted
		}
		c.printError(err)
		return ExitRowsFailed
	}
	if c.watch == "" {
		fmt.Fprintf(c.stderr, "job %s created (%s); crmgate import --watch %s follows it\n", job.ID, describeSource(job), job.ID)
	}
	job, err = c.follow(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(c.stderr, "\nstopped following job %s, which goes on at the gateway; to follow it again:\n", job.ID)
			fmt.Fprintf(c.stdout, "crmgate import --watch %s\n", job.ID)
			return ExitInterrupted
		}
		c.printError(err)
		return ExitRowsFailed
	}
	c.printSummary(job)
	if job.Failed+job.Unknown > 0 || job.Status == StatusCanceled {
		path, err := c.writeReport(ctx, job)
		if err != nil {
			fmt.Fprintf(c.stderr, "crmgate import: the report could not be written: %v\n", err)
		} else {
			fmt.Fprintf(c.stdout, "report: %s\n", path)
		}
	}
	if job.AllGood() {
		return ExitOK
	}
	return ExitRowsFailed
}

func describeSource(j *Job) string {
	if j.Source == nil {
		return fmt.Sprintf("%d rows", j.Total)
	}
	return fmt.Sprintf("%s, %d rows", j.Source.Name, j.Total)
}

// upload creates the job from the file, sending it again (with the same
// Idempotency-Key) when no answer came back or the gateway asked for a
// later retry; see UploadAttempts.
func (c *command) upload(ctx context.Context) (*Job, error) {
	fmt.Fprintf(c.stderr, "uploading %s to %s\n", c.file, c.client.URL)
	wait := c.retryWait
	for attempt := 1; ; attempt++ {
		job, err := c.uploadOnce(ctx)
		if err == nil || attempt == UploadAttempts || ctx.Err() != nil || !retryable(err) {
			return job, err
		}
		fmt.Fprintf(c.stderr, "crmgate import: %v; sending the file again in %v (same Idempotency-Key: one job)\n", err, wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (c *command) uploadOnce(ctx context.Context) (*Job, error) {
	f, err := os.Open(c.file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.client.Create(ctx, c.opts, filepath.Base(c.file), f, nil)
}

// retryable reports whether an upload that ended in err may be sent again:
// the answer asks for a later retry, or no whole answer came back. Not
// when the file could not be read, nor when the connection was refused
// (no job was made, and sending again soon changes nothing).
func retryable(err error) bool {
	var p *Problem
	if errors.As(err, &p) {
		return p.Status == http.StatusConflict || p.Status == http.StatusServiceUnavailable
	}
	var pe *fs.PathError
	return !errors.As(err, &pe) && !errors.Is(err, syscall.ECONNREFUSED)
}

// follow reads the job every c.poll until it ends, showing its progress,
// and returns it as it ended. A read that fails is tried again on the next
// tick, up to a minute of failures in a row; a refusal (the job is gone,
// the token expired) ends it at once.
func (c *command) follow(ctx context.Context, job *Job) (*Job, error) {
	p := newProgress(c.stderr, job)
	defer p.finish()
	p.update(job)
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	var failingSince time.Time
	for !job.Done() {
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		next, err := c.client.Get(rctx, job.ID)
		cancel()
		var prob *Problem
		switch {
		case ctx.Err() != nil:
			return job, ctx.Err()
		case errors.As(err, &prob):
			return job, err
		case err != nil:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > time.Minute {
				return job, err
			}
			continue
		}
		failingSince = time.Time{}
		job = next
		p.update(job)
	}
	return job, nil
}

// printSummary prints the job's end and its counters.
func (c *command) printSummary(j *Job) {
	w := c.stdout
	took := ""
	if j.StartedAt != nil && j.FinishedAt != nil {
		took = " in " + j.FinishedAt.Sub(*j.StartedAt).Round(100*time.Millisecond).String()
	}
	fmt.Fprintf(w, "job %s %s%s\n", j.ID, j.Status, took)
	if j.Status == StatusFailed && j.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", j.Error)
	}
	done := fmt.Sprintf("%d succeeded", j.Succeeded)
	if j.DryRun {
		done = fmt.Sprintf("%d valid", j.Valid)
	}
	fmt.Fprintf(w, "  %d rows: %s, %d failed, %d unknown", j.Total, done, j.Failed, j.Unknown)
	if j.Pending > 0 {
		fmt.Fprintf(w, ", %d pending", j.Pending)
	}
	if j.SkippedRows > 0 {
		fmt.Fprintf(w, " (%d empty rows skipped)", j.SkippedRows)
	}
	fmt.Fprintln(w)
	if len(j.ErrorsByCode) > 0 {
		codes := slices.Sorted(maps.Keys(j.ErrorsByCode))
		slices.SortStableFunc(codes, func(a, b string) int { return j.ErrorsByCode[b] - j.ErrorsByCode[a] })
		parts := make([]string, len(codes))
		for i, code := range codes {
			parts[i] = fmt.Sprintf("%s %d", code, j.ErrorsByCode[code])
		}
		fmt.Fprintf(w, "  errors: %s\n", strings.Join(parts, ", "))
	}
	if len(j.UnmappedColumns) > 0 {
		fmt.Fprintf(w, "  columns not imported: %s\n", strings.Join(j.UnmappedColumns, ", "))
	}
}

// printError prints a refusal readably: its title and detail, then each
// of its errors on a line.
func (c *command) printError(err error) {
	var p *Problem
	if !errors.As(err, &p) {
		fmt.Fprintf(c.stderr, "crmgate import: %v\n", err)
		return
	}
	fmt.Fprintf(c.stderr, "crmgate import: the gateway answered %d %s\n", p.Status, p.Title)
	if p.Detail != "" {
		fmt.Fprintf(c.stderr, "  %s\n", p.Detail)
	}
	for _, e := range p.Errors {
		line := string(e.Code)
		if e.Field != "" {
			line += " (" + e.Field + ")"
		}
		if e.Message != "" {
			line += ": " + e.Message
		}
		fmt.Fprintf(c.stderr, "  - %s\n", line)
	}
	if p.RequestID != "" {
		fmt.Fprintf(c.stderr, "  request_id: %s\n", p.RequestID)
	}
}

// reportPath is where the report of job goes: beside the uploaded file,
// or for --watch in the current directory under the job's file name
// (the job's id for a job without one); "contacts.csv" gives
// "contacts.report.csv", an XLSX upload a ".report.xlsx".
func (c *command) reportPath(j *Job) (path string, xlsx bool) {
	name, dir := "", "."
	if c.file != "" {
		name, dir = filepath.Base(c.file), filepath.Dir(c.file)
	} else if j.Source != nil && j.Source.Name != "" {
		name = filepath.Base(filepath.FromSlash(strings.ReplaceAll(j.Source.Name, `\`, "/")))
	}
	xlsx = strings.EqualFold(filepath.Ext(name), ".xlsx") || j.Source != nil && j.Source.Kind == "xlsx"
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	if stem == "" || stem == "." || stem == ".." {
		stem = j.ID
	}
	ext := ".csv"
	if xlsx {
		ext = ".xlsx"
	}
	return filepath.Join(dir, stem+".report"+ext), xlsx
}

// writeReport downloads the report to a temporary file beside its place
// and renames it there once complete.
func (c *command) writeReport(ctx context.Context, j *Job) (string, error) {
	path, xlsx := c.reportPath(j)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".crmgate-report-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	err = c.client.Report(rctx, j.ID, xlsx, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}
