package cairn

// Transactions. A transaction reads one snapshot of the whole database
// (key-value entries and the documents of every collection), sees its own
// writes, and commits them all at once in one write-ahead log record.
// Isolation is snapshot isolation: when another writer committed a change
// to a key or document the transaction also writes after it began, Commit
// fails with ErrConflict and writes nothing.
//
// The library hands out a transaction as a cairn_db handle that the
// key-value and document functions accept in place of the database's. Tx
// wraps that handle in a *DB of its own, so that every DB and Collection
// method below runs unchanged inside the transaction.

/*
#include "cairn.h"
*/
import "C"

import (
	"errors"
	"math/rand"
	"runtime"
	"time"
)

// TxOptions configure BeginTx. The zero value begins a read-write
// transaction.
type TxOptions struct {
	// ReadOnly makes every write in the transaction fail with
	// ErrInvalidArgument.
	ReadOnly bool
}

// Tx is a transaction. Begin it with DB.Begin or DB.BeginTx and end it
// with Commit or Rollback, or let DB.Transaction do both:
//
//	tx, err := db.Begin()
//	if err != nil {
//		return err
//	}
//	defer tx.Rollback() // does nothing after Commit
//	if err := tx.Put([]byte("a"), []byte("1")); err != nil {
//		return err
//	}
//	if _, err := tx.Collection("users").UpdateOne(filter, update, nil); err != nil {
//		return err
//	}
//	return tx.Commit() // errors.Is(err, cairn.ErrConflict): run it again
//
// Its methods, and those of the collections from Tx.Collection (and of
// their cursors), read the transaction's snapshot and its own writes. Only
// these calls run in a transaction: Put, PutTTL, Get, Delete, GetMany,
// CreateCollection, ListCollections, and the collection methods from
// InsertOne to Explain; the others (Collection.Drop, Rename, Stats, and the
// index methods) fail with ErrInvalidArgument. After Commit or Rollback,
// every call fails with ErrClosed.
//
// A Tx is used by one goroutine at a time. Closing its database rolls it
// back.
type Tx struct {
	db *DB // the transaction's handle, with parent set
}

// Begin begins a read-write transaction at a snapshot taken now.
func (db *DB) Begin() (*Tx, error) {
	return db.begin("Begin", TxOptions{})
}

// BeginTx begins a transaction, configured by opts, at a snapshot taken
// now.
func (db *DB) BeginTx(opts TxOptions) (*Tx, error) {
	return db.begin("BeginTx", opts)
}

