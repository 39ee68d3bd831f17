package contract_test

import (
	"bytes"
	"net/http"
	"testing"

	"crmgate/internal/apptest"
)

// TestWebhookContract posts WSCRM's own webhook examples, verbatim, to a
// gateway whose connections hold the documents' tokens and tenants (with a
// tolerance wide enough for the documents' 2022 timestamps): both are
// accepted with what WSCRM expects, stored once, and listed as events.
func TestWebhookContract(t *testing.T) {
	doc := `
auth: {jwt: {hs256_secret: "a-contract-test-secret-of-32-bytes-or-more"}}
connections:
  - id: doc-profile
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: 500975
    provider_time_zone: Asia/Shanghai
    webhook: {mode: static, token: "83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344", tolerance: 87600h}
  - id: doc-followup
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: 82
    webhook: {mode: static, token: "e6e18763d8d5a756d45c01486d7ad6742152ac", tolerance: 87600h}
`
	g := startGateway(t, apptest.Load(t, doc, nil))
	g.Token = g.token(t, []string{"events:read"})
	examples := exampleBodies(t, g, "receiveWSCRMWebhook")
	answer := func(t *testing.T, _ http.Header, b []byte) {
		if !bytes.Equal(bytes.TrimSpace(b), []byte(`{"code":200,"message":"Success","data":""}`)) {
			t.Errorf("answer %s", b)
		}
	}
	for _, c := range []call{
		{name: "profile update", path: "/v1/webhooks/wscrm/doc-profile", body: examples["1-profile-update"]},
		{name: "profile update again", path: "/v1/webhooks/wscrm/doc-profile", body: examples["1-profile-update"]},
		{name: "follow-up", path: "/v1/webhooks/wscrm/doc-followup", body: examples["2-follow-up"]},
		{name: "profile update to the wrong tenant", path: "/v1/webhooks/wscrm/doc-followup", body: examples["1-profile-update"], want: 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.method = "POST"
			if c.want == 0 {
				c.want, c.check = 200, answer
			}
			g.do(t, c)
		})
	}
	t.Run("events", func(t *testing.T) {
		_, b := g.do(t, call{method: "GET", path: "/v1/events?connection=doc-profile", token: "dev", want: 200})
		if n := bytes.Count(b, []byte(`"type":"customer.`)); n != 3 {
			t.Errorf("%d events from the profile webhook sent twice, want 3: %s", n, b)
		}
		for _, want := range []string{`"occurred_at":"2022-09-29T20:34:58+08:00"`, `"change":{"field":"address","custom":false,"from":"","to":"123123"}`, `"to":"female"`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("events lack %s: %s", want, b)
			}
		}
	})
}
