// Package nxlink is crmgate's adapter for NXLink (NXCloud CDP): the batch
// create call POST /saas/cdp/openapi/customers/batch_create with its signed
// headers, translation of canonical customers to the wire format, mapping of
// the provider's answers (successItems, failItems, whole-call codes) back to
// one outcome per record, and a Simulator that follows the provider document
// for the sandbox and for tests.
//
// What goes over the wire is fixed by the provider document and by
// providers.md: at most 100 customers per call, type 0/1/2 for replace, merge
// and keep_existing, strict_binding for strict_owner, customize_field as a
// JSON string, and a sign header over the exact body bytes (md5, or sha256 per
// connection).
package nxlink
