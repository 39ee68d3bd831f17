// Package wscrm is crmgate's adapter for WSCRM (WhatsApp CRM, paths under
// /wscrm-bus-api/): translation of canonical customers to batchImport and the
// two import-pool endpoints, the contact query, the two webhooks it sends, and
// a simulator that follows the provider document for the sandbox and tests.
package wscrm
