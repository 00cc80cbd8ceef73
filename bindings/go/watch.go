package cairn

// Change feeds: DB.Watch opens a ChangeStream (cairn_watch_open), whose
// Next(ctx) returns the next event, waiting until one comes or ctx is done.
// include/cairn.h ("Change feeds") describes the events and the options.

/*
#include "cairn.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"time"
)

// ResumeToken is an event's "_id": the sequence of its commit and its
// position inside the commit. Pass it as WatchOptions.ResumeAfter to
// continue after that event.
type ResumeToken struct {
	Seq uint64 `json:"seq"`
	Pos uint32 `json:"pos"`
}

// WatchOptions choose what a ChangeStream follows (at most one of
// Collection, KeyPrefix and AllCollections; none: every change) and from
// where (at most one of ResumeAfter, StartAtSequence and StartAtTime;
// none: from now on).
type WatchOptions struct {
	Collection     string // the changes of this collection
	KeyPrefix      []byte // the key-value changes of keys with this prefix
	AllCollections bool   // the changes of every collection
	// Filter selects events in MongoDB's language over the event document,
	// as $match on a change stream: a map, a D, a struct or JSON text.
	Filter any
	// FullDocument is "default" (or ""), "updateLookup", "whenAvailable" or
	// "required"; FullDocumentBeforeChange "off" (or ""), "whenAvailable"
	// or "required".
	FullDocument             string
	FullDocumentBeforeChange string
	ResumeAfter              *ResumeToken
	StartAtSequence          uint64    // the first commit at this sequence or later
	StartAtTime              time.Time // the first commit at this time or later
}

// ChangeEvent is one committed change. Raw holds the whole event as JSON
// (Extended JSON for dates and bytes); the common fields are decoded.
type ChangeEvent struct {
	ID            ResumeToken `json:"_id"`
	OperationType string      `json:"operationType"`
	Seq           uint64      `json:"seq"`
	TxnID         uint64      `json:"txnId"`
	TxnEvents     int         `json:"txnEvents"`
	WallTime      DateTime    `json:"wallTime"`
	NS            struct {
		Coll string `json:"coll"`
		KV   bool   `json:"kv"`
	} `json:"ns"`
	DocumentKey              json.RawMessage `json:"documentKey"`
	UpdateDescription        json.RawMessage `json:"updateDescription"`
	FullDocument             json.RawMessage `json:"fullDocument"`
	FullDocumentBeforeChange json.RawMessage `json:"fullDocumentBeforeChange"`
	Key                      *BinaryData     `json:"key"`
	Value                    *BinaryData     `json:"value"`
	TTLMillis                int64           `json:"ttlMillis"`
	Start                    *BinaryData     `json:"start"`
	End                      *BinaryData     `json:"end"`
	Raw                      json.RawMessage `json:"-"`
}

// ChangeStream follows the change feed of a database opened with the
// "change_feed" option. Next is called from one goroutine at a time; Close
// may come from any goroutine and ends a waiting Next with ErrClosed.
type ChangeStream struct {
	mu     sync.Mutex // serialises Next
	closeM sync.Mutex
	h      *C.cairn_watch
	db     *DB
	last   *ResumeToken
}

// The targets of cairn_watch_open, as Go ints (for watchJSONKind).
const (
	watchAll         = int(C.CAIRN_WATCH_ALL)
	watchCollections = int(C.CAIRN_WATCH_COLLECTIONS)
	watchCollection  = int(C.CAIRN_WATCH_COLLECTION)
	watchKeyPrefix   = int(C.CAIRN_WATCH_KEY_PREFIX)
)

// watchJSONKind is watchJSON with a Go int target kind (tests cannot use cgo).
func (db *DB) watchJSONKind(op string, kind int, target, optionsJSON []byte) (*ChangeStream, error) {
	return db.watchJSON(op, C.int(kind), target, optionsJSON)
}

// watchSlice is the longest one library call waits, so that a done
// context ends Next promptly.
const watchSlice = 100 * time.Millisecond

// Watch opens a change stream (nil opts: every change, from now on).
func (db *DB) Watch(opts *WatchOptions) (*ChangeStream, error) {
	const op = "Watch"
	if opts == nil {
		opts = &WatchOptions{}
	}
	kind, target := C.int(C.CAIRN_WATCH_ALL), []byte(nil)
	targets := 0
	if opts.Collection != "" {
		kind, target = C.CAIRN_WATCH_COLLECTION, []byte(opts.Collection)
		targets++
	}
	if opts.KeyPrefix != nil {
		kind, target = C.CAIRN_WATCH_KEY_PREFIX, opts.KeyPrefix
		targets++
	}
	if opts.AllCollections {
		kind = C.CAIRN_WATCH_COLLECTIONS
		targets++
	}
	if targets > 1 {
		return nil, argErr(op, "give at most one of Collection, KeyPrefix and AllCollections")
	}
	var obj jsonObject
	if opts.Filter != nil {
		js, err := filterArg(op, opts.Filter)
		if err != nil {
			return nil, err
		}
		obj.add("filter", js)
	}
	addString := func(key, value string) {
		if value != "" {
			js, _ := json.Marshal(value)
			obj.add(key, js)
		}
	}
	addString("fullDocument", opts.FullDocument)
	addString("fullDocumentBeforeChange", opts.FullDocumentBeforeChange)
	if opts.ResumeAfter != nil {
		js, _ := json.Marshal(opts.ResumeAfter)
		obj.add("resumeAfter", js)
	}
	if opts.StartAtSequence != 0 {
		js, _ := json.Marshal(opts.StartAtSequence)
		obj.add("startAtOperationTime", js)
	}
	if !opts.StartAtTime.IsZero() {
		js, err := Date(opts.StartAtTime).MarshalJSON()
		if err != nil {
			return nil, argErr(op, "StartAtTime: %v", err)
		}
		obj.add("startAtOperationTime", js)
	}
	return db.watchJSON(op, kind, target, obj.text())
}

// watchJSON calls cairn_watch_open with the options as JSON text (nil for
// "{}"); the conformance runner passes the cases' text through it as it is.
func (db *DB) watchJSON(op string, kind C.int, target, optionsJSON []byte) (*ChangeStream, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	t, tn := bytesArg(target)
	o, on := charsArg(optionsJSON)
	var wh *C.cairn_watch
	var msg *C.char
	rc := C.cairn_watch_open(h, kind, t, tn, o, on, &wh, &msg)
	runtime.KeepAlive(target)
	runtime.KeepAlive(optionsJSON)
	runtime.KeepAlive(db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	s := &ChangeStream{h: wh, db: db}
	runtime.SetFinalizer(s, func(s *ChangeStream) { _ = s.Close() })
	return s, nil
}

// Next returns the next event, waiting until one comes, the stream is
// closed (ErrClosed) or ctx is done (ctx.Err()). An error matching
// ErrHistoryLost means the history the stream needs was trimmed.
func (s *ChangeStream) Next(ctx context.Context) (*ChangeEvent, error) {
	const op = "ChangeStream.Next"
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wait := watchSlice
		if deadline, ok := ctx.Deadline(); ok {
			if left := time.Until(deadline); left < wait {
				wait = left
			}
		}
		event, err := s.poll(op, wait)
		if event != nil || err != nil {
			return event, err
		}
	}
}

// poll makes one cairn_watch_next call waiting up to wait: the event, or
// nil and nil when none came (CAIRN_DONE). REQUIRES: s.mu.
func (s *ChangeStream) poll(op string, wait time.Duration) (*ChangeEvent, error) {
	s.closeM.Lock()
	h := s.h
	s.closeM.Unlock()
	if h == nil {
		return nil, closedErr(op, "the change stream is closed")
	}
	if wait < 0 {
		wait = 0
	}
	var js *C.char
	var n C.size_t
	var msg *C.char
	rc := C.cairn_watch_next(h, C.int(wait/time.Millisecond), &js, &n, &msg)
	if int(rc) == statusDone {
		return nil, statusErr(op, C.int(statusOK), msg)
	}
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	raw := takeChars(js, n)
	event := &ChangeEvent{}
	if err := json.Unmarshal(raw, event); err != nil {
		return nil, internalErr(op, "cannot decode the event: %v", err)
	}
	event.Raw = raw
	token := event.ID
	s.last = &token
	return event, nil
}

// ResumeToken returns the _id of the last event Next returned, or nil.
func (s *ChangeStream) ResumeToken() *ResumeToken { return s.last }

// Close closes the stream; a Next waiting in another goroutine returns
// ErrClosed. Idempotent.
func (s *ChangeStream) Close() error {
	s.closeM.Lock()
	h := s.h
	s.h = nil
	s.closeM.Unlock()
	if h != nil {
		runtime.SetFinalizer(s, nil)
		C.cairn_watch_close(h)
	}
	return nil
}
