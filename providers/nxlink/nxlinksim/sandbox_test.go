package nxlinksim_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/schema"
)

// The sandbox serves a working account: a record checked against the sample
// field configuration is stored, and the simulator stops with Close.
func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := nxlinksim.Sandbox(ctx, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if sb.Common.ID != "sandbox-nxlink" || sb.Common.Provider != "nxlink" || !strings.HasPrefix(sb.Common.BaseURL, "http://127.0.0.1:") ||
		sb.Common.Concurrency != gateway.DefaultConcurrency {
		t.Errorf("common %+v", sb.Common)
	}
	if sb.Changes != nil {
		t.Error("NXLink sends no webhooks, but the sandbox has a change simulator")
	}
	cfg := sb.Config.(*nxlink.Config)
	if err := cfg.Validate(); err != nil || cfg.TenantID != 123 {
		t.Errorf("config %v %v", cfg, err)
	}
	rules, err := fieldconfig.Compile(sb.FieldConfig)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"Faction": "customize_1_14", "Level": "customize_1_15", "Joined": "customize_1_16"} {
		if f, ok := rules.Field(name); !ok || f.Key() != key {
			t.Errorf("custom field %s: %v", name, f)
		}
	}

	p, err := nxlink.Factory().New(sb.Common, sb.Config, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	c := &schema.Customer{Name: "Li Heng", WhatsApp: "+86 152 6666 7780", Owner: "kubrick101",
		CustomFields: map[string]any{"Faction": "Royal Family", "Level": float64(3), "Joined": "2024-01-02"}}
	errs, _ := schema.Check(c)
	k, e := rules.Check(c)
	if errs = append(errs, e...); len(errs) > 0 {
		t.Fatalf("%+v", errs)
	}
	op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge, StrictOwner: true}
	wire, errs, _ := p.Translate(op, k)
	if len(errs) > 0 {
		t.Fatalf("%+v", errs)
	}
	calls, err := p.Plan(op, []gateway.Record{{Index: 0, Customer: c, Wire: wire}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Do(ctx, &calls[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := []gateway.Outcome{{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"}}; !reflect.DeepEqual(res.Outcomes, want) {
		t.Errorf("outcomes %+v", res.Outcomes)
	}
	stored := sb.Handler.(*nxlinksim.Simulator).Customers()
	if len(stored) != 1 || stored[0].Fields["customize_field"] != `{"customize_1_14":"Royal Family","customize_1_15":3,"customize_1_16":"2024-01-02"}` ||
		stored[0].Fields["whats_app_phone"] != "8615266667780" {
		t.Errorf("stored %+v", stored)
	}

	sb.Close()
	sb.Close()
	if _, err := p.Do(ctx, &calls[0]); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("after Close: %v, want ErrUnavailable", err)
	}
}

// Two sandboxes are two accounts: their keys differ.
func TestSandboxAccountsAreRandom(t *testing.T) {
	t.Parallel()
	a, err := nxlinksim.Sandbox(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := nxlinksim.Sandbox(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ca, cb := a.Config.(*nxlink.Config), b.Config.(*nxlink.Config)
	if ca.AccessKey == cb.AccessKey || ca.AccessSecret == cb.AccessSecret || ca.AppKey == cb.AppKey {
		t.Errorf("two sandboxes share credentials")
	}
}

// Ending the context stops the sandbox too.
func TestSandboxStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := nxlinksim.Sandbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := nxlink.Factory().New(sb.Common, sb.Config, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	call := gateway.Call{Method: http.MethodPost, Path: nxlink.BatchCreatePath, Body: []byte(`{}`)}
	if _, err := p.Do(context.Background(), &call); err != nil {
		t.Fatalf("before cancel: %v", err)
	}
	defer sb.Close()
	cancel()
	// The server stops in the background once ctx ends: wait for it.
	for i := 0; ; i++ {
		_, err := p.Do(context.Background(), &call)
		if errors.Is(err, gateway.ErrUnavailable) {
			break
		}
		if i == 500 {
			t.Fatalf("the sandbox still answers after its context ended: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
