package cairn

// Find and its cursor. A cursor reads at one snapshot taken by Find: later
// writes are not seen. Without a sort, documents stream from the library as
// the cursor advances; with one, the library collects and sorts the matches
// first.

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"unsafe"
)

// Sort directions for SortField.
const (
	Ascending  = 1
	Descending = -1
)

// SortField is one key of a sort: a field name (dotted paths allowed) and
// Ascending or Descending. A []SortField sorts by its fields in order.
type SortField struct {
	Field     string
	Direction int
}

// FindOptions shape the results of Find. The zero value (or a nil
// *FindOptions) returns every matching document in _id order.
type FindOptions struct {
	// Sort orders the results. Use a D of Asc and Desc pairs, which keeps
	// its order (a []SortField does too):
	//
	//	Sort: cairn.D{cairn.Desc("score"), cairn.Asc("name")}
	//
	// A single pair (cairn.Asc("age")) or a map of one key works. A map of
	// several keys is an error (ErrInvalidArgument): Go maps are unordered.
	// A []byte or json.RawMessage is sent as the JSON object it holds.
	Sort any
	// Skip is the number of matching documents to skip.
	Skip int64
	// Limit is the most documents to return; 0 means no limit.
	Limit int64
	// Projection keeps fields ({"name": 1}, plus _id unless "_id": 0) or
	// drops them ({"tags": 0}): a map, a D, a struct or JSON text. The
	// fields come back in the stored document's order, so a map of several
	// keys is fine here. Nil returns whole documents.
	Projection any
	// BatchSize is how many documents cross from the library per call; 0
	// lets it choose (64, doubling up to 4096). It changes no result.
	BatchSize int
}

// marshal returns the options as JSON, or nil for the defaults. The keys
// are written in a fixed order, and the sort keys in the order given.
func (o *FindOptions) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	if o.Sort != nil {
		js, err := orderedJSON("sort", o.Sort)
		if err != nil {
			return nil, err
		}
		obj.add("sort", js)
	}
	if o.Skip != 0 {
		obj.add("skip", strconv.AppendInt(nil, o.Skip, 10))
	}
	if o.Limit != 0 {
		obj.add("limit", strconv.AppendInt(nil, o.Limit, 10))
	}
	if o.Projection != nil {
		js, err := projectionJSON(o.Projection)
		if err != nil {
			return nil, err
		}
		obj.add("projection", js)
	}
	return obj.text(), nil
}

// orderedKeysJSON writes {"field": direction, ...} in the order given, for
// sorts and index keys.
func orderedKeysJSON(fields []SortField) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, err := json.Marshal(f.Field)
		if err != nil {
			return nil, err
		}
		buf.Write(name)
		buf.WriteByte(':')
		buf.WriteString(strconv.Itoa(f.Direction))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Find opens a cursor over the documents matching filter (nil: every
// document), shaped by opts. A filter is a map, a struct or anything else
// encoding/json turns into an object, or JSON text in a []byte or
// json.RawMessage. A missing collection gives an empty cursor. Close the
// cursor when done.
func (c *Collection) Find(filter any, opts *FindOptions) (*Cursor, error) {
	const op = "Collection.Find"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return nil, err
	}
	ojs, err := opts.marshal()
	if err != nil {
		return nil, argErr(op, "options: %v", err)
	}
	cur, err := c.find(op, fjs, ojs)
	if err == nil && opts != nil {
		if opts.BatchSize < 0 {
			_ = cur.Close()
			return nil, argErr(op, "BatchSize must not be negative")
		}
		cur.batchSize = opts.BatchSize
	}
	return cur, err
}

// find calls cairn_find with JSON text (nil filter or options for "{}").
func (c *Collection) find(op string, filterJSON, optionsJSON []byte) (*Cursor, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	o, on := charsArg(optionsJSON)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_find(h, n, nn, f, fn, o, on, &ch, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, c.db), nil
}

// newCursor wraps a cursor handle that cairn_find or cairn_aggregate
// opened on db (a database or a transaction).
func newCursor(h *C.cairn_cursor, db *DB) *Cursor {
	cur := &Cursor{h: h, db: db}
	runtime.SetFinalizer(cur, func(cur *Cursor) { _ = cur.Close() })
	return cur
}

// Cursor walks the documents Find or Aggregate returned. Use it from one
// goroutine at a time:
//
//	cur, err := coll.Find(map[string]any{"age": map[string]any{"$gte": 30}}, nil)
//	if err != nil {
//		return err
//	}
//	defer cur.Close()
//	for cur.Next() {
//		var u User
//		if err := cur.Decode(&u); err != nil {
//			return err
//		}
//	}
//	if err := cur.Err(); err != nil {
//		return err
//	}
//
// The cursor holds its snapshot until Close. If the database is closed
// first, Next returns false and Err reports ErrClosed.
type Cursor struct {
	h      *C.cairn_cursor
	db     *DB    // keeps the database (and its finalizer) away while reading
	doc    []byte // the current document, copied out of the library
	err    error
	closed bool
	// Set by FindContext and AggregateContext: the context that stops the
	// cursor, and the end of its watch.
	ctx       context.Context
	stopWatch func()
	// Documents cross from the library in batches
	// (cairn_cursor_next_batch): batch is the copied JSON array text,
	// lengths each document's length, next and pos the next document.
	batch     []byte
	lengths   []uint32
	next, pos int
	batchSize int
}

