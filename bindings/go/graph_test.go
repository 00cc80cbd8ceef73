package cairn

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestGraphDeclareQueryAndDeleteVertex(t *testing.T) {
	db, _ := openTest(t, nil)
	g, err := db.CreateGraph("social", GraphDeclaration{Edges: "follows", Vertices: []string{"people"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("people").InsertMany([]any{map[string]any{"_id": "ann"}, map[string]any{"_id": "bob"}, map[string]any{"_id": "cid"}}); err != nil {
		t.Fatal(err)
	}
	edges := []any{
		map[string]any{"_id": 1, "_from": "ann", "_to": "bob", "weight": 1},
		map[string]any{"_id": 2, "_from": "bob", "_to": "cid", "weight": 1},
		map[string]any{"_id": 3, "_from": "ann", "_to": "cid", "weight": 5},
	}
	if _, err := db.Collection("follows").InsertMany(edges); err != nil {
		t.Fatal(err)
	}
	graphs, err := db.ListGraphs()
	if err != nil || len(graphs) != 1 || graphs[0].Edges != "follows" || graphs[0].Weight != "weight" {
		t.Fatalf("ListGraphs: %+v, %v", graphs, err)
	}
	ctx := context.Background()
	path, err := g.ShortestPath(ctx, "ann", "cid", nil)
	if err != nil || path == nil || !reflect.DeepEqual(path.Vertices, []any{"ann", "cid"}) || path.Length != 1 {
		t.Fatalf("ShortestPath: %+v, %v", path, err)
	}
	path, err = g.ShortestPath(ctx, "ann", "cid", map[string]any{"weighted": true})
	if err != nil || path == nil || !reflect.DeepEqual(path.Vertices, []any{"ann", "bob", "cid"}) || path.Weight != 2 {
		t.Fatalf("weighted ShortestPath: %+v, %v", path, err)
	}
	if path, err := g.ShortestPath(ctx, "cid", "ann", nil); err != nil || path != nil {
		t.Fatalf("unreachable: %+v, %v", path, err)
	}
	components, err := g.Components(ctx, false)
	if err != nil || !reflect.DeepEqual(components, [][]any{{"ann", "bob", "cid"}}) {
		t.Fatalf("Components: %v, %v", components, err)
	}
	if cycle, err := g.FindCycle(ctx); err != nil || cycle != nil {
		t.Fatalf("FindCycle: %v, %v", cycle, err)
	}
	cur, err := g.Query(ctx, map[string]any{"op": "traverse", "start": "ann", "vertices": false})
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID    string `json:"id"`
		Depth int    `json:"depth"`
	}
	if err := cur.All(&rows); err != nil || len(rows) != 2 || rows[0].ID != "bob" || rows[1].ID != "cid" {
		t.Fatalf("traverse: %+v, %v", rows, err)
	}
	if _, err := g.Query(ctx, map[string]any{"op": "fly"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad op: %v", err)
	}
	if _, err := db.Graph("nope").Query(ctx, map[string]any{"op": "components"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing graph: %v", err)
	}

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if v, e, err := tx.Graph("social").DeleteVertex("bob"); err != nil || v != 1 || e != 2 {
		t.Fatalf("DeleteVertex: %d %d %v", v, e, err)
	}
	if path, err := tx.Graph("social").ShortestPath(ctx, "ann", "bob", nil); err != nil || path != nil {
		t.Fatalf("in the transaction: %+v, %v", path, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if path, err := g.ShortestPath(ctx, "ann", "bob", nil); err != nil || path == nil {
		t.Fatalf("after rollback: %+v, %v", path, err)
	}
	if err := db.DropGraph("social"); err != nil {
		t.Fatal(err)
	}
	if err := db.DropGraph("social"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second drop: %v", err)
	}
}

func TestGraphQueryContextCancels(t *testing.T) {
	db, _ := openTest(t, nil)
	g, err := db.CreateGraph("k", GraphDeclaration{Edges: "e"})
	if err != nil {
		t.Fatal(err)
	}
	var edges []any
	for i := 0; i < 13; i++ {
		for j := 0; j < 13; j++ {
			if i != j {
				edges = append(edges, map[string]any{"_from": i, "_to": j})
			}
		}
	}
	if _, err := db.Collection("e").InsertMany(edges); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err = g.Query(ctx, map[string]any{"op": "all_paths", "start": 0, "target": 1, "max_length": 13,
		"limit": 2000000000, "memory_limit": int64(1) << 40})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled query: %v", err)
	}
	if time.Since(started) > 10*time.Second {
		t.Fatalf("cancellation took %v", time.Since(started))
	}
	if _, err := g.Query(context.Background(), map[string]any{"op": "has_cycle"}); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := g.Query(context.Background(), map[string]any{"op": "cycles", "max_length": 13, "memory_limit": 65536}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("budget: %v", err)
	}
}
