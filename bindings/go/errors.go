package cairn

/*
#include "cairn.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Status codes of the C library (enum cairn_status in cairn.h). The numbers
// are stable; the library may add codes, which arrive as an *Error whose
// Code no sentinel matches.
const (
	statusOK              = int(C.CAIRN_OK)
	statusNotFound        = int(C.CAIRN_NOT_FOUND)
	statusInvalidArgument = int(C.CAIRN_INVALID_ARGUMENT)
	statusIOError         = int(C.CAIRN_IO_ERROR)
	statusCorruption      = int(C.CAIRN_CORRUPTION)
	statusBusy            = int(C.CAIRN_BUSY)
	statusClosed          = int(C.CAIRN_CLOSED)
	statusConflict        = int(C.CAIRN_CONFLICT)
	statusConstraint      = int(C.CAIRN_CONSTRAINT)
	statusSchema          = int(C.CAIRN_SCHEMA)
	statusNoSpace         = int(C.CAIRN_NO_SPACE)
	statusInternal        = int(C.CAIRN_INTERNAL)
	statusNoMemory        = int(C.CAIRN_NO_MEMORY)
	statusInterrupted     = int(C.CAIRN_INTERRUPTED)
	statusHistoryLost     = int(C.CAIRN_HISTORY_LOST)
	statusReadOnly        = int(C.CAIRN_READ_ONLY)
	statusDone            = int(C.CAIRN_DONE) // not an error: an iterator is exhausted
)

// Error is the error every failing call returns (except a library ABI
// mismatch). It carries the Go operation, the library's status code and
// name, and the library's message.
//
// Use errors.Is with the sentinels to test the kind:
//
//	if errors.Is(err, cairn.ErrNotFound) { ... }
//
// and errors.As to read the details.
type Error struct {
	Op      string // the Go method that failed, such as "Get" or "Batch.Put"
	Code    int    // the cairn_status number, such as 1
	Status  string // its symbolic name, such as "CAIRN_NOT_FOUND"
	Message string // the library's message naming the problem; may be empty
}

func (e *Error) Error() string {
	s := "cairn: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Status
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is an *Error with the same status code, so
// that errors.Is(err, cairn.ErrNotFound) holds for every not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors, one per status code, for use with errors.Is.
var (
	ErrNotFound        = sentinel(statusNotFound, "CAIRN_NOT_FOUND")               // key, document or object does not exist
	ErrInvalidArgument = sentinel(statusInvalidArgument, "CAIRN_INVALID_ARGUMENT") // bad input, bad option, size limit
	ErrIO              = sentinel(statusIOError, "CAIRN_IO_ERROR")                 // the OS reported an I/O failure
	ErrCorruption      = sentinel(statusCorruption, "CAIRN_CORRUPTION")            // a file failed a checksum or format check
	ErrBusy            = sentinel(statusBusy, "CAIRN_BUSY")                        // another process has the database open
	ErrClosed          = sentinel(statusClosed, "CAIRN_CLOSED")                    // the handle or its database was closed
	ErrConflict        = sentinel(statusConflict, "CAIRN_CONFLICT")                // a concurrent transaction wrote the same data
	ErrConstraint      = sentinel(statusConstraint, "CAIRN_CONSTRAINT")            // a unique constraint would be violated
	ErrSchema          = sentinel(statusSchema, "CAIRN_SCHEMA")                    // a document does not satisfy its schema
	ErrNoSpace         = sentinel(statusNoSpace, "CAIRN_NO_SPACE")                 // the disk or file system is full
	ErrInternal        = sentinel(statusInternal, "CAIRN_INTERNAL")                // a bug in Cairn: please report it
	ErrNoMemory        = sentinel(statusNoMemory, "CAIRN_NO_MEMORY")               // an allocation the input asked for failed
	ErrInterrupted     = sentinel(statusInterrupted, "CAIRN_INTERRUPTED")          // DB.Interrupt (or a context) stopped the call
	ErrHistoryLost     = sentinel(statusHistoryLost, "CAIRN_HISTORY_LOST")         // a watch's start is older than the change feed's history
	ErrReadOnly        = sentinel(statusReadOnly, "CAIRN_READ_ONLY")               // a write on a ReadOnly or Secondary database
)

func sentinel(code int, name string) *Error { return &Error{Code: code, Status: name} }

// statusName returns the library's name for a status code.
func statusName(code int) string { return C.GoString(C.cairn_status_name(C.int(code))) }

// statusErr turns a status and its optional message into an error (nil for
// CAIRN_OK). It always frees msg.
func statusErr(op string, rc C.int, msg *C.char) error {
	var text string
	if msg != nil {
		text = C.GoString(msg)
		C.cairn_free(unsafe.Pointer(msg))
	}
	if int(rc) == statusOK {
		return nil
	}
	return &Error{Op: op, Code: int(rc), Status: statusName(int(rc)), Message: text}
}

// argErr is an invalid-argument error raised by the binding itself, for
// input it cannot even hand to the library.
func argErr(op, format string, args ...any) error {
	return &Error{Op: op, Code: statusInvalidArgument, Status: statusName(statusInvalidArgument),
		Message: fmt.Sprintf(format, args...)}
}

// internalErr reports a library result the binding cannot decode.
func internalErr(op, format string, args ...any) error {
	return &Error{Op: op, Code: statusInternal, Status: statusName(statusInternal),
		Message: fmt.Sprintf(format, args...)}
}

// closedErr is returned for a handle that was never opened.
func closedErr(op, what string) error {
	return &Error{Op: op, Code: statusClosed, Status: statusName(statusClosed), Message: what}
}

// notFoundErr is a not-found error raised by the binding itself, such as
// FindOne's when no document matches.
func notFoundErr(op, what string) error {
	return &Error{Op: op, Code: statusNotFound, Status: statusName(statusNotFound), Message: what}
}

// statusCodes maps the names of the statuses this binding knows
// ("CAIRN_CONSTRAINT") to their codes, for errors the library reports by
// name (the per-document errors of InsertManyWithOptions).
var statusCodes = func() map[string]int {
	m := map[string]int{}
	for _, e := range []*Error{ErrNotFound, ErrInvalidArgument, ErrIO, ErrCorruption, ErrBusy,
		ErrClosed, ErrConflict, ErrConstraint, ErrSchema, ErrNoSpace, ErrInternal, ErrNoMemory, ErrInterrupted} {
		m[e.Status] = e.Code
	}
	return m
}()

// BulkWriteError is the error of Collection.InsertManyWithOptions and of
// Collection.BulkWrite when documents (models) failed. The documents in
// InsertedIDs stay inserted (none with Atomic). It unwraps to the first failure's *Error, so errors.Is and
// errors.As see that failure's status:
//
//	var bulk *cairn.BulkWriteError
//	if errors.As(err, &bulk) {
//		fmt.Println(bulk.InsertedIDs, bulk.Errors[0].Index)
//	}
//	if errors.Is(err, cairn.ErrConstraint) { ... } // the first failure is a duplicate
type BulkWriteError struct {
	InsertedIDs []any        // the _ids of the documents inserted, in order (decoded as InsertOne's)
	Errors      []WriteError // one per failed document (or model), in order; never empty
	// Result is, from Collection.BulkWrite, what the models that succeeded
	// did (nil from InsertManyWithOptions).
	Result *BulkWriteResult
}

// WriteError is one document that InsertManyWithOptions could not insert,
// or one model that BulkWrite could not apply (Index is then the model's).
type WriteError struct {
	Index int   // its position in the documents given
	Err   error // an *Error with its status and message; a status this binding does not know has Code -1
}

func (w WriteError) Error() string { return fmt.Sprintf("document %d: %v", w.Index, w.Err) }

// Unwrap returns the document's *Error.
func (w WriteError) Unwrap() error { return w.Err }

func (e *BulkWriteError) Error() string {
	if len(e.Errors) == 0 {
		return "cairn: bulk write failed"
	}
	return fmt.Sprintf("%v (at document %d; %d failed, %d inserted)",
		e.Errors[0].Err, e.Errors[0].Index, len(e.Errors), len(e.InsertedIDs))
}

// Unwrap returns the first failure's *Error.
func (e *BulkWriteError) Unwrap() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e.Errors[0].Err
}