func (db *DB) begin(op string, opts TxOptions) (*Tx, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	flags := C.int(0)
	if opts.ReadOnly {
		flags |= C.CAIRN_TXN_READ_ONLY
	}
	var th *C.cairn_db
	var msg *C.char
	rc := C.cairn_txn_begin(h, flags, &th, &msg)
	runtime.KeepAlive(db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	// The finalizer sits on the inner *DB, which the Tx, its collections
	// and their cursors all reference: the transaction is rolled back only
	// when none of them is reachable any more.
	inner := &DB{h: th, parent: db}
	runtime.SetFinalizer(inner, func(inner *DB) { _ = rollback(inner) })
	return &Tx{db: inner}, nil
}

// Transaction runs fn in a new read-write transaction and commits it when
// fn returns nil. When fn returns an error (or panics), the transaction is
// rolled back and that error (or panic) is passed on. fn must not keep tx
// or its collections after it returns.
//
// A commit that fails with an error matching ErrConflict wrote nothing;
// Transaction does not retry. RunTransaction does.
func (db *DB) Transaction(fn func(tx *Tx) error) error {
	tx, err := db.begin("Transaction", TxOptions{})
	if err != nil {
		return err
	}
	defer tx.Rollback() // after a panic or a failure; nothing after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// inner returns the transaction's *DB, or an ErrClosed error for a Tx that
// was never begun.
func (tx *Tx) inner(op string) (*DB, error) {
	if tx == nil || tx.db == nil {
		return nil, closedErr(op, "transaction was not begun with DB.Begin")
	}
	return tx.db, nil
}

// Commit writes the transaction's writes atomically and durably (per the
// database's sync mode) and ends the transaction, whatever it returns. An
// error matching ErrConflict means another writer changed data this
// transaction wrote after it began: nothing was written, so run the whole
// transaction again. Commit after the end returns an error matching
// ErrClosed.
func (tx *Tx) Commit() error {
	db, err := tx.inner("Tx.Commit")
	if err != nil {
		return err
	}
	runtime.SetFinalizer(db, nil)
	var msg *C.char
	rc := C.cairn_txn_commit(db.h, &msg)
	runtime.KeepAlive(db)
	return statusErr("Tx.Commit", rc, msg)
}

// Rollback discards the transaction's writes and ends it. It is
// idempotent, and does nothing after Commit, so it may be deferred.
func (tx *Tx) Rollback() error {
	db, err := tx.inner("Tx.Rollback")
	if err != nil {
		return err
	}
	runtime.SetFinalizer(db, nil)
	return rollback(db)
}

func rollback(db *DB) error {
	rc := C.cairn_txn_rollback(db.h)
	runtime.KeepAlive(db)
	return statusErr("Tx.Rollback", rc, nil)
}

// Put stores value under key in the transaction, as DB.Put does.
func (tx *Tx) Put(key, value []byte) error {
	db, err := tx.inner("Tx.Put")
	if err != nil {
		return err
	}
	return db.put("Tx.Put", key, value, 0)
}

// PutTTL is Put with an expiry, as DB.PutTTL.
func (tx *Tx) PutTTL(key, value []byte, ttl time.Duration) error {
	db, err := tx.inner("Tx.PutTTL")
	if err != nil {
		return err
	}
	return db.put("Tx.PutTTL", key, value, ttlMillis(ttl))
}

// Get reads key in the transaction's snapshot, seeing its own writes, as
// DB.Get does.
func (tx *Tx) Get(key []byte) ([]byte, error) {
	db, err := tx.inner("Tx.Get")
	if err != nil {
		return nil, err
	}
	return db.get("Tx.Get", key)
}

// PutIfAbsent stores value under key in the transaction only when the key
// is absent there, as DB.PutIfAbsent does.
func (tx *Tx) PutIfAbsent(key, value []byte, ttl time.Duration) (bool, error) {
	db, err := tx.inner("Tx.PutIfAbsent")
	if err != nil {
		return false, err
	}
	return db.putIfAbsent("Tx.PutIfAbsent", key, value, ttl)
}

// TTL returns how long key has left in the transaction's view, as DB.TTL
// does; a key the transaction wrote with a TTL reports that whole TTL,
// which counts from the commit.
func (tx *Tx) TTL(key []byte) (time.Duration, error) {
	db, err := tx.inner("Tx.TTL")
	if err != nil {
		return 0, err
	}
	return db.ttl("Tx.TTL", key)
}

// Touch gives key a new TTL in the transaction, counted from its commit,
// as DB.Touch does.
func (tx *Tx) Touch(key []byte, ttl time.Duration) error {
	db, err := tx.inner("Tx.Touch")
	if err != nil {
		return err
	}
	return db.touch("Tx.Touch", key, ttl)
}

// Delete removes key in the transaction, as DB.Delete does.
func (tx *Tx) Delete(key []byte) error {
	db, err := tx.inner("Tx.Delete")
	if err != nil {
		return err
	}
	return db.delete("Tx.Delete", key)
}

// GetMany reads keys in the transaction's snapshot, seeing its own writes,
// as DB.GetMany does.
func (tx *Tx) GetMany(keys [][]byte) ([][]byte, error) {
	db, err := tx.inner("Tx.GetMany")
	if err != nil {
		return nil, err
	}
	return db.getMany("Tx.GetMany", keys)
}

// Collection returns the collection called name as seen by the
// transaction: its methods run inside the transaction (see Tx for which
// do). Use it, and its cursors, from the transaction's goroutine, and not
// after the transaction ends.
func (tx *Tx) Collection(name string) *Collection {
	if tx == nil {
		return &Collection{name: name}
	}
	return &Collection{db: tx.db, name: name}
}

// CreateCollection creates a collection in the transaction, as
// DB.CreateCollection does.
func (tx *Tx) CreateCollection(name string, opts *CollectionOptions) error {
	db, err := tx.inner("Tx.CreateCollection")
	if err != nil {
		return err
	}
	js, err := opts.marshal()
	if err != nil {
		return argErr("Tx.CreateCollection", "options: %v", err)
	}
	return db.createCollectionJSON("Tx.CreateCollection", name, js)
}

// ListCollections lists the collections the transaction sees, as
// DB.ListCollections does.
func (tx *Tx) ListCollections() ([]string, error) {
	db, err := tx.inner("Tx.ListCollections")
	if err != nil {
		return nil, err
	}
	return db.listCollections("Tx.ListCollections")
}

// RunTransaction runs fn in a transaction as Transaction does, and runs it
// again from the start, up to maxRetries more times, while it fails with an
// error matching ErrConflict (a concurrent write of the same data), as
// MongoDB drivers' WithTransaction does. Between attempts it sleeps 1ms,
// doubling each time up to 250ms, times a random factor in [0.5, 1) so
// that contending writers spread out. It returns nil once a commit
// succeeds, the last conflict after maxRetries retries, and any other error
// at once. fn may run several times: keep effects outside the database out
// of it.
//
//	err := db.RunTransaction(func(tx *cairn.Tx) error {
//		_, err := tx.Collection("accounts").UpdateOne(cairn.D{{Key: "_id", Value: "ann"}},
//			map[string]any{"$inc": map[string]any{"balance": -5}}, nil)
//		return err
//	}, 10)
func (db *DB) RunTransaction(fn func(tx *Tx) error, maxRetries int) error {
	delay := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := db.Transaction(fn)
		if err == nil || !errors.Is(err, ErrConflict) || attempt >= maxRetries {
			return err
		}
		time.Sleep(time.Duration(float64(delay) * (0.5 + rand.Float64()/2)))
		if delay *= 2; delay > 250*time.Millisecond {
			delay = 250 * time.Millisecond
		}
	}
}
