package wscrm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/sandbox"
	"crmgate/secret"
)

// Name is the provider's name in configuration ("provider: wscrm").
const Name = "wscrm"

// Sandbox connection values.
const (
	SandboxConnection = "sandbox-wscrm"
	SandboxTenantID   = 82
)

// SandboxAgents are the sandbox backend's agents.
var SandboxAgents = []Agent{
	{Account: "kubrick101", WhatsID: "86187272722"},
	{Account: "wangwu", WhatsID: "861821733100"},
}

// Factory returns WSCRM's entry of main's provider table. New refuses a
// configuration that is not *Config, a nil one, a nil client or an empty base
// URL.
func Factory() gateway.Factory {
	return gateway.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		New: func(common gateway.Common, cfg any, hc *http.Client) (gateway.Provider, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("wscrm.New: configuration is %T, not *wscrm.Config", cfg)
			}
			return newAdapter(common, c, hc)
		},
	}
}

// Sandbox starts a Simulator on 127.0.0.1 (a free port) for the no-config
// sandbox: tenant 82 with a random token, agents kubrick101 (86187272722) and
// wangwu (861821733100), webhooks in mode static with a random token, and
// SampleFieldConfig as both the simulator's backend and the connection's field
// configuration. The simulator stops when Close is called or ctx ends,
// whichever comes first. gatewayURL is where the simulator's webhooks are
// sent (POST gatewayURL + "/v1/webhooks/wscrm/sandbox-wscrm") when a sandbox
// change is simulated.
func Sandbox(ctx context.Context, gatewayURL string) (*sandbox.Sandbox, error) {
	token, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("wscrm.Sandbox: %w", err)
	}
	hookToken, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("wscrm.Sandbox: %w", err)
	}
	cfg := &Config{
		TenantID: SandboxTenantID,
		Token:    secret.Value(token),
		Webhook:  Webhook{Mode: WebhookStatic, Token: secret.Value(hookToken)},
		Agents:   append([]Agent(nil), SandboxAgents...),
	}
	fields := SampleFieldConfig()
	sim := NewSimulator(SimConfig{TenantID: cfg.TenantID, Token: token, Agents: cfg.Agents, Fields: fields})

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("wscrm.Sandbox: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = srv.Close() })
	closeFn := func() {
		stop()
		_ = srv.Close()
	}

	common := gateway.Common{ID: SandboxConnection, Provider: Name, BaseURL: "http://" + ln.Addr().String()}.WithDefaults()
	return &sandbox.Sandbox{
		Common:      common,
		Config:      cfg,
		FieldConfig: fields,
		Handler:     sim,
		Close:       closeFn,
		Changes:     NewWebhookSender(cfg, strings.TrimRight(gatewayURL, "/")+"/v1/webhooks/wscrm/"+SandboxConnection, &http.Client{Timeout: 10 * time.Second}),
	}, nil
}

// randomHex returns 2n random hex digits.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// SampleFieldConfig is the sandbox backend's field configuration, shaped after
// the provider document's examples: WhatsApp number and owner required;
// stages New customer (10) and Requirement match (20); sources System
// assignment (10) and Default (11); languages Auto and Simplified Chinese
// (ZH); tags not strict (VIP, Soldier, Strategy known); extension fields
// Faction (single-select), extensionField1 (text, ≤64), Level (number),
// Joined (date), Meeting (time), Interests (multi-select) and Attachment.
// Each call returns a fresh copy.
func SampleFieldConfig() fieldconfig.Config {
	id := func(n int64) *int64 { return &n }
	return fieldconfig.Config{
		Required:  []string{"whatsapp", "owner"},
		Stages:    []fieldconfig.Option{{Label: "New customer", ID: id(10)}, {Label: "Requirement match", ID: id(20)}},
		Sources:   []fieldconfig.Option{{Label: "System assignment", ID: id(10)}, {Label: "Default", ID: id(11)}},
		Languages: []fieldconfig.Option{{Label: "Auto"}, {Label: "Simplified Chinese (ZH)"}},
		Tags:      fieldconfig.Tags{Strict: false, Known: []string{"VIP", "Soldier", "Strategy"}},
		CustomFields: []fieldconfig.CustomField{
			{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"Guanlong Group", "Royal Family"}},
			{Name: "extensionField1", Type: fieldconfig.TypeText, MaxLength: 64},
			{Name: "Level", Type: fieldconfig.TypeNumber},
			{Name: "Joined", Type: fieldconfig.TypeDate},
			{Name: "Meeting", Type: fieldconfig.TypeTime},
			{Name: "Interests", Type: fieldconfig.TypeMultiSelect, Options: []string{"Archery", "Poetry", "Strategy"}},
			{Name: "Attachment", Type: fieldconfig.TypeAttachment},
		},
	}
}
