package main

import (
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// example is one named example. Request examples are listed first to last in
// Swagger UI by name, so names start with their rank; the first one is what
// "Try it out" sends, and it succeeds against the sandbox.
type example struct {
	name, summary, json string
}

// The records of the provider documents' own examples, in canonical form:
// WSCRM's batchImport (Feng Changqing) and batchImportWhatsContact (Li Heng),
// NXLink's batch_create (zhang san, li si), and the README's Li Heng.
const (
	exLiHengNXLink = `{"connection":"sandbox-nxlink","customers":[{"ref":"crm-17","name":"Li Heng","whatsapp":"+86 152 6666 7780","tags":["VIP"]}]}`

	exLiHengWSCRM = `{"connection":"sandbox-wscrm","customers":[{"ref":"crm-17","name":"Li Heng","owner":"kubrick101","whatsapp":"+86 152 6666 7780","stage":"New customer","custom_fields":{"Faction":"Royal Family"}}]}`

	exFengChangqing = `{"connection":"sandbox-wscrm","mode":"merge","customers":[{"ref":"feng-changqing","owner":"kubrick101","whatsapp":"8615266667780","name":"Feng Changqing","gender":"male","birthday":"2020-03-08","address":"Chang'an","email":"fengchangqing@tang.com","profession":"Military Governor","income":"100 gold","remarks":"","tags":["Soldier","Strategy"],"remove_tags":["Strategy"],"stage":"New customer","source":"System assignment","language":"Auto","welcome_message":"This is a welcome message","custom_fields":{"Faction":"Guanlong Group","extensionField1":"This is the value of extensionField1"}}]}`

	exZhangSan = `{"connection":"sandbox-nxlink","mode":"replace","customers":[` +
		`{"ref":"zhang-san","name":"zhang san","first_name":"san","last_name":"zhang","whatsapp":"8618163725558","viber":"8618163725558","country":"China","address":"Wujin District, Tai'an City, Fujian Province","birthday":"1976-04-12","remarks":"Important customer","tags":["test","99"],"time_zone":"GMT+8","gender":"male","level":5,"line":"line123456","zalo":"1234567890","messenger":"9876543210","instagram":"1122334455","custom_fields":{"Faction":"Guanlong Group"}},` +
		`{"ref":"li-si","name":"li si","first_name":"si","last_name":"li","whatsapp":"8618135539411","country":"China","address":"Wujin District, Tai'an City, Fujian Province","birthday":"2015-08-19","remarks":"Regular customer","time_zone":"GMT+8","tags":["88","99"],"gender":"male"}]}`

	exPoolLiHeng = `{"connection":"sandbox-wscrm","mode":"replace","customers":[{"ref":"li-heng","owner":"kubrick101","whatsapp":"8615266667780","name":"Li Heng","gender":"male","birthday":"2020-03-08","address":"Chang'an","email":"liheng@tang.com","profession":"Emperor","income":"10000 gold","remarks":"Emperor Suzong of Tang","tags":["Prince Zhong","Retake Two Capitals"],"remove_tags":["Prince Zhong"],"stage":"New customer","source":"System assignment","language":"Auto","welcome_message":"This is a welcome message","custom_fields":{"Faction":"Royal Family","extensionField1":"This is the value of extensionField1"}}]}`

	exPoolAppend = `{"connection":"sandbox-wscrm","mode":"append","customers":[{"ref":"li-heng","owner":"kubrick101","whatsapp":"8615266667780","name":"Li Heng","gender":"male","birthday":"2020-03-08","address":"Chang'an","email":"liheng@tang.com","profession":"Emperor","income":"10000 gold","remarks":"Emperor Suzong of Tang","tags":["Prince Zhong","Retake Two Capitals"],"stage":"New customer","source":"System assignment","language":"Auto","welcome_message":"This is a welcome message","custom_fields":{"Faction":"Royal Family","extensionField1":"This is the value of extensionField1"}}]}`

	// The answer of gateway.md §5, with NXLink's partial-success example.
	exAnswer = `{"request_id":"5f0c6d2e8a9b4c1d9e7f6a5b4c3d2e1f","connection":"sandbox-nxlink","provider":"nxlink","total":3,"succeeded":1,"failed":1,"unknown":1,` +
		`"results":[{"index":0,"ref":"crm-17","status":"succeeded","provider_id":"1214631327620775936","warnings":[]},` +
		`{"index":1,"status":"failed","errors":[{"code":"owner_not_found","field":"owner","message":"the owner does not exist at the provider","provider_code":"12148","provider_message":"The belonging seat agent1 does not exist. Please go to Management->Members to confirm"}],"warnings":[]},` +
		`{"index":2,"status":"unknown","errors":[{"code":"provider_unavailable","message":"the provider did not answer after 3 attempts"}],"warnings":[],"retry_after":60}],` +
		`"provider_calls":[{"path":"/saas/cdp/openapi/customers/batch_create","http_status":200,"provider_code":"0","trace_id":"de31e85fdcc9489f9a7b8c99193b9a93","records":2,"attempts":1},` +
		`{"path":"/saas/cdp/openapi/customers/batch_create","http_status":503,"records":1,"attempts":3,"error":"provider unavailable: HTTP 503"}]}`

	exWSCRMAnswer = `{"request_id":"9a8b7c6d5e4f40312a1b2c3d4e5f6071","connection":"sandbox-wscrm","provider":"wscrm","total":2,"succeeded":1,"failed":1,"unknown":0,` +
		`"results":[{"index":0,"ref":"feng-changqing","status":"succeeded","warnings":[]},` +
		`{"index":1,"ref":"li-heng","status":"failed","errors":[{"code":"invalid_phone","field":"whatsapp","message":"the provider refused the phone number","provider_code":"28","provider_message":"PHONE_ERROR"}],"warnings":[]}],` +
		`"provider_calls":[{"path":"/wscrm-bus-api/customer/api/batchImport","http_status":200,"provider_code":"200","records":2,"attempts":1,"extra":{"notFollowSuccessCount":"","notFollowSuccessExcels":[]},"provider_counts":{"succeeded":1,"failed":1}}]}`

	// The profile-update webhook of WSCRM's document, verbatim.
	exProfileWebhook = `{ "accessToken": "83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344", "tenantId": 500975, "timestamp": 1667293135274, "data": [ { "id": "a0cb1ad15ed24e618b4b12d9cdff1ad4", "type": 1, "userName": "Zhang San", "friendWhatsId": "8615601882491", "field": "Address", "fieldType": 0, "fieldConfig": 1, "sourceValue": "", "targetValue": "123123", "updateAt": "2022-09-29 20:34:58" }, { "id": "81c968134be648e19187db83efa60152", "type": 1, "userName": "Zhang San", "friendWhatsId": "8615601882491", "field": "Gender", "fieldType": 0, "fieldConfig": 3, "sourceValue": "MALE", "targetValue": "FEMALE", "updateAt": "2022-10-02 20:34:58" }, { "id": "4d8ac8a3a5164ab2b066dcf8fac5bd45", "type": 2, "userName": "Zhang San", "friendWhatsId": "33758618170", "field": "Follow up records", "fieldType": 0, "fieldConfig": 1, "sourceValue": "", "targetValue": "{\"data\":{\"text\":\"Hello\",\"url\":[]},\"dataTypeMap\":{\"writeFollow\":\"Write follow-up\"}}", "updateAt": "2022-10-31 17:44:06" } ] }`

	// The follow-up webhook of WSCRM's document, verbatim (its follow strings
	// lack a closing brace, as the document's do).
	exFollowupWebhook = `{
"accessToken": "e6e18763d8d5a756d45c01486d7ad6742152ac",
"callBackUrl": "",
"tenantId": 82,
"timestamp": 1667295870936,
"data": [
{
"friendWhatsId": "8617633819542",
"userId": 1221,
"tenantId": 22,
"follow": "{\"data\":{\"text\":\"Beautiful China\",\"url\":[]}",
"username": "gavin"
},
{
"friendWhatsId": "8617633819542",
"userId": 1221,
"tenantId": 222,
"follow": "{\"data\":{\"text\":\"Beautiful China\",\"url\":[]}",
"username": "gavin"
}
]
}`

	exWebhookAnswer = `{"code":200,"message":"Success","data":""}`

	// The events of gateway.md §5, from the profile-update example.
	exEvents = `{"events":[` +
		`{"id":"a0cb1ad15ed24e618b4b12d9cdff1ad4","type":"customer.updated","connection":"acme-wa","occurred_at":"2022-09-29T20:34:58+08:00","received_at":"2022-09-29T12:35:01Z","customer":{"whatsapp":"8615601882491"},"agent":"Zhang San","change":{"field":"address","custom":false,"from":"","to":"123123"}},` +
		`{"id":"81c968134be648e19187db83efa60152","type":"customer.updated","connection":"acme-wa","occurred_at":"2022-10-02T20:34:58+08:00","received_at":"2022-10-02T12:35:02Z","customer":{"whatsapp":"8615601882491"},"agent":"Zhang San","change":{"field":"gender","custom":false,"from":"male","to":"female"}},` +
		`{"id":"4d8ac8a3a5164ab2b066dcf8fac5bd45","type":"customer.followup_created","connection":"acme-wa","occurred_at":"2022-10-31T17:44:06+08:00","received_at":"2022-10-31T09:44:09Z","customer":{"whatsapp":"33758618170"},"agent":"Zhang San","followup":{"text":"Hello","attachments":[]}}` +
		`],"next_cursor":"0000000000000003"}`

	exProblem = `{"type":"https://crmgate.dev/problems/validation-failed","title":"Validation failed","status":422,"detail":"customers is empty","request_id":"5f0c6d2e8a9b4c1d9e7f6a5b4c3d2e1f","errors":[{"code":"required","field":"customers","message":"at least one customer is required"}]}`

	exFieldConfig = `{"required":["whatsapp","owner"],"stages":[{"label":"New customer","id":10},{"label":"Requirement match","id":20}],"sources":[{"label":"System assignment","id":10},{"label":"Default","id":11}],"languages":[{"label":"Auto"},{"label":"Simplified Chinese (ZH)"}],"tags":{"strict":false,"known":["VIP","Soldier","Strategy"]},"custom_fields":[{"name":"Faction","type":"single_select","options":["Guanlong Group","Royal Family"]},{"name":"extensionField1","type":"text","max_length":64},{"name":"Joined","type":"date","format":"2006/01/02"}]}`
)

var requestExamples = map[string][]example{
	"importCustomers": {
		{"1-sandbox-nxlink", "The README's record into the sandbox's NXLink connection", exLiHengNXLink},
		{"2-sandbox-wscrm", "The same record into WSCRM, with its owning agent", exLiHengWSCRM},
		{"3-wscrm-document", "WSCRM's batchImport example (Feng Changqing)", exFengChangqing},
		{"4-nxlink-document", "NXLink's batch_create example (zhang san, li si), type 0", exZhangSan},
	},
	"validateCustomers": {
		{"1-sandbox-nxlink", "The README's record, checked for NXLink", exLiHengNXLink},
		{"2-nxlink-document", "NXLink's batch_create example (zhang san, li si)", exZhangSan},
		{"3-wscrm-document", "WSCRM's batchImport example (Feng Changqing)", exFengChangqing},
	},
	"importPool": {
		{"1-replace", "WSCRM's batchImportWhatsContact example (Li Heng): the agent's pool becomes this batch", exPoolLiHeng},
		{"2-append", "WSCRM's batchImportAppendV2 example (Li Heng): added to the agent's pool", exPoolAppend},
	},
	"receiveWSCRMWebhook": {
		{"1-profile-update", "WSCRM's USER_SYNC_PORTRAIT example", exProfileWebhook},
		{"2-follow-up", "WSCRM's USER_WRITE_FLOW example", exFollowupWebhook},
	},
	"putFieldConfig": {
		{"1-wscrm-backend", "The options and extension fields of WSCRM's document", exFieldConfig},
	},
	"sandboxChange": {
		{"1-profile-update", "Zhang San changes the customer's address (the first change of WSCRM's webhook example)", `{"whatsapp":"8615601882491","field":"address","from":"","to":"123123","agent":"kubrick101"}`},
		{"2-follow-up", "A follow-up written (WSCRM's follow-up example)", `{"whatsapp":"8617633819542","followup":"Beautiful China"}`},
	},
	"createSubscription": {
		{"1-all-updates", "Every customer.updated event of the sandbox's WSCRM connection", `{"url":"https://billing.internal.example/crm-events","types":["customer.updated"],"connections":["sandbox-wscrm"]}`},
	},
}

// responseExamples are keyed by operation id and status.
var responseExamples = map[string]map[string][]example{
	"importCustomers": {
		"200": {
			{"nxlink-partial", "One stored, one refused by NXLink (code 12148), one unknown after retries", exAnswer},
			{"wscrm-phone-error", "WSCRM's error example: PHONE_ERROR (code 28) mapped back by phone", exWSCRMAnswer},
		},
		"422": {{"empty-batch", "A batch without records", exProblem}},
	},
	"receiveWSCRMWebhook": {"200": {{"stored", "What WSCRM expects back", exWebhookAnswer}}},
	"listEvents":          {"200": {{"from-the-profile-webhook", "The events of WSCRM's webhook examples", exEvents}}},
}

func setExamples(doc *openapi3.T) error {
	byID := map[string]*openapi3.Operation{}
	for _, op := range operations(doc) {
		byID[op.OperationID] = op
	}
	build := func(list []example) (openapi3.Examples, error) {
		out := openapi3.Examples{}
		for _, e := range list {
			var v any
			if err := json.Unmarshal([]byte(e.json), &v); err != nil {
				return nil, fmt.Errorf("example %s: %w", e.name, err)
			}
			out[e.name] = &openapi3.ExampleRef{Value: &openapi3.Example{Summary: e.summary, Value: v}}
		}
		return out, nil
	}
	for id, list := range requestExamples {
		op := byID[id]
		if op == nil || op.RequestBody == nil {
			return fmt.Errorf("request examples for %s, which has no request body", id)
		}
		ex, err := build(list)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		op.RequestBody.Value.Content.Get("application/json").Examples = ex
	}
	for id, byStatus := range responseExamples {
		op := byID[id]
		if op == nil {
			return fmt.Errorf("response examples for unknown operation %s", id)
		}
		for status, list := range byStatus {
			r := op.Responses.Value(status)
			if r == nil {
				return fmt.Errorf("%s has no %s response", id, status)
			}
			ex, err := build(list)
			if err != nil {
				return fmt.Errorf("%s %s: %w", id, status, err)
			}
			for _, mt := range r.Value.Content {
				mt.Examples = ex
			}
		}
	}
	return nil
}
