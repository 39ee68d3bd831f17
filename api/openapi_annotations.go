package api

// This file holds the swag annotations of the operations, which openapi.yaml
// is generated from (make generate: swag init writes docs/swagger.json,
// tools/openapigen turns it into OpenAPI 3). Each operation is documented on
// a function of its own that is never called, so the handlers stay free of
// documentation noise. Bodies are the types the handlers decode and answer,
// documented by their own comments and tags; a body whose records the handler
// keeps raw (json.RawMessage, any JSON value in the document) names the
// records' type in the annotation (ImportRequest{customers=[]schema.Customer}).

//	@title						crmgate
//	@version					1.0
//	@description				One REST API in front of two WhatsApp CRM providers, WSCRM and NXLink. Internal apps send customers in one canonical shape; crmgate checks every record against the connection's field configuration before any outbound call, translates it to the provider's wire format, sends it (signed, chunked, retried) and answers with exactly one result per record. Provider webhooks come back as canonical events.
//	@description				Every response carries X-Request-ID (the caller's when it sent a sensible one). Errors that concern the whole request are application/problem+json (RFC 9457); per-record problems are results with canonical error codes.
//	@contact.name				crmgate maintainers
//	@contact.url				https://crmgate.dev/
//	@license.name				Proprietary
//	@license.url				https://crmgate.dev/license
//	@BasePath					/
//	@schemes					http https
//	@tag.name					customers
//	@tag.description			Import, validate and list canonical customers.
//	@tag.name					connections
//	@tag.description			The caller's connections and their field configuration.
//	@tag.name					events
//	@tag.description			Canonical events from provider webhooks, and their push delivery.
//	@tag.name					webhooks
//	@tag.description			Webhooks the providers send, in the providers' own shapes.
//	@tag.name					imports
//	@tag.description			Import jobs: bulk imports from JSON, CSV or XLSX, run in the background, with per-row results and an error report.
//	@tag.name					sandbox
//	@tag.description			Only in sandbox mode: make the simulated providers act.
//	@tag.name					operations
//	@tag.description			Liveness, readiness, metrics and this document.
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				A JWT (HS256 with the configured secret, or RS256/ES256 from the JWKS URL) with claims sub, scope (space-separated customers:write customers:read events:read admin) and connections (ids or ["*"]). The sandbox prints one at start.

// docImportCustomers documents POST /v1/customers.
//
//	@Summary		Import customers
//	@Description	Checks every record against the connection's field configuration and the provider's rules, translates the valid ones, sends them (split to the provider's cap, concurrently, retried) and answers with exactly one result per record, in input order: succeeded + failed + unknown = total. HTTP 200 whenever the batch was processed, even if every record failed. unknown means the provider may or may not have stored the record: safe to retry with the same Idempotency-Key.
//	@Tags			customers
//	@ID				importCustomers
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			Idempotency-Key	header		string										false	"The same key with the same body within 24 h replays the first answer byte for byte (header Idempotent-Replayed: true) without calling the provider again; with another body it is a 422; while the first is still running, a 409."	maxlength(255)
//	@Param			X-Request-ID	header		string										false	"A request id, echoed in X-Request-ID and request_id when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string										false	"The connection, when the body does not name it."
//	@Param			request			body		ImportRequest{customers=[]schema.Customer}	true	"The batch."
//	@Success		200				{object}	answer.Answer								"The batch was processed: one result per record."
//	@Failure		400				{object}	Problem										"Malformed JSON, or an unknown key in the envelope."
//	@Failure		401				{object}	Problem										"No valid bearer token."
//	@Failure		403				{object}	Problem										"The token lacks customers:write, or is not allowed the connection."
//	@Failure		404				{object}	Problem										"No such connection (token allowed every connection)."
//	@Failure		409				{object}	Problem										"A request with this Idempotency-Key is still running."
//	@Failure		413				{object}	Problem										"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem										"The body is not application/json."
//	@Failure		422				{object}	Problem										"No connection named, no or too many records, a mode the provider cannot honour, or an Idempotency-Key reused with another body."
//	@Failure		429				{object}	Problem										"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem										"The request could not be processed; quote request_id to support."
//	@Router			/v1/customers [post]
func docImportCustomers() {}

