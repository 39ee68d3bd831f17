// Package schema is crmgate's canonical customer model: the one shape internal
// apps send, whatever provider a connection talks to, and the one shape of a
// per-record problem (Issue) with its stable machine codes.
//
// It imports nothing of crmgate's own. Providers convert from it; nothing here
// knows a provider's wire format.
package schema
