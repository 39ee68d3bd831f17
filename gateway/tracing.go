package gateway

import (
	"context"

	"crmgate/api/answer"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The attributes of crmgate's own spans.
const (
	AttrConnection      = attribute.Key("crmgate.connection")
	AttrProvider        = attribute.Key("crmgate.provider")
	AttrProviderPath    = attribute.Key("crmgate.provider.path")
	AttrRecords         = attribute.Key("crmgate.records")
	AttrAttempt         = attribute.Key("crmgate.attempt")
	AttrHTTPStatus      = attribute.Key("http.response.status_code")
	AttrProviderCode    = attribute.Key("crmgate.provider.code")
	AttrProviderTraceID = attribute.Key("crmgate.provider.trace_id")
	AttrSucceeded       = attribute.Key("crmgate.records.valid")
	AttrFailed          = attribute.Key("crmgate.records.invalid")
)

// Span names.
const (
	SpanValidation   = "crmgate.validate"
	SpanProviderCall = "crmgate.provider.call"
)

// startValidation starts the span of one batch's check phase.
func (s *Service) startValidation(ctx context.Context, conn *Connection, records int) trace.Span {
	_, span := s.Tracer.Start(ctx, SpanValidation, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(AttrConnection.String(conn.ID), AttrProvider.String(conn.Common.Provider), AttrRecords.Int(records)))
	return span
}

// endValidation ends the check phase's span with how many records passed
// and failed the checks so far (records answered before an interruption
// count in neither).
func endValidation(span trace.Span, results []answer.Result, answered map[int]answer.Result) {
	valid, invalid := 0, 0
	for i := range results {
		if _, ok := answered[i]; ok {
			continue
		}
		if results[i].Status == StatusFailed {
			invalid++
		} else {
			valid++
		}
	}
	span.SetAttributes(AttrSucceeded.Int(valid), AttrFailed.Int(invalid))
	span.End()
}

// withSpan records each attempt of a call through next as a client span
// (SpanProviderCall) numbered by attemptOf, ended with the attempt's answer.
func (s *Service) withSpan(conn *Connection, next CallFunc) CallFunc {
	return func(ctx context.Context, call *Call) (CallResult, error) {
		ctx, span := s.startCall(ctx, conn, call, attemptOf(ctx))
		res, err := next(ctx, call)
		endCall(span, res.Report, err)
		return res, err
	}
}

// startCall starts the client span of one attempt of a provider call.
func (s *Service) startCall(ctx context.Context, conn *Connection, call *Call, attempt int) (context.Context, trace.Span) {
	return s.Tracer.Start(ctx, SpanProviderCall, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(AttrConnection.String(conn.ID), AttrProvider.String(conn.Common.Provider),
			attribute.String("http.request.method", call.Method), AttrProviderPath.String(call.Path),
			AttrRecords.Int(len(call.Records)), AttrAttempt.Int(attempt)))
}

// endCall ends an attempt's span with the provider's answer: its HTTP
// status, code and trace id when it gave them, and an error status when the
// attempt failed.
func endCall(span trace.Span, rep CallReport, err error) {
	if rep.HTTPStatus != 0 {
		span.SetAttributes(AttrHTTPStatus.Int(rep.HTTPStatus))
	}
	if rep.ProviderCode != "" {
		span.SetAttributes(AttrProviderCode.String(rep.ProviderCode))
	}
	if rep.TraceID != "" {
		span.SetAttributes(AttrProviderTraceID.String(rep.TraceID))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