// docValidateCustomers documents POST /v1/customers/validate.
//
//	@Summary		Validate customers without sending
//	@Description	Runs the same checks and translation as POST /v1/customers and sends nothing: results are valid or failed, and provider_requests shows the calls that would be sent (path relative to the connection's base URL, body the JSON object, credentials shown as ***).
//	@Tags			customers
//	@ID				validateCustomers
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			X-Request-ID	header		string										false	"A request id, echoed in X-Request-ID and request_id when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string										false	"The connection, when the body does not name it."
//	@Param			request			body		ImportRequest{customers=[]schema.Customer}	true	"The batch."
//	@Success		200				{object}	answer.Answer								"One result per record (valid or failed) and the provider requests that would be sent."
//	@Failure		400				{object}	Problem										"Malformed JSON, or an unknown key in the envelope."
//	@Failure		401				{object}	Problem										"No valid bearer token."
//	@Failure		403				{object}	Problem										"The token lacks customers:write, or is not allowed the connection."
//	@Failure		404				{object}	Problem										"No such connection (token allowed every connection)."
//	@Failure		413				{object}	Problem										"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem										"The body is not application/json."
//	@Failure		422				{object}	Problem										"No connection named, no or too many records, or a mode the provider cannot honour."
//	@Failure		429				{object}	Problem										"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem										"The request could not be processed; quote request_id to support."
//	@Router			/v1/customers/validate [post]
func docValidateCustomers() {}

// docImportPool documents POST /v1/import-pool.
//
//	@Summary		Import into WSCRM's import pool
//	@Description	mode replace: each agent's pool becomes exactly the batch's records of that agent (agents are isolated); mode append: the records are added. Body and answer as POST /v1/customers. A connection without an import pool is a 422.
//	@Tags			customers
//	@ID				importPool
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			X-Request-ID	header		string										false	"A request id, echoed in X-Request-ID and request_id when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string										false	"The connection, when the body does not name it."
//	@Param			request			body		ImportRequest{customers=[]schema.Customer}	true	"The batch; mode is replace or append."
//	@Success		200				{object}	answer.Answer								"The batch was processed: one result per record."
//	@Failure		400				{object}	Problem										"Malformed JSON, or an unknown key in the envelope."
//	@Failure		401				{object}	Problem										"No valid bearer token."
//	@Failure		403				{object}	Problem										"The token lacks customers:write, or is not allowed the connection."
//	@Failure		404				{object}	Problem										"No such connection (token allowed every connection)."
//	@Failure		413				{object}	Problem										"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem										"The body is not application/json."
//	@Failure		422				{object}	Problem										"No connection named, no or too many records, a mode other than replace or append, or a connection without an import pool."
//	@Failure		429				{object}	Problem										"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem										"The request could not be processed; quote request_id to support."
//	@Router			/v1/import-pool [post]
func docImportPool() {}

// docCustomerHistory documents GET /v1/customers/history.
//
//	@Summary		What happened to a customer
//	@Description	Every import (POST /v1/customers, POST /v1/import-pool) and import-job result that named the customer, newest first, within requests.retention (default 168h). Only the calling app's own (its JWT sub), every app's for admin. The customer is named by whatsapp (normalised like a record's: +86 152-6666-7780 and 8615266667780 are one number) or by ref. A validation (/v1/customers/validate) is not recorded. Paginated: pass next_cursor as cursor for the next, older page; "" when nothing is left.
//	@Tags			customers
//	@ID				customerHistory
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			X-Request-ID	header		string		false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string		false	"The connection; may be omitted when the token allows exactly one."
//	@Param			whatsapp		query		string		false	"The customer's WhatsApp number, as a record gives it (or give ref)."
//	@Param			ref				query		string		false	"The customer's ref, as records gave it (or give whatsapp)."
//	@Param			limit			query		int			false	"Page size."	minimum(1)	maximum(1000)	default(100)
//	@Param			cursor			query		string		false	"next_cursor of the previous page, unchanged."
//	@Success		200				{object}	HistoryPage	"One page of the customer's history."
//	@Failure		401				{object}	Problem		"No valid bearer token."
//	@Failure		403				{object}	Problem		"The token lacks customers:read, or is not allowed the connection."
//	@Failure		404				{object}	Problem		"No such connection (token allowed every connection)."
//	@Failure		422				{object}	Problem		"No connection named, neither or both of whatsapp and ref, a whatsapp that is not a phone number, a bad limit or cursor."
//	@Failure		429				{object}	Problem		"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem		"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem		"The history store could not be read; retry after Retry-After seconds."
//	@Router			/v1/customers/history [get]
func docCustomerHistory() {}

