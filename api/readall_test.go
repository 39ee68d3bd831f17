package api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads what io.ReadAll reads, whatever the announced size says.
func TestReadAllIsReadAll(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	for _, size := range []int64{-1, 0, 1, 9999, 10000, 10001, 50000} {
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(body) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
			"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(body)) },
		} {
			got, err := readAll(r(), size)
			if err != nil || string(got) != body {
				t.Errorf("size %d, %s reader: %d bytes, %v; want the %d bytes of the body", size, name, len(got), err, len(body))
			}
		}
	}
	boom := errors.New("boom")
	got, err := readAll(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 10)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Errorf("a failing reader: %q, %v; want \"abc\" and its error", got, err)
	}
}
