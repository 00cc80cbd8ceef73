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

import (
	"bytes"
	"unsafe"
)

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

// takeChars is takeBytes for text the library returns (JSON, names).
func takeChars(p *C.char, n C.size_t) []byte {
	return takeBytes((*C.uint8_t)(unsafe.Pointer(p)), n)
}

// callJSON runs one C call that hands back text (JSON, a name, metrics)
// through an out-pointer and a length: it turns the call's status into an
// error, copies the text into Go memory and frees the library's buffer, on
// every path. The result is never nil on success. call passes its three
// arguments through to the C function and keeps its handle alive:
//
//	text, err := callJSON(op, func(out **C.char, n *C.size_t, msg **C.char) C.int {
//		defer runtime.KeepAlive(db)
//		return C.cairn_stats(h, out, n, msg)
//	})
func callJSON(op string, call func(out **C.char, n *C.size_t, msg **C.char) C.int) ([]byte, error) {
	var out *C.char
	var n C.size_t
	var msg *C.char
	rc := call(&out, &n, &msg)
	if err := statusErr(op, rc, msg); err != nil {
		C.cairn_free(unsafe.Pointer(out))
		return nil, err
	}
	return takeChars(out, n), nil
}

// jsonObject writes a JSON object field by field, in the order added, for
// options whose key order matters or whose values are JSON text already.
type jsonObject struct{ buf bytes.Buffer }

// add appends "key": value, where key needs no escaping and value is JSON
// text.
func (o *jsonObject) add(key string, value []byte) {
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	o.buf.WriteByte('"')
	o.buf.WriteString(key)
	o.buf.WriteString(`":`)
	o.buf.Write(value)
}

// text returns the object, or nil (the library's "{}") when it is empty.
func (o *jsonObject) text() []byte {
	if o.buf.Len() == 0 {
		return nil
	}
	return append(o.buf.Bytes(), '}')
}
