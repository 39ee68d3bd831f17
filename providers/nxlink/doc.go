// Package nxlink is crmgate's adapter for NXLink (NXCloud CDP): the batch
// create call POST /saas/cdp/openapi/customers/batch_create with its signed
// headers, translation of canonical customers to the wire format, and mapping
// of the provider's answers (successItems, failItems, whole-call codes) back
// to one outcome per record. Every call goes through providers/internal/httpcall.
//
// What goes over the wire is fixed by the provider document and by
// providers.md: at most 100 customers per call, type 0/1/2 for replace, merge
// and keep_existing, strict_binding for strict_owner, customize_field as a
// JSON string, and a sign header over the exact body bytes (md5, or sha256 per
// connection).
//
// The peer for the sandbox and for tests is package nxlinksim, written from
// the provider document rather than from this package, so that it refuses
// this package's mistakes instead of sharing them.
package nxlink
