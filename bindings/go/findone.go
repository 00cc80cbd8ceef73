package cairn

// Single-document reads and the atomic find-and-update: FindOne, FindByID
// and FindOneAndUpdate return a *SingleResult, which holds one document
// (copied out of the library) or the error that prevented reading it, so
// that a call and its decoding chain:
//
//	var u User
//	err := users.FindOne(map[string]any{"name": "ann"}, nil).Decode(&u)
//	if errors.Is(err, cairn.ErrNotFound) { ... }
//
// Distinct is here too: one call, one JSON array back.

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"unsafe"
)

// SingleResult is the document FindOne, FindByID or FindOneAndUpdate
// returned, or the error that prevented it (an error matching ErrNotFound
// when no document matched).
type SingleResult struct {
	op  string
	doc []byte // JSON text owned by Go; nil after an error
	err error
}

// Err returns the error of the call, or nil if a document (or JSON null)
// came back.
func (r *SingleResult) Err() error { return r.err }

// Decode decodes the document into v as Cursor.Decode does (numbers become
// json.Number in a *map[string]any or an *any), or returns the call's error
// and leaves v unchanged. JSON null (FindOneAndUpdate with ReturnBefore
// after an upsert) sets a map, slice or pointer to nil and leaves a struct
// unchanged.
func (r *SingleResult) Decode(v any) error {
	if r.err != nil {
		return r.err
	}
	return decodeDocument(r.op+".Decode", r.doc, v)
}

// Raw returns the document as JSON text: a copy the caller owns. It is
// "null" where Decode describes JSON null.
func (r *SingleResult) Raw() (json.RawMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	return append(json.RawMessage(nil), r.doc...), nil
}

// FindOne returns the first document that Find(filter, opts) would return,
// or an error matching ErrNotFound (from Decode or Err) when none matches.
func (c *Collection) FindOne(filter any, opts *FindOptions) *SingleResult {
	const op = "Collection.FindOne"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	ojs, err := opts.marshal()
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "options: %v", err)}
	}
	return c.findOne(op, fjs, ojs)
}

// findOne calls cairn_find_one with JSON text (nil filter or options for
// "{}").
func (c *Collection) findOne(op string, filterJSON, optionsJSON []byte) *SingleResult {
	h, err := c.handle(op)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	o, on := charsArg(optionsJSON)
	var js *C.char
	var jn C.size_t
	var msg *C.char
	rc := C.cairn_find_one(h, n, nn, f, fn, o, on, &js, &jn, &msg)
	runtime.KeepAlive(c.db)
	return singleResult(op, rc, js, jn, msg)
}

// FindByID returns the document whose primary key (normally _id) equals
// id, in one point read, or an error matching ErrNotFound. id is any value
// encoding/json can write (a []byte or json.RawMessage is JSON text), such
// as an _id that InsertOne returned.
func (c *Collection) FindByID(id any) *SingleResult {
	const op = "Collection.FindByID"
	ijs, err := marshalJSON(id)
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "id: %v", err)}
	}
	return c.findByID(op, ijs)
}

// findByID calls cairn_find_by_id with the id as JSON text.
func (c *Collection) findByID(op string, idJSON []byte) *SingleResult {
	h, err := c.handle(op)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	n, nn := charsArg([]byte(c.name))
	i, in := charsArg(idJSON)
	var js *C.char
	var jn C.size_t
	var msg *C.char
	rc := C.cairn_find_by_id(h, n, nn, i, in, &js, &jn, &msg)
	runtime.KeepAlive(c.db)
	return singleResult(op, rc, js, jn, msg)
}

// ReturnDocument selects the document FindOneAndUpdate returns.
type ReturnDocument int

const (
	ReturnBefore ReturnDocument = iota // the document as it was before the update (the default)
	ReturnAfter                        // the document as the update left it
)

// FindOneAndUpdateOptions configure FindOneAndUpdate. The zero value
// updates the first match in primary key order and returns it as it was
// before the update.
type FindOneAndUpdateOptions struct {
	// Sort picks the first match, as FindOptions.Sort does.
	Sort any
	// Projection shapes the returned document, as FindOptions.Projection
	// does.
	Projection map[string]int
	// Upsert inserts a document when nothing matches, as
	// UpdateOptions.Upsert does.
	Upsert bool
	// ReturnDocument is ReturnBefore or ReturnAfter.
	ReturnDocument ReturnDocument
}

