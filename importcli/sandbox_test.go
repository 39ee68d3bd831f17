package importcli_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"crmgate/importcli"
	"crmgate/jobs"
)

// startSandbox runs the built binary as `go run .` would, on a free port,
// and returns its URL and development token once its banner is out.
func startSandbox(t *testing.T) (base, tok string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(command(nil).Env, "CRMGATE_LISTEN=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan [2]string, 1)
	go func() {
		var got [2]string
		listen := regexp.MustCompile(`crmgate listening on (http://\S+)`)
		export := regexp.MustCompile(`export CRMGATE_TOKEN=(\S+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listen.FindStringSubmatch(sc.Text()); m != nil {
				got[0] = m[1]
			}
			if m := export.FindStringSubmatch(sc.Text()); m != nil {
				got[1] = m[1]
			}
			if got[0] != "" && got[1] != "" {
				found <- got
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case got := <-found:
		return got[0], got[1]
	case <-time.After(time.Minute):
		t.Fatalf("no banner from the sandbox\n%s", &stderr)
	}
	return "", ""
}

// The README's worked example, against the sandbox gateway: the bad rows of
// examples/contacts.csv fail, the rest succeed, and the report beside the
// file lists the four. It skips while the gateway has no import-job API.
func TestSandboxWorkedExample(t *testing.T) {
	base, tok := startSandbox(t)
	src, err := os.ReadFile("../examples/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "contacts.csv", string(src))
	cmd := command(nil, path, "--connection", "sandbox-nxlink", "--map", "Mobile=whatsapp", "--default-region", "CN")
	cmd.Env = append(cmd.Env, importcli.EnvURL+"="+base, importcli.EnvToken+"="+tok)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := wait(t, cmd, &stdout, &stderr)
	if strings.Contains(r.stderr, "answered 404") {
		t.Skipf("this build has no POST /v1/imports:\n%s", r.stderr)
	}
	for _, w := range []string{"12 rows: 8 succeeded, 4 failed, 0 unknown",
		"errors: duplicate_in_job 1, invalid_option 1, invalid_phone 1, required 1", "columns not imported: Notes",
		"report: " + filepath.Join(dir, "contacts.report.csv")} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q", w)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	rd, err := jobs.OpenFile(filepath.Join(dir, "contacts.report.csv"), jobs.KindCSV, jobs.ReadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	defer rd.Close()
	var names []string
	for {
		row, err := rd.Next()
		if err != nil {
			break
		}
		names = append(names, row.Cells[0])
	}
	if got := strings.Join(names, "|"); got != "Sun Mei|Liu Yang|Huang Wei|" {
		t.Errorf("report rows %q, want Sun Mei, Liu Yang, Huang Wei and the row without a name", got)
	}
	if t.Failed() {
		t.Log(r)
	}
}
