package cairn

// Collection.BulkWrite: MongoDB's bulkWrite through cairn_bulk_write. The
// models only record their arguments and encode themselves as one element
// of the operations array; the library runs them.

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sort"
	"strconv"
	"unsafe"
)

// WriteModel is one request of a bulk write: *InsertOneModel,
// *UpdateOneModel, *UpdateManyModel, *ReplaceOneModel, *DeleteOneModel or
// *DeleteManyModel.
type WriteModel interface {
	operation() (name string, spec jsonObject, err error)
}

// InsertOneModel inserts Document.
type InsertOneModel struct {
	Document any
}

// UpdateOneModel applies Update (operators, or a pipeline) to the first
// document matching Filter; with Upsert, inserts one when none matches.
type UpdateOneModel struct {
	Filter, Update any
	Upsert         bool
	ArrayFilters   []any
}

// UpdateManyModel is UpdateOneModel for every matching document.
type UpdateManyModel struct {
	Filter, Update any
	Upsert         bool
	ArrayFilters   []any
}

// ReplaceOneModel replaces the first document matching Filter with
// Replacement; with Upsert, inserts it when none matches.
type ReplaceOneModel struct {
	Filter, Replacement any
	Upsert              bool
}

// DeleteOneModel deletes the first document matching Filter.
type DeleteOneModel struct {
	Filter any
}

// DeleteManyModel deletes every document matching Filter.
type DeleteManyModel struct {
	Filter any
}

func (m *InsertOneModel) operation() (string, jsonObject, error) {
	var spec jsonObject
	return "insert_one", spec, addJSON(&spec, "document", m.Document)
}

func (m *UpdateOneModel) operation() (string, jsonObject, error) {
	spec, err := updateSpec(m.Filter, "update", m.Update, m.Upsert, m.ArrayFilters)
	return "update_one", spec, err
}

func (m *UpdateManyModel) operation() (string, jsonObject, error) {
	spec, err := updateSpec(m.Filter, "update", m.Update, m.Upsert, m.ArrayFilters)
	return "update_many", spec, err
}

func (m *ReplaceOneModel) operation() (string, jsonObject, error) {
	spec, err := updateSpec(m.Filter, "replacement", m.Replacement, m.Upsert, nil)
	return "replace_one", spec, err
}

func (m *DeleteOneModel) operation() (string, jsonObject, error) {
	var spec jsonObject
	return "delete_one", spec, addFilter(&spec, m.Filter)
}

func (m *DeleteManyModel) operation() (string, jsonObject, error) {
	var spec jsonObject
	return "delete_many", spec, addFilter(&spec, m.Filter)
}

func addJSON(spec *jsonObject, key string, v any) error {
	js, err := marshalJSON(v)
	if err != nil {
		return err
	}
	spec.add(key, js)
	return nil
}

// addFilter adds "filter", {} for a nil filter.
func addFilter(spec *jsonObject, filter any) error {
	js, err := filterArg("Collection.BulkWrite", filter)
	if err != nil {
		return err
	}
	if js == nil {
		js = []byte("{}")
	}
	spec.add("filter", js)
	return nil
}

func updateSpec(filter any, key string, update any, upsert bool, arrayFilters []any) (jsonObject, error) {
	var spec jsonObject
	if err := addFilter(&spec, filter); err != nil {
		return spec, err
	}
	if err := addJSON(&spec, key, update); err != nil {
		return spec, err
	}
	if upsert {
		spec.add("upsert", []byte("true"))
	}
	if arrayFilters != nil {
		js, err := arrayJSON(arrayFilters)
		if err != nil {
			return spec, err
		}
		spec.add("array_filters", js)
	}
	return spec, nil
}

// BulkWriteOptions are the options of Collection.BulkWrite.
type BulkWriteOptions struct {
	// Unordered tries every model and reports each failure; by default the
	// first model that fails stops the list (those before it stay applied).
	Unordered bool
}

// BulkWriteResult is what Collection.BulkWrite did.
type BulkWriteResult struct {
	InsertedCount, MatchedCount, ModifiedCount, DeletedCount, UpsertedCount int64
	// InsertedIDs and UpsertedIDs hold the _ids written, by the index of
	// the model that wrote them (decoded as InsertOne's).
	InsertedIDs map[int]any
	UpsertedIDs map[int]any
}

