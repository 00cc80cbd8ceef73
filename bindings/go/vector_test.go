package cairn

import (
	"errors"
	"testing"
)

func TestVectorSearchNearestFirstFilteredAndErrors(t *testing.T) {
	db, _ := openTest(t, nil)
	coll := db.Collection("pts")
	if _, err := coll.CreateVectorIndex("v", 2, VectorIndexOptions{Metric: "l2", FilterFields: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := coll.InsertOne(map[string]any{"_id": i, "c": i % 2, "v": Vector([]float32{float32(i), 0})}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cur *Cursor, err error) []int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		var out []int
		for cur.Next() {
			var doc struct {
				ID int `json:"_id"`
			}
			if err := cur.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			out = append(out, doc.ID)
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := ids(coll.VectorSearch([]float32{10.2, 0}, VectorSearchOptions{K: 3}))
	if len(got) != 3 || got[0] != 10 || got[1] != 11 || got[2] != 9 {
		t.Fatalf("nearest: %v", got)
	}
	got = ids(coll.VectorSearch([]float32{10.2, 0}, VectorSearchOptions{K: 2, Filter: map[string]any{"c": 1}, Exact: true}))
	if len(got) != 2 || got[0] != 11 || got[1] != 9 {
		t.Fatalf("filtered: %v", got)
	}
	if _, err := coll.VectorSearch([]float32{1, 2, 3}, VectorSearchOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("wrong dimension: %v", err)
	}
}
