package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmgate/app"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// logLines is what a JSON slog handler wrote, safe for concurrent writes.
type logLines struct{ testutil.SyncBuffer }

// at are the lines logged at level whose message contains msg, decoded.
func (l *logLines) at(t *testing.T, level, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range l.JSONLines(t) {
		if m, _ := v["msg"].(string); v["level"] == level && strings.Contains(m, msg) {
			out = append(out, v)
		}
	}
	return out
}

// readiness is the answer of GET /readyz.
type readiness struct {
	Status string `json:"status"`
	Redis  string `json:"redis"`
	Checks map[string]struct {
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

func readyz(t *testing.T, url string) readiness {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, url+"/readyz", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", r.Status, r.Body)
	}
	var v readiness
	r.Decode(t, &v)
	return v
}

// metricValue is the value of an unlabelled metric in GET /metrics, "" when
// absent.
func metricValue(t *testing.T, url, name string) string {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, url+"/metrics", "", nil)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// A Redis flushed (FLUSHALL) under two running gateways: each notices it,
// logs one ERROR line naming what was lost, counts it in
// crmgate_redis_resets_total and shows "redis": "reset" in /readyz (200,
// degraded); the field configuration comes back as the last good document
// with a version above every old one, so an old ETag never matches again and
// a PUT with one is a 412.
func TestRedisFlushUnderRunningGateway(t *testing.T) {
	t.Parallel()
	rs := redistest.StartProcess(t)
	p := fcPeers(t)
	prefix := redistest.Prefix(t)
	var logsOne, logsTwo logLines
	one := startGW(t, gwSetup{doc: fcConfig(t, p), redis: rs.URL(), run: true,
		options: app.Options{RedisPrefix: prefix, Logger: slog.New(slog.NewJSONHandler(&logsOne, nil))}})
	two := startGW(t, gwSetup{doc: fcConfig(t, p), redis: rs.URL(), run: true,
		options: app.Options{RedisPrefix: prefix, Logger: slog.New(slog.NewJSONHandler(&logsTwo, nil))}})
	gws := map[string]*apptest.Gateway{"one": one, "two": two}
	logs := map[string]*logLines{"one": &logsOne, "two": &logsTwo}
	for name, gw := range gws {
		if r := readyz(t, gw.URL); r.Redis != "ok" {
			t.Fatalf("%s: /readyz before the flush: %+v, want \"redis\": \"ok\"", name, r)
		}
		if v := metricValue(t, gw.URL, "crmgate_redis_resets_total"); v != "0" {
			t.Errorf("%s: crmgate_redis_resets_total %q before the flush, want 0", name, v)
		}
	}

	// The old data set's documents: the seeded one and a change.
	first, firstTag := getFieldConfig(t, one.URL, "acme-wa")
	changed := withStage(first.Config, "Won", 30)
	put := apptest.Do(t, http.MethodPut, one.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), changed, "If-Match", firstTag)
	if put.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", put.Status, put.Body)
	}
	oldTags := map[string]bool{firstTag: true, put.Header.Get("ETag"): true}
	testutil.Eventually(t, 10*time.Second, "two serves the change", func() bool {
		_, tag := getFieldConfig(t, two.URL, "acme-wa")
		return tag == put.Header.Get("ETag")
	})

	rdb := rs.Client()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}

	for name, gw := range gws {
		testutil.Eventually(t, 30*time.Second, name+": /readyz shows the reset", func() bool { return readyz(t, gw.URL).Redis == "reset" })
		r := readyz(t, gw.URL)
		if r.Status != "degraded" || r.Checks["redis"].OK || !strings.Contains(r.Checks["redis"].Detail, "subscriptions") {
			t.Errorf("%s: /readyz after the flush: %+v", name, r)
		}
		if v := metricValue(t, gw.URL, "crmgate_redis_resets_total"); v != "1" {
			t.Errorf("%s: crmgate_redis_resets_total %q, want 1", name, v)
		}
		lines := logs[name].at(t, "ERROR", "Redis lost its data set")
		if len(lines) != 1 {
			t.Fatalf("%s: %d ERROR lines about the lost data set, want 1", name, len(lines))
		}
		for _, what := range []string{"events answered to the provider", "subscriptions", "idempotency keys", "field-configuration versions"} {
			if lost, _ := lines[0]["lost"].(string); !strings.Contains(lost, what) {
				t.Errorf("%s: the ERROR line's \"lost\" %q does not name %s", name, lost, what)
			}
		}
	}
	if n, err := rdb.Exists(context.Background(), prefix+"dataset").Result(); err != nil || n != 1 {
		t.Errorf("the data-set marker was not written again: %d, %v", n, err)
	}

	// The field configuration is back: the last good document, under a new
	// version, the same on both instances.
	var restored fieldConfigDoc
	var tag string
	testutil.Eventually(t, 30*time.Second, "the field configuration is restored", func() bool {
		restored, tag = getFieldConfig(t, one.URL, "acme-wa")
		return !oldTags[tag]
	})
	if restored.Version <= first.Version+1 {
		t.Errorf("restored as version %d, not above the old %d", restored.Version, first.Version+1)
	}
	if d := cmp.Diff(changed, restored.Config); d != "" {
		t.Errorf("restored document is not the last good one (-want +got):\n%s", d)
	}
	testutil.Eventually(t, 10*time.Second, "two serves the restored version", func() bool {
		_, t2 := getFieldConfig(t, two.URL, "acme-wa")
		return t2 == tag
	})
	for old := range oldTags {
		for name, gw := range gws {
			r := apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), first.Config, "If-Match", old)
			expectProblem(t, r, http.StatusPreconditionFailed)
			if r.Header.Get("ETag") == old {
				t.Errorf("%s: the 412 names the old ETag %s as current", name, old)
			}
		}
	}
	r := apptest.Do(t, http.MethodPut, two.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), first.Config, "If-Match", tag)
	if r.Status != http.StatusOK || oldTags[r.Header.Get("ETag")] {
		t.Fatalf("PUT with the restored ETag: %d, ETag %s: %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
}
