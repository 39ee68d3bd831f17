// Package openapi embeds crmgate's OpenAPI 3 document. The canonical file is
// openapi.yaml at the repository root; make generate writes the same bytes to
// openapi/openapi.yaml, which is embedded here (go:embed cannot reach a parent
// folder), and a test fails when the two differ.
package openapi

import _ "embed"

// YAML is the OpenAPI 3 document, as served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte
