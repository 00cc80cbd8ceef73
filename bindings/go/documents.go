package cairn

// Documents: JSON objects in named collections, queried with MongoDB's
// filter and update language (see the Documents section of cairn.h).
//
// The binding only converts. Go values become JSON text with encoding/json
// (a []byte or json.RawMessage is JSON text already and passes as it is),
// the library parses, validates, matches and updates, and what comes back
// is decoded with json.Decoder.UseNumber, so that every number keeps its
// digits: an integer _id or count never goes through float64.

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// Collection names a collection of documents in a DB (or, from
// Tx.Collection, in a transaction). It is only a name: DB.Collection makes
// no library call, and a collection that does not exist yet reads as empty
// and is created by the first insert. A *Collection from DB.Collection is
// safe for concurrent use, as its DB is; one from Tx.Collection is used as
// its Tx is.
type Collection struct {
	db   *DB // the database, or a transaction's handle (see Tx)
	name string
}

// Collection returns the collection called name (1 to 255 bytes of UTF-8,
// not starting with '$'). The name is checked by the first call that uses
// it; a bad one fails with ErrInvalidArgument.
func (db *DB) Collection(name string) *Collection {
	return &Collection{db: db, name: name}
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.name }

// handle returns the DB's C handle, as DB.handle does.
func (c *Collection) handle(op string) (*C.cairn_db, error) {
	if c == nil || c.db == nil {
		return nil, closedErr(op, "collection was not made with DB.Collection or Tx.Collection")
	}
	return c.db.handle(op)
}

// CollectionOptions configure CreateCollection. The zero value (or a nil
// *CollectionOptions) creates a collection without a schema, keyed by _id.
type CollectionOptions struct {
	// Schema is a JSON Schema every document must satisfy: a map, a struct
	// or JSON text in a []byte or json.RawMessage. The library supports the
	// subset type, properties, required, additionalProperties (a boolean),
	// enum, minimum, maximum, minLength, maxLength, pattern, items,
	// minItems and maxItems. An insert or update that breaks it fails with
	// an error matching ErrSchema, naming the first failing field, and
	// writes nothing. Nil means no schema.
	Schema any
	// PrimaryKey is the field that identifies a document; "" means "_id".
	// With another field, every document must carry it, it never changes,
	// FindByID looks it up, and no _id is generated.
	PrimaryKey string
}

// marshal returns the options as JSON, or nil for the defaults.
func (o *CollectionOptions) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	if o.Schema != nil {
		js, err := marshalJSON(o.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema: %v", err)
		}
		obj.add("schema", js)
	}
	if o.PrimaryKey != "" {
		js, err := json.Marshal(o.PrimaryKey)
		if err != nil {
			return nil, fmt.Errorf("primary key: %v", err)
		}
		obj.add("primary_key", js)
	}
	return obj.text(), nil
}

// CreateCollection creates an empty collection, configured by opts (nil:
// no schema, keyed by _id). It is needed only for options, since an insert
// creates a missing collection without them. An existing name, a bad name
// or a malformed schema fails with ErrInvalidArgument.
//
//	err := db.CreateCollection("users", &cairn.CollectionOptions{
//		Schema: map[string]any{
//			"type":     "object",
//			"required": []string{"name"},
//			"properties": map[string]any{
//				"name": map[string]any{"type": "string"},
//				"age":  map[string]any{"type": "integer", "minimum": 0},
//			},
//		},
//	})
func (db *DB) CreateCollection(name string, opts *CollectionOptions) error {
	const op = "CreateCollection"
	js, err := opts.marshal()
	if err != nil {
		return argErr(op, "options: %v", err)
	}
	return db.createCollectionJSON(op, name, js)
}

