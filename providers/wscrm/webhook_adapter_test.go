package wscrm

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"crmgate/gateway"
	"crmgate/internal/testutil"
)

func TestAdapterReceivesWebhooks(t *testing.T) {
	t.Parallel()
	a := &Adapter{cfg: *staticConfig(docProfileTenant, docProfileToken), common: gateway.Common{ID: testConn}}
	evs, err := a.ReceiveWebhook(nil, testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), time.UnixMilli(docProfileTS))
	if err != nil {
		t.Fatalf("ReceiveWebhook: %v", err)
	}
	if len(evs) != 3 || evs[0].Connection != testConn || evs[0].ID != "a0cb1ad15ed24e618b4b12d9cdff1ad4" {
		t.Errorf("events = %+v, want the document's three of connection %s", evs, testConn)
	}
	_, err = a.ReceiveWebhook(nil, testutil.ReadFile(t, "testdata", "webhook_follow_up.json"), time.UnixMilli(docFollowTS))
	if !errors.Is(err, gateway.ErrWebhookUnauthorized) {
		t.Errorf("another tenant's body: err = %v, want ErrWebhookUnauthorized", err)
	}
	ans := a.WebhookAnswer()
	if want := `{"code":200,"message":"Success","data":""}`; string(ans) != want {
		t.Errorf("WebhookAnswer = %s, want %s", ans, want)
	}
	ans[0] = 'x'
	if !bytes.Equal(a.WebhookAnswer(), webhookAnswer) || webhookAnswer[0] != '{' {
		t.Error("WebhookAnswer shares its bytes with the caller")
	}
}
