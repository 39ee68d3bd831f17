package nxlink_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/providers/providertest"
	"crmgate/sandbox"
	"crmgate/schema"
)

// The conformance suite against the NXLink simulator. Caps and codes are the
// provider document's as providers.md reads them.
func TestConformance(t *testing.T) {
	t.Parallel()
	merge := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	seat := "agent1@example.com" // a sandbox seat
	unknown := func(phone string) providertest.Expect {
		// 12148: "The belonging seat … does not exist".
		return providertest.Expect{Customer: schema.Customer{Name: "Nobody's", WhatsApp: phone, Owner: "nobody@example.com"},
			Status: gateway.StatusFailed, Code: schema.CodeOwnerNotFound, ProviderCode: "12148"}
	}
	valid := func(phone, owner string, st gateway.Status) providertest.Expect {
		e := providertest.Expect{Customer: schema.Customer{Name: "Li Heng", WhatsApp: phone, Owner: owner}, Status: st}
		if st == gateway.StatusFailed {
			e.Code, e.ProviderCode = schema.CodeOwnerNotFound, "12148"
		}
		return e
	}
	providertest.Run(t, providertest.Harness{
		Factory: nxlink.Factory(),
		Sandbox: nxlinksim.Sandbox,
		Stored:  nxlinkStored,
		Capabilities: gateway.Capabilities{Import: true,
			Modes: []string{gateway.ModeMerge, gateway.ModeReplace, gateway.ModeKeepExisting}},
		Valid: func(i int) schema.Customer {
			return schema.Customer{Name: fmt.Sprintf("Customer %d", i), WhatsApp: fmt.Sprintf("86152%08d", i)}
		},
		// "At most 100 customers per call."
		Caps: []providertest.Cap{{Op: merge, Max: 100}},
		Golden: []providertest.Golden{{
			Name: "batch_create",
			// type 0 and strict_binding true, as the example has them.
			Op: gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeReplace, StrictOwner: true},
			// The document's example account.
			Config: &nxlink.Config{AccessKey: "fme2na3kdi3ki", AccessSecret: "s3cr3t", TenantID: 123, AppKey: "46oKF=os"},
			FieldConfig: fieldconfig.Config{Required: []string{"name"}, CustomFields: []fieldconfig.CustomField{
				{Name: "Nickname", Type: fieldconfig.TypeText, ProviderKey: "customize_1_14"}}},
			Customers: nxlink.DocCustomers(),
			Method:    http.MethodPost,
			Path:      "/saas/cdp/openapi/customers/batch_create",
			File:      "testdata/batch_create_request.json",
		}},
		// A sign made with another secret: the whole call is refused.
		BreakCredentials: func(cfg any) any {
			c := *cfg.(*nxlink.Config)
			c.AccessSecret = "not-the-secret"
			return &c
		},
		RefusedCode: schema.CodeProviderRejected,
		Mixed: []providertest.Mixed{
			{
				// strict_binding true: an unknown seat lands in failItems, the rest go on.
				Name: "unknown seats with strict_owner",
				Op:   gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge, StrictOwner: true},
				Records: []providertest.Expect{
					valid("8613800000001", seat, gateway.StatusSucceeded),
					unknown("8613800000002"),
					valid("8613800000003", "", gateway.StatusSucceeded),
					unknown("8613800000004"),
					valid("8613800000005", "kubrick101", gateway.StatusSucceeded),
				},
			},
			{
				// strict_binding false: an unknown seat fails the whole call
				// with top-level code 12148 (the document's third example).
				Name: "an unknown seat without strict_owner",
				Op:   merge,
				Records: []providertest.Expect{
					valid("8613800000001", seat, gateway.StatusFailed),
					unknown("8613800000002"),
					valid("8613800000003", "", gateway.StatusFailed),
				},
			},
		},
		// A 400 is no answer of the document's: whether the records were
		// stored cannot be read from it.
		BadRequest: gateway.StatusUnknown,
	})
}

// nxlinkStored lists the numbers of the simulator's stored customers.
func nxlinkStored(_ context.Context, sb *sandbox.Sandbox) ([]string, error) {
	sim, ok := sb.Handler.(*nxlinksim.Simulator)
	if !ok {
		return nil, fmt.Errorf("the sandbox's handler is a %T", sb.Handler)
	}
	var out []string
	for _, c := range sim.Customers() {
		if p, ok := c.Fields["whats_app_phone"].(string); ok {
			out = append(out, p)
		}
	}
	return out, nil
}