// createCollectionJSON calls cairn_collection_create with raw JSON options
// (nil for "{}").
func (db *DB) createCollectionJSON(op, name string, optionsJSON []byte) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	n, nn := charsArg([]byte(name))
	o, on := charsArg(optionsJSON)
	var msg *C.char
	rc := C.cairn_collection_create(h, n, nn, o, on, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// DropCollection removes a collection and every document in it. Dropping a
// missing collection is not an error.
func (db *DB) DropCollection(name string) error {
	return db.dropCollection("DropCollection", name)
}

// Drop is DB.DropCollection for this collection.
func (c *Collection) Drop() error {
	if c == nil || c.db == nil {
		return closedErr("Collection.Drop", "collection was not made with DB.Collection or Tx.Collection")
	}
	return c.db.dropCollection("Collection.Drop", c.name)
}

func (db *DB) dropCollection(op, name string) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	n, nn := charsArg([]byte(name))
	var msg *C.char
	rc := C.cairn_collection_drop(h, n, nn, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// RenameCollection renames collection from to to; its documents and
// indexes follow. A missing from fails with ErrNotFound, a bad or existing
// to with ErrInvalidArgument.
func (db *DB) RenameCollection(from, to string) error {
	return db.renameCollection("RenameCollection", from, to)
}

// Rename is DB.RenameCollection for this collection. c keeps its old name
// (a *Collection is only a name): use DB.Collection(to) afterwards.
func (c *Collection) Rename(to string) error {
	if c == nil || c.db == nil {
		return closedErr("Collection.Rename", "collection was not made with DB.Collection or Tx.Collection")
	}
	return c.db.renameCollection("Collection.Rename", c.name, to)
}

func (db *DB) renameCollection(op, from, to string) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	f, fn := charsArg([]byte(from))
	t, tn := charsArg([]byte(to))
	var msg *C.char
	rc := C.cairn_collection_rename(h, f, fn, t, tn, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// CollectionStats describe a collection, as Collection.Stats returns them.
type CollectionStats struct {
	Name       string
	Documents  int64          // the number of documents
	Bytes      int64          // the stored bytes of the documents
	PrimaryKey string         // the primary key field, such as "_id"
	Schema     map[string]any // the schema (numbers as json.Number), or nil
	Indexes    []IndexStats   // the secondary indexes
}

// IndexStats describe one index in CollectionStats.
type IndexStats struct {
	IndexInfo
	Entries int64 // the number of index entries
}

// Stats describes the collection. It reads the whole collection to count
// it. A missing collection fails with ErrNotFound.
func (c *Collection) Stats() (*CollectionStats, error) {
	const op = "Collection.Stats"
	text, err := c.statsJSON(op)
	if err != nil {
		return nil, err
	}
	return decodeCollectionStats(op, text)
}

// decodeCollectionStats decodes the JSON text cairn_collection_stats
// returned.
func decodeCollectionStats(op string, text []byte) (*CollectionStats, error) {
	var r struct {
		Name       string         `json:"name"`
		Documents  int64          `json:"documents"`
		Bytes      int64          `json:"bytes"`
		PrimaryKey string         `json:"primary_key"`
		Schema     map[string]any `json:"schema"`
		Indexes    []struct {
			indexJSON
			Entries int64 `json:"entries"`
		} `json:"indexes"`
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, internalErr(op, "library returned malformed stats %q: %v", text, err)
	}
	st := &CollectionStats{Name: r.Name, Documents: r.Documents, Bytes: r.Bytes,
		PrimaryKey: r.PrimaryKey, Schema: r.Schema, Indexes: []IndexStats{}}
	for _, ix := range r.Indexes {
		info, err := ix.indexJSON.info()
		if err != nil {
			return nil, internalErr(op, "library returned malformed stats %q: %v", text, err)
		}
		st.Indexes = append(st.Indexes, IndexStats{IndexInfo: info, Entries: ix.Entries})
	}
	return st, nil
}

// statsJSON calls cairn_collection_stats and returns its JSON text.
func (c *Collection) statsJSON(op string) ([]byte, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	return callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_collection_stats(h, n, nn, out, outLen, msg)
	})
}

// ListCollections returns the names of the collections, sorted. The result
// is empty (not nil) when there are none.
func (db *DB) ListCollections() ([]string, error) {
	return db.listCollections("ListCollections")
}

func (db *DB) listCollections(op string) ([]string, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	text, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_collection_list(h, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(text, &names); err != nil {
		return nil, internalErr(op, "library returned malformed JSON: %v", err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// InsertOne inserts one document: a map[string]any, a struct, or anything
// else encoding/json turns into an object (a []byte or json.RawMessage is
// sent as the JSON text it holds). A document without "_id" gets a
// generated one, a 24-hex-digit string that sorts by creation time.
//
// It returns the document's _id, decoded as Cursor.Decode decodes into an
// *any: a string, a json.Number, a map[string]any, ... A document whose _id
// exists already fails with an error matching ErrConstraint.
func (c *Collection) InsertOne(doc any) (id any, err error) {
	return c.insertOne("Collection.InsertOne", doc, func(h *C.cairn_db, n *C.char, nn C.size_t, d *C.char, dn C.size_t,
		out **C.char, outLen *C.size_t, msg **C.char) C.int {
		return C.cairn_insert_one(h, n, nn, d, dn, out, outLen, msg)
	})
}

// insertOne runs one of the C calls that insert a document (call, given
// the collection and the document's JSON) and decodes the _id it returns.
func (c *Collection) insertOne(op string, doc any, call func(h *C.cairn_db, n *C.char, nn C.size_t, d *C.char, dn C.size_t,
	out **C.char, outLen *C.size_t, msg **C.char) C.int) (id any, err error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	js, err := marshalJSON(doc)
	if err != nil {
		return nil, argErr(op, "document: %v", err)
	}
	n, nn := charsArg([]byte(c.name))
	d, dn := charsArg(js)
	idJS, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return call(h, n, nn, d, dn, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	id, err = decodeValue(idJS)
	if err != nil {
		return nil, internalErr(op, "library returned a malformed _id: %v", err)
	}
	return id, nil
}

// InsertMany inserts documents all or nothing: if any of them fails (a
// duplicate _id, a malformed document), none is inserted. docs is any slice
// or array of documents (each as for InsertOne: []User, []cairn.D, []any,
// ...), or the JSON text of an array. It returns their _ids in order.
// InsertManyWithOptions keeps the documents that go in and reports the
// others.
func (c *Collection) InsertMany(docs any) ([]any, error) {
	const op = "Collection.InsertMany"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	js, err := documentsArg(op, docs)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	d, dn := charsArg(js)
	idsJS, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_insert_many(h, n, nn, d, dn, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(idsJS)
	ids, isArray := v.([]any)
	if err != nil || !isArray {
		return nil, internalErr(op, "library returned malformed _ids %q (%v)", idsJS, err)
	}
	if rv := reflect.ValueOf(docs); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && len(js) > 0 &&
		!isJSONText(docs) && len(ids) != rv.Len() {
		return nil, internalErr(op, "library returned %d _ids for %d documents", len(ids), rv.Len())
	}
	return ids, nil
}

// isJSONText reports whether v is JSON text that marshalJSON sends as it is.
func isJSONText(v any) bool {
	switch v.(type) {
	case json.RawMessage, []byte:
		return true
	}
	return false
}

// documentsArg returns documents as a JSON array: docs is a slice or array
// of documents, each as for InsertOne, or a []byte or json.RawMessage that
// holds the array's text. The array is built by hand, so that a []byte
// element is JSON text (as in InsertOne) rather than a base64 string.
func documentsArg(op string, docs any) ([]byte, error) {
	switch docs.(type) {
	case json.RawMessage, []byte:
		return marshalJSON(docs)
	}
	v := reflect.ValueOf(docs)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, argErr(op, "documents: a slice or array of documents, not %T", docs)
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		js, err := marshalJSON(v.Index(i).Interface())
		if err != nil {
			return nil, argErr(op, "document %d: %v", i, err)
		}
		buf.Write(js)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// InsertManyOptions are the options of InsertManyWithOptions. The zero
// value inserts in order and stops at the first failure.
type InsertManyOptions struct {
	// Ordered inserts the documents in order and stops at the first one
	// that fails, keeping those before it; false inserts every document
	// that can be and skips the others. nil means true.
	Ordered *bool
	// Atomic inserts all the documents or, if any of them fails, none
	// (as InsertMany).
	Atomic bool
	// TTL, when positive, makes every document expire that long from now,
	// as InsertOneTTL does.
	TTL time.Duration
}

// marshal returns the options as JSON, or nil for the defaults.
func (o InsertManyOptions) marshal() []byte {
	var obj jsonObject
	if o.Ordered != nil {
		obj.add("ordered", []byte(fmt.Sprint(*o.Ordered)))
	}
	if o.Atomic {
		obj.add("atomic", []byte("true"))
	}
	if o.TTL > 0 {
		obj.add("ttl", []byte(fmt.Sprint(ttlMillis(o.TTL))))
	}
	return obj.text()
}

// InsertManyWithOptions inserts documents the way MongoDB's insertMany
// does (cairn_insert_many_with_options) and returns the _ids of those
// inserted, in order, decoded as InsertOne's. docs is a slice or array of
// documents, each as for InsertOne ([]any, []M, []MyStruct, ...), or a
// []byte or json.RawMessage holding a JSON array. The documents inserted
// are written in one atomic write.
//
// When documents fail (a duplicate _id, a unique index, the schema, an
// element that is not an object), the error is a *BulkWriteError holding
// the _ids inserted and, per failed document, its index and error; it
// matches the first failure's status with errors.Is:
//
//	ids, err := users.InsertManyWithOptions(docs, cairn.InsertManyOptions{Ordered: cairn.Bool(false)})
//	var bulk *cairn.BulkWriteError
//	if errors.As(err, &bulk) {
//		ids = bulk.InsertedIDs // the others went in
//	}
//
// Malformed options, docs that is not an array and a closed handle return
// an *Error (ErrInvalidArgument, ErrClosed) and insert nothing.
func (c *Collection) InsertManyWithOptions(docs any, opts InsertManyOptions) ([]any, error) {
	const op = "Collection.InsertManyWithOptions"
	js, err := documentsArg(op, docs)
	if err != nil {
		return nil, err
	}
	return c.insertManyWithOptions(op, js, opts.marshal())
}

// insertManyWithOptions is InsertManyWithOptions with the documents and the
// options as JSON text (nil options: the defaults), for the conformance
// runner's raw options.
func (c *Collection) insertManyWithOptions(op string, docsJSON, optionsJSON []byte) ([]any, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	d, dn := charsArg(docsJSON)
	o, on := charsArg(optionsJSON)
	var resultJS *C.char
	var resultLen C.size_t
	var msg *C.char
	rc := C.cairn_insert_many_with_options(h, n, nn, d, dn, o, on, &resultJS, &resultLen, &msg)
	runtime.KeepAlive(c.db)
	defer C.cairn_free(unsafe.Pointer(resultJS))
	callErr := statusErr(op, rc, msg)
	if resultJS == nil { // refused as a whole: nothing was inserted
		if callErr == nil {
			return nil, internalErr(op, "library returned CAIRN_OK and no result")
		}
		return nil, callErr
	}
	text := cView(unsafe.Pointer(resultJS), resultLen)
	var result struct {
		InsertedIDs json.RawMessage `json:"inserted_ids"`
		Errors      []struct {
			Index   int    `json:"index"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	var v any
	err = json.Unmarshal(text, &result)
	if err == nil {
		v, err = decodeValue(result.InsertedIDs)
	}
	ids, isArray := v.([]any)
	if err != nil || !isArray {
		return nil, internalErr(op, "library returned a malformed result %q (%v)", text, err)
	}
	if callErr == nil {
		if len(result.Errors) > 0 {
			return nil, internalErr(op, "library returned CAIRN_OK and errors: %s", text)
		}
		return ids, nil
	}
	bulk := &BulkWriteError{InsertedIDs: ids, Errors: make([]WriteError, len(result.Errors))}
	for i, e := range result.Errors {
		code, known := statusCodes[e.Status]
		if !known {
			code = -1
		}
		bulk.Errors[i] = WriteError{Index: e.Index, Err: &Error{Op: op, Code: code, Status: e.Status, Message: e.Message}}
	}
	if len(result.Errors) == 0 || result.Errors[0].Status != callErr.(*Error).Status {
		return nil, internalErr(op, "library returned %v but the first error of %s is not that", callErr, text)
	}
	return nil, bulk
}

// Count returns the number of documents matching filter (nil: every
// document). A missing collection counts 0. CountDocuments counts with a
// skip and a limit.
func (c *Collection) Count(filter any) (int64, error) {
	const op = "Collection.Count"
	h, err := c.handle(op)
	if err != nil {
		return 0, err
	}
	fjs, err := filterArg(op, filter)
	if err != nil {
		return 0, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(fjs)
	var count C.uint64_t
	var msg *C.char
	rc := C.cairn_count(h, n, nn, f, fn, &count, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, err
	}
	return int64(count), nil
}

// CountOptions configure CountDocuments. The zero value (or a nil
// *CountOptions) counts every match.
type CountOptions struct {
	// Skip is the number of matches passed over before counting.
	Skip int64
	// Limit is the most matches counted; 0 means no limit.
	Limit int64
}

// marshal returns the options as JSON, or nil for the defaults. Negative
// values go to the library, which refuses them.
func (o *CountOptions) marshal() []byte {
	if o == nil {
		return nil
	}
	var obj jsonObject
	if o.Skip != 0 {
		obj.add("skip", strconv.AppendInt(nil, o.Skip, 10))
	}
	if o.Limit != 0 {
		obj.add("limit", strconv.AppendInt(nil, o.Limit, 10))
	}
	return obj.text()
}

// CountDocuments returns the number of documents matching filter (nil:
// every document) as MongoDB's countDocuments does: the matches after the
// first opts.Skip, at most opts.Limit of them. A negative Skip or Limit
// fails with ErrInvalidArgument.
//
//	n, err := users.CountDocuments(map[string]any{"age": map[string]any{"$gte": 18}},
//		&cairn.CountOptions{Limit: 100}) // at most 100
func (c *Collection) CountDocuments(filter any, opts *CountOptions) (int64, error) {
	const op = "Collection.CountDocuments"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return 0, err
	}
	return c.countDocuments(op, fjs, opts.marshal())
}

// countDocuments calls cairn_count_with_options with JSON text (nil filter
// or options for "{}").
func (c *Collection) countDocuments(op string, filterJSON, optionsJSON []byte) (int64, error) {
	h, err := c.handle(op)
	if err != nil {
		return 0, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	o, on := charsArg(optionsJSON)
	var count C.uint64_t
	var msg *C.char
	rc := C.cairn_count_with_options(h, n, nn, f, fn, o, on, &count, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, err
	}
	return int64(count), nil
}

// UpdateOptions configure the update calls. A nil *UpdateOptions means the
// zero value.
type UpdateOptions struct {
	// Upsert inserts a document when nothing matches the filter, built from
	// the filter's equality fields and the update (or the replacement).
	Upsert bool
	// ArrayFilters are MongoDB's arrayFilters for UpdateOne and
	// UpdateMany: one filter per identifier that the update uses in
	// "$[<identifier>]", each a map, a struct or JSON text, such as
	// map[string]any{"c.votes": map[string]any{"$lt": 0}} for
	// "comments.$[c].hidden". Nil sends none.
	ArrayFilters []any
}

func (o *UpdateOptions) marshal() ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	if o.Upsert {
		obj.add("upsert", []byte("true"))
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

// UpdateResult says what an update did.
type UpdateResult struct {
	Matched  int64 // documents that matched the filter
	Modified int64 // documents that the update changed
	// UpsertedID is the _id of the document an upsert inserted (decoded as
	// InsertOne's result), or nil when none was inserted.
	UpsertedID any
}

// updateKind selects the C function behind Collection.update.
type updateKind int

const (
	updateOne updateKind = iota
	updateMany
	replaceOne
)

// UpdateOne applies update, a document of update operators such as
// {"$set": {...}, "$inc": {...}}, to the first document (in _id order)
// matching filter (nil: every document). update may also be an
// aggregation pipeline, a slice of stages whose expressions read the
// document ($set, $unset, ... as in MongoDB 4.2), such as
// []any{map[string]any{"$set": map[string]any{"total": map[string]any{"$add": []any{"$a", "$b"}}}}}.
// A failure (an unknown operator, $inc on a string, a change to _id)
// fails with ErrInvalidArgument and changes nothing.
func (c *Collection) UpdateOne(filter, update any, opts *UpdateOptions) (*UpdateResult, error) {
	return c.updateArgs("Collection.UpdateOne", updateOne, filter, update, opts)
}

// UpdateMany is UpdateOne for every matching document, all or nothing:
// if the update fails on any of them, none changes.
func (c *Collection) UpdateMany(filter, update any, opts *UpdateOptions) (*UpdateResult, error) {
	return c.updateArgs("Collection.UpdateMany", updateMany, filter, update, opts)
}

// ReplaceOne replaces the first document (in _id order) matching filter
// with replacement, a document without operators. The _id is kept; a
// replacement with a different _id fails with ErrInvalidArgument.
func (c *Collection) ReplaceOne(filter, replacement any, opts *UpdateOptions) (*UpdateResult, error) {
	return c.updateArgs("Collection.ReplaceOne", replaceOne, filter, replacement, opts)
}

func (c *Collection) updateArgs(op string, kind updateKind, filter, update any, opts *UpdateOptions) (*UpdateResult, error) {
	fjs, err := filterArg(op, filter)
	if err != nil {
		return nil, err
	}
	ujs, err := marshalJSON(update)
	if err != nil {
		if kind == replaceOne {
			return nil, argErr(op, "replacement: %v", err)
		}
		return nil, argErr(op, "update: %v", err)
	}
	ojs, err := opts.marshal()
	if err != nil {
		return nil, argErr(op, "options: %v", err)
	}
	return c.update(op, kind, fjs, ujs, ojs)
}

// update calls cairn_update_one, cairn_update_many or cairn_replace_one
// with JSON text (nil filter or options for "{}").
func (c *Collection) update(op string, kind updateKind, filterJSON, updateJSON, optionsJSON []byte) (*UpdateResult, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	u, un := charsArg(updateJSON)
	o, on := charsArg(optionsJSON)
	text, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		switch kind {
		case updateOne:
			return C.cairn_update_one(h, n, nn, f, fn, u, un, o, on, out, outLen, msg)
		case updateMany:
			return C.cairn_update_many(h, n, nn, f, fn, u, un, o, on, out, outLen, msg)
		default:
			return C.cairn_replace_one(h, n, nn, f, fn, u, un, o, on, out, outLen, msg)
		}
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Matched    *int64 `json:"matched"`
		Modified   *int64 `json:"modified"`
		UpsertedID any    `json:"upserted_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil || r.Matched == nil || r.Modified == nil {
		return nil, internalErr(op, "library returned a malformed result %q (%v)", text, err)
	}
	return &UpdateResult{Matched: *r.Matched, Modified: *r.Modified, UpsertedID: r.UpsertedID}, nil
}

// DeleteOne deletes the first document (in _id order) matching filter
// (nil: every document) and returns how many it deleted: 0 or 1.
func (c *Collection) DeleteOne(filter any) (int64, error) {
	return c.delete("Collection.DeleteOne", false, filter)
}

// DeleteMany deletes every document matching filter (nil: every document)
// and returns how many it deleted.
func (c *Collection) DeleteMany(filter any) (int64, error) {
	return c.delete("Collection.DeleteMany", true, filter)
}

func (c *Collection) delete(op string, many bool, filter any) (int64, error) {
	h, err := c.handle(op)
	if err != nil {
		return 0, err
	}
	fjs, err := filterArg(op, filter)
	if err != nil {
		return 0, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(fjs)
	var deleted C.uint64_t
	var msg *C.char
	var rc C.int
	if many {
		rc = C.cairn_delete_many(h, n, nn, f, fn, &deleted, &msg)
	} else {
		rc = C.cairn_delete_one(h, n, nn, f, fn, &deleted, &msg)
	}
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, err
	}
	return int64(deleted), nil
}

// marshalJSON turns a Go value into JSON text for the library. A []byte or
// json.RawMessage is JSON text already and passes as it is; anything else
// goes through json.Marshal.
func marshalJSON(v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	return encodeValue(v)
}

// arrayJSON writes items as a JSON array, each as marshalJSON writes it (so
// that a []byte or json.RawMessage item is JSON text, not base64).
func arrayJSON(items []any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		js, err := marshalJSON(item)
		if err != nil {
			return nil, fmt.Errorf("%d: %v", i, err)
		}
		buf.Write(js)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// filterArg returns a filter as JSON text, or nil (the library's "{}") for
// a nil filter, including a nil map or pointer, which marshal to null.
func filterArg(op string, filter any) ([]byte, error) {
	switch filter.(type) {
	case nil:
		return nil, nil
	case json.RawMessage, []byte:
		return marshalJSON(filter)
	}
	js, err := encodeValue(filter)
	if err != nil {
		return nil, argErr(op, "filter: %v", err)
	}
	if bytes.Equal(js, []byte("null")) {
		return nil, nil
	}
	return js, nil
}

// decodeValue decodes one JSON value the library returned into Go values,
// with numbers as json.Number. Trailing data is an error.
func decodeValue(text []byte) (any, error) {
	v, err := decodeOrdered(text)
	if err != nil {
		return nil, err
	}
	return convertGeneric(v), nil
}
