package wscrm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/providertest"
	"crmgate/providers/wscrm"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/sandbox"
	"crmgate/schema"
)

// The conformance suite against the WSCRM simulator. Caps and codes are the
// provider document's (error-code table) as providers.md reads them.
func TestConformance(t *testing.T) {
	t.Parallel()
	merge := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	owner := "kubrick101" // a sandbox agent
	looser := wscrmsim.SampleFieldConfig()
	looser.Stages = append(looser.Stages, fieldconfig.Option{Label: "Closed won"})
	looser.Languages = append(looser.Languages, fieldconfig.Option{Label: "Klingon"})
	const busy = "8613800000003"
	providertest.Run(t, providertest.Harness{
		Factory: wscrm.Factory(),
		Sandbox: wscrmsim.Sandbox,
		Stored:  wscrmStored,
		Capabilities: gateway.Capabilities{Import: true, ImportPool: true, Query: true, Webhooks: true,
			Modes: []string{gateway.ModeMerge}},
		Valid: func(i int) schema.Customer {
			return schema.Customer{Owner: owner, WhatsApp: fmt.Sprintf("86152%08d", i), Name: fmt.Sprintf("Customer %d", i)}
		},
		// "At most 10 000 records per call (error 19)."
		Caps: []providertest.Cap{{Op: merge, Max: 10000}, {Op: gateway.Op{Kind: gateway.KindPoolReplace}, Max: 10000}},
		Golden: []providertest.Golden{
			wscrmGolden("batchImport", merge, wscrm.DocFengChangqing(), "batchImport", "batch_import.json"),
			wscrmGolden("batchImportWhatsContact", gateway.Op{Kind: gateway.KindPoolReplace}, wscrm.DocLiHeng(true), "batchImportWhatsContact", "pool_replace.json"),
			wscrmGolden("batchImportAppendV2", gateway.Op{Kind: gateway.KindPoolAppend}, wscrm.DocLiHeng(false), "batchImportAppendV2", "pool_append.json"),
		},
		// Code -1 "token error": the whole call, provider_rejected.
		BreakCredentials: func(cfg any) any {
			c := *cfg.(*wscrm.Config)
			c.Token = "not-the-token"
			return &c
		},
		RefusedCode: schema.CodeProviderRejected,
		Mixed: []providertest.Mixed{{
			Name: "options the backend lacks and a busy number",
			Op:   merge,
			// The connection allows a stage and a language the backend does not have.
			FieldConfig: &looser,
			Setup: func(sb *sandbox.Sandbox) error {
				sim, ok := sb.Handler.(*wscrmsim.Simulator)
				if !ok {
					return fmt.Errorf("the sandbox's handler is a %T", sb.Handler)
				}
				sim.SetBusy(busy)
				return nil
			},
			Records: []providertest.Expect{
				{Customer: schema.Customer{Owner: owner, WhatsApp: "8613800000001"}, Status: gateway.StatusSucceeded},
				// 15: "Stage field value does not exist".
				{Customer: schema.Customer{Owner: owner, WhatsApp: "8613800000002", Stage: "Closed won"},
					Status: gateway.StatusFailed, Code: schema.CodeInvalidOption, ProviderCode: "15"},
				// 56: "friendWhatsId data is processing (one-minute interval)".
				{Customer: schema.Customer{Owner: owner, WhatsApp: busy},
					Status: gateway.StatusFailed, Code: schema.CodeRecordBusy, ProviderCode: "56", RetryAfter: 60},
				{Customer: schema.Customer{Owner: owner, WhatsApp: "8613800000004", Stage: "New customer"}, Status: gateway.StatusSucceeded},
				// 16: "Customer language value does not exist".
				{Customer: schema.Customer{Owner: owner, WhatsApp: "8613800000005", Language: "Klingon"},
					Status: gateway.StatusFailed, Code: schema.CodeInvalidOption, ProviderCode: "16"},
				{Customer: schema.Customer{Owner: owner, WhatsApp: "8613800000006"}, Status: gateway.StatusSucceeded},
			},
		}},
		// Another HTTP status is the provider refusing the whole call.
		BadRequest: gateway.StatusFailed,
	})
}

// wscrmGolden is one of the document's request examples to
// /wscrm-bus-api/customer/api/<endpoint>, for tenant 82 with the sample
// backend.
func wscrmGolden(name string, op gateway.Op, c schema.Customer, endpoint, file string) providertest.Golden {
	return providertest.Golden{Name: name, Op: op, Config: &wscrm.Config{TenantID: 82},
		FieldConfig: wscrmsim.SampleFieldConfig(), Customers: []schema.Customer{c},
		Method: http.MethodPost, Path: "/wscrm-bus-api/customer/api/" + endpoint, File: "testdata/" + file}
}

// wscrmStored asks the simulator, through its documented query, for every
// agent's friend contacts: the customers each owns and its import pool.
func wscrmStored(ctx context.Context, sb *sandbox.Sandbox) ([]string, error) {
	cfg, ok := sb.Config.(*wscrm.Config)
	if !ok {
		return nil, fmt.Errorf("the sandbox's configuration is a %T", sb.Config)
	}
	var out []string
	for _, ag := range cfg.Agents {
		body := fmt.Sprintf(`{"tenantId":%d,"whatsId":%q}`, cfg.TenantID, ag.WhatsID)
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/wscrm-bus-api/open/customer/query", strings.NewReader(body))
		req.Header.Set("token", cfg.Token.Reveal())
		w := httptest.NewRecorder()
		sb.Handler.ServeHTTP(w, req)
		var ans struct {
			Code json.Number `json:"code"`
			Data []struct {
				WhatsID string `json:"whatsId"`
			} `json:"data"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
			return nil, fmt.Errorf("query of %s: %w", ag.Account, err)
		}
		if ans.Code != "200" {
			return nil, errors.New("query of " + ag.Account + ": " + w.Body.String())
		}
		for _, d := range ans.Data {
			out = append(out, d.WhatsID)
		}
	}
	return out, nil
}
