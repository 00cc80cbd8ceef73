package cairn

// Aggregation pipelines and query plans: Aggregate runs a pipeline in the
// library and reads its results through the same Cursor as Find; Explain
// reports how the library would run a Find.

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"runtime"
)

// Aggregate runs pipeline, an array of stages, over the collection and
// opens a cursor over the results. The pipeline is a []any of maps (or
// anything else encoding/json turns into an array of objects), or JSON text
// in a []byte or json.RawMessage. The stages are $match $project
// $addFields $set $unset $group $sort $skip $limit $unwind $count $lookup
// $sortByCount; see cairn_aggregate in cairn.h for the accumulators and
// expressions. A leading $match (and a $sort right after it) uses indexes
// as Find does. Close the cursor when done.
//
//	cur, err := orders.Aggregate([]any{
//		map[string]any{"$match": map[string]any{"status": "paid"}},
//		map[string]any{"$group": map[string]any{"_id": "$customer", "total": map[string]any{"$sum": "$amount"}}},
//		map[string]any{"$sort": map[string]any{"total": -1}},
//	})
func (c *Collection) Aggregate(pipeline any) (*Cursor, error) {
	const op = "Collection.Aggregate"
	if err := checkPipelineOrder(pipeline); err != nil {
		return nil, argErr(op, "pipeline: %v", err)
	}
	pjs, err := marshalJSON(pipeline)
	if err != nil {
		return nil, argErr(op, "pipeline: %v", err)
	}
	return c.aggregate(op, pjs)
}

// aggregate calls cairn_aggregate with the pipeline as JSON text.
func (c *Collection) aggregate(op string, pipelineJSON []byte) (*Cursor, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	p, pn := charsArg(pipelineJSON)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_aggregate(h, n, nn, p, pn, &ch, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, c.db), nil
}

// Query plans of ExplainResult.Plan.
const (
	PlanCollectionScan = "collection_scan" // every document is read
	PlanIndexScan      = "index_scan"      // ranges of a secondary index are read
	PlanPrimaryKey     = "primary_key"     // documents are looked up by primary key
)

// ExplainResult describes how the library runs a query, and what running
// it cost.
type ExplainResult struct {
	Plan              string // PlanCollectionScan, PlanIndexScan or PlanPrimaryKey
	Index             string // the index used, or "" for none
	Bounds            any    // the key ranges scanned, as JSON values (numbers as json.Number)
	SortFromIndex     bool   // whether the index order gives the sort, so no sort runs
	KeysExamined      int64  // index entries read
	DocumentsExamined int64  // documents read
	Returned          int64  // documents returned
}

// Explain runs the query Find(filter, opts) would run and describes how it
// ran.
func (c *Collection) Explain(filter any, opts *FindOptions) (*ExplainResult, error) {
	const op = "Collection.Explain"
	fjs, err := filterArg(op, filter)
	if err != nil {
		return nil, err
	}
	ojs, err := opts.marshal()
	if err != nil {
		return nil, argErr(op, "options: %v", err)
	}
	text, err := c.explainJSON(op, fjs, ojs)
	if err != nil {
		return nil, err
	}
	return decodeExplain(op, text)
}

// decodeExplain decodes the JSON text cairn_explain returned.
func decodeExplain(op string, text []byte) (*ExplainResult, error) {
	var r struct {
		Plan              *string `json:"plan"`
		Index             *string `json:"index"`
		Bounds            any     `json:"bounds"`
		SortFromIndex     bool    `json:"sort_from_index"`
		KeysExamined      int64   `json:"keys_examined"`
		DocumentsExamined int64   `json:"documents_examined"`
		Returned          int64   `json:"returned"`
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil || r.Plan == nil {
		return nil, internalErr(op, "library returned a malformed plan %q (%v)", text, err)
	}
	res := &ExplainResult{Plan: *r.Plan, Bounds: r.Bounds, SortFromIndex: r.SortFromIndex,
		KeysExamined: r.KeysExamined, DocumentsExamined: r.DocumentsExamined, Returned: r.Returned}
	if r.Index != nil {
		res.Index = *r.Index
	}
	return res, nil
}

// explainJSON calls cairn_explain with JSON text (nil filter or options for
// "{}") and returns its JSON text.
func (c *Collection) explainJSON(op string, filterJSON, optionsJSON []byte) ([]byte, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	f, fn := charsArg(filterJSON)
	o, on := charsArg(optionsJSON)
	return callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_explain(h, n, nn, f, fn, o, on, out, outLen, msg)
	})
}
