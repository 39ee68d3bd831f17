package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/gateway"
	"crmgate/history"
)

// ctxOfPut is a history store that notes the state of each Put's context.
type ctxOfPut struct {
	history.Store
	mu   sync.Mutex
	errs []error
}

func (s *ctxOfPut) Put(ctx context.Context, imp history.Import) error {
	s.mu.Lock()
	s.errs = append(s.errs, ctx.Err())
	s.mu.Unlock()
	return s.Store.Put(ctx, imp)
}

// goneCaller cancels the request while its provider call is answered.
type goneCaller struct {
	fakeProvider
	cancel context.CancelFunc
}

func (g *goneCaller) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	g.cancel()
	return g.fakeProvider.Do(ctx, call)
}

// An import whose caller went away once its records were sent still keeps
// its answer and its records' history: the store is given a context the
// request's end does not cancel (a store that waits bounds itself).
func TestHistoryKeptWhenTheCallerWentAway(t *testing.T) {
	t.Parallel()
	store := &ctxOfPut{Store: history.NewMemory(history.Options{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := &goneCaller{cancel: cancel}
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) {
		o.History = store
		withProvider(t, o, gone)
	})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/customers", strings.NewReader(oneRecord))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token(t, nil, nil, nil))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if ctx.Err() == nil {
		t.Fatal("the request was not cancelled: not the case under test")
	}
	var ans struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || ans.RequestID == "" {
		t.Fatalf("answer %s: %v", w.Body, err)
	}
	store.mu.Lock()
	errs := store.errs
	store.mu.Unlock()
	if len(errs) != 1 || errs[0] != nil {
		t.Fatalf("Put's contexts: %v, want one, not cancelled", errs)
	}
	if _, err := store.Answer(context.Background(), ans.RequestID); err != nil {
		t.Errorf("the answer of %s was not kept: %v", ans.RequestID, err)
	}
}

// slowPut is a history store whose Put takes a while, as a Redis round trip
// can.
type slowPut struct {
	history.Store
	delay time.Duration
}

func (s slowPut) Put(ctx context.Context, imp history.Import) error {
	time.Sleep(s.delay)
	return s.Store.Put(ctx, imp)
}

// A caller that has read its whole answer, over a real connection, finds
// its request at once: the import's history is stored before the answer's
// first byte goes out, for an answer larger than net/http's buffers (which
// would go out as it is written) as for a small one.
func TestRequestKeptBeforeTheAnswerGoesOut(t *testing.T) {
	t.Parallel()
	store := slowPut{Store: history.NewMemory(history.Options{}), delay: 200 * time.Millisecond}
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.History = store; o.MaxRecords = 100 })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok := token(t, nil, nil, nil)
	for _, n := range []int{1, 100} {
		resp, b := ownConnection(t, hs, tok, http.MethodPost, "/v1/customers", recordsBody(n))
		checkWholeAnswer(t, n, resp, b)
		var ans struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(b, &ans); err != nil || ans.RequestID == "" {
			t.Fatalf("answer %s: %v", b, err)
		}
		got, kept := ownConnection(t, hs, tok, http.MethodGet, "/v1/requests/"+ans.RequestID, "")
		if got.StatusCode != http.StatusOK || string(kept) != string(b) {
			t.Errorf("%d records, the request looked up once its answer was read: %d %.200s", n, got.StatusCode, kept)
		}
	}
}
