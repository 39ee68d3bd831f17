package main

import (
	"reflect"

	"crmgate/api"
	"crmgate/api/answer"
	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// goTypes are the Go types that schemas describe: the generator checks that
// each schema has exactly the type's JSON fields and marks required those
// that are always written.
var goTypes = map[string]reflect.Type{
	"Problem":              reflect.TypeFor[api.Problem](),
	"ConnectionInfo":       reflect.TypeFor[api.ConnectionInfo](),
	"CustomerPage":         reflect.TypeFor[api.CustomerPage](),
	"Customer":             reflect.TypeFor[schema.Customer](),
	"Issue":                reflect.TypeFor[schema.Issue](),
	"ImportAnswer":         reflect.TypeFor[answer.Answer](),
	"RecordResult":         reflect.TypeFor[answer.Result](),
	"ProviderCall":         reflect.TypeFor[answer.CallReport](),
	"ProviderRequest":      reflect.TypeFor[answer.ProviderRequest](),
	"Capabilities":         reflect.TypeFor[gateway.Capabilities](),
	"Circuit":              reflect.TypeFor[gateway.Circuit](),
	"Contact":              reflect.TypeFor[gateway.Contact](),
	"Event":                reflect.TypeFor[events.Event](),
	"EventCustomer":        reflect.TypeFor[events.Customer](),
	"EventChange":          reflect.TypeFor[events.Change](),
	"EventFollowup":        reflect.TypeFor[events.Followup](),
	"FieldConfig":          reflect.TypeFor[fieldconfig.Config](),
	"VersionedFieldConfig": reflect.TypeFor[fieldconfig.Versioned](),
	"FieldOption":          reflect.TypeFor[fieldconfig.Option](),
	"TagConfig":            reflect.TypeFor[fieldconfig.Tags](),
	"CustomField":          reflect.TypeFor[fieldconfig.CustomField](),
}
