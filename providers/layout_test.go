package providers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No adapter depends on a simulator: a simulator is written from the
// provider's document, so that it catches the adapter's mistakes instead of
// sharing them, and the binary's adapters carry none of it.
func TestAdaptersImportNoSimulator(t *testing.T) {
	t.Parallel()
	for _, p := range All() {
		name := p.Factory.Name
		out, err := exec.Command("go", "list", "-deps", "./"+name).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v\n%s", name, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "crmgate/providers/") && strings.HasSuffix(dep, "sim") {
				t.Errorf("providers/%s depends on the simulator %s", name, dep)
			}
		}
	}
}

// Every provider of the table runs the conformance suite against its
// simulator.
func TestEveryProviderRunsTheConformanceSuite(t *testing.T) {
	t.Parallel()
	for _, p := range All() {
		name := p.Factory.Name
		b, err := os.ReadFile(filepath.Join(name, "conformance_test.go"))
		if err != nil {
			t.Errorf("providers/%s has no conformance test: %v", name, err)
			continue
		}
		if !bytes.Contains(b, []byte("providertest.Run(t,")) {
			t.Errorf("providers/%s/conformance_test.go does not call providertest.Run", name)
		}
		if p.Sandbox == nil {
			t.Errorf("providers/%s has no simulator in the table", name)
		}
	}
}