// docGetRequest documents GET /v1/requests/{request_id}.
//
//	@Summary		A past import's answer
//	@Description	The answer of a processed import (POST /v1/customers or POST /v1/import-pool, HTTP 200), byte for byte as it was sent, request_id included, for requests.retention (default 168h). Only to the app that made it (its JWT sub) or to admin, and only within the token's connections; anything else, an unknown or expired id, and a validation's id are 404 alike.
//	@Tags			customers
//	@ID				getRequest
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			X-Request-ID	header		string			false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			request_id		path		string			true	"The request_id of the import's answer (its X-Request-ID)."
//	@Success		200				{object}	answer.Answer	"The stored answer, as it was sent."
//	@Failure		401				{object}	Problem			"No valid bearer token."
//	@Failure		403				{object}	Problem			"The token lacks customers:read."
//	@Failure		404				{object}	Problem			"No such request of this app within the retention window."
//	@Failure		429				{object}	Problem			"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem			"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem			"The history store could not be read; retry after Retry-After seconds."
//	@Router			/v1/requests/{request_id} [get]
func docGetRequest() {}

// docListCustomers documents GET /v1/customers.
//
//	@Summary		List an agent's contacts
//	@Description	The agent's friend contacts from the provider's contact query (WSCRM), in canonical form: dates YYYY-MM-DD, stage and source ids as their configured labels. Paginated: pass next_cursor as cursor for the next page.
//	@Tags			customers
//	@ID				listCustomers
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			X-Request-ID	header		string			false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string			false	"The connection; may be omitted when the token allows exactly one."
//	@Param			agent			query		string			true	"The agent's WhatsApp id (WSCRM whatsId)."
//	@Param			limit			query		int				false	"Page size."	minimum(1)	maximum(1000)	default(100)
//	@Param			cursor			query		string			false	"next_cursor of the previous page, unchanged."
//	@Success		200				{object}	CustomerPage	"One page of contacts."
//	@Failure		401				{object}	Problem			"No valid bearer token."
//	@Failure		403				{object}	Problem			"The token lacks customers:read, or is not allowed the connection."
//	@Failure		404				{object}	Problem			"No such connection (token allowed every connection)."
//	@Failure		422				{object}	Problem			"No connection or agent named, a bad limit or cursor, or a connection that cannot list contacts."
//	@Failure		429				{object}	Problem			"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem			"The request could not be processed; quote request_id to support."
//	@Failure		502				{object}	Problem			"The provider refused the query."
//	@Failure		503				{object}	Problem			"The provider could not be reached; retry after Retry-After seconds."
//	@Router			/v1/customers [get]
func docListCustomers() {}

// docListConnections documents GET /v1/connections.
//
//	@Summary		List the caller's connections
//	@Description	The connections the token is allowed, in configuration order, with provider and capabilities (what the adapter can do, its import modes and the configured custom fields). Any scope.
//	@Tags			connections
//	@ID				listConnections
//	@Produce		json
//	@Security		BearerAuth
//	@Param			X-Request-ID	header		string			false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Success		200				{object}	ConnectionList	"The caller's connections."
//	@Failure		401				{object}	Problem			"No valid bearer token."
//	@Failure		429				{object}	Problem			"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem			"The request could not be processed; quote request_id to support."
//	@Router			/v1/connections [get]
func docListConnections() {}

// docGetFieldConfig documents GET /v1/connections/{id}/field-config.
//
//	@Summary		Get a connection's field configuration
//	@Description	The current field configuration with its version; ETag is the version, for If-Match on PUT. Any scope.
//	@Tags			connections
//	@ID				getFieldConfig
//	@Produce		json
//	@Security		BearerAuth
//	@Param			X-Request-ID	header		string					false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			id				path		string					true	"The connection id."
//	@Success		200				{object}	fieldconfig.Versioned	"The current version."
//	@Failure		401				{object}	Problem					"No valid bearer token."
//	@Failure		403				{object}	Problem					"The token is not allowed the connection."
//	@Failure		404				{object}	Problem					"No such connection (token allowed every connection), or no field configuration."
//	@Failure		429				{object}	Problem					"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem					"The request could not be processed; quote request_id to support."
//	@Router			/v1/connections/{id}/field-config [get]
func docGetFieldConfig() {}

// docPutFieldConfig documents PUT /v1/connections/{id}/field-config.
//
//	@Summary		Replace a connection's field configuration
//	@Description	Replaces the whole document; every gateway instance validates against it within seconds. With If-Match (the ETag of GET) the replace happens only when that is still the current version. Answered like GET.
//	@Tags			connections
//	@ID				putFieldConfig
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth[admin]
//	@Param			X-Request-ID	header		string					false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			If-Match		header		string					false	"The ETag of GET as it came, quotes included, or *."
//	@Param			id				path		string					true	"The connection id."
//	@Param			config			body		fieldconfig.Config		true	"The new field configuration."
//	@Success		200				{object}	fieldconfig.Versioned	"The new version."
//	@Failure		400				{object}	Problem					"Malformed JSON or an unknown key."
//	@Failure		401				{object}	Problem					"No valid bearer token."
//	@Failure		403				{object}	Problem					"The token lacks admin, or is not allowed the connection."
//	@Failure		404				{object}	Problem					"No such connection (token allowed every connection)."
//	@Failure		412				{object}	Problem					"If-Match is not the current version (ETag names the current one)."
//	@Failure		413				{object}	Problem					"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem					"The body is not application/json."
//	@Failure		422				{object}	Problem					"The document is not valid; errors names every problem, nothing was changed."
//	@Failure		429				{object}	Problem					"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem					"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem					"The store could not be reached; nothing was changed."
//	@Router			/v1/connections/{id}/field-config [put]
func docPutFieldConfig() {}

// docWSCRMWebhook documents POST /v1/webhooks/wscrm/{connection}.
//
//	@Summary		Receive a WSCRM webhook
//	@Description	WSCRM's profile-update (USER_SYNC_PORTRAIT) and follow-up (USER_WRITE_FLOW) webhooks, exactly as the provider sends them. No JWT: accessToken is verified per connection, tenantId must be the connection's and timestamp within webhook.tolerance. Answered 200 with what WSCRM expects only after the events are stored; the same change twice is stored once.
//	@Tags			webhooks
//	@ID				receiveWSCRMWebhook
//	@Accept			json
//	@Produce		json
//	@Param			connection	path		string										true	"The WSCRM connection id."
//	@Param			body		body		wscrm.webhookBody{data=[]wscrm.webhookItem}	true	"A WSCRM webhook body: profile update or follow-up."
//	@Success		200			{object}	wscrm.webhookAck							"Stored."
//	@Failure		400			{object}	Problem										"The body cannot be read as a WSCRM webhook."
//	@Failure		401			{object}	Problem										"Verification failed (token, tenantId or timestamp); nothing stored."
//	@Failure		404			{object}	Problem										"No WSCRM connection of that id."
//	@Failure		413			{object}	Problem										"The body is over limits.max_body_bytes."
//	@Failure		500			{object}	Problem										"The request could not be processed; quote request_id to support."
//	@Failure		503			{object}	Problem										"The events could not be stored; send the webhook again."
//	@Router			/v1/webhooks/wscrm/{connection} [post]
func docWSCRMWebhook() {}

// docListEvents documents GET /v1/events.
//
//	@Summary		List events
//	@Description	Canonical events in the order they were stored. next_cursor is always present: the position after the last event listed, or the after given when nothing is new; after=<next_cursor> resumes.
//	@Tags			events
//	@ID				listEvents
//	@Produce		json
//	@Security		BearerAuth[events:read]
//	@Param			X-Request-ID	header		string		false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		query		string		false	"Only this connection's events (default: every connection the token allows)."
//	@Param			after			query		string		false	"next_cursor of an earlier page."
//	@Param			limit			query		int			false	"Page size."	minimum(1)	maximum(1000)
//	@Param			type			query		string		false	"Comma-separated event types: customer.updated, customer.followup_created."
//	@Success		200				{object}	EventPage	"Events after the cursor."
//	@Failure		401				{object}	Problem		"No valid bearer token."
//	@Failure		403				{object}	Problem		"The token lacks events:read, or is not allowed the connection."
//	@Failure		404				{object}	Problem		"No such connection (token allowed every connection)."
//	@Failure		422				{object}	Problem		"A bad limit, type or after."
//	@Failure		429				{object}	Problem		"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem		"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem		"The event store could not be reached; retry after Retry-After seconds."
//	@Router			/v1/events [get]
func docListEvents() {}

// docCreateSubscription documents POST /v1/subscriptions.
//
//	@Summary		Subscribe a URL to events
//	@Description	The url may not lead to loopback (unless events.allow_loopback), link-local (cloud metadata), unspecified or multicast addresses, checked on every address its host resolves to now and on the address dialled at each delivery. Each event stored after this call that passes the filters is POSTed to url as its body, with Standard Webhooks headers (webhook-id = the event id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>), retried with exponential backoff on any non-2xx or timeout; what still fails is kept and listed. The secret is shown only here.
//	@Tags			events
//	@ID				createSubscription
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth[admin]
//	@Param			X-Request-ID	header		string				false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			subscription	body		SubscriptionRequest	true	"The subscription."
//	@Success		201				{object}	CreatedSubscription	"Created; Location names it."
//	@Failure		400				{object}	Problem				"Malformed JSON or an unknown key."
//	@Failure		401				{object}	Problem				"No valid bearer token."
//	@Failure		403				{object}	Problem				"The token lacks admin, or is not allowed a connection named (whether or not it exists)."
//	@Failure		404				{object}	Problem				"A connection named that the token is allowed does not exist."
//	@Failure		413				{object}	Problem				"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem				"The body is not application/json."
//	@Failure		422				{object}	Problem				"A bad URL or an unknown type: not http(s), userinfo, a host that does not resolve, or one leading to a loopback (unless events.allow_loopback), link-local, unspecified or multicast address or outside events.subscriber_networks; errors[] names the reason."
//	@Failure		429				{object}	Problem				"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem				"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem				"The subscription store could not be reached."
//	@Router			/v1/subscriptions [post]
func docCreateSubscription() {}

