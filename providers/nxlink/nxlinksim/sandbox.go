package nxlinksim

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/sandbox"
	"crmgate/secret"
)

// The sandbox account's values (its access key, secret and app key are random
// per start).
const (
	// SandboxConnection is the sandbox connection's id.
	SandboxConnection = "sandbox-nxlink"
	// SandboxTenantID is the sandbox account's tenant_id.
	SandboxTenantID = 123
)

// SandboxSeats are the seat users of the sandbox account.
var SandboxSeats = []string{"agent1@example.com", "kubrick101"}

// SampleFieldConfig is the sample field configuration of the sandbox
// connection: name required, and three custom fields with NXLink keys.
func SampleFieldConfig() fieldconfig.Config {
	return fieldconfig.Config{
		Required: []string{"name"},
		CustomFields: []fieldconfig.CustomField{
			{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"Guanlong Group", "Royal Family"}, ProviderKey: "customize_1_14"},
			{Name: "Level", Type: fieldconfig.TypeNumber, ProviderKey: "customize_1_15"},
			{Name: "Joined", Type: fieldconfig.TypeDate, ProviderKey: "customize_1_16"},
		},
	}
}

// Sandbox starts a Simulator with one account (random access key, secret and
// app key, tenant SandboxTenantID, seats SandboxSeats) on a free loopback
// port and returns the connection SandboxConnection that reaches it, with
// SampleFieldConfig (a sandbox.Start). NXLink sends no webhooks, so
// gatewayURL is not used and Changes is nil. The simulator stops on Close or
// when ctx ends, whichever comes first; Close may be called more than once.
func Sandbox(ctx context.Context, _ string) (*sandbox.Sandbox, error) {
	cfg := &nxlink.Config{
		AccessKey:     "sandbox-" + rand.Text(),
		AccessSecret:  secret.Value(rand.Text()),
		TenantID:      SandboxTenantID,
		AppKey:        secret.Value(rand.Text()),
		SignAlgorithm: nxlink.AlgorithmMD5,
	}
	sim := New(Config{Accounts: []Account{{
		AccessKey:    cfg.AccessKey,
		AccessSecret: cfg.AccessSecret.Reveal(),
		TenantID:     cfg.TenantID,
		AppKey:       cfg.AppKey.Reveal(),
		Seats:        SandboxSeats,
	}}})
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("nxlinksim.Sandbox: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	// Serve returns ErrServerClosed once Close or ctx stops the server.
	go func() { _ = srv.Serve(ln) }()
	stopServer := sync.OnceFunc(func() { _ = srv.Close() })
	stopWatching := context.AfterFunc(ctx, stopServer)
	return &sandbox.Sandbox{
		Common: gateway.Common{
			ID:       SandboxConnection,
			Provider: nxlink.Name,
			BaseURL:  "http://" + ln.Addr().String(),
		}.WithDefaults(),
		Config:      cfg,
		FieldConfig: SampleFieldConfig(),
		Handler:     sim,
		Close: func() {
			stopWatching()
			stopServer()
		},
	}, nil
}
