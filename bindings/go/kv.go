package cairn

// Key-value operations on a DB. Keys are 1 to 65536 bytes and values 0 to
// 256 MiB, both binary-safe; larger input fails with ErrInvalidArgument and
// writes nothing.

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Put stores value under key, replacing any previous value. With the
// default sync mode, the write is on stable storage when Put returns.
func (db *DB) Put(key, value []byte) error {
	return db.put("Put", key, value, 0)
}

// PutTTL is Put with an expiry: after ttl the key reads as absent (and is
// eventually purged). The library counts whole milliseconds; ttl is rounded
// up to the next millisecond, so that a positive TTL never becomes 0. A ttl
// of 0 means no expiry, as with Put; a negative ttl fails with
// ErrInvalidArgument. Use ParseTTL for strings such as "30s" or "2d".
func (db *DB) PutTTL(key, value []byte, ttl time.Duration) error {
	return db.put("PutTTL", key, value, ttlMillis(ttl))
}

// ttlMillis converts a duration to milliseconds, rounding away from zero.
func ttlMillis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if rem := d % time.Millisecond; rem > 0 {
		ms++
	} else if rem < 0 {
		ms--
	}
	return ms
}

func (db *DB) put(op string, key, value []byte, ttlMS int64) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	k, kn := bytesArg(key)
	v, vn := bytesArg(value)
	var msg *C.char
	rc := C.cairn_put(h, k, kn, v, vn, C.int64_t(ttlMS), &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// Get returns a copy of the value stored under key, or an error matching
// ErrNotFound when the key is absent or expired. An empty value is returned
// as a non-nil empty slice.
func (db *DB) Get(key []byte) ([]byte, error) {
	return db.get("Get", key)
}

func (db *DB) get(op string, key []byte) ([]byte, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	// cairn_get_into copies the value straight into Go memory: a buffer
	// from the pool, then one copy of the right size. A miss allocates
	// nothing in the library, not even a message.
	bufp := getBuffers.Get().(*[]byte)
	defer getBuffers.Put(bufp)
	k, kn := bytesArg(key)
	for {
		buf := *bufp
		var vn C.size_t
		var msg *C.char
		rc := C.cairn_get_into(h, k, kn, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &vn, &msg)
		runtime.KeepAlive(db)
		if int(rc) == statusNotFound {
			C.cairn_free(unsafe.Pointer(msg))
			return nil, notFoundErr(op, "key not found")
		}
		if err := statusErr(op, rc, msg); err != nil {
			return nil, err
		}
		n := int(vn)
		if n <= len(buf) {
			out := make([]byte, n)
			copy(out, buf[:n])
			return out, nil
		}
		// Too small: grow (a pool buffer up to 1 MiB, else one of its own)
		// and ask again, as the value may have changed meanwhile.
		grown := make([]byte, n)
		if n <= 1<<20 {
			*bufp = grown
		} else {
			bufp = &grown
		}
	}
}

// getBuffers are the buffers Get reads values into before copying them out.
var getBuffers = sync.Pool{New: func() any {
	b := make([]byte, 4096)
	return &b
}}

// PutIfAbsent stores value under key only when the key is absent or
// expired, and reports whether it stored it; of two callers racing on one
// key, exactly one stores. A ttl of 0 means no expiry, as with Put; a
// positive one as with PutTTL.
func (db *DB) PutIfAbsent(key, value []byte, ttl time.Duration) (bool, error) {
	return db.putIfAbsent("PutIfAbsent", key, value, ttl)
}

func (db *DB) putIfAbsent(op string, key, value []byte, ttl time.Duration) (bool, error) {
	h, err := db.handle(op)
	if err != nil {
		return false, err
	}
	k, kn := bytesArg(key)
	v, vn := bytesArg(value)
	var stored C.int
	var msg *C.char
	rc := C.cairn_put_if_absent(h, k, kn, v, vn, C.int64_t(ttlMillis(ttl)), &stored, &msg)
	runtime.KeepAlive(db)
	if err := statusErr(op, rc, msg); err != nil {
		return false, err
	}
	return stored != 0, nil
}

// TTL returns how long key has left before it expires, or 0 for a key that
// never expires; an error matching ErrNotFound when it is absent or
// expired. The library counts milliseconds.
func (db *DB) TTL(key []byte) (time.Duration, error) {
	return db.ttl("TTL", key)
}

func (db *DB) ttl(op string, key []byte) (time.Duration, error) {
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	k, kn := bytesArg(key)
	var ms C.int64_t
	var msg *C.char
	rc := C.cairn_get_ttl(h, k, kn, &ms, &msg)
	runtime.KeepAlive(db)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Touch gives key a new TTL counted from now without sending its value
// again (a sliding session's expiry); a ttl of 0 makes it never expire. An
// error matching ErrNotFound, and nothing written, when the key is absent
// or expired.
func (db *DB) Touch(key []byte, ttl time.Duration) error {
	return db.touch("Touch", key, ttl)
}

func (db *DB) touch(op string, key []byte, ttl time.Duration) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	k, kn := bytesArg(key)
	var msg *C.char
	rc := C.cairn_touch(h, k, kn, C.int64_t(ttlMillis(ttl)), &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// Delete removes key. Deleting an absent key is not an error.
func (db *DB) Delete(key []byte) error {
	return db.delete("Delete", key)
}

func (db *DB) delete(op string, key []byte) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	k, kn := bytesArg(key)
	var msg *C.char
	rc := C.cairn_delete(h, k, kn, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// DeleteRange removes every key k with start <= k < end, atomically. Both
// bounds must be valid keys; an empty range (start >= end) deletes nothing.
func (db *DB) DeleteRange(start, end []byte) error {
	h, err := db.handle("DeleteRange")
	if err != nil {
		return err
	}
	s, sn := bytesArg(start)
	e, en := bytesArg(end)
	var msg *C.char
	rc := C.cairn_delete_range(h, s, sn, e, en, &msg)
	runtime.KeepAlive(db)
	return statusErr("DeleteRange", rc, msg)
}

// GetMany reads keys at one consistent point in time. The result has one
// entry per key, in request order: a copy of the value, or nil for an
// absent or expired key (an empty value is a non-nil empty slice). At least
// one key is required.
func (db *DB) GetMany(keys [][]byte) ([][]byte, error) {
	return db.getMany("GetMany", keys)
}

func (db *DB) getMany(op string, keys [][]byte) ([][]byte, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	packed, err := packList(keys)
	if err != nil {
		return nil, argErr(op, "%v", err)
	}
	k, kn := bytesArg(packed)
	var v *C.uint8_t
	var vn C.size_t
	var msg *C.char
	rc := C.cairn_get_many(h, k, kn, &v, &vn, &msg)
	runtime.KeepAlive(db)
	defer C.cairn_free(unsafe.Pointer(v))
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	values, err := unpackList(cView(unsafe.Pointer(v), vn), true)
	if err != nil {
		return nil, internalErr(op, "library result: %v", err)
	}
	if len(values) != len(keys) {
		return nil, internalErr(op, "library returned %d values for %d keys", len(values), len(keys))
	}
	return values, nil
}

// KeysOptions filter and page DB.Keys. The zero value lists every key.
// The filters are compared as UTF-8 bytes and must be valid UTF-8.
type KeysOptions struct {
	Prefix   string // keys must start with this
	Suffix   string // keys must end with this
	Contains string // keys must contain this
	Offset   int    // keys to skip after filtering
	Limit    int    // most keys to return; 0 means no limit
}

func (o KeysOptions) marshal() ([]byte, error) {
	m := make(map[string]any)
	if o.Prefix != "" {
		m["prefix"] = o.Prefix
	}
	if o.Suffix != "" {
		m["suffix"] = o.Suffix
	}
	if o.Contains != "" {
		m["contains"] = o.Contains
	}
	if o.Offset != 0 {
		m["offset"] = o.Offset
	}
	if o.Limit != 0 {
		m["limit"] = o.Limit
	}
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}

// Keys lists keys in ascending byte order, filtered and paged by opts.
// Expired keys are not listed. The result is empty (not an error) when no
// key matches.
func (db *DB) Keys(opts KeysOptions) ([][]byte, error) {
	js, err := opts.marshal()
	if err != nil {
		return nil, argErr("Keys", "options: %v", err)
	}
	return db.keysJSON("Keys", js)
}

// keysJSON calls cairn_keys with raw JSON options (nil for "{}").
func (db *DB) keysJSON(op string, optionsJSON []byte) ([][]byte, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	o, on := charsArg(optionsJSON)
	var k *C.uint8_t
	var kn, count C.size_t
	var msg *C.char
	rc := C.cairn_keys(h, o, on, &k, &kn, &count, &msg)
	runtime.KeepAlive(db)
	defer C.cairn_free(unsafe.Pointer(k))
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	keys, err := unpackList(cView(unsafe.Pointer(k), kn), false)
	if err != nil {
		return nil, internalErr(op, "library result: %v", err)
	}
	if len(keys) != int(count) {
		return nil, internalErr(op, "library reported %d keys but returned %d", int(count), len(keys))
	}
	if keys == nil {
		keys = [][]byte{}
	}
	return keys, nil
}
