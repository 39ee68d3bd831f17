package jobs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"crmgate/schema"
)

// spill holds one in-process job's chunks, their inputs and their results,
// encoded, in a temporary file, so that the process keeps a few bytes a
// chunk and never a job's rows: a job of a million rows holds its cells,
// records and results on disk (in the page cache), not in the heap. The
// file is unlinked as soon as it is created (where the system allows it),
// so that it is gone when the spill is closed or the process ends, even
// killed. It is safe for concurrent use: writes append, reads read what an
// earlier write returned.
type spill struct {
	f    *os.File
	name string // still to remove on close ("" once unlinked)

	mu   sync.Mutex
	size int64
}

// span is where one write lies in a spill.
type span struct {
	off int64
	n   int
}

func newSpill(dir string) (*spill, error) {
	f, err := os.CreateTemp(dir, "crmgate-job-")
	if err != nil {
		return nil, fmt.Errorf("jobs.newSpill: %w", err)
	}
	s := &spill{f: f}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name() // an open file cannot be removed here: on close
	}
	return s, nil
}

// write appends b and returns where it lies.
func (s *spill) write(b []byte) (span, error) {
	s.mu.Lock()
	off := s.size
	s.size += int64(len(b))
	s.mu.Unlock()
	if _, err := s.f.WriteAt(b, off); err != nil {
		return span{}, fmt.Errorf("jobs: writing a job's chunk to its temporary file: %w", err)
	}
	return span{off: off, n: len(b)}, nil
}

// read returns the bytes of sp.
func (s *spill) read(sp span) ([]byte, error) {
	b := make([]byte, sp.n)
	if _, err := s.f.ReadAt(b, sp.off); err != nil {
		return nil, fmt.Errorf("jobs: reading a job's chunk from its temporary file: %w", err)
	}
	return b, nil
}

// close releases the file; later reads fail.
func (s *spill) close() {
	_ = s.f.Close()
	if s.name != "" {
		_ = os.Remove(s.name)
	}
}

// appendItems encodes a chunk's items for a spill: the count, then per
// item its index, row, record, cells, ref, phone and errors (as JSON),
// numbers as uvarints and bytes behind their length. A chunk is written
// once and read back each time it is sent or its rows are listed, so the
// encoding is the cheapest both ways, not JSON.
func appendItems(dst []byte, items []Item) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for i := range items {
		it := &items[i]
		dst = binary.AppendUvarint(dst, uint64(it.Index))
		dst = binary.AppendUvarint(dst, uint64(it.Row))
		dst = appendField(dst, it.Record)
		dst = binary.AppendUvarint(dst, uint64(len(it.Cells)))
		for _, c := range it.Cells {
			dst = appendField(dst, c)
		}
		dst = appendField(dst, it.Ref)
		dst = appendField(dst, it.Phone)
		var errs []byte
		if len(it.Errors) > 0 {
			errs, _ = json.Marshal(it.Errors) // issues are strings: they always marshal
		}
		dst = appendField(dst, errs)
	}
	return dst
}

func appendField[T ~[]byte | ~string](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

var errBadChunk = errors.New("jobs: a job's temporary file holds a broken chunk")

// decodeItems reads what appendItems wrote; the records share b. With
// cells set the items have their cells (for the report and a retry), and
// all their strings share one copy of b; without, their cells are left
// out (sending a chunk does not read them) and only their refs and phones
// are copied.
func decodeItems(b []byte, cells bool) ([]Item, error) {
	d := itemDecoder{b: b, shared: cells}
	if cells {
		d.s = string(b)
	}
	n := d.uint()
	if d.err != nil || n > uint64(len(b)) {
		return nil, errBadChunk
	}
	items := make([]Item, n)
	for i := range items {
		it := &items[i]
		it.Index, it.Row = int(d.uint()), int(d.uint())
		if rec := d.bytes(); len(rec) > 0 {
			it.Record = rec
		}
		switch n := d.uint(); {
		case n > uint64(len(b)):
			return nil, errBadChunk
		case n > 0 && cells:
			it.Cells = make([]string, n)
			for k := range it.Cells {
				it.Cells[k] = d.string()
			}
		default:
			for range n {
				d.span()
			}
		}
		it.Ref, it.Phone = d.string(), d.string()
		if errs := d.bytes(); len(errs) > 0 && d.err == nil {
			var issues []schema.Issue
			if json.Unmarshal(errs, &issues) != nil {
				return nil, errBadChunk
			}
			it.Errors = issues
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	return items, nil
}

type itemDecoder struct {
	b      []byte
	s      string // b as a string, for the substrings, when shared
	shared bool
	at     int
	err    error
}

func (d *itemDecoder) uint() uint64 {
	v, n := binary.Uvarint(d.b[d.at:])
	if n <= 0 {
		d.err = errBadChunk
		return 0
	}
	d.at += n
	return v
}

func (d *itemDecoder) span() (int, int) {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)-d.at) {
		d.err = errBadChunk
		return d.at, d.at
	}
	start := d.at
	d.at += int(n)
	return start, d.at
}

func (d *itemDecoder) bytes() []byte {
	i, j := d.span()
	return d.b[i:j:j]
}

func (d *itemDecoder) string() string {
	i, j := d.span()
	if d.shared {
		return d.s[i:j]
	}
	return string(d.b[i:j])
}