// docListSubscriptions documents GET /v1/subscriptions.
//
//	@Summary	List subscriptions
//	@Tags		events
//	@ID			listSubscriptions
//	@Produce	json
//	@Security	BearerAuth[admin]
//	@Param		X-Request-ID	header		string				false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Success	200				{object}	SubscriptionList	"Every subscription within the token's connections (secrets are never shown again)."
//	@Failure	401				{object}	Problem				"No valid bearer token."
//	@Failure	403				{object}	Problem				"The token lacks admin."
//	@Failure	429				{object}	Problem				"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure	500				{object}	Problem				"The request could not be processed; quote request_id to support."
//	@Failure	503				{object}	Problem				"The subscription store could not be reached."
//	@Router		/v1/subscriptions [get]
func docListSubscriptions() {}

// docDeleteSubscription documents DELETE /v1/subscriptions/{id}.
//
//	@Summary	Delete a subscription
//	@Tags		events
//	@ID			deleteSubscription
//	@Produce	json
//	@Security	BearerAuth[admin]
//	@Param		X-Request-ID	header	string	false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param		id				path	string	true	"The subscription id."
//	@Success	204				"Deleted; nothing more is delivered to it."
//	@Failure	401				{object}	Problem	"No valid bearer token."
//	@Failure	403				{object}	Problem	"The token lacks admin."
//	@Failure	404				{object}	Problem	"No such subscription within the token's connections."
//	@Failure	429				{object}	Problem	"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure	500				{object}	Problem	"The request could not be processed; quote request_id to support."
//	@Failure	503				{object}	Problem	"The subscription store could not be reached."
//	@Router		/v1/subscriptions/{id} [delete]
func docDeleteSubscription() {}

// docListFailures documents GET /v1/subscriptions/{id}/failures.
//
//	@Summary		List undelivered events
//	@Description	Events the subscription did not accept within its retry schedule; they stay listed until redelivered.
//	@Tags			events
//	@ID				listDeliveryFailures
//	@Produce		json
//	@Security		BearerAuth[admin]
//	@Param			X-Request-ID	header		string				false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			id				path		string				true	"The subscription id."
//	@Success		200				{object}	DeliveryFailureList	"The failures."
//	@Failure		401				{object}	Problem				"No valid bearer token."
//	@Failure		403				{object}	Problem				"The token lacks admin."
//	@Failure		404				{object}	Problem				"No such subscription within the token's connections."
//	@Failure		429				{object}	Problem				"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem				"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem				"The subscription store could not be reached."
//	@Router			/v1/subscriptions/{id}/failures [get]
func docListFailures() {}

// docRedeliver documents POST /v1/subscriptions/{id}/failures/{event_id}/redeliver.
//
//	@Summary		Redeliver an undelivered event
//	@Description	Puts the failed event back into delivery with a fresh retry schedule.
//	@Tags			events
//	@ID				redeliverEvent
//	@Produce		json
//	@Security		BearerAuth[admin]
//	@Param			X-Request-ID	header		string	false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			id				path		string	true	"The subscription id."
//	@Param			event_id		path		string	true	"The failed event's id."
//	@Success		202				{object}	Queued	"Queued for delivery."
//	@Failure		401				{object}	Problem	"No valid bearer token."
//	@Failure		403				{object}	Problem	"The token lacks admin."
//	@Failure		404				{object}	Problem	"No such subscription within the token's connections, or no such failed event."
//	@Failure		429				{object}	Problem	"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem	"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem	"The subscription store could not be reached."
//	@Router			/v1/subscriptions/{id}/failures/{event_id}/redeliver [post]
func docRedeliver() {}

