package wscrm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"crmgate/gateway"
	"crmgate/schema"
)

func TestMapCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  int
		want  schema.Code
		field string
		retry int
	}{
		{-1, schema.CodeProviderRejected, "", 0},
		{500, schema.CodeProviderUnavailable, "", 0},
		{10, schema.CodeInvalidGender, "gender", 0},
		{14, schema.CodeInvalidOption, "source", 0},
		{15, schema.CodeInvalidOption, "stage", 0},
		{16, schema.CodeInvalidOption, "language", 0},
		{19, schema.CodeBatchTooLarge, "", 0},
		{21, schema.CodeTooLong, "custom_fields", 0},
		{22, schema.CodeRequired, "", 0},
		{23, schema.CodeInvalidNumber, "custom_fields", 0},
		{24, schema.CodeInvalidDate, "birthday", 0},
		{25, schema.CodeInvalidTime, "custom_fields", 0},
		{26, schema.CodeInvalidOption, "custom_fields", 0},
		{27, schema.CodeInvalidOption, "custom_fields", 0},
		{28, schema.CodeInvalidPhone, "whatsapp", 0},
		{29, schema.CodeRequired, "whatsapp", 0},
		{51, schema.CodeUnknownCountry, "country", 0},
		{56, schema.CodeRecordBusy, "", 60},
		{58, schema.CodeAttachmentInvalid, "custom_fields", 0},
		{59, schema.CodeAttachmentInvalid, "custom_fields", 0},
		{60, schema.CodeAttachmentInvalid, "custom_fields", 0},
		{77, schema.CodeProviderRejected, "", 0},
	}
	for _, tt := range tests {
		if got := MapCode(tt.code); got != (ErrorMapping{Code: tt.want, Field: tt.field, RetryAfter: tt.retry}) {
			t.Errorf("MapCode(%d) = %+v, want %s %q %d", tt.code, got, tt.want, tt.field, tt.retry)
		}
	}
}

func TestIssueForDateCode(t *testing.T) {
	t.Parallel()
	for info, field := range map[string]string{
		"birthday field type format error":         "birthday",
		"Extension field - date type format error": "custom_fields",
		"": "birthday",
	} {
		if got := issueFor(24, info); got.Field != field || got.ProviderCode != "24" || got.ProviderMessage != info {
			t.Errorf("issueFor(24, %q) = %+v, want field %s", info, got, field)
		}
	}
}

// A whole-call failure is a *gateway.ProviderError, retryable (wrapping
// gateway.ErrUnavailable) for HTTP 5xx and 429 and for code 500, final for
// code -1 and another HTTP status.
func TestWholeCallErrorsRetryable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		answer string
		want   bool
	}{
		{503, `busy`, true},
		{429, `slow down`, true},
		{200, `{"code":500,"message":"Server error"}`, true},
		{200, `{"code":-1,"msg":"token error"}`, false},
		{404, `not found`, false},
	} {
		srv, _ := cannedServer(t, tt.status, []byte(tt.answer))
		_, _, err := testAdapter(t, srv.URL, "").Query(context.Background(), "86187272722", nil)
		var pe *gateway.ProviderError
		if !errors.As(err, &pe) || pe.Provider != "WSCRM" || pe.Path != PathQuery || pe.Status != tt.status {
			t.Errorf("HTTP %d %s: err = %#v, want a ProviderError of WSCRM %s HTTP %d", tt.status, tt.answer, err, PathQuery, tt.status)
			continue
		}
		if got := errors.Is(err, gateway.ErrUnavailable); got != tt.want || pe.Retryable != tt.want {
			t.Errorf("HTTP %d %s: unavailable = %v, retryable %v, want %v", tt.status, tt.answer, got, pe.Retryable, tt.want)
		}
		if strings.Contains(err.Error(), "wscrm.") {
			t.Errorf("HTTP %d %s: message %q names Go code", tt.status, tt.answer, err)
		}
	}
}
