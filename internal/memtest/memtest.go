// Package memtest measures the heap for the tests that hold a memory
// figure (a reader that streams, a store's bytes an entry).
package memtest

import "runtime"

// HeapAlloc is the bytes of live heap objects after a full garbage
// collection: compared before and after some work, what the work keeps.
func HeapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