// docSandboxChange documents POST /v1/sandbox/{connection}/changes.
//
//	@Summary		Make a sandbox customer change
//	@Description	Sandbox mode only, any valid token. {whatsapp, field, to} or {whatsapp, followup}: the WSCRM simulator sends the real webhook back to this gateway (the customer need not exist), which turns it into events.
//	@Tags			sandbox
//	@ID				sandboxChange
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			X-Request-ID	header		string				false	"A request id, echoed in X-Request-ID when it is 1–128 printable ASCII characters; when absent or not such, one is made."
//	@Param			connection		path		string				true	"The sandbox connection id."
//	@Param			change			body		wscrmsim.change	true	"The change."
//	@Success		202				{object}	SandboxAccepted		"The simulator sent its webhook and the gateway accepted it."
//	@Failure		400				{object}	Problem				"Malformed JSON or a change the simulator cannot make (no whatsapp, no to, a value of the wrong kind)."
//	@Failure		401				{object}	Problem				"No valid bearer token."
//	@Failure		403				{object}	Problem				"The token is not allowed the connection."
//	@Failure		404				{object}	Problem				"No such connection, or not in sandbox mode."
//	@Failure		413				{object}	Problem				"The body is over limits.max_body_bytes."
//	@Failure		415				{object}	Problem				"The body is not application/json."
//	@Failure		422				{object}	Problem				"This connection's simulator sends no webhooks, or field is none of the accepted names (unknown_field on field; its message lists the canonical fields, WSCRM labels and custom fields accepted)."
//	@Failure		429				{object}	Problem				"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem				"The request could not be processed; quote request_id to support."
//	@Failure		502				{object}	Problem				"The simulator's webhook did not reach the gateway."
//	@Router			/v1/sandbox/{connection}/changes [post]
func docSandboxChange() {}

// docHealthz documents GET /healthz.
//
//	@Summary		Liveness
//	@Description	200 while the process serves; it checks nothing else (see /readyz).
//	@Tags			operations
//	@ID				healthz
//	@Produce		json
//	@Success		200	{object}	Health	"The process serves."
//	@Router			/healthz [get]
func docHealthz() {}

// docReadyz documents GET /readyz.
//
//	@Summary		Readiness
//	@Description	200 with status ready, or degraded when a check (Redis, field configuration) fails: the gateway goes on validating with its last good field configuration, so it stays in rotation. With Redis, "redis" says ok, unreachable, or reset (for an hour after this instance noticed that Redis lost its data set). 503 from the moment a shutdown starts (shutting_down: the requests in flight finish, within shutdown_timeout) and while no field configuration was ever loaded from the store (not_ready).
//	@Tags			operations
//	@ID				readyz
//	@Produce		json
//	@Success		200	{object}	Readiness	"Ready or degraded, with each check."
//	@Failure		503	{object}	Readiness	"Shutting down (shutting_down) or never loaded a field configuration from the store (not_ready), with each check."
//	@Router			/readyz [get]
func docReadyz() {}

// docMetrics documents GET /metrics.
//
//	@Summary		Prometheus metrics
//	@Description	crmgate_http_requests_total, crmgate_http_request_duration_seconds, crmgate_records_total, crmgate_provider_calls_total, crmgate_provider_retries_total, crmgate_breaker_state, crmgate_rate_limited_total, crmgate_idempotency_replays_total, crmgate_webhooks_received_total, crmgate_validation_errors_total, crmgate_event_deliveries_total, crmgate_event_delivery_lag_seconds and crmgate_build_info, with Redis crmgate_redis_resets_total (times this instance noticed that Redis lost its data set), plus Go and process metrics, in the Prometheus text format.
//	@Tags			operations
//	@ID				metrics
//	@Produce		plain
//	@Success		200	{string}	string	"Metrics in the Prometheus text exposition format."
//	@Router			/metrics [get]
func docMetrics() {}

// docOpenAPI documents GET /openapi.yaml.
//
//	@Summary		This document
//	@Description	The OpenAPI 3 document of this API, as YAML. Swagger UI at /swagger/index.html loads it.
//	@Tags			operations
//	@ID				openapi
//	@Produce		application/yaml
//	@Success		200	{string}	string	"The OpenAPI 3 document."
//	@Router			/openapi.yaml [get]
func docOpenAPI() {}

