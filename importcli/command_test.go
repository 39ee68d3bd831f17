package importcli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"crmgate/importcli"
)

// bin is the crmgate command, built once for the tests of this package.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crmgate-importcli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "crmgate")
	if out, err := exec.Command("go", "build", "-o", bin, "crmgate").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const token = "test-token"

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// command is the binary with args, the gateway URL and token given by the
// environment as a user's shell would, and no other CRMGATE_ setting.
func command(f *fakeAPI, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"import"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CRMGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if f != nil {
		cmd.Env = append(cmd.Env, importcli.EnvURL+"="+f.srv.URL, importcli.EnvToken+"="+token)
	}
	return cmd
}

func wait(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("crmgate import did not end\n%s\n%s", stdout, stderr)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func runImport(t *testing.T, f *fakeAPI, args ...string) result {
	t.Helper()
	cmd := command(f, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return wait(t, cmd, &stdout, &stderr)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodCSV = "Name,WhatsApp,Tags\nLi Heng,+86 152 6666 7780,\"VIP,Soldier\"\nWang Fang,+86 152 6666 7781,VIP\nZhao Lei,+86 152 6666 7782,\n"

// Mobile needs --map; the third row has no name, the fifth no valid number.
const mixedCSV = "Name,Mobile,Faction,Notes\n" +
	"Li Heng,152 6666 7780,Royal Family,met at the fair\n" +
	"Wang Fang,152 6666 7781,Guanlong Group,\n" +
	",152 6666 7782,Royal Family,no name\n" +
	"Zhao Lei,152 6666 7783,,\n" +
	"Sun Mei,call me,Royal Family,not a number\n"

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// Every row succeeds: exit 0, the counts printed, no report; the file
// arrived as it is, with the options of the command line.
func TestImportAllSucceeded(t *testing.T) {
	f := newFakeAPI(t, token)
	dir := t.TempDir()
	path := writeFile(t, dir, "contacts.csv", goodCSV)
	r := runImport(t, f, path, "--connection", "sandbox-nxlink")
	if r.code != 0 || !strings.Contains(r.stdout, "3 rows: 3 succeeded, 0 failed, 0 unknown") || !strings.Contains(r.stdout, "job imp_1 completed") {
		t.Fatalf("%s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "contacts.report.csv")); !os.IsNotExist(err) {
		t.Errorf("a report was written for a job without failures: %v", err)
	}
	up := f.lastUpload()
	if string(up.file) != goodCSV || up.fileName != "contacts.csv" || up.contentType != "text/csv" {
		t.Errorf("upload: name %q, type %q, file %q", up.fileName, up.contentType, up.file)
	}
	if string(up.options) != `{"connection":"sandbox-nxlink"}` {
		t.Errorf("options %s", up.options)
	}
}

// The upload carries an Idempotency-Key of its own invocation: when the
// answer is lost (the job made, the connection dropped), the file is sent
// again with the same key and the gateway answers the same job; a second
// invocation has another key, and makes another job.
func TestImportUploadIsIdempotent(t *testing.T) {
	f := newFakeAPI(t, token)
	path := writeFile(t, t.TempDir(), "contacts.csv", goodCSV)
	f.lose.Store(1)
	r := runImport(t, f, path, "--connection", "sandbox-nxlink")
	ups := f.uploads()
	if r.code != 0 || !strings.Contains(r.stdout, "job imp_1 completed") || !strings.Contains(r.stderr, "sending the file again") {
		t.Fatalf("%s", r)
	}
	if len(ups) != 2 || f.jobCount() != 1 || !strings.HasPrefix(ups[0].key, "crmgate-import-") || ups[1].key != ups[0].key ||
		string(ups[1].file) != goodCSV {
		t.Fatalf("%d uploads, %d jobs, keys %q", len(ups), f.jobCount(), []string{ups[0].key, ups[len(ups)-1].key})
	}
	r = runImport(t, f, path, "--connection", "sandbox-nxlink")
	ups = f.uploads()
	if r.code != 0 || !strings.Contains(r.stdout, "job imp_2 completed") || len(ups) != 3 || ups[2].key == ups[0].key || ups[2].key == "" {
		t.Fatalf("a second invocation: %s\nkeys %q", r, []string{ups[0].key, ups[len(ups)-1].key})
	}
}

// Some rows fail: exit 1, the counts and the codes printed, and the
// report beside the file holding those rows' columns and crmgate_* columns.
func TestImportFailuresWriteTheReport(t *testing.T) {
	f := newFakeAPI(t, token)
	dir := t.TempDir()
	path := writeFile(t, dir, "contacts.csv", mixedCSV)
	r := runImport(t, f, "--connection", "sandbox-nxlink", path, "--map", "Mobile=whatsapp", "--default-region", "CN", "--mode", "merge")
	want := []string{"5 rows: 3 succeeded, 2 failed, 0 unknown", "errors: invalid_phone 1, required 1", "columns not imported: Notes",
		"report: " + filepath.Join(dir, "contacts.report.csv")}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q", w)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	var opts map[string]any
	_ = json.Unmarshal(f.lastUpload().options, &opts)
	if opts["default_region"] != "CN" || opts["mode"] != "merge" || opts["mapping"].(map[string]any)["Mobile"] != "whatsapp" {
		t.Errorf("options %s", f.lastUpload().options)
	}
	report, err := os.ReadFile(filepath.Join(dir, "contacts.report.csv"))
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	wantReport := "\ufeffName,Mobile,Faction,Notes,crmgate_status,crmgate_code,crmgate_field,crmgate_message\n" +
		",152 6666 7782,Royal Family,no name,failed,required,name,name is required\n" +
		"Sun Mei,call me,Royal Family,not a number,failed,invalid_phone,whatsapp,\"\"\"call me\"\" is not a phone number\"\n"
	if string(report) != wantReport {
		t.Errorf("report:\n%q\nwant\n%q", report, wantReport)
	}
	if t.Failed() {
		t.Log(r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the upload and its report", len(entries))
	}
}

// A dry run whose rows are all valid exits 0 and says "valid".
func TestImportDryRun(t *testing.T) {
	f := newFakeAPI(t, token)
	path := writeFile(t, t.TempDir(), "contacts.csv", goodCSV)
	r := runImport(t, f, path, "--connection", "sandbox-nxlink", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "3 rows: 3 valid, 0 failed") {
		t.Fatalf("%s", r)
	}
	if string(f.lastUpload().options) != `{"connection":"sandbox-nxlink","dry_run":true}` {
		t.Errorf("options %s", f.lastUpload().options)
	}
}

// An XLSX upload is sent as XLSX and its report is an XLSX beside it.
func TestImportXLSXReport(t *testing.T) {
	f := newFakeAPI(t, token)
	dir := t.TempDir()
	path := filepath.Join(dir, "Leads 2026.xlsx")
	x := excelize.NewFile()
	for i, row := range [][]any{{"Name", "WhatsApp"}, {"Li Heng", "+86 152 6666 7780"}, {"Wang Fang", "unknown"}} {
		_ = x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row)
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	r := runImport(t, f, path, "--connection", "sandbox-nxlink")
	if r.code != 1 || !strings.Contains(r.stdout, "2 rows: 1 succeeded, 1 failed") {
		t.Fatalf("%s", r)
	}
	if ct := f.lastUpload().contentType; ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("file part sent as %q", ct)
	}
	rep, err := excelize.OpenFile(filepath.Join(dir, "Leads 2026.report.xlsx"))
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	defer rep.Close()
	rows, err := rep.GetRows(rep.GetSheetList()[0])
	if err != nil || len(rows) != 2 || rows[1][0] != "Wang Fang" || rows[1][3] != "invalid_phone" {
		t.Errorf("report rows %q (%v)", rows, err)
	}
}

// A refusal is printed readably: title, detail, each error; exit 1.
func TestImportProblemIsPrinted(t *testing.T) {
	f := newFakeAPI(t, token)
	path := writeFile(t, t.TempDir(), "contacts.csv", goodCSV)
	r := runImport(t, f, path, "--connection", "sandbox-nxlink", "--map", "Phone=whatsapp")
	for _, w := range []string{"422 The column mapping cannot work", "fix the mapping and upload again", "- invalid_mapping (mapping): ", `"Phone"`, "request_id: req-1"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	if r.code != 1 || t.Failed() {
		t.Errorf("%s", r)
	}
	// A token the gateway refuses: the same.
	cmd := command(f, path, "--connection", "sandbox-nxlink", "--token", "wrong")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Start()
	if r := wait(t, cmd, &stdout, &stderr); r.code != 1 || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Errorf("wrong token: %s", r)
	}
}

// Bad usage exits 2 and sends nothing.
func TestImportUsage(t *testing.T) {
	f := newFakeAPI(t, token)
	path := writeFile(t, t.TempDir(), "contacts.csv", goodCSV)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"--connection", "c"}, "no FILE given"},
		{"no connection", []string{path}, "--connection is required"},
		{"unknown flag", []string{path, "--connection", "c", "--bogus"}, "flag provided but not defined: -bogus"},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.csv"), "--connection", "c"}, "nope.csv"},
		{"bad mapping", []string{path, "--connection", "c", "--map", "Phone"}, `--map: "Phone" is not Header=field`},
		{"two files", []string{path, path, "--connection", "c"}, "one FILE at a time"},
		{"watch and file", []string{path, "--watch", "imp_1"}, "give no FILE"},
	} {
		r := runImport(t, f, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "usage: crmgate import FILE") || strings.Contains(r.stderr, token) {
			t.Errorf("%s: %s", tc.name, r)
		}
	}
	if n := f.posts.Load() + f.gets.Load(); n != 0 {
		t.Errorf("bad usage sent %d requests", n)
	}
}

// Ctrl-C while the job runs stops following it, prints the --watch line
// and leaves the job running (it is not canceled); --watch ID then follows
// it to the end, with the counts and the report, in the current directory.
func TestImportInterruptThenWatch(t *testing.T) {
	f := newFakeAPI(t, token)
	f.hold.Store(true)
	path := writeFile(t, t.TempDir(), "contacts.csv", mixedCSV)
	cmd := command(f, path, "--connection", "sandbox-nxlink", "--map", "Mobile=whatsapp")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the command follows the running job: after its second
	// read, so that it has shown what the first said (a read is counted
	// when the fake receives it, not when the command has its answer).
	for deadline := time.Now().Add(time.Minute); f.gets.Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the job was never read\n%s\n%s", &stdout, &stderr)
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r := wait(t, cmd, &stdout, &stderr)
	if r.code != importcli.ExitInterrupted || !strings.Contains(r.stdout, "crmgate import --watch imp_1\n") ||
		!strings.Contains(r.stderr, "imp_1 running: 0/5 rows (0%)") {
		t.Fatalf("after Ctrl-C: %s", r)
	}
	if f.cancels.Load() != 0 || f.status("imp_1") != importcli.StatusRunning {
		t.Fatalf("the job was canceled or stopped: %d cancels, status %q", f.cancels.Load(), f.status("imp_1"))
	}

	f.hold.Store(false)
	here := t.TempDir()
	cmd = command(f, "--watch", "imp_1")
	cmd.Dir = here
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r = wait(t, cmd, &stdout, &stderr)
	if r.code != 1 || !strings.Contains(r.stdout, "job imp_1 completed") || !strings.Contains(r.stdout, "5 rows: 3 succeeded, 2 failed, 0 unknown") {
		t.Fatalf("--watch: %s", r)
	}
	report, err := os.ReadFile(filepath.Join(here, "contacts.report.csv"))
	if err != nil || !strings.Contains(string(report), "Sun Mei,call me,Royal Family,not a number,failed,invalid_phone") {
		t.Errorf("report %q (%v)\n%s", report, err, r)
	}
	if f.posts.Load() != 1 {
		t.Errorf("%d uploads, want 1", f.posts.Load())
	}
}

// --watch of a job the gateway does not know prints the 404 and exits 1.
func TestImportWatchUnknownJob(t *testing.T) {
	f := newFakeAPI(t, token)
	r := runImport(t, f, "--watch", "imp_404")
	if r.code != 1 || !strings.Contains(r.stderr, "404 Not Found") || !strings.Contains(r.stderr, "no job imp_404") {
		t.Errorf("%s", r)
	}
}
