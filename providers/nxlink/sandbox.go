package nxlink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/sandbox"
	"crmgate/secret"
)

// Sandbox account values (the access key, secret and app key are random per start).
const (
	SandboxID       = "sandbox-nxlink"
	SandboxTenantID = 123
)

// SandboxSeats are the seat users of the sandbox account.
var SandboxSeats = []string{"agent1@example.com", "kubrick101"}

// SandboxFieldConfig is the sample field configuration of the sandbox
// connection: name required, and three custom fields with NXLink keys.
func SandboxFieldConfig() fieldconfig.Config {
	return fieldconfig.Config{
		Required: []string{"name"},
		CustomFields: []fieldconfig.CustomField{
			{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"Guanlong Group", "Royal Family"}, ProviderKey: "customize_1_14"},
			{Name: "Level", Type: fieldconfig.TypeNumber, ProviderKey: "customize_1_15"},
			{Name: "Joined", Type: fieldconfig.TypeDate, ProviderKey: "customize_1_16"},
		},
	}
}

// StartSandbox starts a Simulator with one account (random access key,
// secret and app key, tenant 123, seats SandboxSeats) on a loopback port and
// returns the connection that reaches it. The simulator stops on Close or
// when ctx ends, whichever comes first; Close may be called more than once.
func StartSandbox(ctx context.Context) (*sandbox.Sandbox, error) {
	cfg := &Config{
		AccessKey:     "sandbox-" + randomHex(8),
		AccessSecret:  secret.Value(randomHex(16)),
		TenantID:      SandboxTenantID,
		AppKey:        secret.Value(randomHex(8)),
		SignAlgorithm: AlgorithmMD5,
	}
	sim := NewSimulator(SimConfig{Accounts: []SimAccount{{
		AccessKey:    cfg.AccessKey,
		AccessSecret: cfg.AccessSecret.Reveal(),
		TenantID:     cfg.TenantID,
		AppKey:       cfg.AppKey.Reveal(),
		Seats:        SandboxSeats,
	}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("nxlink.StartSandbox: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	// Serve returns ErrServerClosed once Close or ctx stops the server.
	go func() { _ = srv.Serve(ln) }()
	var once sync.Once
	shutdown := func() { once.Do(func() { srv.Close() }) }
	stop := context.AfterFunc(ctx, shutdown)
	closeFn := func() {
		stop()
		shutdown()
	}
	return &sandbox.Sandbox{
		Common: gateway.Common{
			ID:       SandboxID,
			Provider: Name,
			BaseURL:  "http://" + ln.Addr().String(),
		}.WithDefaults(),
		Config:      cfg,
		FieldConfig: SandboxFieldConfig(),
		Handler:     sim,
		Close:       closeFn,
	}, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