// BulkWrite runs models on the collection in order, as MongoDB's bulkWrite
// does (cairn_bulk_write). Each model is atomic by itself; the list is not.
// When models fail, the error is a *BulkWriteError whose Errors give each
// failure's model index, and the result (non-nil) says what was done; a
// malformed model is ErrInvalidArgument before anything runs.
//
//	res, err := users.BulkWrite([]cairn.WriteModel{
//		&cairn.InsertOneModel{Document: cairn.D{{Key: "_id", Value: 1}}},
//		&cairn.UpdateOneModel{Filter: cairn.D{{Key: "_id", Value: 1}}, Update: cairn.D{{Key: "$set", Value: cairn.D{{Key: "a", Value: 2}}}}},
//	}, nil)
func (c *Collection) BulkWrite(models []WriteModel, opts *BulkWriteOptions) (*BulkWriteResult, error) {
	const op = "Collection.BulkWrite"
	ops := []byte{'['}
	for i, m := range models {
		if m == nil {
			return nil, argErr(op, "models[%d] is nil", i)
		}
		name, spec, err := m.operation()
		if err != nil {
			return nil, argErr(op, "models[%d]: %v", i, err)
		}
		body := spec.text()
		if body == nil {
			body = []byte("{}")
		}
		if i > 0 {
			ops = append(ops, ',')
		}
		ops = append(ops, `{"`+name+`":`...)
		ops = append(append(ops, body...), '}')
	}
	ops = append(ops, ']')
	options := []byte(`{"ordered":true}`)
	if opts != nil && opts.Unordered {
		options = []byte(`{"ordered":false}`)
	}
	return c.bulkWrite(op, ops, options)
}

// bulkWrite is BulkWrite with the operations and options as JSON text, for
// the conformance runner.
func (c *Collection) bulkWrite(op string, operationsJSON, optionsJSON []byte) (*BulkWriteResult, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	o, on := charsArg(operationsJSON)
	p, pn := charsArg(optionsJSON)
	var resultJS *C.char
	var resultLen C.size_t
	var msg *C.char
	rc := C.cairn_bulk_write(h, n, nn, o, on, p, pn, &resultJS, &resultLen, &msg)
	runtime.KeepAlive(c.db)
	defer C.cairn_free(unsafe.Pointer(resultJS))
	callErr := statusErr(op, rc, msg)
	if resultJS == nil {
		if callErr == nil {
			return nil, internalErr(op, "library returned CAIRN_OK and no result")
		}
		return nil, callErr
	}
	text := cView(unsafe.Pointer(resultJS), resultLen)
	var raw struct {
		InsertedCount int64                      `json:"inserted_count"`
		MatchedCount  int64                      `json:"matched_count"`
		ModifiedCount int64                      `json:"modified_count"`
		DeletedCount  int64                      `json:"deleted_count"`
		UpsertedCount int64                      `json:"upserted_count"`
		InsertedIDs   map[string]json.RawMessage `json:"inserted_ids"`
		UpsertedIDs   map[string]json.RawMessage `json:"upserted_ids"`
		Errors        []struct {
			Index   int    `json:"index"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(text, &raw); err != nil {
		return nil, internalErr(op, "library returned a malformed result %q (%v)", text, err)
	}
	result := &BulkWriteResult{
		InsertedCount: raw.InsertedCount, MatchedCount: raw.MatchedCount, ModifiedCount: raw.ModifiedCount,
		DeletedCount: raw.DeletedCount, UpsertedCount: raw.UpsertedCount,
		InsertedIDs: map[int]any{}, UpsertedIDs: map[int]any{},
	}
	for _, ids := range []struct {
		from map[string]json.RawMessage
		to   map[int]any
	}{{raw.InsertedIDs, result.InsertedIDs}, {raw.UpsertedIDs, result.UpsertedIDs}} {
		for key, js := range ids.from {
			index, err := strconv.Atoi(key)
			v, derr := decodeValue(js)
			if err != nil || derr != nil {
				return nil, internalErr(op, "library returned a malformed result %q", text)
			}
			ids.to[index] = v
		}
	}
	if callErr == nil {
		if len(raw.Errors) > 0 {
			return nil, internalErr(op, "library returned CAIRN_OK and errors: %s", text)
		}
		return result, nil
	}
	if len(raw.Errors) == 0 || raw.Errors[0].Status != callErr.(*Error).Status {
		return nil, internalErr(op, "library returned %v but the first error of %s is not that", callErr, text)
	}
	bulk := &BulkWriteError{Errors: make([]WriteError, len(raw.Errors)), Result: result}
	indexes := make([]int, 0, len(result.InsertedIDs))
	for index := range result.InsertedIDs {
		indexes = append(indexes, index)
	}
	sort.Ints(indexes)
	for _, index := range indexes {
		bulk.InsertedIDs = append(bulk.InsertedIDs, result.InsertedIDs[index])
	}
	for i, e := range raw.Errors {
		code, known := statusCodes[e.Status]
		if !known {
			code = -1
		}
		bulk.Errors[i] = WriteError{Index: e.Index, Err: &Error{Op: op, Code: code, Status: e.Status, Message: e.Message}}
	}
	return result, bulk
}
