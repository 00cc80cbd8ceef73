package cairn

// Graphs (include/cairn.h, "Graphs"): an edge collection whose documents
// carry _from and _to (the primary keys of their endpoints), an optional
// label and an optional numeric weight, over vertex collections. Queries
// are JSON objects with an "op" (traverse, shortest_path, all_paths,
// components, has_cycle, cycles, degree, neighbors); their rows stream
// through a Cursor.

/*
#include "cairn.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
)

// GraphDeclaration declares a graph: its edge collection, its vertex
// collections, and the edges' weight field (empty: "weight").
type GraphDeclaration struct {
	Edges    string   `json:"edges"`
	Vertices []string `json:"vertices"`
	Weight   string   `json:"weight,omitempty"`
}

// GraphInfo describes a declared graph, as ListGraphs returns it.
type GraphInfo struct {
	Name     string   `json:"name"`
	Edges    string   `json:"edges"`
	Vertices []string `json:"vertices"`
	Weight   string   `json:"weight"`
}

// GraphPath is a path of a shortest_path or all_paths query: vertex ids,
// edge ids (primary keys as JSON values), its length in edges and, for a
// weighted query, its weight.
type GraphPath struct {
	Vertices []any   `json:"vertices"`
	Edges    []any   `json:"edges"`
	Length   int     `json:"length"`
	Weight   float64 `json:"weight,omitempty"`
}

// Graph is a declared graph seen from a database or a transaction; it
// holds no handle of its own.
type Graph struct {
	db   *DB
	name string
}

// Graph returns the graph called name; nothing is checked until it is used.
func (db *DB) Graph(name string) *Graph { return &Graph{db: db, name: name} }

// Graph returns the graph called name, read in the transaction.
func (tx *Tx) Graph(name string) *Graph {
	if tx == nil {
		return &Graph{name: name}
	}
	return &Graph{db: tx.db, name: name}
}

// Name returns the graph's name.
func (g *Graph) Name() string { return g.name }

// CreateGraph declares a graph and creates its edge collection's adjacency
// indexes (cairn_graph_create). Declaring the same graph again is a no-op.
func (db *DB) CreateGraph(name string, decl GraphDeclaration) (*Graph, error) {
	const op = "DB.CreateGraph"
	if decl.Vertices == nil {
		decl.Vertices = []string{}
	}
	js, err := json.Marshal(decl)
	if err != nil {
		return nil, argErr(op, "declaration: %v", err)
	}
	if err := db.createGraphJSON(op, name, js); err != nil {
		return nil, err
	}
	return db.Graph(name), nil
}

// createGraphJSON calls cairn_graph_create with the declaration as JSON text.
func (db *DB) createGraphJSON(op, name string, declaration []byte) error {
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	n, nn := charsArg([]byte(name))
	d, dn := charsArg(declaration)
	var msg *C.char
	rc := C.cairn_graph_create(h, n, nn, d, dn, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(declaration)
	return statusErr(op, rc, msg)
}

// DropGraph removes a graph's declaration (and its adjacency indexes when
// no other graph uses its edge collection); the documents stay. An error
// matching ErrNotFound means there was no such graph.
func (db *DB) DropGraph(name string) error {
	const op = "DB.DropGraph"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	n, nn := charsArg([]byte(name))
	var msg *C.char
	rc := C.cairn_graph_drop(h, n, nn, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// ListGraphs returns the declared graphs, by name.
func (db *DB) ListGraphs() ([]GraphInfo, error) {
	const op = "DB.ListGraphs"
	text, err := db.listGraphsJSON(op)
	if err != nil {
		return nil, err
	}
	graphs := []GraphInfo{}
	if err := json.Unmarshal(text, &graphs); err != nil {
		return nil, internalErr(op, "library returned malformed JSON: %v", err)
	}
	return graphs, nil
}

// listGraphsJSON returns cairn_graph_list's JSON text.
func (db *DB) listGraphsJSON(op string) ([]byte, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	return callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_graph_list(h, out, outLen, msg)
	})
}

// Query runs a graph query (a map, a struct or JSON text with "op" and the
// operation's options) and returns a cursor over its rows; a traversal
// walks as the cursor moves. Cancelling ctx interrupts the query or the
// cursor (the error then matches ctx.Err() and ErrInterrupted, from Query
// or from the cursor's Err); a query that would need more than its
// "memory_limit" fails with ErrInvalidArgument.
func (g *Graph) Query(ctx context.Context, query any) (*Cursor, error) {
	const op = "Graph.Query"
	if g == nil || g.db == nil {
		return nil, closedErr(op, "graph was not made with DB.Graph or Tx.Graph")
	}
	js, err := marshalJSON(query)
	if err != nil {
		return nil, argErr(op, "query: %v", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := g.db.handle(op)
	if err != nil {
		return nil, err
	}
	// A traversal walks as the cursor moves, so ctx is watched until the
	// cursor is closed, as FindContext does.
	stop := g.db.watch(ctx)
	n, nn := charsArg([]byte(g.name))
	q, qn := charsArg(js)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_graph_query(h, n, nn, q, qn, &ch, &msg)
	runtime.KeepAlive(g.db)
	runtime.KeepAlive(js)
	if err := statusErr(op, rc, msg); err != nil {
		stop()
		return nil, withContext(ctx, err)
	}
	cur := newCursor(ch, g.db)
	cur.ctx, cur.stopWatch = ctx, stop
	return cur, nil
}

// rows runs a query and decodes every row into out (a pointer to a slice).
func (g *Graph) rows(ctx context.Context, query map[string]any, out any) error {
	cur, err := g.Query(ctx, query)
	if err != nil {
		return err
	}
	return cur.All(out)
}

// ShortestPath returns the shortest path from start to target, or nil when
// there is none. options are the query's other options ("direction",
// "labels", "weighted", "weight", "edge_filter", "memory_limit").
func (g *Graph) ShortestPath(ctx context.Context, start, target any, options map[string]any) (*GraphPath, error) {
	query := map[string]any{"op": "shortest_path", "start": start, "target": target}
	for k, v := range options {
		query[k] = v
	}
	var paths []GraphPath
	if err := g.rows(ctx, query, &paths); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, nil
	}
	return &paths[0], nil
}

// Components returns the weakly (or, with strong, strongly) connected
// components, each a list of vertex ids in key order.
func (g *Graph) Components(ctx context.Context, strong bool) ([][]any, error) {
	mode := "weak"
	if strong {
		mode = "strong"
	}
	var rows []struct {
		Vertices []any `json:"vertices"`
	}
	if err := g.rows(ctx, map[string]any{"op": "components", "mode": mode}, &rows); err != nil {
		return nil, err
	}
	out := make([][]any, len(rows))
	for i, row := range rows {
		out[i] = row.Vertices
	}
	return out, nil
}

// FindCycle returns the vertex ids of one directed cycle, or nil when the
// graph has none.
func (g *Graph) FindCycle(ctx context.Context) ([]any, error) {
	var rows []struct {
		Cycle []any `json:"cycle"`
	}
	if err := g.rows(ctx, map[string]any{"op": "has_cycle"}, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, internalErr("Graph.FindCycle", "no result row")
	}
	return rows[0].Cycle, nil
}

// DeleteVertex deletes the vertex whose primary key is id from the vertex
// collections, and every edge from or to it, in one transaction; it
// returns how many vertices and edges were deleted.
func (g *Graph) DeleteVertex(id any) (vertices, edges int, err error) {
	const op = "Graph.DeleteVertex"
	if g == nil || g.db == nil {
		return 0, 0, closedErr(op, "graph was not made with DB.Graph or Tx.Graph")
	}
	h, err := g.db.handle(op)
	if err != nil {
		return 0, 0, err
	}
	js, err := marshalJSON(id)
	if err != nil {
		return 0, 0, argErr(op, "id: %v", err)
	}
	n, nn := charsArg([]byte(g.name))
	v, vn := charsArg(js)
	var nv, ne C.size_t
	var msg *C.char
	rc := C.cairn_graph_delete_vertex(h, n, nn, v, vn, &nv, &ne, &msg)
	runtime.KeepAlive(g.db)
	runtime.KeepAlive(js)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, 0, err
	}
	return int(nv), int(ne), nil
}
