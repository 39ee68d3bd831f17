// Package gateway is crmgate's provider-independent core: connections, the
// Provider interface every adapter implements, and the import service that
// checks records, sends them in chunks (bounded, retried) and answers with
// exactly one result per record, in crmgate/api/answer's types. Each
// provider call goes through one decorator per concern around the adapter's
// Do (CallFunc: retries, circuit breaker, concurrency slots, deadline,
// span). It never names a provider: adapters register themselves through a
// Factory in main's table.
package gateway
