package factory

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"crmgate/gateway"
)

type testConfig struct{ Tenant int }

func (c *testConfig) Validate() error {
	if c.Tenant <= 0 {
		return errors.New("tenant: required")
	}
	return nil
}

type testAdapter struct{ gateway.Provider }

func newTest(common gateway.Common, cfg *testConfig, hc *http.Client) (*testAdapter, error) {
	if err := Check(common, cfg, hc); err != nil {
		return nil, err
	}
	return &testAdapter{}, nil
}

func TestCheckReportsEveryProblem(t *testing.T) {
	t.Parallel()
	err := Check(gateway.Common{}, &testConfig{}, nil)
	for _, want := range []string{"tenant: required", "id: required", "base_url: required", "http client missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
	if err := Check(gateway.Common{ID: "x", BaseURL: "http://127.0.0.1:1"}, (*testConfig)(nil), &http.Client{}); err == nil ||
		!strings.Contains(err.Error(), "configuration missing") {
		t.Errorf("nil configuration: err = %v", err)
	}
	if err := Check(gateway.Common{ID: "x", BaseURL: "http://127.0.0.1:1"}, &testConfig{Tenant: 1}, &http.Client{}); err != nil {
		t.Errorf("good arguments: %v", err)
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	f := Of("peer", newTest)
	if f.Name != "peer" {
		t.Errorf("name %q", f.Name)
	}
	if _, ok := f.NewConfig().(*testConfig); !ok {
		t.Errorf("NewConfig = %T", f.NewConfig())
	}
	common := gateway.Common{ID: "x", BaseURL: "http://127.0.0.1:1"}
	if _, err := f.New(common, testConfig{Tenant: 1}, &http.Client{}); err == nil || !strings.Contains(err.Error(), "*factory.testConfig") {
		t.Errorf("a value, not a pointer: err = %v", err)
	}
	// A refused construction is a nil Provider, not a typed nil inside one.
	if p, err := f.New(common, &testConfig{}, &http.Client{}); err == nil || p != nil {
		t.Errorf("invalid config: %v, %v", p, err)
	}
	p, err := f.New(common, &testConfig{Tenant: 1}, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*testAdapter); !ok {
		t.Errorf("New = %T", p)
	}
}
