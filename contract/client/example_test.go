package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"crmgate/app"
	"crmgate/config"
	"crmgate/contract/client"
	"crmgate/providers"
)

// Importing a customer with the generated client, and a refused request
// handled as an error through client.Check.
func Example() {
	url, token, stop := sandbox()
	defer stop()

	c, err := client.NewClientWithResponses(url, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	res, err := c.ImportCustomersWithResponse(ctx, nil, client.ImportRequest{
		Connection: "sandbox-nxlink",
		Customers:  []client.Customer{{Ref: "crm-17", Name: "Li Heng", Whatsapp: "+86 152 6666 7780", Tags: []string{"VIP"}}},
	})
	if err == nil {
		err = client.Check(res)
	}
	if err != nil {
		fmt.Println("import:", err)
		return
	}
	fmt.Printf("%d of %d succeeded, record %s %s\n", res.JSON200.Succeeded, res.JSON200.Total, res.JSON200.Results[0].Ref, res.JSON200.Results[0].Status)

	// A connection that does not exist: a 404 problem, as an error.
	res, err = c.ImportCustomersWithResponse(ctx, nil, client.ImportRequest{
		Connection: "sandbox-nowhere",
		Customers:  []client.Customer{{Name: "Li Heng"}},
	})
	if err == nil {
		err = client.Check(res)
	}
	var problem *client.ProblemError
	if errors.As(err, &problem) {
		fmt.Println("refused:", problem.Status, problem.Problem.Title)
	}
	// Output:
	// 1 of 1 succeeded, record crm-17 succeeded
	// refused: 404 Not found
}

// sandbox serves the no-config sandbox, as `go run .` does, on a loopback
// port.
func sandbox() (url, token string, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg, err := config.Sandbox(func(string) (string, bool) { return "", false })
	if err != nil {
		panic(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	url = "http://" + srv.Listener.Addr().String()
	a, err := app.Build(ctx, cfg, app.Options{
		Providers:  providers.All(),
		GatewayURL: url,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	a.Run(ctx)
	srv.Config.Handler = a.Handler
	srv.Start()
	return url, a.DevToken, func() { srv.Close(); cancel(); a.Close() }
}
