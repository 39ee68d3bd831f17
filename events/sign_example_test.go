package events_test

import (
	"fmt"

	"crmgate/events"
)

// A subscriber checks each delivery with the secret it was given at creation
// and the webhook-id, webhook-timestamp and webhook-signature headers.
func ExampleVerify() {
	// The secret from the Standard Webhooks specification's test vector.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id := "msg_p5jXN8AQM9LWM0D4loKWxJek"
	ts := int64(1614265330)
	body := []byte(`{"test": 2432232314}`)

	sig := events.Sign(secret, id, ts, body)
	fmt.Println(sig)
	fmt.Println(events.Verify(secret, id, ts, body, "v1,bm90IGl0 "+sig))
	fmt.Println(events.Verify(secret, id, ts, []byte(`{"test": 2432232315}`), sig))
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// events: webhook signature does not match
}
