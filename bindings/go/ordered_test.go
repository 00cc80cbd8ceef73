package cairn

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestDKeepsKeyOrderBothWays(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("d")
	in := D{{Key: "_id", Value: 1}, {Key: "z", Value: 1}, {Key: "a", Value: D{{Key: "y", Value: 2}, {Key: "b", Value: 3}}}}
	if _, err := c.InsertOne(in); err != nil {
		t.Fatal(err)
	}
	var out D
	if err := c.FindByID(1).Decode(&out); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(out)
	if want := `{"_id":1,"z":1,"a":{"y":2,"b":3}}`; string(js) != want {
		t.Fatalf("D came back as %s, want %s", js, want)
	}
	if _, isD := out[2].Value.(D); !isD {
		t.Fatalf("a nested object decoded into a D is %T, want D", out[2].Value)
	}
}

func TestAscDescSortIndexAndSortStage(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("people")
	people := []struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}{{"ann", 30}, {"bob", 25}, {"cy", 30}, {"di", 25}}
	if _, err := c.InsertMany(people); err != nil { // any slice
		t.Fatal(err)
	}
	want := []string{"cy", "ann", "di", "bob"} // age ascending would put bob first
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: D{Desc("age"), Desc("name")}})); !equalStrings(got, want) {
		t.Fatalf("sort D{Desc(age), Desc(name)} = %q, want %q", got, want)
	}
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: Asc("name")})); !equalStrings(got, []string{"ann", "bob", "cy", "di"}) {
		t.Fatalf("sort Asc(name) = %q", got)
	}
	name, err := c.CreateIndex(D{Asc("age"), Desc("name")}, IndexOptions{})
	if err != nil || name != "age_1_name_-1" {
		t.Fatalf("CreateIndex(D) = %q, %v; want age_1_name_-1", name, err)
	}
	if _, err := c.CreateIndex(M{"age": 1}, IndexOptions{}); err != nil {
		t.Fatalf("CreateIndex(one-key map): %v", err)
	}
	_, err = c.CreateIndex(M{"age": 1, "name": -1}, IndexOptions{})
	wantErr(t, "CreateIndex with a two-key map", err, ErrInvalidArgument)

	cur, err := c.Aggregate([]any{D{{Key: "$sort", Value: D{Desc("age"), Desc("name")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, cur); !equalStrings(got, want) {
		t.Fatalf("$sort D = %q, want %q", got, want)
	}
	_, err = c.Aggregate([]any{M{"$sort": M{"age": -1, "name": -1}}})
	wantErr(t, "a $sort stage with a two-key map", err, ErrInvalidArgument)
	_, err = c.Aggregate([]M{{"$project": M{"age": 1, "name": 1}}})
	wantErr(t, "a $project stage with a two-key map", err, ErrInvalidArgument)
	_, err = c.FindOneAndDelete(nil, &FindOneAndDeleteOptions{Sort: M{"age": 1, "name": 1}}).Raw()
	wantErr(t, "FindOneAndDelete with a two-key map sort", err, ErrInvalidArgument)
	if _, err := c.Aggregate([]any{M{"$sort": M{"age": 1}}}); err != nil {
		t.Fatalf("a $sort stage with a one-key map: %v", err)
	}
}

func TestTimeBytesAndIntegersRoundTrip(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("typed")
	at := time.Date(2026, 12, 6, 8, 30, 0, 123_456_789, time.FixedZone("CET", 3600))
	type rec struct {
		ID    string    `json:"_id,omitempty"`
		At    time.Time `json:"at"`
		When  *time.Time
		Blob  []byte `json:"blob"`
		Big   int64  `json:"big"`
		Skip  string `json:"-"`
		Empty string `json:"empty,omitempty"`
	}
	in := rec{At: at, When: &at, Blob: []byte{0, 1, 0xff}, Big: math.MaxInt64, Skip: "x"}
	id, err := c.InsertOne(in)
	if s, ok := id.(string); err != nil || !ok || len(s) != 24 {
		t.Fatalf("InsertOne with an empty omitempty _id = %#v, %v; want a generated id", id, err)
	}
	// Stored as a date and as binary, not as strings.
	raw, err := c.FindByID(id).Raw()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"at":{"$date":"2026-12-06T07:30:00.123Z"}`, `"$binary"`, `"big":9223372036854775807`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("stored document %s lacks %s", raw, want)
		}
	}
	if bytes.Contains(raw, []byte(`"Skip"`)) || bytes.Contains(raw, []byte(`"empty"`)) {
		t.Fatalf("stored document %s holds a - or an empty omitempty field", raw)
	}
	// A time.Time in a filter is a date, so a date query matches.
	n, err := c.Count(M{"at": M{"$gte": at.Add(-time.Minute), "$lt": at.Add(time.Minute)}})
	if err != nil || n != 1 {
		t.Fatalf("Count by a time.Time range = %d, %v; want 1", n, err)
	}
	var out rec
	if err := c.FindByID(id).Decode(&out); err != nil {
		t.Fatal(err)
	}
	ms := at.Truncate(time.Millisecond)
	if !out.At.Equal(ms) || out.When == nil || !out.When.Equal(ms) || !bytes.Equal(out.Blob, in.Blob) || out.Big != math.MaxInt64 {
		t.Fatalf("struct came back as %+v", out)
	}
	var m map[string]any
	if err := c.FindByID(id).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if got, ok := m["at"].(time.Time); !ok || !got.Equal(ms) {
		t.Fatalf("date in a map = %#v, want a time.Time", m["at"])
	}
	if got, ok := m["blob"].([]byte); !ok || !bytes.Equal(got, in.Blob) {
		t.Fatalf("binary in a map = %#v, want a []byte", m["blob"])
	}
	if got, ok := m["big"].(json.Number); !ok || got.String() != "9223372036854775807" {
		t.Fatalf("int64 in a map = %#v, want json.Number 9223372036854775807", m["big"])
	}
	// json.Number stays an integer on the way in.
	if _, err := c.InsertOne(M{"_id": "n", "v": json.Number("9007199254740993")}); err != nil {
		t.Fatal(err)
	}
	raw, _ = c.FindByID("n").Raw()
	if !strings.Contains(string(raw), `"v":9007199254740993`) {
		t.Fatalf("json.Number stored as %s", raw)
	}
	// A date _id comes back as a time.Time.
	id, err = c.InsertOne(M{"_id": at})
	if got, ok := id.(time.Time); err != nil || !ok || !got.Equal(ms) {
		t.Fatalf("InsertOne with a time.Time _id returned %#v, %v", id, err)
	}
}

func TestCursorAllDecodesIntoAnySlice(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("all")
	type person struct {
		ID   int    `json:"_id"`
		Name string `json:"name"`
	}
	if _, err := c.InsertMany([]person{{1, "ann"}, {2, "bob"}}); err != nil {
		t.Fatal(err)
	}
	var people []person
	if err := mustFind(t, c, nil, &FindOptions{Sort: Desc("_id")}).All(&people); err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0] != (person{2, "bob"}) || people[1] != (person{1, "ann"}) {
		t.Fatalf("All(&[]person) = %+v", people)
	}
	var ds []D
	if err := mustFind(t, c, nil, nil).All(&ds); err != nil || len(ds) != 2 || ds[0][1].Key != "name" {
		t.Fatalf("All(&[]D) = %v, %v", ds, err)
	}
	var notSlice int
	wantErr(t, "All(&int)", mustFind(t, c, nil, nil).All(&notSlice), ErrInvalidArgument)
}

func TestRunTransactionRetriesOnConflict(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "counter", "0")
	attempts := 0
	err := db.RunTransaction(func(tx *Tx) error {
		attempts++
		if _, err := tx.Get([]byte("counter")); err != nil {
			return err
		}
		if err := tx.Put([]byte("counter"), []byte("mine")); err != nil {
			return err
		}
		if attempts == 1 { // a concurrent write: this attempt's commit conflicts
			return db.Put([]byte("counter"), []byte("theirs"))
		}
		return nil
	}, 3)
	if err != nil || attempts != 2 {
		t.Fatalf("RunTransaction = %v after %d attempts; want nil after 2", err, attempts)
	}
	err = db.RunTransaction(func(tx *Tx) error {
		if err := tx.Put([]byte("k"), []byte("mine")); err != nil {
			return err
		}
		return db.Put([]byte("k"), []byte("theirs"))
	}, 1)
	wantErr(t, "RunTransaction that always conflicts", err, ErrConflict)
}
