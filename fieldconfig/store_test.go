package fieldconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// jsonEqual compares two values by their JSON forms with keys sorted, and
// reports the difference readably.
func jsonEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := canonicalJSON(t, got), canonicalJSON(t, want)
	if g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func canonicalJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := json.MarshalIndent(generic, "", "  ") // maps marshal with sorted keys
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(out)
}

// testStore runs the Store contract against the stores newStore returns;
// each call gives an empty store of its own.
func testStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	cfgA := sampleConfig()
	cfgB := Config{Required: []string{"whatsapp"}, Tags: Tags{Strict: true, Known: []string{"Gold"}}}
	invalid := Config{Required: []string{"nickname"}}

	t.Run("get nothing stored", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Get(ctx, "acme"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})

	t.Run("seed stores version 1 once", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		before := time.Now().Add(-time.Second)
		v, err := s.Seed(ctx, "acme", cfgA)
		if err != nil {
			t.Fatal(err)
		}
		if v.Version != 1 || v.UpdatedAt.Before(before) || v.UpdatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("Seed = version %d at %v", v.Version, v.UpdatedAt)
		}
		jsonEqual(t, "seeded config", v.Config, cfgA)
		got, err := s.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "Get after Seed", got, v)
		// A second seed with another document changes nothing.
		again, err := s.Seed(ctx, "acme", cfgB)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "second Seed", again, v)
		got, _ = s.Get(ctx, "acme")
		jsonEqual(t, "Get after second Seed", got, v)
	})

	t.Run("seed never overwrites a newer version", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Seed(ctx, "acme", cfgA); err != nil {
			t.Fatal(err)
		}
		put, err := s.Put(ctx, "acme", cfgB, 1)
		if err != nil {
			t.Fatal(err)
		}
		seeded, err := s.Seed(ctx, "acme", cfgA)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, "Seed after Put", seeded, put)
	})

	t.Run("seed refuses an invalid document", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Seed(ctx, "acme", invalid); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "required[0]") {
			t.Fatalf("Seed(invalid) = %v, want ErrInvalid naming required[0]", err)
		}
		if _, err := s.Get(ctx, "acme"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after refused Seed = %v, want ErrNotFound", err)
		}
	})

	t.Run("put versions", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		steps := []struct {
			cfg       Config
			ifVersion int64
			want      int64 // 0: ErrVersionMismatch
		}{
			{cfgA, 1, 0}, // nothing stored: no version is current
			{cfgA, 0, 1}, // unconditional on nothing stored
			{cfgB, 0, 2},
			{cfgA, 2, 3},
			{cfgB, 2, 0}, // stale If-Match
			{cfgB, 4, 0}, // a version that does not exist yet
			{cfgB, 3, 4},
		}
		var last Versioned
		for i, st := range steps {
			v, err := s.Put(ctx, "acme", st.cfg, st.ifVersion)
			if st.want == 0 {
				if !errors.Is(err, ErrVersionMismatch) {
					t.Fatalf("step %d: Put(ifVersion %d) = %v, want ErrVersionMismatch", i, st.ifVersion, err)
				}
			} else {
				if err != nil {
					t.Fatalf("step %d: Put(ifVersion %d): %v", i, st.ifVersion, err)
				}
				if v.Version != st.want {
					t.Fatalf("step %d: version %d, want %d", i, v.Version, st.want)
				}
				if v.UpdatedAt.Before(last.UpdatedAt) {
					t.Errorf("step %d: updated_at went back: %v < %v", i, v.UpdatedAt, last.UpdatedAt)
				}
				jsonEqual(t, fmt.Sprintf("step %d config", i), v.Config, st.cfg)
				last = v
			}
			got, err := s.Get(ctx, "acme")
			if last.Version == 0 {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("step %d: Get = %v, want ErrNotFound", i, err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, fmt.Sprintf("step %d: Get", i), got, last)
		}
	})

	t.Run("put refuses an invalid document whole", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want, err := s.Seed(ctx, "acme", cfgA)
		if err != nil {
			t.Fatal(err)
		}
		bad := cfgA
		bad.CustomFields = append([]CustomField{{Name: "New", Type: TypeText}}, CustomField{Name: "Broken", Type: "colour"})
		for _, ifv := range []int64{0, 1} {
			if _, err := s.Put(ctx, "acme", bad, ifv); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "custom_fields[1].type") {
				t.Fatalf("Put(invalid, %d) = %v, want ErrInvalid naming custom_fields[1].type", ifv, err)
			}
		}
		got, _ := s.Get(ctx, "acme")
		jsonEqual(t, "Get after refused Put", got, want)
	})

	t.Run("connections are separate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Put(ctx, "a", cfgA, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "a", cfgA, 0); err != nil {
			t.Fatal(err)
		}
		b, err := s.Seed(ctx, "b", cfgB)
		if err != nil || b.Version != 1 {
			t.Fatalf("Seed(b) = %d, %v", b.Version, err)
		}
		if vl, ok := s.(VersionLister); ok {
			got, err := vl.Versions(ctx, []string{"a", "b", "c"})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"a": 2, "b": 1}; !reflect.DeepEqual(got, want) {
				t.Errorf("Versions = %v, want %v", got, want)
			}
		}
	})

	t.Run("documents are copies", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		cfg := sampleConfig()
		if _, err := s.Put(ctx, "acme", cfg, 0); err != nil {
			t.Fatal(err)
		}
		cfg.CustomFields[0].Options[0] = "changed by the caller"
		got, _ := s.Get(ctx, "acme")
		got.Config.Required[0] = "changed by a reader"
		again, _ := s.Get(ctx, "acme")
		jsonEqual(t, "stored config", again.Config, sampleConfig())
	})

	t.Run("conditional puts race: one wins", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		if _, err := s.Seed(ctx, "acme", cfgA); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				cfg := cfgB
				cfg.Tags.Known = []string{fmt.Sprint("writer-", i)}
				_, errs[i] = s.Put(ctx, "acme", cfg, 1)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrVersionMismatch):
				t.Errorf("Put: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d conditional Puts on version 1 succeeded, want exactly 1", won)
		}
		if got, _ := s.Get(ctx, "acme"); got.Version != 2 {
			t.Errorf("version %d after the race, want 2", got.Version)
		}
	})

	t.Run("unconditional puts race: every one counts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		versions := make([]int64, n)
		for i := range n {
			wg.Go(func() {
				v, err := s.Put(ctx, "acme", cfgB, 0)
				if err != nil {
					t.Errorf("Put: %v", err)
				}
				versions[i] = v.Version
			})
		}
		wg.Wait()
		sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
		for i, v := range versions {
			if v != int64(i+1) {
				t.Fatalf("versions handed out %v, want 1..%d each once", versions, n)
			}
		}
	})
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	testStore(t, func(*testing.T) Store { return NewMemory() })
}

func TestMemoryHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := NewMemory()
	if _, err := s.Put(ctx, "a", Config{}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Put on a cancelled context = %v", err)
	}
	if _, err := s.Seed(ctx, "a", Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Seed on a cancelled context = %v", err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get on a cancelled context = %v", err)
	}
}

// The JSON form of Versioned is the GET answer of the contract; the sample
// document of gateway.md §4 round-trips through it unchanged.
func TestVersionedJSONGolden(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile("testdata/field-config-get.json")
	if err != nil {
		t.Fatal(err)
	}
	var v Versioned
	dec := json.NewDecoder(strings.NewReader(string(golden)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	if v.Version != 3 || !v.UpdatedAt.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) {
		t.Errorf("version %d, updated_at %v", v.Version, v.UpdatedAt)
	}
	if err := v.Config.Validate(); err != nil {
		t.Errorf("sample config invalid: %v", err)
	}
	f, ok := MustCompile(v.Config).Field("Faction")
	if !ok || f.Key() != "customize_1_14" || f.Format != "" || f.MaxLength != 64 {
		t.Errorf("Faction = %+v", f)
	}
	var want any
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "re-encoded GET answer", v, want)
}
