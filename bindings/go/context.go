package cairn

// Interrupting long calls: DB.Interrupt (cairn_interrupt) and the
// context.Context variants of every call that can run long. Cancelling the
// context (or passing its deadline) interrupts the call; it then returns an
// error matching both ctx.Err() (errors.Is(err, context.Canceled)) and
// ErrInterrupted.
//
// cairn_interrupt stops every operation running on the database at that
// moment, as sqlite3_interrupt does, not only the cancelled call: other
// goroutines' queries on the same database then return ErrInterrupted too.

/*
#include "cairn.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// Interrupt stops every call running on the database now, from any
// goroutine: queries and open cursors, aggregations, iterators, an index
// build CreateIndex waits for (the index is removed), manual compactions.
// Each returns an error matching ErrInterrupted, having written nothing
// half-way. Calls started afterwards are not affected. On a transaction's
// DB it interrupts the database the transaction runs on.
func (db *DB) Interrupt() error {
	const op = "DB.Interrupt"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	rc := C.cairn_interrupt(h)
	runtime.KeepAlive(db)
	return statusErr(op, rc, nil)
}

// watch interrupts db once ctx is done, until stop is called. It keeps
// interrupting every few milliseconds meanwhile: an interrupt that lands
// just before the call starts would otherwise be missed.
func (db *DB) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	finished := make(chan struct{})
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		ticker := time.NewTicker(5 * time.Millisecond)
		defer ticker.Stop()
		for {
			_ = db.Interrupt()
			select {
			case <-finished:
				return
			case <-ticker.C:
			}
		}
	}()
	return func() { close(finished) }
}

// contextError is the error of a call its context interrupted.
type contextError struct {
	ctx error // ctx.Err()
	err error // the library's ErrInterrupted
}

func (e *contextError) Error() string        { return e.err.Error() + " (" + e.ctx.Error() + ")" }
func (e *contextError) Unwrap() error        { return e.ctx }
func (e *contextError) Is(target error) bool { return errors.Is(e.err, target) }

// withContext reports an interruption caused by ctx as ctx's error.
func withContext(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, ErrInterrupted) {
		return &contextError{ctx: ctx.Err(), err: err}
	}
	return err
}

// runContext runs call under ctx: not at all when ctx is already done,
// interrupted when it ends meanwhile.
func runContext[T any](ctx context.Context, db *DB, call func() (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	stop := db.watch(ctx)
	defer stop()
	value, err := call()
	return value, withContext(ctx, err)
}

// FindContext is Find, stopped when ctx is done: while it runs and while
// its cursor is read (Next then returns false, and Err matches ctx.Err()).
func (c *Collection) FindContext(ctx context.Context, filter any, opts *FindOptions) (*Cursor, error) {
	return cursorContext(ctx, c, func() (*Cursor, error) { return c.Find(filter, opts) })
}

// AggregateContext is Aggregate, stopped when ctx is done, as FindContext.
func (c *Collection) AggregateContext(ctx context.Context, pipeline any) (*Cursor, error) {
	return cursorContext(ctx, c, func() (*Cursor, error) { return c.Aggregate(pipeline) })
}

func cursorContext(ctx context.Context, c *Collection, open func() (*Cursor, error)) (*Cursor, error) {
	if c == nil || c.db == nil {
		return open() // reports the misuse
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := c.db.watch(ctx)
	cur, err := open()
	if err != nil {
		stop()
		return nil, withContext(ctx, err)
	}
	cur.ctx, cur.stopWatch = ctx, stop
	return cur, nil
}

// CountContext is Count, stopped when ctx is done.
func (c *Collection) CountContext(ctx context.Context, filter any) (int64, error) {
	return runContext(ctx, c.dbOrNil(), func() (int64, error) { return c.Count(filter) })
}

// CountDocumentsContext is CountDocuments, stopped when ctx is done.
func (c *Collection) CountDocumentsContext(ctx context.Context, filter any, opts *CountOptions) (int64, error) {
	return runContext(ctx, c.dbOrNil(), func() (int64, error) { return c.CountDocuments(filter, opts) })
}

// DistinctContext is Distinct, stopped when ctx is done.
func (c *Collection) DistinctContext(ctx context.Context, field string, filter any) ([]any, error) {
	return runContext(ctx, c.dbOrNil(), func() ([]any, error) { return c.Distinct(field, filter) })
}

// CreateIndexContext is CreateIndex, stopped when ctx is done (the index
// being built is then removed).
func (c *Collection) CreateIndexContext(ctx context.Context, keys []IndexKey, opts IndexOptions) (string, error) {
	return runContext(ctx, c.dbOrNil(), func() (string, error) { return c.CreateIndex(keys, opts) })
}

// CompactRangeContext is CompactRange, stopped between two compactions when
// ctx is done (each compaction installed is whole).
func (db *DB) CompactRangeContext(ctx context.Context, start, end []byte) error {
	_, err := runContext(ctx, db, func() (struct{}, error) { return struct{}{}, db.CompactRange(start, end) })
	return err
}

// dbOrNil is the collection's database, or nil for a zero Collection
// (whose calls report the misuse themselves).
func (c *Collection) dbOrNil() *DB {
	if c == nil {
		return nil
	}
	return c.db
}
