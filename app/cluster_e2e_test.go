package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmgate/gateway"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// Two gateways configured with a redis block naming the test Redis Cluster
// (its prefix the block's): Redis is ready, a field configuration changed on
// one is what the other validates with, and events list from the Cluster.
func TestGatewaysShareARedisCluster(t *testing.T) {
	t.Parallel()
	_, prefix := redistest.Cluster(t) // the keys under prefix are removed at the end
	addrs := redistest.ClusterAddrs(t)
	p := fcPeers(t)
	block := fmt.Sprintf("redis:\n  addrs: [%s]\n  prefix: %q\n", `"`+strings.Join(addrs, `", "`)+`"`, prefix)
	doc := block + fcConfig(t, p)
	one := startGW(t, gwSetup{doc: doc, run: true})
	two := startGW(t, gwSetup{doc: doc, run: true})

	for _, gw := range []*apptest.Gateway{one, two} {
		r := apptest.Do(t, http.MethodGet, gw.URL+"/readyz", "", nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"redis":"ok"`) && !strings.Contains(string(r.Body), `"redis": "ok"`) {
			t.Fatalf("/readyz: %d %s", r.Status, r.Body)
		}
	}
	won := map[string]any{"name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}
	if r := validateOne(t, two.URL, "acme-wa", won); r.Status != gateway.StatusFailed {
		t.Fatalf("before the change: %+v, want failed", r)
	}
	cur, tag := getFieldConfig(t, one.URL, "acme-wa")
	r := apptest.Do(t, http.MethodPut, one.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), withStage(cur.Config, "Won", 30), "If-Match", tag)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 10*time.Second, "the other instance validates with the new configuration", func() bool {
		return validateOne(t, two.URL, "acme-wa", won).Status == gateway.StatusValid
	})
	if got, _ := getFieldConfig(t, two.URL, "acme-wa"); got.Version != cur.Version+1 {
		t.Errorf("other instance serves version %d, want %d", got.Version, cur.Version+1)
	}
	for _, q := range []string{"", "?connection=acme-wa"} {
		if r := apptest.Do(t, http.MethodGet, two.URL+"/v1/events"+q, adminBearer(t), nil); r.Status != http.StatusOK {
			t.Errorf("GET /v1/events%s: %d %s", q, r.Status, r.Body)
		}
	}
}
