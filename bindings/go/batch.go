package cairn

// Write batches: a Batch collects puts, deletes and range deletes that
// DB.Write applies atomically and durably. Operations apply in the order
// they were added. The batch is independent of any DB and may be written
// several times, to several databases.

/*
#include "cairn.h"
*/
import "C"

import (
	"runtime"
	"time"
)

// Batch is a write batch. Use it from one goroutine at a time, and Close it
// when done (DB.Update does both for you).
//
// The first operation that fails to be added (an empty or oversize key, a
// negative TTL) is remembered: Write then refuses the batch with that error
// instead of applying the rest, so a batch is never applied partially.
// Clear forgets it.
type Batch struct {
	h   *C.cairn_batch
	err error // the first failed add, or a failed cairn_batch_new
}

// NewBatch returns an empty batch.
func (db *DB) NewBatch() *Batch {
	b := &Batch{}
	if abiErr != nil {
		b.err = abiErr
		return b
	}
	var msg *C.char
	rc := C.cairn_batch_new(&b.h, &msg)
	if err := statusErr("NewBatch", rc, msg); err != nil {
		b.err = err
		return b
	}
	runtime.SetFinalizer(b, func(b *Batch) { _ = b.Close() })
	return b
}

// handle returns the C handle, or the error that prevented creating it.
func (b *Batch) handle(op string) (*C.cairn_batch, error) {
	if b == nil || b.h == nil {
		if b != nil && b.err != nil {
			return nil, b.err
		}
		return nil, closedErr(op, "batch was not created with DB.NewBatch")
	}
	return b.h, nil
}

// remember records the first failed add and returns err.
func (b *Batch) remember(err error) error {
	if err != nil && b.err == nil {
		b.err = err
	}
	return err
}

// Put adds a put of value under key.
func (b *Batch) Put(key, value []byte) error {
	return b.put("Batch.Put", key, value, 0)
}

// PutTTL adds a put that expires after ttl, converted as in DB.PutTTL.
func (b *Batch) PutTTL(key, value []byte, ttl time.Duration) error {
	return b.put("Batch.PutTTL", key, value, ttlMillis(ttl))
}

func (b *Batch) put(op string, key, value []byte, ttlMS int64) error {
	h, err := b.handle(op)
	if err != nil {
		return err
	}
	k, kn := bytesArg(key)
	v, vn := bytesArg(value)
	var msg *C.char
	rc := C.cairn_batch_put(h, k, kn, v, vn, C.int64_t(ttlMS), &msg)
	runtime.KeepAlive(b)
	return b.remember(statusErr(op, rc, msg))
}

// Delete adds a delete of key.
func (b *Batch) Delete(key []byte) error {
	h, err := b.handle("Batch.Delete")
	if err != nil {
		return err
	}
	k, kn := bytesArg(key)
	var msg *C.char
	rc := C.cairn_batch_delete(h, k, kn, &msg)
	runtime.KeepAlive(b)
	return b.remember(statusErr("Batch.Delete", rc, msg))
}

// DeleteRange adds a delete of every key k with start <= k < end.
func (b *Batch) DeleteRange(start, end []byte) error {
	h, err := b.handle("Batch.DeleteRange")
	if err != nil {
		return err
	}
	s, sn := bytesArg(start)
	e, en := bytesArg(end)
	var msg *C.char
	rc := C.cairn_batch_delete_range(h, s, sn, e, en, &msg)
	runtime.KeepAlive(b)
	return b.remember(statusErr("Batch.DeleteRange", rc, msg))
}

// Clear removes every operation (and a remembered failure), so the batch
// can be reused.
func (b *Batch) Clear() error {
	h, err := b.handle("Batch.Clear")
	if err != nil {
		return err
	}
	rc := C.cairn_batch_clear(h)
	runtime.KeepAlive(b)
	if err := statusErr("Batch.Clear", rc, nil); err != nil {
		return err
	}
	b.err = nil
	return nil
}

// Len returns the number of operations in the batch (0 for a closed batch).
func (b *Batch) Len() int {
	h, err := b.handle("Batch.Len")
	if err != nil {
		return 0
	}
	var n C.size_t
	rc := C.cairn_batch_count(h, &n)
	runtime.KeepAlive(b)
	if int(rc) != statusOK {
		return 0
	}
	return int(n)
}

// Close frees the batch. It is idempotent; using the batch afterwards
// returns an error matching ErrClosed.
func (b *Batch) Close() error {
	if b == nil || b.h == nil {
		return nil
	}
	runtime.SetFinalizer(b, nil)
	rc := C.cairn_batch_free(b.h)
	runtime.KeepAlive(b)
	return statusErr("Batch.Close", rc, nil)
}

// Write applies b to the database atomically and durably (per the sync
// option): afterwards, and after any crash, either every operation of the
// batch is applied or none is. The batch is left unchanged. An empty batch
// is a no-op.
func (db *DB) Write(b *Batch) error {
	return db.write("Write", b)
}

func (db *DB) write(op string, b *Batch) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	bh, err := b.handle(op)
	if err != nil {
		return err
	}
	if b.err != nil {
		return b.err
	}
	var msg *C.char
	rc := C.cairn_write(h, bh, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(b)
	return statusErr(op, rc, msg)
}

// Update runs fn with a new batch and, when fn returns nil, writes the
// batch atomically. When fn returns an error (or panics), nothing is
// written and that error (or panic) is passed on. The batch is closed when
// Update returns; fn must not keep it.
//
//	err := db.Update(func(b *cairn.Batch) error {
//		if err := b.Put([]byte("a"), []byte("1")); err != nil {
//			return err
//		}
//		return b.Delete([]byte("b"))
//	})
func (db *DB) Update(fn func(b *Batch) error) error {
	b := db.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		return err
	}
	return db.write("Update", b)
}
