package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func swagger(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../docs/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit changes swag's document as a code change would, and returns it.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(swagger(t), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func defs(m map[string]any) map[string]any { return m["definitions"].(map[string]any) }

// TestGenerateIsTheCommittedDocument: generating from the committed
// docs/swagger.json gives the committed openapi.yaml byte for byte.
func TestGenerateIsTheCommittedDocument(t *testing.T) {
	t.Parallel()
	got, err := Generate(swagger(t), "../..")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("openapi.yaml is not what the generator makes of docs/swagger.json: run make generate")
	}
}

// TestGenerateRefuses: input that is not swag's document, and schemas that
// drifted from their Go types, stop generation with an error naming them.
func TestGenerateRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"not JSON", []byte("openapi: 3.0.3"), "reading Swagger 2"},
		{"OpenAPI 3 instead of Swagger 2", []byte(`{"openapi":"3.0.3"}`), "not a Swagger 2.0 document"},
		{"a field the Go type lacks", edit(t, func(m map[string]any) {
			c := defs(m)["Customer"].(map[string]any)
			c["properties"].(map[string]any)["nickname"] = map[string]any{"type": "string"}
		}), "schema Customer has properties"},
		{"a Go field the schema lacks", edit(t, func(m map[string]any) {
			delete(defs(m)["RecordResult"].(map[string]any)["properties"].(map[string]any), "retry_after")
		}), "schema RecordResult has properties"},
		{"an unnamed package type", edit(t, func(m map[string]any) {
			defs(m)["gateway.NewThing"] = map[string]any{"type": "object"}
		}), "gateway.NewThing has no document name"},
		{"an error code without a description", edit(t, func(m map[string]any) {
			c := defs(m)["ErrorCode"].(map[string]any)
			c["enum"] = append(c["enum"].([]any), "brand_new")
		}), "ErrorCode value brand_new has no description"},
		{"an error answer that is not a problem", edit(t, func(m map[string]any) {
			r := m["paths"].(map[string]any)["/v1/customers"].(map[string]any)["post"].(map[string]any)["responses"].(map[string]any)
			r["400"].(map[string]any)["schema"] = map[string]any{"$ref": "#/definitions/ImportAnswer"}
		}), "an error answer must be a Problem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(tc.input, "../..")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
