// Package wscrm is crmgate's adapter for WSCRM (WhatsApp CRM, paths under
// /wscrm-bus-api/): translation of canonical customers to batchImport and the
// two import-pool endpoints, the contact query, and the two webhooks WSCRM
// sends. Its simulator, for the sandbox and the tests, is package
// wscrm/wscrmsim, which this package does not import.
package wscrm
