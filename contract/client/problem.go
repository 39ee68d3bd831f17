package client

import (
	"encoding/json"
	"fmt"
	"mime"
)

// Answer is what every generated response has.
type Answer interface {
	StatusCode() int
	Bytes() []byte
	ContentType() string
}

// ProblemError is an answer that is not 2xx, as an error: its problem+json
// body (RFC 9457) when it has one.
type ProblemError struct {
	Status  int
	Problem Problem
}

func (e *ProblemError) Error() string {
	if e.Problem.Detail == "" {
		return fmt.Sprintf("crmgate: HTTP %d %s", e.Status, e.Problem.Title)
	}
	return fmt.Sprintf("crmgate: HTTP %d %s: %s", e.Status, e.Problem.Title, e.Problem.Detail)
}

// Check turns an answer that is not 2xx into a *ProblemError (nil for 2xx):
// the generated responses hold a 4xx or 5xx as a value beside the success
// one, which is easy to miss.
//
//	res, err := c.ImportCustomersWithResponse(ctx, nil, req)
//	if err == nil {
//		err = client.Check(res)
//	}
func Check(a Answer) error {
	if s := a.StatusCode(); s >= 200 && s < 300 {
		return nil
	}
	e := &ProblemError{Status: a.StatusCode()}
	if mt, _, _ := mime.ParseMediaType(a.ContentType()); mt == "application/problem+json" {
		_ = json.Unmarshal(a.Bytes(), &e.Problem)
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = e.Status
	}
	return e
}
