package cairn

// Vector indexes and vector search: CreateVectorIndex declares an HNSW
// index on a field of []float32 vectors, VectorSearch returns the nearest
// documents through the same Cursor as Find, and Vector turns a []float32
// into the compact binary form (float32 little-endian, Extended JSON
// binary of subType 09) that crosses the C boundary without decimal text.

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"runtime"
)

// VectorIndexOptions are a vector index's options; zero values take the
// library's defaults.
type VectorIndexOptions struct {
	Name           string   // default "<field>_vector"
	Metric         string   // "cosine" (default), "l2" or "dot"
	M              int      // links per node (default 16)
	EfConstruction int      // breadth of the build's searches (default 200)
	Ef             int      // default breadth of a query (default 64)
	FilterFields   []string // fields a search may filter on
	RejectInvalid  bool     // fail writes whose field is not a vector of Dimensions numbers (default: skip them)
}

// CreateVectorIndex creates an HNSW vector index on field, whose vectors
// have dims components, and returns its name. Existing documents are
// indexed before it returns.
func (c *Collection) CreateVectorIndex(field string, dims int, opts VectorIndexOptions) (string, error) {
	spec := map[string]any{"keys": map[string]any{field: "vector"}, "dimensions": dims}
	if opts.Name != "" {
		spec["name"] = opts.Name
	}
	if opts.Metric != "" {
		spec["metric"] = opts.Metric
	}
	if opts.M != 0 {
		spec["M"] = opts.M
	}
	if opts.EfConstruction != 0 {
		spec["ef_construction"] = opts.EfConstruction
	}
	if opts.Ef != 0 {
		spec["ef"] = opts.Ef
	}
	if len(opts.FilterFields) > 0 {
		spec["filter_fields"] = opts.FilterFields
	}
	if opts.RejectInvalid {
		spec["on_invalid"] = "reject"
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return "", argErr("Collection.CreateVectorIndex", "%v", err)
	}
	return c.createIndexJSON("Collection.CreateVectorIndex", js)
}

// Vector is v in the compact binary form, to store in a document or to
// query with: {"$binary": {"base64": ..., "subType": "09"}}. NaN and
// infinite components are refused by the library.
func Vector(v []float32) map[string]any {
	buf := make([]byte, 2+4*len(v))
	buf[0] = 0x27 // float32
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[2+4*i:], math.Float32bits(x))
	}
	return map[string]any{"$binary": map[string]any{"base64": base64.StdEncoding.EncodeToString(buf), "subType": "09"}}
}

// VectorSearchOptions are a vector search's options.
type VectorSearchOptions struct {
	K             int  // results (default 10)
	Ef            int  // breadth of the walk (default the index's)
	Filter        any  // a filter on the index's filter fields, or nil
	Exact         bool // compare with every vector
	IncludeScores bool // add "_distance" and "_score" to each document
	Index         string
	Projection    any // the fields each document keeps, as Find's (nil: all)
}

// VectorSearch opens a cursor over the documents nearest to vector,
// nearest first. Close the cursor when done.
//
//	cur, err := products.VectorSearch(query, cairn.VectorSearchOptions{K: 5, Filter: map[string]any{"in_stock": true}})
func (c *Collection) VectorSearch(vector []float32, opts VectorSearchOptions) (*Cursor, error) {
	const op = "Collection.VectorSearch"
	options := map[string]any{"vector": Vector(vector)}
	if opts.K != 0 {
		options["k"] = opts.K
	}
	if opts.Ef != 0 {
		options["ef"] = opts.Ef
	}
	if opts.Filter != nil {
		options["filter"] = opts.Filter
	}
	if opts.Exact {
		options["exact"] = true
	}
	if opts.IncludeScores {
		options["include_scores"] = true
	}
	if opts.Index != "" {
		options["index"] = opts.Index
	}
	if opts.Projection != nil {
		options["projection"] = opts.Projection
	}
	js, err := json.Marshal(options)
	if err != nil {
		return nil, argErr(op, "%v", err)
	}
	return c.vectorSearchJSON(op, js)
}

// vectorSearchJSON calls cairn_vector_search with options as JSON text.
func (c *Collection) vectorSearchJSON(op string, optionsJSON []byte) (*Cursor, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	o, on := charsArg(optionsJSON)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_vector_search(h, n, nn, o, on, &ch, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, c.db), nil
}

// HybridSearchOptions are a hybrid search's options; zero values take the
// library's defaults.
type HybridSearchOptions struct {
	Limit         int            // results (default 10)
	Candidates    int            // hits taken from each search (default max(Limit, 50))
	Fusion        string         // "rrf" (default) or "weighted"
	RRFK          float64        // RRF's constant (default 60)
	TextWeight    float64        // default 1
	VectorWeight  float64        // default 1
	TextOptions   map[string]any // cairn_search's options: index, fields, weights, filter
	VectorOptions map[string]any // VectorSearch's: ef, filter, exact, index
}

// HybridSearch opens a cursor over the fusion of a text search for query
// and a vector search for vector, best first. Each result is
// {"document": ..., "score": fused, "text_score": ..., "vector_score": ...}
// (null where the document is missing from one ranking).
func (c *Collection) HybridSearch(query string, vector []float32, opts HybridSearchOptions) (*Cursor, error) {
	text := map[string]any{"query": query}
	for k, v := range opts.TextOptions {
		text[k] = v
	}
	options := map[string]any{"text": text, "vector": Vector(vector)}
	if opts.Limit != 0 {
		options["limit"] = opts.Limit
	}
	if opts.Candidates != 0 {
		options["candidates"] = opts.Candidates
	}
	if opts.Fusion != "" {
		options["fusion"] = opts.Fusion
	}
	if opts.RRFK != 0 {
		options["rrf_k"] = opts.RRFK
	}
	if opts.TextWeight != 0 || opts.VectorWeight != 0 {
		w := map[string]any{}
		if opts.TextWeight != 0 {
			w["text"] = opts.TextWeight
		}
		if opts.VectorWeight != 0 {
			w["vector"] = opts.VectorWeight
		}
		options["weights"] = w
	}
	if opts.VectorOptions != nil {
		options["vector_options"] = opts.VectorOptions
	}
	js, err := json.Marshal(options)
	if err != nil {
		return nil, argErr("Collection.HybridSearch", "%v", err)
	}
	return c.hybridSearchJSON("Collection.HybridSearch", js)
}

// hybridSearchJSON calls cairn_hybrid_search with options as JSON text.
func (c *Collection) hybridSearchJSON(op string, optionsJSON []byte) (*Cursor, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	o, on := charsArg(optionsJSON)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_hybrid_search(h, n, nn, o, on, &ch, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, c.db), nil
}
