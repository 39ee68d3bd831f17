package wscrmsim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/simserve"
	"crmgate/providers/wscrm"
	"crmgate/sandbox"
	"crmgate/secret"
)

// The sandbox connection.
const (
	SandboxConnection = "sandbox-wscrm"
	SandboxTenantID   = 82
)

// SandboxAgents are the sandbox backend's agents.
var SandboxAgents = []Agent{
	{Account: "kubrick101", WhatsID: "86187272722"},
	{Account: "wangwu", WhatsID: "861821733100"},
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
	token, hookToken := simserve.RandomHex(16), simserve.RandomHex(16)
	cfg := &wscrm.Config{
		TenantID: SandboxTenantID,
		Token:    secret.Value(token),
		Webhook:  wscrm.Webhook{Mode: wscrm.WebhookStatic, Token: secret.Value(hookToken)},
	}
	for _, a := range SandboxAgents {
		cfg.Agents = append(cfg.Agents, wscrm.Agent{Account: a.Account, WhatsID: a.WhatsID})
	}
	fields := SampleFieldConfig()
	sim := New(Config{TenantID: SandboxTenantID, Token: token, Agents: SandboxAgents, Fields: fields})
	base, stop, err := simserve.Serve(ctx, sim)
	if err != nil {
		return nil, fmt.Errorf("wscrmsim.Sandbox: %w", err)
	}
	target := strings.TrimRight(gatewayURL, "/") + "/v1/webhooks/" + wscrm.Name + "/" + SandboxConnection
	return &sandbox.Sandbox{
		Common:      gateway.Common{ID: SandboxConnection, Provider: wscrm.Name, BaseURL: base}.WithDefaults(),
		Config:      cfg,
		FieldConfig: fields,
		Handler:     sim,
		Close:       stop,
		Changes: NewWebhookSender(SenderConfig{TenantID: SandboxTenantID, Token: hookToken, Agent: SandboxAgents[0].Account},
			target, &http.Client{Timeout: 10 * time.Second}),
	}, nil
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
