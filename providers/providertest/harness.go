// Package providertest is the conformance suite every provider adapter runs
// against its own simulator, in the manner of go-cloud's blob/drivertest: an
// adapter's tests fill a Harness with what the provider's documents say (its
// per-call cap, its codes, its golden request bodies) and call Run.
//
// The suite speaks only exported API: the adapter through its
// gateway.Factory and the capability interfaces it implements, imports end
// to end through gateway.Service and gateway.Connection, the simulator
// through its sandbox.Start (and, to ask what it stored, the Harness's
// Stored), and httptest peers for the answers a simulator does not give
// (HTTP 5xx, 429, 400, redirects). What it checks:
//
//   - Sandbox: the sandbox's connection is one the factory makes.
//   - Capabilities: Connection.Capabilities equals what the Harness declares.
//   - Golden: canonical records are sent as the documents' example bodies.
//   - Caps: a batch above the per-call cap goes out in calls at or under it,
//     and the simulator accepts every one of them.
//   - WholeCallRefusal: with broken credentials every record fails with the
//     expected code, the call is not retried, and nothing is stored.
//   - PerRecord: in a batch mixing records the simulator stores and records
//     it refuses, each result is the simulator's word on that record, also
//     when the records travel in a later call than the first.
//   - Retryable: 503 and 429 with Retry-After, and 500, are retried and end
//     unknown (provider_unavailable, retry_after kept); a call that fails
//     once and then reaches the simulator succeeds.
//   - Final: a 400 and a redirect are not retried (the redirect not
//     followed) and no record of them succeeds.
//
// Throughout, no record is succeeded unless the simulator stored it.
package providertest

import (
	"context"
	"errors"
	"fmt"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/sandbox"
	"crmgate/schema"
)

// Harness is what one provider's tests tell the suite. Every fact in it
// comes from the provider's documents (the seeds and providers.md), not
// from the adapter's own constants: the suite is there to catch the adapter
// where it and the documents part.
type Harness struct {
	// Factory is the provider's entry of the providers table.
	Factory gateway.Factory
	// Sandbox starts the provider's simulator; every check that needs one
	// starts its own.
	Sandbox sandbox.Start
	// Stored lists the WhatsApp numbers (international digits) of every
	// record the simulator behind sb holds, asked of the simulator itself.
	Stored func(ctx context.Context, sb *sandbox.Sandbox) ([]string, error)

	// Capabilities is what the provider's connections report, CustomFields
	// aside: those are the connection's field configuration's, and the suite
	// fills them in.
	Capabilities gateway.Capabilities

	// Valid returns the i-th record of a batch the simulator stores whole
	// under the sandbox's field configuration, for any i ≥ 0: WhatsApp
	// numbers differ for different i, and from every number Mixed uses.
	Valid func(i int) schema.Customer

	// Caps are the document's per-call caps, one per kind of operation worth
	// checking.
	Caps []Cap

	// Golden are the documents' example request bodies.
	Golden []Golden

	// BreakCredentials returns a copy of the sandbox's provider
	// configuration (as Factory.NewConfig's type) that the simulator refuses
	// as a whole, e.g. a wrong token or secret. It must not change cfg.
	BreakCredentials func(cfg any) any
	// RefusedCode is the canonical code of every record of a call refused as
	// a whole for its credentials.
	RefusedCode schema.Code

	// Mixed are batches of records the simulator stores and records it
	// refuses, with what each record's result must be.
	Mixed []Mixed

	// BadRequest is the status an HTTP 400 answer gives the call's records:
	// gateway.StatusFailed or gateway.StatusUnknown.
	BadRequest gateway.Status
}

// Cap is the most records one call of an operation may carry.
type Cap struct {
	Op  gateway.Op
	Max int
}

// Golden is one of the documents' request examples: Customers, checked
// against FieldConfig and sent as Op over a connection configured with
// Config, go out as one call whose body is the JSON of File.
type Golden struct {
	Name        string
	Op          gateway.Op
	Config      any // the provider configuration the example was written for, as Factory.NewConfig's type
	FieldConfig fieldconfig.Config
	Customers   []schema.Customer
	Method      string // "POST"
	Path        string // relative to the base URL
	File        string // the expected body, relative to the test's directory (testdata/…)
}

// Mixed is one batch of records the simulator stores and records it refuses.
type Mixed struct {
	Name string
	Op   gateway.Op
	// FieldConfig is the connection's field configuration; nil means the
	// sandbox's. A looser one than the simulator's backend lets records
	// past the gateway's checks that the simulator then refuses.
	FieldConfig *fieldconfig.Config
	// Setup, when not nil, prepares the simulator behind sb before the
	// batch is sent (e.g. marks a number busy).
	Setup   func(sb *sandbox.Sandbox) error
	Records []Expect
}

// Expect is one record of a Mixed batch and what its result must be.
type Expect struct {
	Customer schema.Customer
	// Status is the result's status: succeeded for a record the simulator
	// stores, failed for one it refuses.
	Status gateway.Status
	// Code, when not empty, must be the code of one of the result's errors,
	// and ProviderCode, when not empty, that error's provider code.
	Code         schema.Code
	ProviderCode string
	// RetryAfter is the result's retry_after in seconds.
	RetryAfter int
}

// validate reports every hole in the harness at once.
func (h *Harness) validate() error {
	var errs []error
	need := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("providertest: Harness.%s is required", what))
		}
	}
	need(h.Factory.Name != "" && h.Factory.New != nil && h.Factory.NewConfig != nil, "Factory")
	need(h.Sandbox != nil, "Sandbox")
	need(h.Stored != nil, "Stored")
	need(h.Valid != nil, "Valid")
	need(len(h.Caps) > 0, "Caps")
	need(len(h.Golden) > 0, "Golden")
	need(h.BreakCredentials != nil && h.RefusedCode != "", "BreakCredentials and RefusedCode")
	need(len(h.Mixed) > 0, "Mixed")
	if h.BadRequest != gateway.StatusFailed && h.BadRequest != gateway.StatusUnknown {
		errs = append(errs, fmt.Errorf("providertest: Harness.BadRequest is %q, not failed or unknown", h.BadRequest))
	}
	for _, c := range h.Caps {
		if c.Max <= 0 {
			errs = append(errs, fmt.Errorf("providertest: cap of %s is %d", opName(c.Op), c.Max))
		}
	}
	return errors.Join(errs...)
}

// opName names an operation for subtest names.
func opName(op gateway.Op) string {
	if op.Kind == gateway.KindImport {
		return op.Kind + "_" + op.Mode
	}
	return op.Kind
}
