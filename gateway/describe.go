package gateway

import (
	"context"
	"errors"
	"fmt"
)

// Describe says, in words for the person reading a record's result or a
// problem's detail, what err, the error of a call to a provider, means: a
// *ProviderError as it reads (the provider, the path, its status, code and
// message), otherwise one sentence for its kind. It never shows how the
// error was wrapped on its way (adapter function names, a URL with its
// host, the transport's own Go error): that whole chain stays in
// CallReport.Error and the logs. A nil err is "".
func Describe(err error) string {
	var pe *ProviderError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return pe.Error()
	case errors.Is(err, ErrCircuitOpen):
		msg := "the provider failed repeatedly, so calls to it are paused"
		if d := RetryAfterOf(err); d > 0 {
			msg += fmt.Sprintf("; retry in %d s", seconds(d))
		}
		return msg
	case errors.Is(err, ErrAnswerTooLarge):
		return "the provider's answer is too large: larger than any answer to this call can be"
	case errors.Is(err, context.DeadlineExceeded):
		return "the request's deadline passed before the provider answered"
	case errors.Is(err, context.Canceled):
		return "the request ended before the provider answered"
	case errors.Is(err, ErrUnavailable):
		return "the provider could not be reached, or did not answer in time"
	}
	return "the provider's answer could not be read"
}