// marshal returns the options as JSON, or nil for the defaults.
func (o FindOneAndUpdateOptions) marshal() ([]byte, error) {
	var obj jsonObject
	if o.Sort != nil {
		js, err := sortJSON(o.Sort)
		if err != nil {
			return nil, err
		}
		obj.add("sort", js)
	}
	if len(o.Projection) > 0 {
		js, err := json.Marshal(o.Projection)
		if err != nil {
			return nil, err
		}
		obj.add("projection", js)
	}
	if o.Upsert {
		obj.add("upsert", []byte("true"))
	}
	switch o.ReturnDocument {
	case ReturnBefore:
	case ReturnAfter:
		obj.add("return_document", []byte(`"after"`))
	default:
		return nil, fmt.Errorf("ReturnDocument %d is neither ReturnBefore nor ReturnAfter", int(o.ReturnDocument))
	}
	return obj.text(), nil
}

// FindOneAndUpdate atomically finds the first document matching filter
// (nil: every document), applies update (operators such as {"$inc": ...})
// and returns the document as it was before the update or, with
// ReturnAfter, as the update left it. When nothing matches and nothing is
// upserted, the result's error matches ErrNotFound. After an upsert with
// ReturnBefore there was no document before: the result is JSON null (see
// SingleResult.Decode).
//
//	var counter struct{ N int64 `json:"n"` }
//	err := counters.FindOneAndUpdate(map[string]any{"_id": "visits"},
//		map[string]any{"$inc": map[string]any{"n": 1}},
//		cairn.FindOneAndUpdateOptions{Upsert: true, ReturnDocument: cairn.ReturnAfter}).Decode(&counter)
func (c *Collection) FindOneAndUpdate(filter, update any, opts FindOneAndUpdateOptions) *SingleResult {
	const op = "Collection.FindOneAndUpdate"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	ujs, err := marshalJSON(update)
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "update: %v", err)}
	}
	ojs, err := opts.marshal()
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "options: %v", err)}
	}
	return c.findOneAndUpdate(op, fjs, ujs, ojs)
}

// findOneAndUpdate calls cairn_find_one_and_update with JSON text (nil
// filter or options for "{}").
func (c *Collection) findOneAndUpdate(op string, filterJSON, updateJSON, optionsJSON []byte) *SingleResult {
	h, err := c.handle(op)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	u, un := charsArg(updateJSON)
	o, on := charsArg(optionsJSON)
	var js *C.char
	var jn C.size_t
	var msg *C.char
	rc := C.cairn_find_one_and_update(h, n, nn, f, fn, u, un, o, on, &js, &jn, &msg)
	runtime.KeepAlive(c.db)
	return singleResult(op, rc, js, jn, msg)
}

// singleResult turns the outcome of a call returning one document into a
// *SingleResult, freeing the library's buffers.
func singleResult(op string, rc C.int, js *C.char, jn C.size_t, msg *C.char) *SingleResult {
	if err := statusErr(op, rc, msg); err != nil {
		C.cairn_free(unsafe.Pointer(js))
		return &SingleResult{op: op, err: err}
	}
	if js == nil {
		return &SingleResult{op: op, err: internalErr(op, "library returned no document")}
	}
	return &SingleResult{op: op, doc: takeChars(js, jn)}
}

// Distinct returns the distinct values of field (a dotted path) among the
// documents matching filter (nil: every document), in sort order. An array
// field contributes each of its elements; documents without the field
// contribute nothing. Values are decoded as InsertOne's _id is (numbers as
// json.Number). The result is empty (not nil) when there are none.
func (c *Collection) Distinct(field string, filter any) ([]any, error) {
	const op = "Collection.Distinct"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return nil, err
	}
	return c.distinct(op, field, fjs)
}

// distinct calls cairn_distinct with the filter as JSON text (nil for "{}").
func (c *Collection) distinct(op, field string, filterJSON []byte) ([]any, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	fd, fdn := charsArg([]byte(field))
	f, fn := charsArg(filterJSON)
	var js *C.char
	var jn C.size_t
	var msg *C.char
	rc := C.cairn_distinct(h, n, nn, fd, fdn, f, fn, &js, &jn, &msg)
	runtime.KeepAlive(c.db)
	defer C.cairn_free(unsafe.Pointer(js))
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	text := cView(unsafe.Pointer(js), jn)
	v, err := decodeValue(text)
	values, isArray := v.([]any)
	if err != nil || !isArray {
		return nil, internalErr(op, "library returned malformed values %q (%v)", text, err)
	}
	return values, nil
}
