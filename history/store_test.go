package history

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/internal/memtest"
	"crmgate/internal/redistest"
	"crmgate/schema"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type backend func(t *testing.T, o Options) Store

func memoryBackend(_ *testing.T, o Options) Store { return NewMemory(o) }

func redisBackend(t *testing.T, o Options) Store {
	rdb, prefix := redistest.Client(t)
	o.Prefix = prefix
	s, err := NewRedis(rdb, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMemoryStore(t *testing.T) { t.Parallel(); runStoreSuite(t, memoryBackend) }
func TestRedisStore(t *testing.T)  { t.Parallel(); runStoreSuite(t, redisBackend) }

// A Put against a Redis that stopped answering ends within PutTimeout,
// whatever the client's own read timeout (PatientClient's is an hour), and even
// when its caller's context never ends: an answer is never held back
// longer than that for its history.
func TestRedisPutEndsWithinPutTimeout(t *testing.T) {
	t.Parallel()
	rs := redistest.StartProcess(t)
	rdb := rs.PatientClient()
	s, err := NewRedis(rdb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	imp := Import{App: "billing", Connection: "acme", RequestID: "r1", Answer: []byte(`{}`)}
	if err := s.Put(context.Background(), imp); err != nil {
		t.Fatal(err)
	}
	rs.Pause()
	if err := redistest.Within(t, PutTimeout+time.Minute, func() error { return s.Put(context.Background(), imp) }); err == nil {
		t.Fatal("Put to a Redis that stopped answering succeeded")
	}
}

func TestNewRedisRefusesNil(t *testing.T) {
	t.Parallel()
	if _, err := NewRedis(nil, Options{}); err == nil {
		t.Error("NewRedis(nil) = nil error")
	}
}

// runStoreSuite is what every Store must do.
func runStoreSuite(t *testing.T, newStore backend) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	open := func(t *testing.T) (Store, *clock) {
		c := &clock{now: start}
		return newStore(t, Options{Retention: 48 * time.Hour, Now: c.Now}), c
	}
	ctx := context.Background()
	fail := []schema.Issue{{Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "not a phone number"}}

	t.Run("answer kept byte for byte", func(t *testing.T) {
		t.Parallel()
		s, _ := open(t)
		body := []byte("{\"request_id\":\"r1\",\"results\":[{\"index\":0}]}\n")
		if err := s.Put(ctx, Import{App: "billing", Connection: "acme", RequestID: "r1", Answer: body, ContentType: "application/json; charset=utf-8"}); err != nil {
			t.Fatal(err)
		}
		a, err := s.Answer(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if string(a.Body) != string(body) || a.App != "billing" || a.Connection != "acme" || a.ContentType != "application/json; charset=utf-8" || !a.At.Equal(start) {
			t.Errorf("answer %+v (body %q)", a, a.Body)
		}
		if _, err := s.Answer(ctx, "r2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})

	t.Run("a customer's imports newest first", func(t *testing.T) {
		t.Parallel()
		s, c := open(t)
		puts := []Import{
			{App: "a", Connection: "acme", RequestID: "r1", Answer: []byte("{}"), Records: []Record{
				{WhatsApp: "8615266667780", Ref: "crm-17", Index: 2, Status: "failed", Errors: fail},
				{WhatsApp: "8613800000000", Index: 3, Status: "succeeded"}}},
			{App: "a", Connection: "acme", RequestID: "r2", Answer: []byte("{}"), Records: []Record{
				{WhatsApp: "8615266667780", Ref: "crm-17", Index: 0, Status: "succeeded", ProviderID: "p1"}}},
			{App: "a", Connection: "acme", JobID: "imp_1", Records: []Record{
				{WhatsApp: "8615266667780", Index: 41, Status: "succeeded", ProviderID: "p1"}}},
		}
		for _, p := range puts {
			if err := s.Put(ctx, p); err != nil {
				t.Fatal(err)
			}
			c.add(time.Minute)
		}
		got := page(t, s, Customer{Connection: "acme", WhatsApp: "8615266667780"}, "a", false)
		want := []Entry{
			{At: start.Add(2 * time.Minute), JobID: "imp_1", Index: 41, Status: "succeeded", ProviderID: "p1", Errors: []schema.Issue{}},
			{At: start.Add(time.Minute), RequestID: "r2", Index: 0, Status: "succeeded", ProviderID: "p1", Errors: []schema.Issue{}},
			{At: start, RequestID: "r1", Index: 2, Status: "failed", Errors: fail},
		}
		sameEntries(t, got, want)
		byRef := page(t, s, Customer{Connection: "acme", Ref: "crm-17"}, "a", false)
		sameEntries(t, byRef, want[1:])
		if other := page(t, s, Customer{Connection: "other", WhatsApp: "8615266667780"}, "a", true); len(other) != 0 {
			t.Errorf("another connection's history: %+v, want none", other)
		}
	})

	t.Run("an app sees its own entries, admin every app's", func(t *testing.T) {
		t.Parallel()
		s, c := open(t)
		for _, app := range []string{"a", "b"} {
			if err := s.Put(ctx, Import{App: app, Connection: "acme", RequestID: "r-" + app, Records: []Record{{WhatsApp: "861", Status: "succeeded"}}}); err != nil {
				t.Fatal(err)
			}
			c.add(time.Second)
		}
		cust := Customer{Connection: "acme", WhatsApp: "861"}
		if got := page(t, s, cust, "a", false); len(got) != 1 || got[0].RequestID != "r-a" {
			t.Errorf("app a sees %+v", got)
		}
		if got := page(t, s, cust, "c", false); len(got) != 0 {
			t.Errorf("app c sees %+v", got)
		}
		if got := page(t, s, cust, "c", true); len(got) != 2 || got[0].RequestID != "r-b" {
			t.Errorf("admin sees %+v", got)
		}
	})

	t.Run("paged without repeats", func(t *testing.T) {
		t.Parallel()
		s, c := open(t)
		// Two entries of one instant (the number twice in one import) and three later.
		if err := s.Put(ctx, Import{App: "a", Connection: "acme", RequestID: "r0", Records: []Record{
			{WhatsApp: "861", Index: 0, Status: "succeeded"}, {WhatsApp: "861", Index: 1, Status: "failed"}}}); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			c.add(time.Second)
			if err := s.Put(ctx, Import{App: "a", Connection: "acme", RequestID: "r" + string(rune('0'+i)), Records: []Record{{WhatsApp: "861", Status: "succeeded"}}}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.History(ctx, Customer{Connection: "acme", WhatsApp: "861"})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			got, next, err := Page(all, "a", false, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range got {
				seen = append(seen, e.id())
			}
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pages never end")
			}
			cursor = next
		}
		want := []string{"rr3:0", "rr2:0", "rr1:0", "rr0:1", "rr0:0"}
		if len(seen) != len(want) {
			t.Fatalf("paged %v, want %v", seen, want)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Fatalf("paged %v, want %v", seen, want)
			}
		}
		if _, _, err := Page(all, "a", false, "not-a-cursor", 2); !errors.Is(err, ErrBadCursor) {
			t.Errorf("bad cursor: %v", err)
		}
	})

	t.Run("gone after the retention", func(t *testing.T) {
		t.Parallel()
		s, c := open(t)
		if err := s.Put(ctx, Import{App: "a", Connection: "acme", RequestID: "old", Answer: []byte("{}"), Records: []Record{{WhatsApp: "861", Status: "succeeded"}}}); err != nil {
			t.Fatal(err)
		}
		c.add(47 * time.Hour)
		if err := s.Put(ctx, Import{App: "a", Connection: "acme", RequestID: "new", Answer: []byte("{}"), Records: []Record{{WhatsApp: "861", Status: "failed"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Answer(ctx, "old"); err != nil {
			t.Errorf("old answer within the retention: %v", err)
		}
		c.add(2 * time.Hour)
		if _, err := s.Answer(ctx, "old"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old answer after the retention: %v, want ErrNotFound", err)
		}
		if _, err := s.Answer(ctx, "new"); err != nil {
			t.Errorf("new answer: %v", err)
		}
		got := page(t, s, Customer{Connection: "acme", WhatsApp: "861"}, "a", false)
		if len(got) != 1 || got[0].RequestID != "new" {
			t.Errorf("history after the retention: %+v, want only new", got)
		}
	})
}

func page(t *testing.T, s Store, c Customer, app string, all bool) []Entry {
	t.Helper()
	entries, err := s.History(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	got, next, err := Page(entries, app, all, "", 100)
	if err != nil || next != "" {
		t.Fatalf("Page: %v, next %q", err, next)
	}
	return got
}

func sameEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) || g.RequestID != w.RequestID || g.JobID != w.JobID || g.Index != w.Index || g.Status != w.Status ||
			g.ProviderID != w.ProviderID || len(g.Errors) != len(w.Errors) || g.Errors == nil || (len(w.Errors) > 0 && g.Errors[0] != w.Errors[0]) {
			t.Errorf("entry %d: got %+v, want %+v", i, g, w)
		}
	}
}

// Memory drops the oldest answers and entries once it holds more than its
// bounds, whatever their age.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemory(Options{})
	m.maxBytes, m.maxEntries = 10, 3
	for i, id := range []string{"a", "b", "c", "d"} {
		if err := m.Put(ctx, Import{App: "x", Connection: "acme", RequestID: id, Answer: []byte("12345"),
			At: time.Now().Add(time.Duration(i) * time.Millisecond), Records: []Record{{WhatsApp: "861", Index: i}}}); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true} {
		if _, err := m.Answer(ctx, id); (err == nil) != want {
			t.Errorf("answer %s kept = %v, want %v", id, err == nil, want)
		}
	}
	h, _ := m.History(ctx, Customer{Connection: "acme", WhatsApp: "861"})
	if len(h) != 3 || m.entries != 3 || m.answerBytes != 10 {
		t.Errorf("kept %d entries (counted %d), %d answer bytes; want 3, 3, 10", len(h), m.entries, m.answerBytes)
	}
}

// Memory keeps a job row's entry in about 110 bytes: 100 000 rows, put a
// chunk of 100 at a time as a job does, each with its own number and a
// provider id, grow the heap by under 140 bytes a row.
func TestMemoryEntryWeight(t *testing.T) {
	if testing.Short() {
		t.Skip("puts 100 000 entries")
	}
	heap := memtest.HeapAlloc
	const rows = 100_000
	m := NewMemory(Options{})
	m.maxEntries = rows // every entry held, whatever the store's own bound
	ctx := context.Background()
	before := heap()
	for start := 0; start < rows; start += 100 {
		recs := make([]Record, 100)
		for i := range recs {
			n := start + i
			recs[i] = Record{WhatsApp: fmt.Sprintf("86152%08d", n), Index: n, Status: "succeeded", ProviderID: fmt.Sprintf("12146313276%08d", n)}
		}
		if err := m.Put(ctx, Import{App: "billing-app", Connection: "acme-cdp", JobID: "imp_01M8TNJ5PP9AHH28J2R11NRNP4", Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(heap()-before) / rows
	t.Logf("%.0f bytes an entry", per)
	if m.entries != rows || per > 140 {
		t.Errorf("%d entries of %.0f bytes each; want %d of at most 140", m.entries, per, rows)
	}
	runtime.KeepAlive(m)
}

// Memory's ring: as it grows and once it is full and wraps, each
// customer's history is its entries still held, newest first, whatever
// came between them; a customer whose entries all went is forgotten; a
// customer's history answers its newest MaxPerCustomer entries.
func TestMemoryRing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemory(Options{})
	m.maxEntries = 3000
	customers := []string{"861", "862", "863"}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			rec := Record{WhatsApp: customers[i%3], Index: i, Status: "succeeded", ProviderID: fmt.Sprint("p", i)}
			if i%7 == 0 {
				rec.Status, rec.Errors = "failed", []schema.Issue{{Code: schema.CodeInvalidPhone, Message: fmt.Sprint(i)}}
			}
			if i%11 == 0 {
				rec.Status = "queued-elsewhere"
			}
			if err := m.Put(ctx, Import{App: "a", Connection: "acme", JobID: "imp_1", Records: []Record{rec}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(oldest, newest int) {
		t.Helper()
		for k, c := range customers {
			h, err := m.History(ctx, Customer{Connection: "acme", WhatsApp: c})
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for i := newest; i >= oldest; i-- {
				if i%3 == k {
					want = append(want, i)
				}
			}
			if len(h) != len(want) {
				t.Fatalf("customer %s: %d entries, want %d (rows %d to %d)", c, len(h), len(want), oldest, newest)
			}
			for j, e := range h {
				i := want[j]
				status, errs := "succeeded", 0
				if i%7 == 0 {
					status, errs = "failed", 1
				}
				if i%11 == 0 {
					status = "queued-elsewhere"
				}
				if e.Index != i || e.Status != status || len(e.Errors) != errs || e.ProviderID != fmt.Sprint("p", i) || e.JobID != "imp_1" || e.App != "a" {
					t.Fatalf("customer %s entry %d: %+v, want row %d", c, j, e, i)
				}
			}
		}
	}
	put(0, 2500) // the ring grows past 1024 and 2048 slots
	check(0, 2499)
	put(2500, 4000) // full at 3000: the oldest 1000 went
	check(1000, 3999)
	if m.entries != 3000 || len(m.last) != 3 {
		t.Fatalf("%d entries, %d customers; want 3000, 3", m.entries, len(m.last))
	}
	for i := range 3000 { // 3000 of another customer push the three out
		if err := m.Put(ctx, Import{App: "a", Connection: "acme", RequestID: "r", Records: []Record{{Ref: "crm-1", Index: i, Status: "succeeded"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := m.History(ctx, Customer{Connection: "acme", WhatsApp: "861"}); len(h) != 0 || len(m.last) != 1 {
		t.Fatalf("a customer whose entries went: %d entries; %d customers kept, want 1", len(h), len(m.last))
	}

	big := NewMemory(Options{})
	for start := 0; start < MaxPerCustomer+50; start += 100 {
		recs := make([]Record, 0, 100)
		for i := start; i < start+100; i++ {
			recs = append(recs, Record{WhatsApp: "861", Index: i, Status: "succeeded"})
		}
		if err := big.Put(ctx, Import{App: "a", Connection: "acme", JobID: "imp_2", Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := big.History(ctx, Customer{Connection: "acme", WhatsApp: "861"})
	if len(h) != MaxPerCustomer || h[0].Index != MaxPerCustomer+99 || h[len(h)-1].Index != 100 {
		t.Fatalf("a customer of %d entries answers %d, from row %d to %d; want the newest %d", MaxPerCustomer+100, len(h), h[0].Index, h[len(h)-1].Index, MaxPerCustomer)
	}
}

// recordSize is exactly what appendRecord writes for a record without
// errors, and at least that for one with errors of usual messages.
func TestRecordSize(t *testing.T) {
	t.Parallel()
	for _, r := range []Record{
		{},
		{Index: 127, Status: "succeeded", ProviderID: "42"},
		{Index: 128, Status: "valid"},
		{Index: 1 << 40, Status: "some other status", ProviderID: strings.Repeat("p", 200)},
		{Index: 3, Status: "failed", Errors: []schema.Issue{{Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "not a phone number"}}},
	} {
		got, want := recordSize(&r), len(appendRecord(nil, r))
		if (len(r.Errors) == 0 && got != want) || got < want {
			t.Errorf("%+v: recordSize %d, appendRecord %d bytes", r, got, want)
		}
	}
}

// TestHashTagsStay: the Redis store's hash tags are the start of a SHA-256
// of connection, kind and number or ref; histories written by one version
// are found by the next only while they stay these.
func TestHashTagsStay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    Customer
		want string
	}{
		{Customer{Connection: "nx-1", WhatsApp: "8615266667780"}, "bb4fb5d9594846fb484baabeac301283"},
		{Customer{Connection: "nx-1", Ref: "crm-7"}, "65805e9cad09606cdefeb367e9888ab1"},
		{Customer{Connection: "nx-1", WhatsApp: "8615266667780", Ref: "crm-7"}, "bb4fb5d9594846fb484baabeac301283"},
	} {
		if got := tt.c.hashTag(); got != tt.want {
			t.Errorf("%+v: hash tag %s, want %s", tt.c, got, tt.want)
		}
	}
}
