package cairn

// Argument and result conversion between Go and C.
//
// The cgo pointer rules shape everything here: a Go byte slice's data is
// passed to C only for the duration of one call (the library copies what it
// keeps), never stored in C memory; an empty slice crosses as NULL with
// length 0, as the header allows; and every buffer the library returns is
// copied into Go memory and then released with cairn_free.

/*
#include "cairn.h"
*/
import "C"

import "unsafe"

// bytesArg returns b as the (pointer, length) pair of the C interface.
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// charsArg is bytesArg for text parameters (JSON, durations).
func charsArg(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// cView returns a Go slice header over n bytes of C memory, without copying.
// The view is only valid while the C memory is; never keep it.
func cView(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}

// copyOut copies n bytes of C memory into a new Go slice. The result is
// never nil, so an empty value reads as []byte{} and not as "absent". It
// does not free p.
func copyOut(p unsafe.Pointer, n C.size_t) []byte {
	out := make([]byte, int(n))
	copy(out, cView(p, n))
	return out
}

// takeBytes copies a library-allocated buffer into Go memory and frees it.
func takeBytes(p *C.uint8_t, n C.size_t) []byte {
	defer C.cairn_free(unsafe.Pointer(p))
	return copyOut(unsafe.Pointer(p), n)
}
