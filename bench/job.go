package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"crmgate/importcli"
)

// ConnJob is the benchmark gateway's NXLink connection for import jobs: the
// simulator answering after SimDelay, with JobConcurrency calls in flight.
const ConnJob = "nx-job"

// JobConcurrency is the concurrency of ConnJob, as gateway.md §6's job figure
// says.
const JobConcurrency = 8

// JobHeader is the header of the benchmark's job file: every column maps
// to a field of nxlinksim.SampleFieldConfig by name.
const JobHeader = "Name,WhatsApp,Email,Country,Tags,Faction,Level,Joined,Remarks\n"

// WriteJobCSV writes the header and n data rows of the benchmark's job
// file to w, row by row (nothing is held but the row being written). Every
// row is valid for an NXLink connection with the sandbox field
// configuration, with a WhatsApp number of its own (phone(i)), so every
// row of a job of it succeeds.
func WriteJobCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(JobHeader); err != nil {
		return err
	}
	for i := range n {
		faction := "Royal Family"
		if i%3 == 0 {
			faction = "Guanlong Group"
		}
		if _, err := fmt.Fprintf(bw, "Li Heng %d,%s,liheng%d@example.com,CN,\"VIP,Soldier\",%s,%d,2021-06-01,met at the spring fair\n",
			i, phone(i), i, faction, 1+i%5); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// JobLoad is a load of kind "job": one file of Rows rows (WriteJobCSV)
// uploaded to the gateway at Gateway as an import job into Connection,
// then the job read every Poll until it ends.
type JobLoad struct {
	Gateway    string        `json:"gateway"`
	Token      string        `json:"token"`
	Connection string        `json:"connection"`
	Rows       int           `json:"rows"`
	Poll       time.Duration `json:"poll"`
}

// runJob runs a JobLoad. Elapsed is the time from the upload's last byte
// written to the first read that found the job completed; Durations[0][0]
// is the upload's own time (first byte to the 202). A refused upload is an
// error with its HTTP status in HTTPStatus; a job that ends other than
// completed with every row succeeded is an error.
func runJob(l *JobLoad) LoadResult {
	var res LoadResult
	fail := func(format string, a ...any) LoadResult {
		res.Errors, res.FirstError = 1, fmt.Sprintf(format, a...)
		return res
	}
	// No overall timeout: the upload of the biggest file takes a while.
	c := &importcli.Client{URL: l.Gateway, Token: l.Token, HTTP: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteJobCSV(pw, l.Rows)) }()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var lastByte time.Time
	start := time.Now()
	job, err := c.Create(ctx, importcli.Options{Connection: l.Connection}, "bench.csv", pr, func() { lastByte = time.Now() })
	_ = pr.Close()
	var p *importcli.Problem
	if errors.As(err, &p) {
		res.HTTPStatus = p.Status
	}
	if err != nil {
		return fail("POST /v1/imports: %v", err)
	}
	res.Durations = [][]time.Duration{{time.Since(start)}}
	if lastByte.IsZero() {
		lastByte = time.Now()
	}
	poll := max(l.Poll, time.Millisecond)
	for id := job.ID; !job.Done(); {
		time.Sleep(poll)
		if job, err = c.Get(ctx, id); err != nil {
			return fail("GET /v1/imports/%s: %v", id, err)
		}
	}
	res.Elapsed = time.Since(lastByte)
	if job.Status != importcli.StatusCompleted || job.Succeeded != l.Rows || job.Total != l.Rows {
		return fail("job %s ended %s: %d of %d rows succeeded (total %d, failed %d, unknown %d, errors %v, error %q)",
			job.ID, job.Status, job.Succeeded, l.Rows, job.Total, job.Failed, job.Unknown, job.ErrorsByCode, job.Error)
	}
	return res
}

// peakRSS is the process's peak resident set size in bytes since the last
// resetPeakRSS (or since it started), from /proc/self/status (VmHWM); ok is
// false where there is no such file.
func peakRSS() (n uint64, ok bool) {
	return procStatusKB("VmHWM:")
}

// resetPeakRSS makes the kernel start counting the peak resident set size
// again from the current one. It reports whether it could.
func resetPeakRSS() bool { return clearRefs("5") }

// clearReferenced clears the accessed bits of the process's pages, so that
// binaryPages tells what was touched after it. It reports whether it could.
func clearReferenced() bool { return clearRefs("1") }

// clearRefs writes what to /proc/self/clear_refs (Linux; proc(5)).
func clearRefs(what string) bool {
	return os.WriteFile("/proc/self/clear_refs", []byte(what), 0o644) == nil
}

// binaryPages is how much of the process's own executable file is resident
// and how much of that was touched since the last clearReferenced, in bytes,
// from /proc/self/smaps: the Rss and Referenced of the mappings of
// /proc/self/exe. ok is false where there is no such file.
func binaryPages() (resident, referenced uint64, ok bool) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, 0, false
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, 0, false
	}
	var ours bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-"): // a mapping's first line
			ours = len(f) > 5 && strings.HasSuffix(line, " "+exe)
		case ours && len(f) == 3 && (f[0] == "Rss:" || f[0] == "Referenced:"):
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, 0, false
			}
			if f[0] == "Rss:" {
				resident += kb << 10
			} else {
				referenced += kb << 10
			}
		}
	}
	return resident, referenced, resident > 0
}

func procStatusKB(key string) (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if len(line) > len(key) && line[:len(key)] == key {
			var kb uint64
			if _, err := fmt.Sscan(line[len(key):], &kb); err != nil {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}
