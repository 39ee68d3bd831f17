package wscrm

import (
	"net/http"
	"time"

	"crmgate/events"
	"crmgate/gateway"
)

var _ gateway.WebhookReceiver = (*Adapter)(nil)

// ReceiveWebhook verifies one of the two webhooks WSCRM sends (profile update
// USER_SYNC_PORTRAIT, follow-up USER_WRITE_FLOW) against the connection's
// webhook configuration and turns it into canonical events of the connection,
// each with ReceivedAt now. A body that fails verification (token, tenantId,
// timestamp outside the tolerance, or no token configured) is an error
// wrapping gateway.ErrWebhookUnauthorized; one that cannot be read, an error
// wrapping gateway.ErrWebhookMalformed. The header is not used. Nothing is
// stored. See webhookReceiver.receive for the mapping and the derived ids of
// follow-ups.
func (a *Adapter) ReceiveWebhook(header http.Header, body []byte, now time.Time) ([]events.Event, error) {
	return newWebhookReceiver(a.common.ID, &a.cfg).receive(header, body, now)
}

// WebhookAnswer returns the body WSCRM expects once the events are stored:
// {"code":200,"message":"Success","data":""}, a fresh copy each time.
func (a *Adapter) WebhookAnswer() []byte { return append([]byte(nil), webhookAnswer...) }
