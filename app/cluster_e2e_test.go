package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmgate/api/answer"
	"crmgate/app"
	"crmgate/internal/redistest"
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
	doc := block + fcConfig(t, p, "")
	one := startGW(t, doc, app.Options{}, true)
	two := startGW(t, doc, app.Options{}, true)

	for _, gw := range []*gwInstance{one, two} {
		r := request(t, http.MethodGet, gw.url+"/readyz", "", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"redis":"ok"`) && !strings.Contains(string(r.body), `"redis": "ok"`) {
			t.Fatalf("/readyz: %d %s", r.status, r.body)
		}
	}
	won := map[string]any{"name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}
	if r := validateOne(t, two.url, "acme-wa", won); r.Status != answer.StatusFailed {
		t.Fatalf("before the change: %+v, want failed", r)
	}
	cur, tag := getFieldConfig(t, one.url, "acme-wa")
	r := request(t, http.MethodPut, one.url+"/v1/connections/acme-wa/field-config", adminBearer(t), withStage(cur.Config, "Won", 30), "If-Match", tag)
	if r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	waitFor(t, 10*time.Second, "the other instance validates with the new configuration", func() bool {
		return validateOne(t, two.url, "acme-wa", won).Status == answer.StatusValid
	})
	if got, _ := getFieldConfig(t, two.url, "acme-wa"); got.Version != cur.Version+1 {
		t.Errorf("other instance serves version %d, want %d", got.Version, cur.Version+1)
	}
	for _, q := range []string{"", "?connection=acme-wa"} {
		if r := request(t, http.MethodGet, two.url+"/v1/events"+q, adminBearer(t), nil); r.status != http.StatusOK {
			t.Errorf("GET /v1/events%s: %d %s", q, r.status, r.body)
		}
	}
}
