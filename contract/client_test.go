package contract_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"crmgate/contract/client"
)

// TestGeneratedClient drives the sandbox with the client oapi-codegen
// generates from openapi.yaml: it compiles, authenticates with the sandbox's
// token, imports a customer, reads it back and decodes a problem.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	g := startGateway(t, nil)
	bearer := func(tok string) client.ClientOption {
		return client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		})
	}
	c, err := client.NewClientWithResponses(g.URL, bearer(g.Token))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ptr := func(s string) *string { return &s }

	conns, err := c.ListConnectionsWithResponse(ctx, nil)
	if err != nil || conns.JSON200 == nil {
		t.Fatalf("connections: %v %s", err, conns.Body)
	}
	if len(conns.JSON200.Connections) != 2 {
		t.Errorf("connections %+v", conns.JSON200.Connections)
	}

	for _, tc := range []struct {
		conn     string
		customer client.Customer
	}{
		{"sandbox-nxlink", client.Customer{Ref: "crm-17", Name: "Li Heng", Whatsapp: "+86 152 6666 7780", Tags: []string{"VIP"}}},
		{"sandbox-wscrm", client.Customer{Ref: "crm-18", Name: "Feng Changqing", Owner: "kubrick101", Whatsapp: "8615266667781",
			Stage: "New customer", CustomFields: map[string]any{"Faction": "Guanlong Group"}}},
	} {
		t.Run(tc.conn, func(t *testing.T) {
			res, err := c.ImportCustomersWithResponse(ctx, &client.ImportCustomersParams{XRequestID: ptr("client-" + tc.conn)},
				client.ImportRequest{Connection: tc.conn, Customers: []client.Customer{tc.customer}})
			if err != nil {
				t.Fatal(err)
			}
			a := res.JSON200
			if a == nil {
				t.Fatalf("status %d: %s", res.StatusCode(), res.Body)
			}
			if a.Total != 1 || a.Succeeded != 1 || a.Results[0].Status != client.StatusSucceeded || a.RequestId != "client-"+tc.conn {
				t.Errorf("answer %s", res.Body)
			}
			if res.Headers200 == nil || res.Headers200.XRequestID != "client-"+tc.conn {
				t.Errorf("X-Request-ID not decoded: %+v", res.Headers200)
			}
		})
	}

	t.Run("read back", func(t *testing.T) {
		res, err := c.ListCustomersWithResponse(ctx, &client.ListCustomersParams{Connection: ptr("sandbox-wscrm"), Agent: "86187272722"})
		if err != nil || res.JSON200 == nil {
			t.Fatalf("%v %s", err, res.Body)
		}
		found := false
		for _, cu := range res.JSON200.Customers {
			if cu.Whatsapp == "8615266667781" {
				found = cu.Name == "Feng Changqing"
			}
		}
		if !found {
			t.Errorf("the imported customer is not listed: %s", res.Body)
		}
	})

	t.Run("problem", func(t *testing.T) {
		res, err := c.ImportCustomersWithResponse(ctx, nil, client.ImportRequest{Connection: "nope", Customers: []client.Customer{{Name: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		p := res.ApplicationproblemJSON404
		if p == nil || p.Status != 404 || p.Type != "https://crmgate.dev/problems/not-found" || p.RequestId == "" {
			t.Errorf("problem not decoded: %d %s", res.StatusCode(), res.Body)
		}
		var pe *client.ProblemError
		if err := client.Check(res); !errors.As(err, &pe) || pe.Status != 404 || pe.Problem.RequestId == "" {
			t.Errorf("Check = %v", err)
		}
		if err := client.Check(conns); err != nil {
			t.Errorf("Check of a 200 = %v", err)
		}
	})
}
