package cairn

// Single-document reads and the atomic find-and-modify calls: FindOne,
// FindByID, FindOneAndUpdate, FindOneAndReplace and FindOneAndDelete
// return a *SingleResult, which holds one document
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
)

// SingleResult is the document FindOne, FindByID, FindOneAndUpdate,
// FindOneAndReplace or FindOneAndDelete returned, or the error that
// prevented it (an error matching ErrNotFound when no document matched).
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
// and leaves v unchanged. JSON null (FindOneAndUpdate or
// FindOneAndReplace with ReturnBefore after an upsert) sets a map, slice
// or pointer to nil and leaves a struct unchanged.
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
	return singleResult(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_find_one(h, n, nn, f, fn, o, on, out, outLen, msg)
	})
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
	return singleResult(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_find_by_id(h, n, nn, i, in, out, outLen, msg)
	})
}

// ReturnDocument selects the document FindOneAndUpdate and
// FindOneAndReplace return.
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
	Projection any
	// Upsert inserts a document when nothing matches, as
	// UpdateOptions.Upsert does.
	Upsert bool
	// ReturnDocument is ReturnBefore or ReturnAfter.
	ReturnDocument ReturnDocument
	// ArrayFilters select the array elements that the update changes
	// through "$[<identifier>]", as UpdateOptions.ArrayFilters do.
	ArrayFilters []any
}

// marshal returns the options as JSON, or nil for the defaults.
func (o FindOneAndUpdateOptions) marshal() ([]byte, error) {
	var obj jsonObject
	if err := addFindAndModify(&obj, o.Sort, o.Projection, o.Upsert, o.ReturnDocument); err != nil {
		return nil, err
	}
	if o.ArrayFilters != nil {
		js, err := arrayJSON(o.ArrayFilters)
		if err != nil {
			return nil, fmt.Errorf("array filters: %v", err)
		}
		obj.add("array_filters", js)
	}
	return obj.text(), nil
}

// addFindAndModify adds the options that FindOneAndUpdate,
// FindOneAndReplace and (without upsert and ReturnDocument)
// FindOneAndDelete share, leaving out those at their defaults.
func addFindAndModify(obj *jsonObject, sort any, projection any, upsert bool, ret ReturnDocument) error {
	if sort != nil {
		js, err := orderedJSON("sort", sort)
		if err != nil {
			return err
		}
		obj.add("sort", js)
	}
	if projection != nil {
		js, err := projectionJSON(projection)
		if err != nil {
			return err
		}
		obj.add("projection", js)
	}
	if upsert {
		obj.add("upsert", []byte("true"))
	}
	switch ret {
	case ReturnBefore:
	case ReturnAfter:
		obj.add("return_document", []byte(`"after"`))
	default:
		return fmt.Errorf("ReturnDocument %d is neither ReturnBefore nor ReturnAfter", int(ret))
	}
	return nil
}

// FindOneAndUpdate atomically finds the first document matching filter
// (nil: every document), applies update (operators such as {"$inc": ...},
// or a pipeline as UpdateOne takes it) and returns the document as it was before the update or, with
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
	return singleResult(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_find_one_and_update(h, n, nn, f, fn, u, un, o, on, out, outLen, msg)
	})
}

// FindOneAndReplaceOptions configure FindOneAndReplace. The zero value (or
// a nil *FindOneAndReplaceOptions) replaces the first match in primary key
// order and returns it as it was before.
type FindOneAndReplaceOptions struct {
	// Sort picks the first match, as FindOptions.Sort does.
	Sort any
	// Projection shapes the returned document, as FindOptions.Projection
	// does.
	Projection any
	// Upsert inserts the replacement when nothing matches, with the
	// filter's _id when it has none.
	Upsert bool
	// ReturnDocument is ReturnBefore or ReturnAfter.
	ReturnDocument ReturnDocument
}

// marshal returns the options as JSON, or nil for the defaults.
func (o *FindOneAndReplaceOptions) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	if err := addFindAndModify(&obj, o.Sort, o.Projection, o.Upsert, o.ReturnDocument); err != nil {
		return nil, err
	}
	return obj.text(), nil
}

