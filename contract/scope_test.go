package contract_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"crmgate/auth"
	"crmgate/internal/apptest"
)

// TestScopesAsDocumented: every operation's x-required-scopes is what the
// gateway enforces. A token with every other scope gets 403 naming the
// missing one; an operation documented with no scope takes a token with none.
func TestScopesAsDocumented(t *testing.T) {
	t.Parallel()
	g := startGateway(t, nil)
	params := strings.NewReplacer("{id}", "sandbox-nxlink", "{connection}", "sandbox-nxlink", "{event_id}", "nope")
	noScope := g.token(t, nil)
	for path, item := range g.doc.Paths.Map() {
		for method, op := range item.Operations() {
			raw, ok := op.Extensions["x-required-scopes"]
			if !ok {
				if op.Security != nil && len(*op.Security) > 0 {
					t.Errorf("%s has security but no x-required-scopes", op.OperationID)
				}
				continue
			}
			var scopes []string
			for _, s := range raw.([]any) {
				scopes = append(scopes, s.(string))
			}
			t.Run(op.OperationID, func(t *testing.T) {
				url := params.Replace(path)
				if len(scopes) == 0 {
					status, _ := g.send(t, method, url, noScope)
					if status == http.StatusForbidden || status == http.StatusUnauthorized {
						t.Errorf("%s %s with a scopeless token: %d, documented as any valid token", method, url, status)
					}
					return
				}
				for _, s := range scopes {
					others := slices.DeleteFunc(slices.Clone(auth.Scopes), func(x string) bool { return x == s })
					status, body := g.send(t, method, url, g.token(t, others))
					if status != http.StatusForbidden || !strings.Contains(body, "lacks the scope "+s) {
						t.Errorf("%s %s without %s: %d %s", method, url, s, status, body)
					}
				}
			})
		}
	}
}

// send makes an off-spec request (no body) with a token.
func (g *gw) send(t *testing.T, method, path, tok string) (int, string) {
	t.Helper()
	r := apptest.Do(t, method, g.URL+path, tok, nil, offSpec, "1")
	return r.Status, string(r.Body)
}