// docCreateImport documents POST /v1/imports.
//
//	@Summary		Create an import job
//	@Description	Takes a JSON body (the options and customers) or a multipart/form-data upload (a part options, JSON, and a part file: CSV in UTF-8 with or without BOM, comma, semicolon or tab detected, or XLSX, its first sheet; the first row is the header), checks the file and the column mapping, and answers 202 with the job, which runs in the background in chunks of the provider's cap (100 for NXLink, up to 10 000 for WSCRM). Up to limits.max_job_rows data rows and limits.max_upload_bytes bytes; limits.max_body_bytes and max_records do not apply. A row that cannot be read fails on its own (invalid_row); a row repeating an earlier row's WhatsApp number fails duplicate_in_job unless dedupe is false.
//	@Tags			imports
//	@ID				createImport
//	@Accept			json,mpfd
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			Idempotency-Key	header		string											false	"The same key with the same body (for an upload: the same options and file) answers the same job (Idempotent-Replayed: true); with another body it is a 422; while the first is still being accepted, a 409."	maxlength(255)
//	@Param			request			body		ImportJobRequest{customers=[]schema.Customer}	true	"application/json: the options and the records. multipart/form-data: the parts options and file."
//	@Param			options			formData	object	false	"The options as JSON (connection, mode, strict, strict_owner, dry_run, default_region, dedupe, mapping), as in the JSON body."
//	@Param			file			formData	file	true	"The CSV (UTF-8, comma, semicolon or tab) or XLSX file; its first row is the header."
//	@Success		202				{object}	jobs.Job										"The job, queued; Location is /v1/imports/{id}."
//	@Failure		400				{object}	Problem											"Malformed JSON or multipart body."
//	@Failure		401				{object}	Problem											"No valid bearer token."
//	@Failure		403				{object}	Problem											"The token lacks customers:write, or is not allowed the connection."
//	@Failure		404				{object}	Problem											"No such connection (token allowed every connection)."
//	@Failure		409				{object}	Problem											"A request with this Idempotency-Key is still running."
//	@Failure		413				{object}	Problem											"Over limits.max_upload_bytes or limits.max_job_rows (the row is named)."
//	@Failure		415				{object}	Problem											"Neither JSON nor multipart, or a file that is not UTF-8 CSV or XLSX."
//	@Failure		422				{object}	Problem											"No connection, an empty file, no or a repeated header, a mapping that cannot work (every problem listed), an unknown default_region, or a mode the provider cannot honour."
//	@Failure		429				{object}	Problem											"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500				{object}	Problem											"The request could not be processed; quote request_id to support."
//	@Failure		503				{object}	Problem											"The Idempotency-Key could not be checked; no job was created, retry later."
//	@Router			/v1/imports [post]
func docCreateImport() {}

// docListImports documents GET /v1/imports.
//
//	@Summary		List import jobs
//	@Description	The caller's (sub) jobs, newest first; a token with admin sees every app's. Always within the token's connections.
//	@Tags			imports
//	@ID				listImports
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			connection	query		string			false	"Only this connection's jobs."
//	@Param			status		query		string			false	"Only jobs in this status: queued, running, completed, canceled or failed."
//	@Param			cursor		query		string			false	"next_cursor of the previous page."
//	@Param			limit		query		int				false	"Jobs per page, 1 to 1000 (100)."	minimum(1)	maximum(1000)
//	@Success		200			{object}	ImportJobPage	"The jobs."
//	@Failure		401			{object}	Problem			"No valid bearer token."
//	@Failure		403			{object}	Problem			"The token lacks customers:read, or is not allowed the connection."
//	@Failure		404			{object}	Problem			"No such connection (token allowed every connection)."
//	@Failure		422			{object}	Problem			"A bad status, limit or cursor."
//	@Failure		429			{object}	Problem			"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500			{object}	Problem			"The request could not be processed; quote request_id to support."
//	@Failure		503			{object}	Problem			"The job store could not be reached; retry later."
//	@Router			/v1/imports [get]
func docListImports() {}

// docGetImport documents GET /v1/imports/{id}.
//
//	@Summary		An import job
//	@Description	Status and counters: pending + succeeded + failed + unknown = total at every moment (dry run: pending + valid + failed = total).
//	@Tags			imports
//	@ID				getImport
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			id	path		string		true	"The job id (imp_…)."
//	@Success		200	{object}	jobs.Job	"The job."
//	@Failure		401	{object}	Problem		"No valid bearer token."
//	@Failure		403	{object}	Problem		"The token is not allowed the job's connection."
//	@Failure		404	{object}	Problem		"No such job for this app."
//	@Failure		429	{object}	Problem		"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500	{object}	Problem		"The request could not be processed; quote request_id to support."
//	@Router			/v1/imports/{id} [get]
func docGetImport() {}

