// Package providers is the table of providers: each row pairs an adapter's
// factory with its simulator's sandbox. A new provider is one new folder
// under providers/ and one row in All.
package providers

import (
	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/providers/wscrm"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/sandbox"
)

// Provider is one row of the table.
type Provider struct {
	// Factory makes the provider's connections from configuration.
	Factory gateway.Factory
	// Sandbox starts the provider's simulator as one connection of the
	// no-config sandbox.
	Sandbox sandbox.Start
}

// All is the table: every provider crmgate speaks to.
func All() []Provider {
	return []Provider{
		{Factory: wscrm.Factory(), Sandbox: wscrmsim.Sandbox},
		{Factory: nxlink.Factory(), Sandbox: nxlinksim.Sandbox},
	}
}

// Factories is the factory column of All, the list configuration is read
// against.
func Factories() []gateway.Factory {
	all := All()
	out := make([]gateway.Factory, len(all))
	for i, p := range all {
		out[i] = p.Factory
	}
	return out
}
