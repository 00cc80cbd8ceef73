package cairn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

type person struct {
	ID   int64    `json:"_id"`
	Name string   `json:"name"`
	Age  int64    `json:"age"`
	Tags []string `json:"tags,omitempty"`
}

// M is a short name for the maps these tests build documents from.
type M = map[string]any

// names reads every document of cur (closing it) and returns their "name"
// fields in order.
func names(t *testing.T, cur *Cursor) []string {
	t.Helper()
	defer cur.Close()
	out := []string{}
	for cur.Next() {
		var doc struct {
			Name string `json:"name"`
		}
		if err := cur.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		out = append(out, doc.Name)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustFind(t *testing.T, c *Collection, filter any, opts *FindOptions) *Cursor {
	t.Helper()
	cur, err := c.Find(filter, opts)
	if err != nil {
		t.Fatalf("Find(%v): %v", filter, err)
	}
	return cur
}

func TestDocumentsCRUD(t *testing.T) {
	db, _ := openTest(t, nil)
	users := db.Collection("users")
	if users.Name() != "users" {
		t.Fatalf("Name() = %q", users.Name())
	}

	id, err := users.InsertOne(person{ID: 1, Name: "ann", Age: 31, Tags: []string{"red"}})
	if err != nil {
		t.Fatal(err)
	}
	if id != json.Number("1") {
		t.Fatalf("InsertOne _id = %#v, want json.Number(\"1\")", id)
	}
	ids, err := users.InsertMany([]any{
		M{"_id": 2, "name": "bob", "age": 25},
		json.RawMessage(`{"_id": 3, "name": "cy", "age": 40}`),
		[]byte(`{"name": "dee", "age": 19}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] != json.Number("2") || ids[1] != json.Number("3") {
		t.Fatalf("InsertMany _ids = %#v", ids)
	}
	if gen, ok := ids[2].(string); !ok || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(gen) {
		t.Fatalf("generated _id = %#v, want 24 hex digits", ids[2])
	}

	if n, err := users.Count(nil); err != nil || n != 4 {
		t.Fatalf("Count(nil) = %d, %v; want 4", n, err)
	}
	if n, err := users.Count(M{"age": M{"$gte": 30}}); err != nil || n != 2 {
		t.Fatalf("Count(age >= 30) = %d, %v; want 2", n, err)
	}

	var ann person
	if err := users.FindOne(M{"name": "ann"}, nil).Decode(&ann); err != nil {
		t.Fatal(err)
	}
	if ann.ID != 1 || ann.Age != 31 || len(ann.Tags) != 1 || ann.Tags[0] != "red" {
		t.Fatalf("FindOne decoded %+v", ann)
	}

	res, err := users.UpdateOne(M{"_id": 1}, M{"$inc": M{"age": 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (UpdateResult{Matched: 1, Modified: 1}) {
		t.Fatalf("UpdateOne result %+v", *res)
	}
	res, err = users.UpdateMany(M{"age": M{"$lt": 30}}, M{"$set": M{"young": true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 2 || res.Modified != 2 || res.UpsertedID != nil {
		t.Fatalf("UpdateMany result %+v", *res)
	}
	res, err = users.UpdateOne(M{"name": "eve"}, M{"$set": M{"age": 50}}, &UpdateOptions{Upsert: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 0 || res.UpsertedID == nil {
		t.Fatalf("upsert result %+v", *res)
	}
	var eve M
	if err := users.FindOne(M{"_id": res.UpsertedID}, nil).Decode(&eve); err != nil {
		t.Fatalf("FindOne by the upserted _id %v: %v", res.UpsertedID, err)
	}
	if eve["name"] != "eve" || eve["age"] != json.Number("50") {
		t.Fatalf("upserted document %v", eve)
	}

	res, err = users.ReplaceOne(M{"_id": 2}, M{"name": "robert"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 1 || res.Modified != 1 {
		t.Fatalf("ReplaceOne result %+v", *res)
	}
	var bob M
	if err := users.FindOne(M{"_id": 2}, nil).Decode(&bob); err != nil {
		t.Fatal(err)
	}
	if len(bob) != 2 || bob["name"] != "robert" || bob["_id"] != json.Number("2") {
		t.Fatalf("replaced document %v, want {_id: 2, name: robert}", bob)
	}

	if n, err := users.DeleteOne(M{"age": M{"$gt": 0}}); err != nil || n != 1 {
		t.Fatalf("DeleteOne = %d, %v; want 1", n, err)
	}
	if n, err := users.DeleteMany(M{"age": M{"$gt": 0}}); err != nil || n != 3 {
		t.Fatalf("DeleteMany = %d, %v; want 3", n, err)
	}
	if n, err := users.DeleteMany(M{"age": M{"$gt": 0}}); err != nil || n != 0 {
		t.Fatalf("DeleteMany again = %d, %v; want 0", n, err)
	}
	if got := names(t, mustFind(t, users, nil, nil)); !equalStrings(got, []string{"robert"}) {
		t.Fatalf("left after deletes: %q", got)
	}
}

func TestCollectionsCreateListDrop(t *testing.T) {
	db, _ := openTest(t, nil)
	list := func() []string {
		t.Helper()
		l, err := db.ListCollections()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := list(); l == nil || len(l) != 0 {
		t.Fatalf("ListCollections on a new database = %#v, want empty and non-nil", l)
	}
	if err := db.CreateCollection("b", nil); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateCollection of an existing name", db.CreateCollection("b", nil), ErrInvalidArgument)
	wantErr(t, "CreateCollection(\"$x\")", db.CreateCollection("$x", nil), ErrInvalidArgument)
	if _, err := db.Collection("a").InsertOne(M{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if l := list(); !equalStrings(l, []string{"a", "b"}) {
		t.Fatalf("ListCollections = %q, want [a b]", l)
	}
	if err := db.Collection("a").Drop(); err != nil {
		t.Fatal(err)
	}
	if err := db.DropCollection("missing"); err != nil {
		t.Fatalf("DropCollection of a missing collection: %v", err)
	}
	if l := list(); !equalStrings(l, []string{"b"}) {
		t.Fatalf("ListCollections after Drop = %q, want [b]", l)
	}
	if n, err := db.Collection("a").Count(nil); err != nil || n != 0 {
		t.Fatalf("Count of a dropped collection = %d, %v", n, err)
	}
}

func TestDecodeKeepsLargeIntegersExact(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("nums")
	const big = int64(1)<<53 + 1 // not representable as a float64
	if _, err := c.InsertOne(M{"_id": "k", "big": big, "max": int64(math.MaxInt64), "min": int64(math.MinInt64), "half": 0.5}); err != nil {
		t.Fatal(err)
	}

	var m map[string]any
	if err := c.FindOne(nil, nil).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]int64{"big": big, "max": math.MaxInt64, "min": math.MinInt64} {
		n, ok := m[field].(json.Number)
		if !ok {
			t.Fatalf("map field %s is %T, want json.Number", field, m[field])
		}
		if got, err := n.Int64(); err != nil || got != want {
			t.Fatalf("map field %s = %s (%v), want %d", field, n, err, want)
		}
	}
	if h, _ := m["half"].(json.Number).Float64(); h != 0.5 {
		t.Fatalf("half = %v", m["half"])
	}

	var a any
	if err := c.FindOne(nil, nil).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if got := a.(map[string]any)["big"]; got != json.Number("9007199254740993") {
		t.Fatalf("*any: big = %#v", got)
	}

	var s struct {
		Big  int64   `json:"big"`
		Max  int64   `json:"max"`
		Min  int64   `json:"min"`
		Half float64 `json:"half"`
	}
	if err := c.FindOne(nil, nil).Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Big != big || s.Max != math.MaxInt64 || s.Min != math.MinInt64 || s.Half != 0.5 {
		t.Fatalf("struct = %+v", s)
	}

	// A filter on the exact value finds it (and one off does not).
	if n, err := c.Count(M{"big": big}); err != nil || n != 1 {
		t.Fatalf("Count(big) = %d, %v", n, err)
	}
	if n, err := c.Count(M{"big": big - 1}); err != nil || n != 0 {
		t.Fatalf("Count(big-1) = %d, %v", n, err)
	}
}

func TestFindOneNotFound(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	var v M
	wantErr(t, "FindOne in a missing collection", c.FindOne(nil, nil).Decode(&v), ErrNotFound)
	if _, err := c.InsertOne(M{"a": 1}); err != nil {
		t.Fatal(err)
	}
	err := c.FindOne(M{"a": 2}, nil).Decode(&v)
	wantErr(t, "FindOne with no match", err, ErrNotFound)
	var e *Error
	if !errors.As(err, &e) || e.Op != "Collection.FindOne" {
		t.Fatalf("FindOne error %#v, want an *Error with Op Collection.FindOne", err)
	}
	if v != nil {
		t.Fatalf("FindOne with no match filled out: %v", v)
	}
}

func TestFindSortSkipLimitProjection(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("scores")
	_, err := c.InsertMany([]any{
		M{"name": "a", "score": 1, "extra": "x"},
		M{"name": "b", "score": 3, "extra": "x"},
		M{"name": "c", "score": 2, "extra": "x"},
		M{"name": "d", "score": 3, "extra": "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Score first, then name: by name first this would be a b c d.
	bySlice := []SortField{{"score", Descending}, {"name", Descending}}
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: bySlice})); !equalStrings(got, []string{"d", "b", "c", "a"}) {
		t.Fatalf("sort score desc, name desc = %q, want [d b c a]", got)
	}
	bySlice = []SortField{{"score", Descending}, {"name", Ascending}}
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: bySlice})); !equalStrings(got, []string{"b", "d", "c", "a"}) {
		t.Fatalf("sort score desc, name asc = %q, want [b d c a]", got)
	}
	// A D keeps its order; a map of two keys has none, and is refused.
	byD := D{Desc("score"), Asc("name")}
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: byD})); !equalStrings(got, []string{"b", "d", "c", "a"}) {
		t.Fatalf("D sort = %q, want [b d c a]", got)
	}
	byMap := map[string]int{"score": Descending, "name": Ascending}
	_, err = c.Find(nil, &FindOptions{Sort: byMap})
	wantErr(t, "Find with a two-key map sort", err, ErrInvalidArgument)
	raw := json.RawMessage(`{"score": 1, "name": -1}`)
	if got := names(t, mustFind(t, c, nil, &FindOptions{Sort: raw})); !equalStrings(got, []string{"a", "c", "d", "b"}) {
		t.Fatalf("raw sort = %q, want [a c d b]", got)
	}
	opts := &FindOptions{Sort: SortField{"name", Ascending}, Skip: 1, Limit: 2}
	if got := names(t, mustFind(t, c, M{"score": M{"$gte": 1}}, opts)); !equalStrings(got, []string{"b", "c"}) {
		t.Fatalf("skip 1 limit 2 = %q, want [b c]", got)
	}

	cur := mustFind(t, c, M{"name": "a"}, &FindOptions{Projection: map[string]int{"name": 1, "_id": 0}})
	defer cur.Close()
	if !cur.Next() {
		t.Fatalf("projection: no document (%v)", cur.Err())
	}
	var doc M
	if err := cur.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 1 || doc["name"] != "a" {
		t.Fatalf("projected document %v, want {name: a}", doc)
	}
	if cur.Next() {
		t.Fatalf("projection: a second document %s", cur.Raw())
	}
}

func TestFindOptionsMarshalKeepsSortOrder(t *testing.T) {
	o := &FindOptions{
		Sort:       []SortField{{"z", Descending}, {"a.b", Ascending}, {`q"uote`, Ascending}},
		Skip:       5,
		Limit:      10,
		Projection: map[string]int{"y": 1, "x": 1},
	}
	js, err := o.marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"sort":{"z":-1,"a.b":1,"q\"uote":1},"skip":5,"limit":10,"projection":{"x":1,"y":1}}`
	if string(js) != want {
		t.Fatalf("options %s\nwant    %s", js, want)
	}
	o.Sort, o.Projection = D{Desc("z"), Asc("a.b"), Asc(`q"uote`)}, D{{Key: "y", Value: 1}, {Key: "x", Value: 1}}
	if js, err = o.marshal(); err != nil {
		t.Fatal(err)
	}
	want = `{"sort":{"z":-1,"a.b":1,"q\"uote":1},"skip":5,"limit":10,"projection":{"y":1,"x":1}}`
	if string(js) != want {
		t.Fatalf("options %s\nwant    %s", js, want)
	}
	if js, err := (&FindOptions{}).marshal(); err != nil || js != nil {
		t.Fatalf("zero options = %q, %v; want nil", js, err)
	}
	if js, err := (*FindOptions)(nil).marshal(); err != nil || js != nil {
		t.Fatalf("nil options = %q, %v; want nil", js, err)
	}
}

func TestFilterForms(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("f")
	if _, err := c.InsertMany([]any{M{"k": 1}, M{"k": 2}}); err != nil {
		t.Fatal(err)
	}
	var nilMap map[string]any
	type byK struct {
		K int `json:"k"`
	}
	for _, tc := range []struct {
		name   string
		filter any
		want   int64
	}{
		{"nil", nil, 2},
		{"nil map", nilMap, 2},
		{"empty []byte", []byte{}, 2},
		{"map", M{"k": 2}, 1},
		{"struct", byK{K: 1}, 1},
		{"[]byte", []byte(`{"k": {"$gt": 0}}`), 2},
		{"json.RawMessage", json.RawMessage(`{"k": 3}`), 0},
	} {
		if n, err := c.Count(tc.filter); err != nil || n != tc.want {
			t.Errorf("Count(%s) = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	_, err := c.Count(M{"bad": make(chan int)})
	wantErr(t, "Count with an unmarshalable filter", err, ErrInvalidArgument)
	wantErr(t, "Count with malformed JSON text", errOf(c.Count([]byte(`{"k": `))), ErrInvalidArgument)
}

func errOf(_ int64, err error) error { return err }

func TestInsertDuplicateIDIsConstraint(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": "x", "v": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertOne(M{"_id": "x", "v": 2})
	wantErr(t, "InsertOne of a duplicate _id", err, ErrConstraint)
	_, err = c.InsertMany([]any{M{"_id": "y"}, M{"_id": "x"}})
	wantErr(t, "InsertMany with a duplicate _id", err, ErrConstraint)
	if n, err := c.Count(nil); err != nil || n != 1 {
		t.Fatalf("Count after failed inserts = %d, %v; want 1 (all or nothing)", n, err)
	}
	var doc M
	if err := c.FindOne(M{"_id": "x"}, nil).Decode(&doc); err != nil || doc["v"] != json.Number("1") {
		t.Fatalf("the first document changed: %v, %v", doc, err)
	}
}

// bulkOf returns err as a *BulkWriteError, failing the test when it is not one.
func bulkOf(t *testing.T, what string, err error) *BulkWriteError {
	t.Helper()
	var bulk *BulkWriteError
	if !errors.As(err, &bulk) {
		t.Fatalf("%s: error %v (%T), want a *BulkWriteError", what, err, err)
	}
	return bulk
}

// indexStatus lists the index and status of each WriteError, as "1:CAIRN_SCHEMA".
func indexStatus(errs []WriteError) []string {
	out := make([]string, len(errs))
	for i, w := range errs {
		var e *Error
		if errors.As(w.Err, &e) {
			out[i] = fmt.Sprintf("%d:%s", w.Index, e.Status)
		} else {
			out[i] = fmt.Sprintf("%d:%v", w.Index, w.Err)
		}
	}
	return out
}

func TestInsertManyWithOptionsOrderedStopsAtTheFirstFailure(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	ids, err := c.InsertManyWithOptions([]M{{"_id": 2}, {"_id": 1}, {"_id": 3}}, InsertManyOptions{})
	wantErr(t, "an ordered insert with a duplicate", err, ErrConstraint)
	if ids != nil {
		t.Fatalf("_ids returned with the error: %v", ids)
	}
	bulk := bulkOf(t, "an ordered insert with a duplicate", err)
	if fmt.Sprint(bulk.InsertedIDs) != "[2]" || !equalStrings(indexStatus(bulk.Errors), []string{"1:CAIRN_CONSTRAINT"}) {
		t.Fatalf("InsertedIDs %v, Errors %q; want [2], [1:CAIRN_CONSTRAINT]", bulk.InsertedIDs, indexStatus(bulk.Errors))
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != statusConstraint || !strings.Contains(e.Message, "duplicate _id 1") {
		t.Fatalf("errors.As *Error = %#v, want the duplicate's error", e)
	}
	if msg := err.Error(); !strings.Contains(msg, "CAIRN_CONSTRAINT") || !strings.Contains(msg, "document 1") {
		t.Fatalf("Error() = %q, want the status and the document's index", msg)
	}
	if !errors.Is(bulk.Errors[0], ErrConstraint) || bulk.Errors[0].Error() == "" {
		t.Fatalf("a WriteError does not unwrap to its *Error: %v", bulk.Errors[0])
	}
	if n, _ := c.Count(nil); n != 2 {
		t.Fatalf("Count = %d, want 2 (_id 2 stays, _id 3 was not tried)", n)
	}
}

func TestInsertManyWithOptionsUnorderedSkipsFailures(t *testing.T) {
	db, _ := openTest(t, nil)
	schema := M{"type": "object", "required": []string{"name"}}
	if err := db.CreateCollection("people", &CollectionOptions{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	people := db.Collection("people")
	if _, err := people.CreateIndex([]IndexKey{{"email", Ascending}}, IndexOptions{Unique: true, Sparse: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := people.InsertOne(M{"_id": 1, "name": "ann", "email": "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	docs := []any{
		M{"_id": 2, "name": "bob"},
		M{"_id": 3},                                           // the schema
		json.RawMessage(`"not a document"`),                   // not an object
		M{"_id": 4, "name": "cy", "email": "ann@example.com"}, // the unique index
		[]byte(`{"_id": 5, "name": "dee"}`),
		M{"_id": 2, "name": "bob again"}, // a duplicate of one inserted just before
	}
	_, err := people.InsertManyWithOptions(docs, InsertManyOptions{Ordered: Bool(false)})
	wantErr(t, "an unordered insert", err, ErrSchema)
	bulk := bulkOf(t, "an unordered insert", err)
	want := []string{"1:CAIRN_SCHEMA", "2:CAIRN_INVALID_ARGUMENT", "3:CAIRN_CONSTRAINT", "5:CAIRN_CONSTRAINT"}
	if fmt.Sprint(bulk.InsertedIDs) != "[2 5]" || !equalStrings(indexStatus(bulk.Errors), want) {
		t.Fatalf("InsertedIDs %v, Errors %q; want [2 5], %q", bulk.InsertedIDs, indexStatus(bulk.Errors), want)
	}
	if errors.Is(err, ErrConstraint) {
		t.Fatal("errors.Is matches a later failure's status, not only the first's")
	}
	if n, _ := people.Count(nil); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
}

func TestInsertManyWithOptionsAtomicIsAllOrNothing(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertManyWithOptions([]M{{"_id": 2}, {"_id": 1}, {"_id": 3}},
		InsertManyOptions{Ordered: Bool(false), Atomic: true})
	bulk := bulkOf(t, "an atomic insert with a duplicate", err)
	if len(bulk.InsertedIDs) != 0 || !equalStrings(indexStatus(bulk.Errors), []string{"1:CAIRN_CONSTRAINT"}) {
		t.Fatalf("InsertedIDs %v, Errors %q; want none, [1:CAIRN_CONSTRAINT]", bulk.InsertedIDs, indexStatus(bulk.Errors))
	}
	if n, _ := c.Count(nil); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
	ids, err := c.InsertManyWithOptions([]M{{"_id": 2}, {"_id": 3}}, InsertManyOptions{Atomic: true})
	if err != nil || fmt.Sprint(ids) != "[2 3]" {
		t.Fatalf("InsertManyWithOptions = %v, %v; want [2 3]", ids, err)
	}
}

func TestInsertManyWithOptionsDocumentForms(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	ids, err := c.InsertManyWithOptions([]person{{ID: 1, Name: "ann"}, {ID: 2, Name: "bob"}}, InsertManyOptions{})
	if err != nil || fmt.Sprint(ids) != "[1 2]" {
		t.Fatalf("a slice of structs: %v, %v", ids, err)
	}
	ids, err = c.InsertManyWithOptions([1]M{{"name": "generated"}}, InsertManyOptions{Ordered: Bool(true)})
	if err != nil || len(ids) != 1 {
		t.Fatalf("an array: %v, %v", ids, err)
	}
	if gen, ok := ids[0].(string); !ok || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(gen) {
		t.Fatalf("generated _id = %#v, want 24 hex digits", ids[0])
	}
	ids, err = c.InsertManyWithOptions(json.RawMessage(`[{"_id": 3}, {"_id": 4}]`), InsertManyOptions{})
	if err != nil || fmt.Sprint(ids) != "[3 4]" {
		t.Fatalf("a JSON array as text: %v, %v", ids, err)
	}
	ids, err = c.InsertManyWithOptions([]any{}, InsertManyOptions{})
	if err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("no documents: %#v, %v; want an empty slice", ids, err)
	}

	// Refused as a whole: an *Error, not a *BulkWriteError, and nothing inserted.
	for what, docs := range map[string]any{
		"nil":                       nil,
		"a map":                     M{"_id": 9},
		"a JSON object as text":     []byte(`{"_id": 9}`),
		"an unmarshalable document": []any{M{"_id": 9, "c": make(chan int)}},
	} {
		_, err := c.InsertManyWithOptions(docs, InsertManyOptions{})
		wantErr(t, "documents that are "+what, err, ErrInvalidArgument)
		var bulk *BulkWriteError
		if errors.As(err, &bulk) {
			t.Fatalf("documents that are %s: a *BulkWriteError, want an *Error", what)
		}
	}
	if n, _ := c.Count(nil); n != 5 {
		t.Fatalf("Count = %d, want 5", n)
	}
}

func TestInsertManyWithOptionsInTransactions(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Collection("c").InsertManyWithOptions([]M{{"_id": 2}, {"_id": 1}, {"_id": 3}},
		InsertManyOptions{Ordered: Bool(false)})
	if bulk := bulkOf(t, "an unordered insert in a transaction", err); fmt.Sprint(bulk.InsertedIDs) != "[2 3]" {
		t.Fatalf("InsertedIDs %v, want [2 3]", bulk.InsertedIDs)
	}
	if n, _ := tx.Collection("c").Count(nil); n != 3 {
		t.Fatalf("Count in the transaction = %d, want 3", n)
	}
	if n, _ := c.Count(nil); n != 1 {
		t.Fatalf("Count outside the transaction = %d, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(nil); n != 3 {
		t.Fatalf("Count after the commit = %d, want 3", n)
	}
	_, err = tx.Collection("c").InsertManyWithOptions([]M{{"_id": 4}}, InsertManyOptions{})
	wantErr(t, "an insert in a committed transaction", err, ErrClosed)

	ro, err := db.BeginTx(TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Rollback()
	_, err = ro.Collection("c").InsertManyWithOptions([]M{{"_id": 4}}, InsertManyOptions{})
	wantErr(t, "an insert in a read-only transaction", err, ErrInvalidArgument)
}

func TestInsertManyWithOptionsAfterDBClose(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertManyWithOptions([]M{{"_id": 1}}, InsertManyOptions{Ordered: Bool(false)})
	wantErr(t, "InsertManyWithOptions after DB.Close", err, ErrClosed)
	var bulk *BulkWriteError
	if errors.As(err, &bulk) {
		t.Fatal("a closed handle gave a *BulkWriteError")
	}
}

func TestBadOperatorIsInvalidArgument(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1, "age": 3}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Count(M{"age": M{"$gtx": 1}})
	wantErr(t, "Count with $gtx", err, ErrInvalidArgument)
	if !strings.Contains(err.Error(), "$gtx") {
		t.Errorf("error %q does not name the operator", err)
	}
	_, err = c.Find(M{"$xor": []any{}}, nil)
	wantErr(t, "Find with $xor", err, ErrInvalidArgument)
	_, err = c.UpdateOne(M{"_id": 1}, M{"$sett": M{"a": 1}}, nil)
	wantErr(t, "UpdateOne with $sett", err, ErrInvalidArgument)
	_, err = c.UpdateOne(M{"_id": 1}, M{"$inc": M{"age": "x"}}, nil)
	wantErr(t, "UpdateOne $inc by a string", err, ErrInvalidArgument)
	_, err = c.Find(nil, &FindOptions{Sort: M{"age": 2}})
	wantErr(t, "Find with sort direction 2", err, ErrInvalidArgument)
	_, err = c.InsertOne(M{"$bad": 1})
	wantErr(t, "InsertOne with a $ field", err, ErrInvalidArgument)
	_, err = db.Collection("").InsertOne(M{"a": 1})
	wantErr(t, "InsertOne into \"\"", err, ErrInvalidArgument)
	var doc person
	if err := c.FindOne(M{"_id": 1}, nil).Decode(&doc); err != nil || doc.Age != 3 {
		t.Fatalf("document after failed updates: %+v, %v", doc, err)
	}
}

func TestCursorAfterClose(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 1}, M{"_id": 2}}); err != nil {
		t.Fatal(err)
	}
	cur := mustFind(t, c, nil, nil)
	if !cur.Next() {
		t.Fatalf("Next: %v", cur.Err())
	}
	raw := cur.Raw()
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var doc M
	wantErr(t, "Decode after Close", cur.Decode(&doc), ErrClosed)
	if cur.Raw() != nil {
		t.Fatal("Raw after Close is not nil")
	}
	if cur.Next() {
		t.Fatal("Next after Close returned true")
	}
	wantErr(t, "Err after Next after Close", cur.Err(), ErrClosed)
	if !bytes.Contains(raw, []byte(`"_id"`)) {
		t.Fatalf("Raw taken before Close was overwritten: %q", raw)
	}

	var zero Cursor
	if zero.Next() {
		t.Fatal("Next on a zero Cursor returned true")
	}
	wantErr(t, "zero Cursor", zero.Err(), ErrClosed)
}

func TestCursorRawIsACopyAndDecodeNeedsNext(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 1, "s": "one"}, M{"_id": 2, "s": "two"}}); err != nil {
		t.Fatal(err)
	}
	cur := mustFind(t, c, nil, nil)
	defer cur.Close()
	var doc M
	wantErr(t, "Decode before Next", cur.Decode(&doc), ErrInvalidArgument)
	var raws []json.RawMessage
	for cur.Next() {
		r := cur.Raw()
		raws = append(raws, r)
		r[0] = 'X' // the caller's copy: the cursor's document is unchanged
		if err := cur.Decode(&doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if len(raws) != 2 || !bytes.Contains(raws[0], []byte("one")) || !bytes.Contains(raws[1], []byte("two")) {
		t.Fatalf("raw documents %q", raws)
	}
	if cur.Next() {
		t.Fatal("Next after the end returned true")
	}
	if err := cur.Err(); err != nil {
		t.Fatalf("Err after the end: %v", err)
	}
}

func TestDocumentsAfterDBClose(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 1}, M{"_id": 2}}); err != nil {
		t.Fatal(err)
	}
	cur := mustFind(t, c, nil, nil)
	defer cur.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for cur.Next() {
	}
	wantErr(t, "cursor after DB.Close", cur.Err(), ErrClosed)
	_, err := c.InsertOne(M{"a": 1})
	wantErr(t, "InsertOne after DB.Close", err, ErrClosed)
	_, err = c.Find(nil, nil)
	wantErr(t, "Find after DB.Close", err, ErrClosed)
	_, err = c.Count(nil)
	wantErr(t, "Count after DB.Close", err, ErrClosed)
	_, err = db.ListCollections()
	wantErr(t, "ListCollections after DB.Close", err, ErrClosed)
	var nilDB *DB
	_, err = nilDB.Collection("c").Count(nil)
	wantErr(t, "Count on a nil DB", err, ErrClosed)
}

func TestDateAndBinaryRoundTrip(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("events")
	at := time.Date(2026, 11, 21, 16, 17, 5, 123456789, time.FixedZone("CET", 3600))
	type event struct {
		ID   string     `json:"_id"`
		At   DateTime   `json:"at"`
		Blob BinaryData `json:"blob"`
	}
	in := event{ID: "e1", At: Date(at), Blob: Binary([]byte{0, 1, 2, 0xff})}
	if _, err := c.InsertOne(in); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(event{ID: "e0", At: Date(at.Add(-48 * time.Hour)), Blob: BinaryData{Data: []byte("x"), Subtype: 5}}); err != nil {
		t.Fatal(err)
	}
	// Dates compare as dates, not strings.
	n, err := c.Count(M{"at": M{"$gte": Date(at.Add(-time.Hour))}})
	if err != nil || n != 1 {
		t.Fatalf("Count(at >= at-1h) = %d, %v; want 1", n, err)
	}
	var out event
	if err := c.FindOne(M{"_id": "e1"}, nil).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Millisecond); !out.At.Equal(want) {
		t.Fatalf("date came back as %v, want %v", out.At, want)
	}
	if !bytes.Equal(out.Blob.Data, in.Blob.Data) || out.Blob.Subtype != 0 {
		t.Fatalf("binary came back as %+v", out.Blob)
	}
	var m M
	if err := c.FindOne(M{"_id": "e0"}, nil).Decode(&m); err != nil {
		t.Fatal(err)
	}
	// Untyped, a date decodes to a time.Time, and binary data of a
	// non-generic subtype to a BinaryData.
	if d, ok := m["at"].(time.Time); !ok || !d.Equal(time.Date(2026, 11, 19, 15, 17, 5, 123_000_000, time.UTC)) {
		t.Fatalf("date in a map: %#v", m["at"])
	}
	if b, ok := m["blob"].(BinaryData); !ok || string(b.Data) != "x" || b.Subtype != 5 {
		t.Fatalf("binary in a map: %#v", m["blob"])
	}
}

func TestExtendedJSONTypes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	js, err := json.Marshal(Date(at))
	if err != nil || string(js) != `{"$date":"2026-01-02T03:04:05.006Z"}` {
		t.Fatalf("Date marshals to %s, %v", js, err)
	}
	var d DateTime
	if err := json.Unmarshal([]byte(`{"$date": "2026-01-01T00:00:00Z"}`), &d); err != nil || !d.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("DateTime from a date without milliseconds: %v, %v", d, err)
	}
	if err := json.Unmarshal([]byte(`"2026-01-01T00:00:00Z"`), &d); err == nil {
		t.Fatal("DateTime accepted a bare string")
	}
	if _, err := json.Marshal(Date(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))); err == nil {
		t.Fatal("Date accepted the year 10000")
	}

	js, err = json.Marshal(BinaryData{Data: []byte("hi"), Subtype: 0x80})
	if err != nil || string(js) != `{"$binary":{"base64":"aGk=","subType":"80"}}` {
		t.Fatalf("BinaryData marshals to %s, %v", js, err)
	}
	var b BinaryData
	if err := json.Unmarshal(js, &b); err != nil || string(b.Data) != "hi" || b.Subtype != 0x80 {
		t.Fatalf("BinaryData round trip: %+v, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"$binary": {"base64": "!!", "subType": "00"}}`), &b); err == nil {
		t.Fatal("BinaryData accepted bad base64")
	}
}
