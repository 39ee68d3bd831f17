package jobs

import "hash/fnv"

// Dedupe finds the rows of one job whose normalised WhatsApp number
// repeats an earlier row's (duplicate_in_job). It is not safe for
// concurrent use.
//
// It keeps one 8-byte key and a 4-byte row per distinct number, in a Go
// map, never the numbers themselves. A number of at most 18 digits (every
// E.164 number: 15 at most) is its own key, exactly; anything longer or
// not digits is keyed by its 63-bit FNV-1a hash, so that two such strings
// can collide, with a probability of about n²/2⁶⁴ for n of them. For
// 1 048 576 distinct numbers (the default max_job_rows) the map holds
// 2 097 152 slots of 16 bytes (key, row, padding) and their control bytes:
// about 36 MiB, 36 bytes per number (TestDedupeMemory measures it and
// fails above 48 MiB).
type Dedupe struct {
	first map[uint64]int32
}

// NewDedupe returns an empty set sized for about n numbers (0 when
// unknown).
func NewDedupe(n int) *Dedupe {
	return &Dedupe{first: make(map[uint64]int32, n)}
}

// See records that row (any int32 the caller numbers rows by: the
// spreadsheet row, or the data row's index) has number, normalised
// (schema.NormalizePhoneIn). It returns the row recorded first for the
// same number and true when there was one; the first row is kept, so
// every later repeat names it. An empty number is never a duplicate and is
// not recorded.
func (d *Dedupe) See(number string, row int) (first int, dup bool) {
	if number == "" {
		return 0, false
	}
	k := dedupeKey(number)
	if f, ok := d.first[k]; ok {
		return int(f), true
	}
	d.first[k] = int32(row)
	return 0, false
}

// Len is how many distinct numbers have been recorded.
func (d *Dedupe) Len() int { return len(d.first) }

// dedupeKey is the number itself, behind a leading 1 (to keep leading
// zeros) for up to 18 digits; 1 followed by 18 nines is below 2⁶³.
// Other strings have the top bit set and a hash below it.
func dedupeKey(s string) uint64 {
	if len(s) <= 18 {
		k := uint64(1)
		digits := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				digits = false
				break
			}
			k = k*10 + uint64(c-'0')
		}
		if digits {
			return k
		}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64() | 1<<63
}
