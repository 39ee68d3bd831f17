// Package client is a Go client of crmgate generated from openapi.yaml by
// oapi-codegen (make generate; client.gen.go is not edited by hand). It
// exists to prove that the document generates a client that compiles and
// works against a running gateway (contract tests use it); internal apps
// generate their own the same way.
package client
