// Package cairn is the Go binding of Cairn, an embeddable multi-model
// database. It wraps libcairn.so through the C interface in include/cairn.h
// and adds Go idiom: errors are values that work with errors.Is, write
// batches and transactions run in closures (DB.Update, DB.Transaction),
// iterators follow the Next/Key/Value/Err/Close pattern, document
// collections take and return encoding/json values (DB.Collection), and
// every byte slice the package returns is a fresh copy owned by the caller.
//
//	db, err := cairn.Open("/var/lib/app/db", nil)
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	if err := db.Put([]byte("greeting"), []byte("hello")); err != nil {
//		return err
//	}
//	v, err := db.Get([]byte("greeting"))
//	if errors.Is(err, cairn.ErrNotFound) {
//		// absent or expired
//	}
//
// # Handles and lifetimes
//
// A DB, Batch, Iterator, Cursor or Tx owns a C handle. Close releases it; Close
// is idempotent, and any call after Close returns an error matching
// ErrClosed rather than crashing. A finalizer closes a handle that became unreachable
// without Close, but only as a backstop against leaks: the contract is that
// the caller closes what it opens.
//
// # Threads
//
// A *DB (and a *Collection of it) may be used from any number of goroutines
// at once. A *Batch, an *Iterator, a *Cursor or a *Tx (with the
// *Collections of a Tx) is used by one goroutine at a time (it may move between goroutines, and the goroutine may move between
// OS threads).
//
// # Processes
//
// A Go program cannot fork() and keep running Go code in the child, so a
// *DB never crosses into another process. (Through the C interface, a handle
// used after fork() fails in the child with an error matching
// ErrInvalidArgument and touches nothing; see include/cairn.h, FORK.)
//
// # Damage
//
// Open never opens a damaged database as an empty or smaller one: a missing
// or stale manifest, a missing log segment or a replaced table fails with an
// error matching ErrCorruption that names the file. Repair rebuilds what
// survives.
//
// # Building
//
// The package needs libcairn.so at link time and at run time; cairn.h
// travels inside the module (a copy of the repository's include/cairn.h).
// Inside the Cairn repository, plain `go build` and `go test ./...` link
// the repository's build/lib (cgo_repo.go; `make lib` builds it), with an
// rpath to it. Against an installed library (`cmake --install`), build with
// the tag cairn_pkgconfig, which links through `#cgo pkg-config: cairn`
// (cgo_pkgconfig.go); cairn.pc carries an rpath, so the program runs
// without LD_LIBRARY_PATH:
//
//	go build -tags cairn_pkgconfig
//
// See README.md in this directory.
package cairn

/*
#include <stdlib.h>
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// abiVersion is the CAIRN_ABI_VERSION this binding was written for.
const abiVersion = 1

// A compile-time check that the header we build against describes the ABI
// this binding was written for: the index is out of range otherwise.
var _ = [1]struct{}{}[C.CAIRN_ABI_VERSION-abiVersion]

// abiErr is non-nil when the loaded library implements another ABI version;
// Open, OpenJSON and ParseTTL then refuse to work.
var abiErr error

func init() {
	if v := int(C.cairn_abi_version()); v != abiVersion {
		abiErr = fmt.Errorf("cairn: the loaded libcairn implements ABI version %d, "+
			"but this Go binding was written for ABI version %d; "+
			"install a libcairn built from a matching cairn.h", v, abiVersion)
	}
}

// Version returns the version of the loaded library, such as "0.1.0".
func Version() string { return C.GoString(C.cairn_version()) }

// ABIVersion returns the ABI version the loaded library implements.
func ABIVersion() int { return int(C.cairn_abi_version()) }

// Options configure Open. The zero value (or a nil *Options) means the
// library's defaults; only the fields that are set are sent to the library.
type Options struct {
	// CreateIfMissing creates the directory and database when absent
	// (library default: true). When false, a missing database fails with
	// ErrNotFound.
	CreateIfMissing *bool
	// ErrorIfExists fails Open with ErrInvalidArgument if a database exists.
	ErrorIfExists bool
	// Sync is "always" (the default: an acknowledged write survives power
	// loss), "interval" (synced every sync_interval_ms) or "never" (flushing
	// is left to the OS).
	Sync string
	// MemtableSizeMB is the memtable size, 1..4096 MiB, at which it is
	// flushed to a table (library default 16). 0 means the default.
	MemtableSizeMB int
	// Compression is "lz4" (the default), "zstd" or "none". "" means the default.
	Compression string
	// ReadOnly opens without the directory lock, beside a writer in another
	// process (or on read-only files), as of now; writes fail with
	// ErrReadOnly.
	ReadOnly bool
	// Secondary opens as ReadOnly does, and DB.CatchUp follows the writer.
	Secondary bool
	// LockTimeout is how long to wait for the lock another handle holds
	// before failing with ErrBusy (0: fail at once).
	LockTimeout time.Duration
	// Extra holds raw option keys, sent as they are. They are applied after
	// the fields above and override them.
	Extra map[string]any
}

// Bool returns a pointer to b, for Options.CreateIfMissing.
func Bool(b bool) *bool { return &b }

// Int64 returns a pointer to v, for optional numbers such as
// IndexOptions.ExpireAfterSeconds.
func Int64(v int64) *int64 { return &v }

// marshal returns the options as JSON, or nil for the defaults.
func (o *Options) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	m := make(map[string]any)
	if o.CreateIfMissing != nil {
		m["create_if_missing"] = *o.CreateIfMissing
	}
	if o.ErrorIfExists {
		m["error_if_exists"] = true
	}
	if o.Sync != "" {
		m["sync"] = o.Sync
	}
	if o.MemtableSizeMB != 0 {
		m["memtable_size_mb"] = o.MemtableSizeMB
	}
	if o.Compression != "" {
		m["compression"] = o.Compression
	}
	if o.ReadOnly {
		m["read_only"] = true
	}
	if o.Secondary {
		m["secondary"] = true
	}
	if o.LockTimeout > 0 {
		m["lock_timeout_ms"] = o.LockTimeout.Milliseconds()
	}
	for k, v := range o.Extra {
		m[k] = v
	}
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}

// DB is an open database directory. It is safe for concurrent use by many
// goroutines. Close it when done.
type DB struct {
	h *C.cairn_db

	// parent is set when h is a transaction's handle (see Tx): the
	// database the transaction runs on, kept reachable while it is in use.
	parent *DB

	// closeMu serialises Close: the C library allows close to be called
	// again, but not to race with another close of the same handle.
	closeMu sync.Mutex

	// closed is set by Close, so that iterators and cursors stop handing
	// out the items they read ahead once the database is closed.
	closed atomic.Bool
}

// isClosed reports whether Close was called on this database or, for a
// transaction's handle, on the database it runs on.
func (db *DB) isClosed() bool {
	return db != nil && (db.closed.Load() || db.parent != nil && db.parent.closed.Load())
}

// Open opens (and by default creates) the database in directory path.
// A nil opts means the defaults. Only one process may have a directory open
// at a time; another process gets an error matching ErrBusy.
func Open(path string, opts *Options) (*DB, error) {
	js, err := opts.marshal()
	if err != nil {
		return nil, argErr("Open", "options: %v", err)
	}
	return open("Open", path, js)
}

// OpenJSON is Open with the options given as raw JSON text (nil or empty
// for the defaults), exactly as the C function cairn_open takes them.
func OpenJSON(path string, optionsJSON []byte) (*DB, error) {
	return open("OpenJSON", path, optionsJSON)
}

func open(op, path string, optionsJSON []byte) (*DB, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, argErr(op, "path contains a NUL byte")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	opt, optLen := charsArg(optionsJSON)
	var h *C.cairn_db
	var msg *C.char
	rc := C.cairn_open(cpath, opt, optLen, &h, &msg)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	db := &DB{h: h}
	runtime.SetFinalizer(db, func(db *DB) { _ = db.Close() })
	return db, nil
}

// handle returns the C handle, or an ErrClosed error for a DB that was never
// opened (a nil or zero DB). A closed DB keeps its handle: the library
// answers CAIRN_CLOSED for it.
func (db *DB) handle(op string) (*C.cairn_db, error) {
	if db == nil || db.h == nil {
		return nil, closedErr(op, "database is not open")
	}
	return db.h, nil
}

// Close stops background work, syncs the write-ahead log and releases the
// directory and every resource. It is idempotent: closing again returns
// nil. Iterators and cursors still open on the database report ErrClosed
// afterwards, and transactions still open are rolled back.
// An error means the final sync failed; the database is closed all the
// same.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	runtime.SetFinalizer(db, nil)
	db.closed.Store(true)
	var msg *C.char
	rc := C.cairn_close(db.h, &msg)
	runtime.KeepAlive(db)
	return statusErr("Close", rc, msg)
}
