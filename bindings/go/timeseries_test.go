package cairn

import (
	"errors"
	"math"
	"testing"
)

func TestTimeSeriesWriteReadAggregate(t *testing.T) {
	db, _ := openTest(t, nil)
	n, err := db.TSWrite([]TSPoint{
		{Metric: "cpu", Tags: map[string]string{"host": "a"}, T: 1000, V: 1.5},
		{Metric: "cpu", Tags: map[string]string{"host": "a"}, T: 2000, V: math.NaN()},
		{Metric: "cpu", Tags: map[string]string{"host": "b"}, T: 1000, V: 4.0},
	})
	if err != nil || n != 3 {
		t.Fatalf("TSWrite: %d %v", n, err)
	}
	cur, err := db.TSRange(map[string]any{"metric": "cpu", "tags": map[string]string{"host": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		T int64   `json:"t"`
		V TSValue `json:"v"`
	}
	if err := cur.All(&rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].T != 1000 || rows[0].V != 1.5 || !math.IsNaN(float64(rows[1].V)) {
		t.Fatalf("rows %+v", rows)
	}
	id, err := db.TSSeriesID("m", nil, "int")
	if err != nil || id&1 != 1 {
		t.Fatalf("id %d %v", id, err)
	}
	if err := db.TSWriteInt([]uint64{id, id, id}, []int64{10, 20, 30}, []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.TSWriteFloat([]uint64{id}, []int64{40}, []float64{1.5}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("float into an int series: %v", err)
	}
	agg, err := db.TSAggregate(map[string]any{"metric": "m", "every": 100, "aggregates": []string{"sum", "count"}})
	if err != nil {
		t.Fatal(err)
	}
	var sums []struct {
		Sum   int64 `json:"sum"`
		Count int64 `json:"count"`
	}
	if err := agg.All(&sums); err != nil || len(sums) != 1 || sums[0].Sum != 6 || sums[0].Count != 3 {
		t.Fatalf("aggregate %+v %v", sums, err)
	}
	if _, err := db.TSAggregate(map[string]any{"metric": "m", "every": 100, "aggregates": []string{"nope"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown aggregate: %v", err)
	}
	if _, err := db.TSImport([]byte("w,city=x t=1\nbad\n"), "s"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad line: %v", err)
	}
	if n, err := db.TSImport([]byte("w,city=x t=1 1\n"), "s"); err != nil || n != 1 {
		t.Fatalf("import %d %v", n, err)
	}
	last, err := db.TSLast(map[string]any{"metric": "w.t"})
	if err != nil {
		t.Fatal(err)
	}
	var latest []struct {
		T int64 `json:"t"`
	}
	if err := last.All(&latest); err != nil || len(latest) != 1 || latest[0].T != 1000 {
		t.Fatalf("last %+v %v", latest, err)
	}
	if _, err := db.TSCompact(); err != nil {
		t.Fatal(err)
	}
}