// FindOneAndReplace atomically finds the first document matching filter
// (nil: every document), replaces it with replacement (a document without
// operators; the _id is kept, and a different one fails with
// ErrInvalidArgument) and returns the document as it was before or, with
// ReturnAfter, as it is now. When nothing matches and nothing is upserted,
// the result's error matches ErrNotFound; after an upsert with
// ReturnBefore the result is JSON null (see SingleResult.Decode).
//
//	var old Settings
//	err := settings.FindOneAndReplace(map[string]any{"_id": "theme"}, Settings{Name: "dark"},
//		&cairn.FindOneAndReplaceOptions{Upsert: true}).Decode(&old)
func (c *Collection) FindOneAndReplace(filter, replacement any, opts *FindOneAndReplaceOptions) *SingleResult {
	const op = "Collection.FindOneAndReplace"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	rjs, err := marshalJSON(replacement)
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "replacement: %v", err)}
	}
	ojs, err := opts.marshal()
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "options: %v", err)}
	}
	return c.findOneAndReplace(op, fjs, rjs, ojs)
}

// findOneAndReplace calls cairn_find_one_and_replace with JSON text (nil
// filter or options for "{}").
func (c *Collection) findOneAndReplace(op string, filterJSON, replacementJSON, optionsJSON []byte) *SingleResult {
	h, err := c.handle(op)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	r, rn := charsArg(replacementJSON)
	o, on := charsArg(optionsJSON)
	return singleResult(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_find_one_and_replace(h, n, nn, f, fn, r, rn, o, on, out, outLen, msg)
	})
}

// FindOneAndDeleteOptions configure FindOneAndDelete. The zero value (or a
// nil *FindOneAndDeleteOptions) deletes the first match in primary key
// order and returns it whole.
type FindOneAndDeleteOptions struct {
	// Sort picks the first match, as FindOptions.Sort does.
	Sort any
	// Projection shapes the returned document, as FindOptions.Projection
	// does.
	Projection any
}

// marshal returns the options as JSON, or nil for the defaults.
func (o *FindOneAndDeleteOptions) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	if err := addFindAndModify(&obj, o.Sort, o.Projection, false, ReturnBefore); err != nil {
		return nil, err
	}
	return obj.text(), nil
}

// FindOneAndDelete atomically finds the first document matching filter
// (nil: every document), deletes it and returns it. When nothing matches,
// nothing is deleted and the result's error matches ErrNotFound.
//
//	var job Job
//	err := jobs.FindOneAndDelete(map[string]any{"state": "done"},
//		&cairn.FindOneAndDeleteOptions{Sort: cairn.Asc("finished")}).Decode(&job)
func (c *Collection) FindOneAndDelete(filter any, opts *FindOneAndDeleteOptions) *SingleResult {
	const op = "Collection.FindOneAndDelete"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	ojs, err := opts.marshal()
	if err != nil {
		return &SingleResult{op: op, err: argErr(op, "options: %v", err)}
	}
	return c.findOneAndDelete(op, fjs, ojs)
}

// findOneAndDelete calls cairn_find_one_and_delete with JSON text (nil
// filter or options for "{}").
func (c *Collection) findOneAndDelete(op string, filterJSON, optionsJSON []byte) *SingleResult {
	h, err := c.handle(op)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	o, on := charsArg(optionsJSON)
	return singleResult(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_find_one_and_delete(h, n, nn, f, fn, o, on, out, outLen, msg)
	})
}

// singleResult runs a call returning one document through callJSON and
// makes its outcome a *SingleResult.
func singleResult(op string, call func(out **C.char, n *C.size_t, msg **C.char) C.int) *SingleResult {
	doc, err := callJSON(op, call)
	if err != nil {
		return &SingleResult{op: op, err: err}
	}
	if len(doc) == 0 {
		return &SingleResult{op: op, err: internalErr(op, "library returned no document")}
	}
	return &SingleResult{op: op, doc: doc}
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
	text, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_distinct(h, n, nn, fd, fdn, f, fn, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(text)
	values, isArray := v.([]any)
	if err != nil || !isArray {
		return nil, internalErr(op, "library returned malformed values %q (%v)", text, err)
	}
	return values, nil
}
