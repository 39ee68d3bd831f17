package importcli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// lineEvery is how often plain progress lines are printed when the output
// is not a terminal.
const lineEvery = 5 * time.Second

// progress shows how far a job has got: a bar (rows done of total, rate,
// ETA) on a terminal, otherwise a plain line now and then, and whenever
// the job's status changes.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar

	status    string
	lastLine  time.Time
	firstDone int
	firstAt   time.Time
}

func newProgress(w io.Writer, j *Job) *progress {
	p := &progress{w: w, firstDone: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(int64(max(j.Total, 1)),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(j.ID),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// update shows j.
func (p *progress) update(j *Job) {
	if p.bar != nil {
		if int64(j.Total) != p.bar.GetMax64() && j.Total > 0 {
			p.bar.ChangeMax64(int64(j.Total))
		}
		if j.Done() {
			p.bar.Describe(fmt.Sprintf("%s %s", j.ID, j.Status))
		}
		_ = p.bar.Set64(int64(j.Finished()))
		if !j.Done() {
			p.bar.Describe(fmt.Sprintf("%s %s", j.ID, j.Status))
		}
		return
	}
	now := time.Now()
	if p.firstDone < 0 || j.Status == StatusQueued {
		p.firstDone, p.firstAt = j.Finished(), now
	}
	if j.Status == p.status && now.Sub(p.lastLine) < lineEvery && !j.Done() {
		return
	}
	p.status, p.lastLine = j.Status, now
	line := fmt.Sprintf("%s %s: %d/%d rows", j.ID, j.Status, j.Finished(), j.Total)
	if j.Total > 0 {
		line += fmt.Sprintf(" (%.0f%%)", 100*float64(j.Finished())/float64(j.Total))
	}
	if secs := now.Sub(p.firstAt).Seconds(); secs >= 1 && j.Finished() > p.firstDone && !j.Done() {
		rate := float64(j.Finished()-p.firstDone) / secs
		eta := time.Duration(float64(j.Pending) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.0f rows/s, ETA %s", rate, eta)
	}
	fmt.Fprintln(p.w, line)
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
