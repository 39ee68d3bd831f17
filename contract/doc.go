// Package contract holds crmgate to its OpenAPI document: its tests start
// the whole gateway on its sandbox over real HTTP (loopback only) and check
// every request and answer against openapi.yaml with kin-openapi's
// openapi3filter, send the same requests and the README's curl examples
// through Stoplight Prism in proxy mode (an independent validator; $PRISM),
// lint the document, drive a client generated from it (contract/client) and
// drive Swagger UI in headless Chromium. It has no non-test code besides
// this comment.
package contract
