package cairn

// Iterators walk keys in byte order over a consistent snapshot taken when
// the iterator is opened; later writes are not seen, and expired or deleted
// keys are skipped.

/*
#include "cairn.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// IterOptions select what an iterator walks. The zero value walks every key
// in ascending order.
type IterOptions struct {
	// Start and End bound the keys: Start <= k < End. An empty Start means
	// no lower bound, an empty End no upper bound.
	Start, End []byte
	// Prefix restricts the walk to keys beginning with Prefix. It cannot be
	// combined with Start or End.
	Prefix []byte
	// Reverse walks from the largest key to the smallest.
	Reverse bool
	// KeysOnly reads keys without their values: Value returns nil, and
	// values are neither read out nor copied.
	KeysOnly bool
	// BatchSize is how many items cross from the library per call; 0 lets
	// it choose (64, doubling up to 4096).
	BatchSize int
}

// Iterator walks keys in order. Use it from one goroutine at a time:
//
//	it, err := db.NewIterator(cairn.IterOptions{Prefix: []byte("user:")})
//	if err != nil {
//		return err
//	}
//	defer it.Close()
//	for it.Next() {
//		fmt.Printf("%s = %s\n", it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil {
//		return err
//	}
//
// The iterator holds its snapshot until Close. If the database is closed
// first, Next returns false and Err reports ErrClosed.
type Iterator struct {
	h   *C.cairn_iter
	db  *DB // keeps the database (and its finalizer) away while iterating
	key []byte
	val []byte
	err error
	// Items cross from the library in batches (cairn_iter_next_batch): one
	// cgo call and one copy for up to 4096 items. batch holds the copied
	// bytes, lengths each key's and value's length, and next the position
	// of the next item in both.
	batch     []byte
	lengths   []uint32
	next, pos int
	keysOnly  bool
	batchSize int
}

// NewIterator opens an iterator as described by opts.
func (db *DB) NewIterator(opts IterOptions) (*Iterator, error) {
	return db.openIterator("NewIterator", len(opts.Prefix) > 0, opts)
}

// openIterator opens an iterator with cairn_iter_open_prefix when usePrefix
// is set (even for an empty prefix), else with cairn_iter_open.
func (db *DB) openIterator(op string, usePrefix bool, opts IterOptions) (*Iterator, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	flags := C.int(0)
	if opts.Reverse {
		flags = C.CAIRN_ITER_REVERSE
	}
	var ih *C.cairn_iter
	var msg *C.char
	var rc C.int
	if usePrefix {
		if len(opts.Start) > 0 || len(opts.End) > 0 {
			return nil, argErr(op, "Prefix cannot be combined with Start or End")
		}
		p, pn := bytesArg(opts.Prefix)
		rc = C.cairn_iter_open_prefix(h, p, pn, flags, &ih, &msg)
	} else {
		s, sn := bytesArg(opts.Start)
		e, en := bytesArg(opts.End)
		rc = C.cairn_iter_open(h, s, sn, e, en, flags, &ih, &msg)
	}
	runtime.KeepAlive(db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	if opts.BatchSize < 0 {
		C.cairn_iter_close(ih)
		return nil, argErr(op, "BatchSize must not be negative")
	}
	it := &Iterator{h: ih, db: db, keysOnly: opts.KeysOnly, batchSize: opts.BatchSize}
	runtime.SetFinalizer(it, func(it *Iterator) { _ = it.Close() })
	return it, nil
}

// Next advances to the next item and reports whether there is one. It
// returns false at the end and after an error; check Err then.
func (it *Iterator) Next() bool {
	it.key, it.val = nil, nil
	if it.err == nil && it.h == nil {
		it.err = closedErr("Iterator.Next", "iterator was not opened with DB.NewIterator")
	}
	if it.err != nil {
		return false
	}
	if it.db.isClosed() {
		// Items read ahead are not handed out once the database is closed.
		it.err = closedErr("Iterator.Next", "database is closed")
		return false
	}
	if it.next >= len(it.lengths) && !it.fill() {
		return false
	}
	// Slices of the batch's own copy: each batch is a new allocation, so
	// they stay valid after Next, and their capacity ends where they do.
	kn := int(it.lengths[it.next])
	it.key = it.batch[it.pos : it.pos+kn : it.pos+kn]
	it.pos += kn
	it.next++
	if !it.keysOnly {
		vn := int(it.lengths[it.next])
		it.val = it.batch[it.pos : it.pos+vn : it.pos+vn]
		it.pos += vn
		it.next++
	}
	return true
}

// fill takes the next batch; false at the end or on an error (kept in err).
func (it *Iterator) fill() bool {
	var data *C.uint8_t
	var lengths *C.uint32_t
	var dn, count C.size_t
	var msg *C.char
	flags, pieces := C.int(0), 2
	if it.keysOnly {
		flags, pieces = C.CAIRN_BATCH_KEYS_ONLY, 1
	}
	rc := C.cairn_iter_next_batch(it.h, C.size_t(it.batchSize), 0, flags, &data, &dn, &lengths, &count, &msg)
	if int(rc) == statusDone {
		C.cairn_free(unsafe.Pointer(msg))
		runtime.KeepAlive(it)
		return false
	}
	if err := statusErr("Iterator.Next", rc, msg); err != nil {
		it.err = err
		runtime.KeepAlive(it)
		return false
	}
	// Both buffers are borrowed until the next call on this iterator: copy
	// them now.
	it.batch = copyOut(unsafe.Pointer(data), dn)
	it.lengths = append(it.lengths[:0], unsafe.Slice((*uint32)(unsafe.Pointer(lengths)), pieces*int(count))...)
	it.next, it.pos = 0, 0
	runtime.KeepAlive(it)
	return true
}

// Key returns the current key: a copy the caller owns, which stays valid
// after Next. It is nil when Next has not returned true.
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current value: a copy the caller owns, which stays
// valid after Next (an empty value is a non-nil empty slice). It is nil
// when Next has not returned true, and with IterOptions.KeysOnly.
func (it *Iterator) Value() []byte { return it.val }

// Seek repositions the iterator: going forward, the next item is the first
// key >= key; in reverse, the last key <= key. The bounds still apply. An
// error is also kept for Err, and stops the iteration.
func (it *Iterator) Seek(key []byte) error {
	it.key, it.val = nil, nil
	if it.err == nil && it.h == nil {
		it.err = closedErr("Iterator.Seek", "iterator was not opened with DB.NewIterator")
	}
	if it.err != nil {
		return it.err
	}
	it.lengths, it.next = it.lengths[:0], 0 // items read ahead are before the seek
	k, kn := bytesArg(key)
	var msg *C.char
	rc := C.cairn_iter_seek(it.h, k, kn, &msg)
	runtime.KeepAlive(it)
	if err := statusErr("Iterator.Seek", rc, msg); err != nil {
		it.err = err
		return err
	}
	return nil
}

// Err returns the error that stopped the iteration, or nil if it ended
// normally.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator and its snapshot. It is idempotent; Next on a
// closed iterator returns false and Err reports ErrClosed.
func (it *Iterator) Close() error {
	if it == nil {
		return nil
	}
	runtime.SetFinalizer(it, nil)
	it.key, it.val = nil, nil
	it.batch, it.lengths, it.next = nil, nil, 0
	rc := C.cairn_iter_close(it.h)
	runtime.KeepAlive(it)
	return statusErr("Iterator.Close", rc, nil)
}