// Next advances to the next document and reports whether there is one. It
// returns false at the end and after an error; check Err then.
func (cur *Cursor) Next() bool {
	cur.doc = nil
	if cur.err == nil && cur.h == nil {
		cur.err = closedErr("Cursor.Next", "cursor was not opened with Collection.Find or Aggregate")
	}
	if cur.err != nil {
		return false
	}
	if cur.db.isClosed() {
		// Documents read ahead are not handed out once the database is closed.
		cur.err = closedErr("Cursor.Next", "database is closed")
		return false
	}
	if cur.next >= len(cur.lengths) && !cur.fill() {
		return false
	}
	// A slice of the batch's own copy (each batch is a new allocation).
	n := int(cur.lengths[cur.next])
	cur.doc = cur.batch[cur.pos : cur.pos+n : cur.pos+n]
	cur.pos += n + 1 // the ',' or ']' after each document
	cur.next++
	return true
}

// fill takes the next batch; false at the end or on an error (kept in err).
func (cur *Cursor) fill() bool {
	var js *C.char
	var lengths *C.uint32_t
	var n, count C.size_t
	var msg *C.char
	rc := C.cairn_cursor_next_batch(cur.h, C.size_t(cur.batchSize), 0, &js, &n, &lengths, &count, &msg)
	if int(rc) == statusDone {
		C.cairn_free(unsafe.Pointer(msg))
		runtime.KeepAlive(cur)
		return false
	}
	if err := statusErr("Cursor.Next", rc, msg); err != nil {
		if cur.ctx != nil {
			err = withContext(cur.ctx, err)
		}
		cur.err = err
		runtime.KeepAlive(cur)
		return false
	}
	// The text and lengths are borrowed until the next call on this
	// cursor: copy them now.
	cur.batch = copyOut(unsafe.Pointer(js), n)
	cur.lengths = append(cur.lengths[:0], unsafe.Slice((*uint32)(unsafe.Pointer(lengths)), int(count))...)
	cur.next, cur.pos = 0, 1 // the first document follows the '['
	runtime.KeepAlive(cur)
	return true
}

// Decode decodes the current document into v with encoding/json, as
// json.Unmarshal would, with the conversions of values.go: for a
// *map[string]any, an *any or a *D, numbers become json.Number (64-bit
// integers keep every digit), dates time.Time and binary data []byte; in a
// struct, time.Time and []byte fields take dates and binary data (as do
// DateTime and BinaryData fields). A decoding failure is returned as
// encoding/json reports it.
func (cur *Cursor) Decode(v any) error {
	if cur.closed {
		return closedErr("Cursor.Decode", "cursor is closed")
	}
	if cur.doc == nil {
		if cur.err != nil {
			return cur.err
		}
		return argErr("Cursor.Decode", "no current document: call Next first")
	}
	return decodeDocument("Cursor.Decode", cur.doc, v)
}

// decodeDocument decodes with encoding/json and the conversions of
// values.go (dates, binary data, numbers as json.Number).
func decodeDocument(op string, doc []byte, v any) error {
	if err := decodeInto(doc, v); err != nil {
		return fmt.Errorf("cairn: %s: %w", op, err)
	}
	return nil
}

// Raw returns the current document as JSON text: a copy the caller owns,
// which stays valid after Next. It is nil when Next has not returned true.
func (cur *Cursor) Raw() json.RawMessage {
	if cur.doc == nil {
		return nil
	}
	return append(json.RawMessage(nil), cur.doc...)
}

// Err returns the error that stopped the cursor, or nil if it ended
// normally.
func (cur *Cursor) Err() error { return cur.err }

// Close releases the cursor and its snapshot. It is idempotent; Next on a
// closed cursor returns false and Err reports ErrClosed, and Decode returns
// an error matching ErrClosed.
func (cur *Cursor) Close() error {
	if cur == nil {
		return nil
	}
	runtime.SetFinalizer(cur, nil)
	if cur.stopWatch != nil {
		cur.stopWatch()
		cur.stopWatch = nil
	}
	cur.doc = nil
	cur.batch, cur.lengths, cur.next = nil, nil, 0
	cur.closed = true
	rc := C.cairn_cursor_close(cur.h)
	runtime.KeepAlive(cur)
	return statusErr("Cursor.Close", rc, nil)
}

// All decodes every remaining document into out, a pointer to a slice
// (*[]User, *[]map[string]any, *[]cairn.D, ...), each as Decode decodes,
// appending to what the slice holds, and then closes the cursor. It returns
// the cursor's error, if any, or the first decoding error.
//
//	var users []User
//	err := cur.All(&users)
func (cur *Cursor) All(out any) error {
	defer cur.Close()
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return argErr("Cursor.All", "want a non-nil pointer to a slice, not %T", out)
	}
	slice := rv.Elem()
	elemType := slice.Type().Elem()
	for cur.Next() {
		elem := reflect.New(elemType)
		if err := decodeDocument("Cursor.All", cur.doc, elem.Interface()); err != nil {
			return err
		}
		slice.Set(reflect.Append(slice, elem.Elem()))
	}
	return cur.Err()
}
