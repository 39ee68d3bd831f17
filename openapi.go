package main

import _ "embed"

// openAPI is the OpenAPI 3 document, openapi.yaml (written by make generate,
// the only copy in the repository), served at GET /openapi.yaml and loaded by
// Swagger UI at /swagger/.
//
//go:embed openapi.yaml
var openAPI []byte