// docImportResults documents GET /v1/imports/{id}/results.
//
//	@Summary		An import job's per-row results
//	@Description	Results in row order, each as in POST /v1/customers with index (the data row, 0 = the first after the header), row (the spreadsheet's row number, header = 1) and attempts. While the job runs, a page ends at the first row not yet answered and next_cursor resumes there.
//	@Tags			imports
//	@ID				listImportResults
//	@Produce		json
//	@Security		BearerAuth[customers:read]
//	@Param			id		path		string				true	"The job id."
//	@Param			status	query		string				false	"Only results of this status: succeeded, failed, unknown or valid."
//	@Param			cursor	query		string				false	"next_cursor of the previous page."
//	@Param			limit	query		int					false	"Results per page, 1 to 1000 (100)."	minimum(1)	maximum(1000)
//	@Success		200		{object}	ImportResultPage	"The results."
//	@Failure		401		{object}	Problem				"No valid bearer token."
//	@Failure		403		{object}	Problem				"The token is not allowed the job's connection."
//	@Failure		404		{object}	Problem				"No such job for this app."
//	@Failure		422		{object}	Problem				"A bad status, limit or cursor."
//	@Failure		429		{object}	Problem				"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500		{object}	Problem				"The request could not be processed; quote request_id to support."
//	@Failure		503		{object}	Problem				"The job store could not be reached; retry later."
//	@Router			/v1/imports/{id}/results [get]
func docImportResults() {}

// docImportReport documents GET /v1/imports/{id}/report.
//
//	@Summary		An import job's error report
//	@Description	Every row that did not succeed (for a dry run: that is not valid), its original columns followed by crmgate_status, crmgate_code, crmgate_field and crmgate_message: CSV, or XLSX when the job came from an XLSX file or format=xlsx. It can be fixed and uploaded again as it is.
//	@Tags			imports
//	@ID				getImportReport
//	@Produce		json,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
//	@Security		BearerAuth[customers:read]
//	@Param			id		path		string	true	"The job id."
//	@Param			format	query		string	false	"csv or xlsx."	Enums(csv, xlsx)
//	@Success		200		{file}		file	"The report."
//	@Failure		401		{object}	Problem	"No valid bearer token."
//	@Failure		403		{object}	Problem	"The token is not allowed the job's connection."
//	@Failure		404		{object}	Problem	"No such job for this app."
//	@Failure		422		{object}	Problem	"A bad format."
//	@Failure		429		{object}	Problem	"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500		{object}	Problem	"The request could not be processed; quote request_id to support."
//	@Router			/v1/imports/{id}/report [get]
func docImportReport() {}

// docCancelImport documents POST /v1/imports/{id}/cancel.
//
//	@Summary		Cancel an import job
//	@Description	Stops sending: rows not yet sent end failed with code canceled; chunks being sent finish; the job ends canceled.
//	@Tags			imports
//	@ID				cancelImport
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			id	path		string		true	"The job id."
//	@Success		200	{object}	jobs.Job	"The job."
//	@Failure		401	{object}	Problem		"No valid bearer token."
//	@Failure		403	{object}	Problem		"The token lacks customers:write, or is not allowed the job's connection."
//	@Failure		404	{object}	Problem		"No such job for this app."
//	@Failure		409	{object}	Problem		"The job has already ended."
//	@Failure		429	{object}	Problem		"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500	{object}	Problem		"The request could not be processed; quote request_id to support."
//	@Failure		503	{object}	Problem		"The job store could not be reached; retry later."
//	@Router			/v1/imports/{id}/cancel [post]
func docCancelImport() {}

// docRetryImport documents POST /v1/imports/{id}/retry.
//
//	@Summary		Retry an import job's retryable rows
//	@Description	A new job (retry_of the first) of the rows that ended unknown or failed with provider_unavailable or record_busy, with their row numbers.
//	@Tags			imports
//	@ID				retryImport
//	@Produce		json
//	@Security		BearerAuth[customers:write]
//	@Param			id	path		string		true	"The job id."
//	@Success		202	{object}	jobs.Job	"The new job."
//	@Failure		401	{object}	Problem		"No valid bearer token."
//	@Failure		403	{object}	Problem		"The token lacks customers:write, or is not allowed the job's connection."
//	@Failure		404	{object}	Problem		"No such job for this app."
//	@Failure		409	{object}	Problem		"The job has not ended."
//	@Failure		422	{object}	Problem		"No row to retry."
//	@Failure		429	{object}	Problem		"The app's rate limit was hit; retry after Retry-After seconds."
//	@Failure		500	{object}	Problem		"The request could not be processed; quote request_id to support."
//	@Failure		503	{object}	Problem		"The job store could not be reached; retry later."
//	@Router			/v1/imports/{id}/retry [post]
func docRetryImport() {}
