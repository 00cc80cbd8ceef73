package cairn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestFindByID(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 7, "name": "int"}, M{"_id": "ann", "name": "str"}}); err != nil {
		t.Fatal(err)
	}
	genID, err := c.InsertOne(M{"name": "generated"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   any
		want string
	}{
		{7, "int"},
		{int64(7), "int"},
		{json.Number("7"), "int"},
		{"ann", "str"},
		{json.RawMessage(`"ann"`), "str"},
		{genID, "generated"},
	} {
		var doc struct{ Name string }
		if err := c.FindByID(tc.id).Decode(&doc); err != nil || doc.Name != tc.want {
			t.Fatalf("FindByID(%#v) = %+v, %v; want %q", tc.id, doc, err, tc.want)
		}
	}
	var doc M
	err = c.FindByID(8).Decode(&doc)
	wantErr(t, "FindByID of a missing _id", err, ErrNotFound)
	if doc != nil {
		t.Fatalf("FindByID of a missing _id filled out %v", doc)
	}
	if err := c.FindByID("7").Err(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FindByID(\"7\") (a string, not the integer 7): %v, want ErrNotFound", err)
	}
}

func TestFindOneSortsAndProjects(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 1, "n": 5, "x": 1}, M{"_id": 2, "n": 9, "x": 2}, M{"_id": 3, "n": 1, "x": 3}}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.FindOne(nil, &FindOptions{
		Sort:       []SortField{{"n", Descending}},
		Projection: map[string]int{"n": 1, "_id": 0},
	}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := decodeValue(raw)
	if err := sameJSON("FindOne", got, M{"n": json.Number("9")}); err != nil {
		t.Fatal(err)
	}
	res := c.FindOne(M{"n": M{"$gt": 100}}, nil)
	wantErr(t, "FindOne with no match: Err", res.Err(), ErrNotFound)
	_, err = res.Raw()
	wantErr(t, "FindOne with no match: Raw", err, ErrNotFound)
	var e *Error
	if !errors.As(res.Err(), &e) || e.Op != "Collection.FindOne" {
		t.Fatalf("FindOne error %#v, want Op Collection.FindOne", res.Err())
	}
	wantErr(t, "FindOne with a bad filter", c.FindOne(M{"n": M{"$nope": 1}}, nil).Err(), ErrInvalidArgument)
}

func TestFindOneAndUpdateReturnsBeforeOrAfter(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("counters")
	if _, err := c.InsertOne(M{"_id": "visits", "n": 1}); err != nil {
		t.Fatal(err)
	}
	type counter struct {
		ID string `json:"_id"`
		N  int64  `json:"n"`
	}
	inc := M{"$inc": M{"n": 1}}

	var before counter
	if err := c.FindOneAndUpdate(M{"_id": "visits"}, inc, FindOneAndUpdateOptions{}).Decode(&before); err != nil {
		t.Fatal(err)
	}
	if before != (counter{"visits", 1}) {
		t.Fatalf("ReturnBefore gave %+v, want n 1", before)
	}
	var after counter
	err := c.FindOneAndUpdate(M{"_id": "visits"}, inc, FindOneAndUpdateOptions{ReturnDocument: ReturnAfter}).Decode(&after)
	if err != nil {
		t.Fatal(err)
	}
	if after != (counter{"visits", 3}) {
		t.Fatalf("ReturnAfter gave %+v, want n 3", after)
	}

	err = c.FindOneAndUpdate(M{"_id": "none"}, inc, FindOneAndUpdateOptions{}).Err()
	wantErr(t, "FindOneAndUpdate with no match", err, ErrNotFound)

	// Sort picks which match is updated; Projection shapes what comes back.
	if _, err := c.InsertMany([]any{M{"_id": "a", "q": 2}, M{"_id": "b", "q": 7}}); err != nil {
		t.Fatal(err)
	}
	raw, err := c.FindOneAndUpdate(M{"q": M{"$exists": true}}, M{"$set": M{"picked": true}}, FindOneAndUpdateOptions{
		Sort:           []SortField{{"q", Descending}},
		Projection:     map[string]int{"_id": 1},
		ReturnDocument: ReturnAfter,
	}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	picked, _ := decodeValue(raw)
	if err := sameJSON("sorted, projected FindOneAndUpdate", picked, M{"_id": "b"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a bad ReturnDocument",
		c.FindOneAndUpdate(nil, inc, FindOneAndUpdateOptions{ReturnDocument: 7}).Err(), ErrInvalidArgument)
}

func TestFindOneAndUpdateUpserts(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("counters")
	inc := M{"$inc": M{"n": 1}}

	// Before an upsert there was no document: JSON null.
	res := c.FindOneAndUpdate(M{"_id": "a"}, inc, FindOneAndUpdateOptions{Upsert: true})
	raw, err := res.Raw()
	if err != nil || string(raw) != "null" {
		t.Fatalf("upsert with ReturnBefore: Raw = %s, %v; want null", raw, err)
	}
	m := M{"stale": true}
	if err := res.Decode(&m); err != nil || m != nil {
		t.Fatalf("upsert with ReturnBefore: Decode into a map = %v, %v; want nil", m, err)
	}

	// After an upsert: the inserted document.
	var after struct {
		ID string `json:"_id"`
		N  int64  `json:"n"`
	}
	err = c.FindOneAndUpdate(M{"_id": "b"}, inc, FindOneAndUpdateOptions{Upsert: true, ReturnDocument: ReturnAfter}).Decode(&after)
	if err != nil || after.ID != "b" || after.N != 1 {
		t.Fatalf("upsert with ReturnAfter = %+v, %v; want {b 1}", after, err)
	}
	if n, err := c.Count(nil); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2", n, err)
	}
}

func TestDistinct(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{
		M{"tag": "b", "n": 1}, M{"tag": "a", "n": 2}, M{"tag": []string{"c", "a"}, "n": 3}, M{"n": 4},
	}); err != nil {
		t.Fatal(err)
	}
	vals, err := c.Distinct("tag", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameJSON("Distinct", vals, []any{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	vals, err = c.Distinct("tag", M{"n": M{"$lt": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sameJSON("Distinct with a filter", vals, []any{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	vals, err = db.Collection("missing").Distinct("x", nil)
	if err != nil || vals == nil || len(vals) != 0 {
		t.Fatalf("Distinct on a missing collection = %#v, %v; want an empty slice", vals, err)
	}
}

func TestAggregateDecodesIntoStructs(t *testing.T) {
	db, _ := openTest(t, nil)
	orders := db.Collection("orders")
	if _, err := orders.InsertMany([]any{
		M{"customer": "ann", "amount": 30, "status": "paid"},
		M{"customer": "bob", "amount": 5, "status": "paid"},
		M{"customer": "ann", "amount": 12, "status": "paid"},
		M{"customer": "bob", "amount": 100, "status": "open"},
	}); err != nil {
		t.Fatal(err)
	}
	cur, err := orders.Aggregate([]any{
		M{"$match": M{"status": "paid"}},
		M{"$group": M{"_id": "$customer", "total": M{"$sum": "$amount"}, "orders": M{"$sum": 1}}},
		M{"$sort": M{"total": -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	type total struct {
		Customer string `json:"_id"`
		Total    int64  `json:"total"`
		Orders   int    `json:"orders"`
	}
	var got []total
	for cur.Next() {
		var tt total
		if err := cur.Decode(&tt); err != nil {
			t.Fatal(err)
		}
		got = append(got, tt)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (total{"ann", 42, 2}) || got[1] != (total{"bob", 5, 1}) {
		t.Fatalf("Aggregate gave %+v", got)
	}

	cur, err = orders.Aggregate(json.RawMessage(`[{"$count": "n"}]`))
	if err != nil {
		t.Fatal(err)
	}
	var count struct{ N int64 }
	if !cur.Next() || cur.Decode(&count) != nil || count.N != 4 || cur.Next() {
		t.Fatalf("$count gave %+v (err %v)", count, cur.Err())
	}
	cur.Close()

	_, err = orders.Aggregate([]any{M{"$nope": 1}})
	wantErr(t, "Aggregate with an unknown stage", err, ErrInvalidArgument)
	_, err = orders.Aggregate(M{"$match": M{}})
	wantErr(t, "Aggregate with an object for a pipeline", err, ErrInvalidArgument)
}

func TestSchemaViolationIsErrSchema(t *testing.T) {
	db, _ := openTest(t, nil)
	err := db.CreateCollection("users", &CollectionOptions{Schema: M{
		"type":     "object",
		"required": []string{"name"},
		"properties": M{
			"name": M{"type": "string", "minLength": 1},
			"age":  M{"type": "integer", "minimum": 0},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	users := db.Collection("users")
	if _, err := users.InsertOne(M{"_id": 1, "name": "ann", "age": 31}); err != nil {
		t.Fatal(err)
	}
	_, err = users.InsertOne(M{"_id": 2, "age": 5})
	wantErr(t, "InsertOne without a required field", err, ErrSchema)
	_, err = users.InsertOne(M{"_id": 3, "name": "bob", "age": -1})
	wantErr(t, "InsertOne below the minimum", err, ErrSchema)
	_, err = users.UpdateOne(M{"_id": 1}, M{"$set": M{"age": "old"}}, nil)
	wantErr(t, "UpdateOne to a wrong type", err, ErrSchema)
	err = users.FindOneAndUpdate(M{"_id": 1}, M{"$unset": M{"name": ""}}, FindOneAndUpdateOptions{}).Err()
	wantErr(t, "FindOneAndUpdate removing a required field", err, ErrSchema)
	var ann person
	if err := users.FindByID(1).Decode(&ann); err != nil || ann.Name != "ann" || ann.Age != 31 {
		t.Fatalf("document after refused updates = %+v, %v", ann, err)
	}
	if n, err := users.Count(nil); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	st, err := users.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Schema == nil || st.Schema["type"] != "object" {
		t.Fatalf("Stats().Schema = %v", st.Schema)
	}

	err = db.CreateCollection("raw", &CollectionOptions{Schema: json.RawMessage(`{"type": "object", "additionalProperties": false}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Collection("raw").InsertOne(M{"x": 1})
	wantErr(t, "InsertOne with a field additionalProperties forbids", err, ErrSchema)

	err = db.CreateCollection("bad", &CollectionOptions{Schema: M{"type": "nonsense"}})
	wantErr(t, "CreateCollection with a malformed schema", err, ErrInvalidArgument)
}

func TestPrimaryKeyOption(t *testing.T) {
	db, _ := openTest(t, nil)
	if err := db.CreateCollection("users", &CollectionOptions{PrimaryKey: "email"}); err != nil {
		t.Fatal(err)
	}
	users := db.Collection("users")
	id, err := users.InsertOne(M{"email": "ann@example.com", "name": "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "ann@example.com" {
		t.Fatalf("InsertOne returned %#v, want the primary key", id)
	}
	_, err = users.InsertOne(M{"email": "ann@example.com", "name": "again"})
	wantErr(t, "InsertOne of an existing primary key", err, ErrConstraint)
	var doc M
	if err := users.FindByID("ann@example.com").Decode(&doc); err != nil || doc["name"] != "ann" {
		t.Fatalf("FindByID by primary key = %v, %v", doc, err)
	}
	if _, has := doc["_id"]; has {
		t.Fatalf("a document keyed by email got an _id: %v", doc)
	}
	st, err := users.Stats()
	if err != nil || st.PrimaryKey != "email" || st.Documents != 1 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

func TestRenameCollection(t *testing.T) {
	db, _ := openTest(t, nil)
	old := db.Collection("old")
	if _, err := old.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := old.CreateIndex([]IndexKey{{"a", Ascending}}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := old.Rename("new"); err != nil {
		t.Fatal(err)
	}
	if old.Name() != "old" {
		t.Fatalf("Rename changed the *Collection's name to %q", old.Name())
	}
	list, err := db.ListCollections()
	if err != nil || !equalStrings(list, []string{"new"}) {
		t.Fatalf("ListCollections after Rename = %q, %v", list, err)
	}
	if n, err := db.Collection("new").Count(nil); err != nil || n != 1 {
		t.Fatalf("Count of the renamed collection = %d, %v", n, err)
	}
	ixs, err := db.Collection("new").ListIndexes()
	if err != nil || len(ixs) != 1 || ixs[0].Name != "a_1" {
		t.Fatalf("indexes after Rename = %+v, %v", ixs, err)
	}
	wantErr(t, "Rename of a missing collection", old.Rename("other"), ErrNotFound)
	if err := db.CreateCollection("taken", nil); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RenameCollection onto an existing name", db.RenameCollection("new", "taken"), ErrInvalidArgument)
	wantErr(t, "RenameCollection to a bad name", db.RenameCollection("new", "$bad"), ErrInvalidArgument)
}

// mustDoc decodes a *SingleResult into a map (numbers as json.Number) and
// compares it with want as the conformance runner compares documents.
func mustDoc(t *testing.T, what string, res *SingleResult, want any) {
	t.Helper()
	raw, err := res.Raw()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, err := decodeValue(raw)
	if err != nil {
		t.Fatalf("%s: malformed JSON %q: %v", what, raw, err)
	}
	if err := sameJSON(what, got, want); err != nil {
		t.Fatal(err)
	}
}

func mustCount(t *testing.T, what string, c *Collection, filter any, opts *CountOptions, want int64) {
	t.Helper()
	n, err := c.CountDocuments(filter, opts)
	if err != nil || n != want {
		t.Fatalf("%s: CountDocuments = %d, %v; want %d", what, n, err, want)
	}
}

func threeUsers(t *testing.T, c *Collection) {
	t.Helper()
	if _, err := c.InsertMany([]any{
		M{"_id": 1, "name": "ann", "age": 31, "group": "a"},
		M{"_id": 2, "name": "bob", "age": 25, "group": "b"},
		M{"_id": 3, "name": "cy", "age": 40, "group": "a"},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestFindOneAndReplaceReturnsBeforeOrAfter(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("users")
	threeUsers(t, c)

	mustDoc(t, "ReturnBefore", c.FindOneAndReplace(M{"name": "ann"}, M{"name": "ann", "age": 32}, nil),
		M{"_id": json.Number("1"), "name": "ann", "age": json.Number("31"), "group": "a"})
	mustDoc(t, "the replaced document", c.FindByID(1), M{"_id": json.Number("1"), "name": "ann", "age": json.Number("32")})

	// Sort picks the oldest; Projection shapes what comes back.
	mustDoc(t, "sorted, projected ReturnAfter", c.FindOneAndReplace(M{"group": M{"$exists": true}},
		json.RawMessage(`{"name": "first", "group": "z"}`), &FindOneAndReplaceOptions{
			Sort:           []SortField{{"age", Descending}},
			Projection:     map[string]int{"name": 1, "_id": 0},
			ReturnDocument: ReturnAfter,
		}), M{"name": "first"})
	mustDoc(t, "the oldest, replaced", c.FindByID(3), M{"_id": json.Number("3"), "name": "first", "group": "z"})

	var doc struct{ Name string }
	err := c.FindOneAndReplace(M{"name": "nobody"}, M{"name": "x"}, nil).Decode(&doc)
	wantErr(t, "FindOneAndReplace with no match", err, ErrNotFound)
	var e *Error
	if !errors.As(err, &e) || e.Op != "Collection.FindOneAndReplace" {
		t.Fatalf("error %#v, want Op Collection.FindOneAndReplace", err)
	}
	mustCount(t, "no document named x", c, M{"name": "x"}, nil, 0)
}

func TestFindOneAndReplaceUpsertsAndRefusesAnotherID(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("users")
	threeUsers(t, c)

	res := c.FindOneAndReplace(M{"_id": 9}, M{"name": "ivy"}, &FindOneAndReplaceOptions{Upsert: true})
	if raw, err := res.Raw(); err != nil || string(raw) != "null" {
		t.Fatalf("upsert with ReturnBefore: Raw = %s, %v; want null", raw, err)
	}
	mustDoc(t, "the upserted document", c.FindByID(9), M{"_id": json.Number("9"), "name": "ivy"})
	mustDoc(t, "upsert with ReturnAfter", c.FindOneAndReplace(M{"_id": 10}, M{"name": "jo"},
		&FindOneAndReplaceOptions{Upsert: true, ReturnDocument: ReturnAfter}), M{"_id": json.Number("10"), "name": "jo"})

	wantErr(t, "a replacement with another _id",
		c.FindOneAndReplace(M{"_id": 1}, M{"_id": 99, "name": "ann"}, nil).Err(), ErrInvalidArgument)
	wantErr(t, "a replacement with operators",
		c.FindOneAndReplace(M{"_id": 1}, M{"$set": M{"age": 1}}, nil).Err(), ErrInvalidArgument)
	wantErr(t, "a bad ReturnDocument",
		c.FindOneAndReplace(M{"_id": 1}, M{"name": "x"}, &FindOneAndReplaceOptions{ReturnDocument: 7}).Err(), ErrInvalidArgument)
	wantErr(t, "a replacement encoding/json cannot write",
		c.FindOneAndReplace(M{"_id": 1}, M{"f": func() {}}, nil).Err(), ErrInvalidArgument)
	mustDoc(t, "the document after refused replacements", c.FindByID(1),
		M{"_id": json.Number("1"), "name": "ann", "age": json.Number("31"), "group": "a"})
	mustCount(t, "after the upserts", c, nil, nil, 5)
}

func TestFindOneAndDelete(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("users")
	threeUsers(t, c)

	var bob struct {
		ID   int64 `json:"_id"`
		Name string
		Age  int
	}
	if err := c.FindOneAndDelete(M{"name": "bob"}, nil).Decode(&bob); err != nil || bob.ID != 2 || bob.Age != 25 {
		t.Fatalf("FindOneAndDelete = %+v, %v; want bob", bob, err)
	}
	wantErr(t, "FindByID of the deleted document", c.FindByID(2).Err(), ErrNotFound)

	mustDoc(t, "sorted, projected", c.FindOneAndDelete(M{"group": "a"}, &FindOneAndDeleteOptions{
		Sort:       SortField{"age", Ascending},
		Projection: map[string]int{"name": 1, "_id": 0},
	}), M{"name": "ann"})

	wantErr(t, "FindOneAndDelete with no match", c.FindOneAndDelete(M{"name": "nobody"}, nil).Err(), ErrNotFound)
	wantErr(t, "FindOneAndDelete with a bad filter", c.FindOneAndDelete(M{"age": M{"$nope": 1}}, nil).Err(), ErrInvalidArgument)
	wantErr(t, "FindOneAndDelete with a bad sort",
		c.FindOneAndDelete(nil, &FindOneAndDeleteOptions{Sort: M{"age": 2}}).Err(), ErrInvalidArgument)
	mustCount(t, "after refused deletes", c, nil, nil, 1)
	mustDoc(t, "the last one, with a nil filter", c.FindOneAndDelete(nil, nil),
		M{"_id": json.Number("3"), "name": "cy", "age": json.Number("40"), "group": "a"})
	mustCount(t, "after every delete", c, nil, nil, 0)
}

func TestCountDocumentsSkipsAndLimits(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("users")
	threeUsers(t, c)

	if n, err := c.Count(M{"group": "a"}); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2", n, err)
	}
	mustCount(t, "nil options", c, M{"group": "a"}, nil, 2)
	mustCount(t, "zero options", c, nil, &CountOptions{}, 3)
	mustCount(t, "skip 1", c, nil, &CountOptions{Skip: 1}, 2)
	mustCount(t, "limit 2", c, nil, &CountOptions{Limit: 2}, 2)
	mustCount(t, "skip 1, limit 1", c, nil, &CountOptions{Skip: 1, Limit: 1}, 1)
	mustCount(t, "skip beyond the matches", c, nil, &CountOptions{Skip: 5}, 0)
	mustCount(t, "filter, skip, limit", c, json.RawMessage(`{"group": "a"}`), &CountOptions{Skip: 1, Limit: 5}, 1)
	mustCount(t, "a missing collection", db.Collection("missing"), nil, &CountOptions{Skip: 1}, 0)

	_, err := c.CountDocuments(nil, &CountOptions{Skip: -1})
	wantErr(t, "a negative Skip", err, ErrInvalidArgument)
	if !strings.Contains(err.Error(), "skip") {
		t.Fatalf("a negative Skip: %v does not name skip", err)
	}
	_, err = c.CountDocuments(nil, &CountOptions{Limit: -1})
	wantErr(t, "a negative Limit", err, ErrInvalidArgument)
	_, err = c.CountDocuments(M{"age": M{"$nope": 1}}, nil)
	wantErr(t, "a bad filter", err, ErrInvalidArgument)
	_, err = c.countDocuments("Collection.CountDocuments", nil, []byte(`{"sort": {"age": 1}}`))
	wantErr(t, "an option countDocuments does not have", err, ErrInvalidArgument)
}

func TestFindAndModifyInTransactions(t *testing.T) {
	db, _ := openTest(t, nil)
	outside := db.Collection("jobs")
	for i := 1; i <= 4; i++ {
		if _, err := outside.InsertOne(M{"_id": i, "state": "queued", "priority": i}); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Transaction(func(tx *Tx) error {
		jobs := tx.Collection("jobs")
		mustDoc(t, "FindOneAndDelete in a transaction",
			jobs.FindOneAndDelete(M{"state": "queued"}, &FindOneAndDeleteOptions{Sort: SortField{"priority", Descending}}),
			M{"_id": json.Number("4"), "state": "queued", "priority": json.Number("4")})
		mustDoc(t, "FindOneAndReplace in a transaction",
			jobs.FindOneAndReplace(M{"_id": 3}, M{"state": "done"}, &FindOneAndReplaceOptions{ReturnDocument: ReturnAfter}),
			M{"_id": json.Number("3"), "state": "done"})
		mustCount(t, "CountDocuments in the transaction", jobs, M{"state": "queued"}, nil, 2)
		mustCount(t, "CountDocuments with a limit in the transaction", jobs, nil, &CountOptions{Skip: 1, Limit: 5}, 2)
		mustCount(t, "CountDocuments outside before the commit", outside, M{"state": "queued"}, nil, 4)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCount(t, "after the commit", outside, M{"state": "queued"}, nil, 2)
	mustCount(t, "every job after the commit", outside, nil, nil, 3)

	tx := mustBegin(t, db)
	jobs := tx.Collection("jobs")
	if err := jobs.FindOneAndDelete(M{"_id": 1}, nil).Err(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	mustCount(t, "after a rollback", outside, M{"_id": 1}, nil, 1)
	wantErr(t, "FindOneAndDelete in an ended transaction", jobs.FindOneAndDelete(nil, nil).Err(), ErrClosed)
	wantErr(t, "FindOneAndReplace in an ended transaction", jobs.FindOneAndReplace(nil, M{}, nil).Err(), ErrClosed)
	_, err = jobs.CountDocuments(nil, nil)
	wantErr(t, "CountDocuments in an ended transaction", err, ErrClosed)

	ro, err := db.BeginTx(TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Rollback()
	mustCount(t, "CountDocuments in a read-only transaction", ro.Collection("jobs"), nil, &CountOptions{Limit: 1}, 1)
	wantErr(t, "FindOneAndDelete in a read-only transaction",
		ro.Collection("jobs").FindOneAndDelete(nil, nil).Err(), ErrInvalidArgument)
	wantErr(t, "FindOneAndReplace in a read-only transaction",
		ro.Collection("jobs").FindOneAndReplace(M{"_id": 1}, M{}, nil).Err(), ErrInvalidArgument)
	mustCount(t, "after refused writes", outside, nil, nil, 3)
}

func TestFindAndModifyAfterDBClose(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "FindOneAndReplace after Close", c.FindOneAndReplace(M{"_id": 1}, M{"a": 1}, nil).Err(), ErrClosed)
	wantErr(t, "FindOneAndDelete after Close", c.FindOneAndDelete(M{"_id": 1}, nil).Err(), ErrClosed)
	_, err := c.CountDocuments(nil, nil)
	wantErr(t, "CountDocuments after Close", err, ErrClosed)
}

func TestUpdateOptionsMarshal(t *testing.T) {
	for _, tc := range []struct {
		opts *UpdateOptions
		want string
	}{
		{nil, ""},
		{&UpdateOptions{}, ""},
		{&UpdateOptions{Upsert: true}, `{"upsert":true}`},
		{&UpdateOptions{ArrayFilters: []any{}}, `{"array_filters":[]}`},
		{&UpdateOptions{Upsert: true, ArrayFilters: []any{M{"x": 1}, json.RawMessage(`{"y.a": {"$gt": 2}}`), []byte(`{"z": 3}`)}},
			`{"upsert":true,"array_filters":[{"x":1},{"y.a": {"$gt": 2}},{"z": 3}]}`},
	} {
		js, err := tc.opts.marshal()
		if err != nil || string(js) != tc.want {
			t.Fatalf("%+v marshals to %s, %v; want %s", tc.opts, js, err, tc.want)
		}
	}
	if _, err := (&UpdateOptions{ArrayFilters: []any{func() {}}}).marshal(); err == nil {
		t.Fatal("an array filter encoding/json cannot write marshalled")
	}
	js, err := FindOneAndUpdateOptions{ArrayFilters: []any{M{"x": 1}}, ReturnDocument: ReturnAfter}.marshal()
	if err != nil || string(js) != `{"return_document":"after","array_filters":[{"x":1}]}` {
		t.Fatalf("FindOneAndUpdateOptions marshal to %s, %v", js, err)
	}
	if js := (*CountOptions)(nil).marshal(); js != nil {
		t.Fatalf("nil CountOptions marshal to %s", js)
	}
	if js := (&CountOptions{Skip: 2, Limit: 3}).marshal(); string(js) != `{"skip":2,"limit":3}` {
		t.Fatalf("CountOptions marshal to %s", js)
	}
}

// skipUnlessCoreHas skips a test of an update feature the core is gaining
// (array filters, pipeline updates) when the core still refuses it with
// ErrInvalidArgument and a message holding refusal, which shows that the
// binding passed the argument on.
func skipUnlessCoreHas(t *testing.T, feature, refusal string, err error) {
	t.Helper()
	if errors.Is(err, ErrInvalidArgument) && strings.Contains(err.Error(), refusal) {
		t.Skipf("the core does not support %s yet (%v)", feature, err)
	}
}

func TestUpdatesPassArrayFiltersOn(t *testing.T) {
	db, _ := openTest(t, nil)
	posts := db.Collection("posts")
	if _, err := posts.InsertMany([]any{M{"_id": 1, "votes": []int{3, -1, 5, -2}}, M{"_id": 2, "votes": []int{-4}}}); err != nil {
		t.Fatal(err)
	}
	res, err := posts.UpdateOne(M{"_id": 1}, M{"$set": M{"votes.$[v]": 0}},
		&UpdateOptions{ArrayFilters: []any{M{"v": M{"$lt": 0}}}})
	skipUnlessCoreHas(t, "array filters", "array_filters: unknown option", err)
	if err != nil || res.Matched != 1 || res.Modified != 1 {
		t.Fatalf("UpdateOne with ArrayFilters = %+v, %v", res, err)
	}
	mustDoc(t, "after UpdateOne", posts.FindByID(1), M{"_id": json.Number("1"), "votes": []any{json.Number("3"), json.Number("0"), json.Number("5"), json.Number("0")}})
	res, err = posts.UpdateMany(nil, M{"$inc": M{"votes.$[big]": 10}},
		&UpdateOptions{ArrayFilters: []any{json.RawMessage(`{"big": {"$gte": 5}}`)}})
	if err != nil || res.Matched != 2 || res.Modified != 1 {
		t.Fatalf("UpdateMany with ArrayFilters = %+v, %v", res, err)
	}
	mustDoc(t, "FindOneAndUpdate with ArrayFilters", posts.FindOneAndUpdate(M{"_id": 2}, M{"$set": M{"votes.$[v]": 1}},
		FindOneAndUpdateOptions{ArrayFilters: []any{M{"v": -4}}, ReturnDocument: ReturnAfter}),
		M{"_id": json.Number("2"), "votes": []any{json.Number("1")}})
	mustDoc(t, "after UpdateMany", posts.FindByID(1), M{"_id": json.Number("1"), "votes": []any{json.Number("3"), json.Number("0"), json.Number("15"), json.Number("0")}})
}

func TestArrayFiltersAreCheckedByTheLibrary(t *testing.T) {
	db, _ := openTest(t, nil)
	posts := db.Collection("posts")
	if _, err := posts.InsertOne(M{"_id": 1, "votes": []int{1}}); err != nil {
		t.Fatal(err)
	}
	// An identifier no filter defines (or, before the core has them, array filters at all).
	_, err := posts.UpdateOne(M{"_id": 1}, M{"$set": M{"votes.$[w]": 0}}, &UpdateOptions{ArrayFilters: []any{M{"v": 1}}})
	wantErr(t, "an undefined identifier", err, ErrInvalidArgument)
	_, err = posts.UpdateOne(M{"_id": 1}, M{"$set": M{"votes.$[v]": 0}}, &UpdateOptions{ArrayFilters: []any{func() {}}})
	wantErr(t, "an array filter encoding/json cannot write", err, ErrInvalidArgument)
	mustDoc(t, "after refused updates", posts.FindByID(1), M{"_id": json.Number("1"), "votes": []any{json.Number("1")}})
}

func TestUpdatesTakeAPipeline(t *testing.T) {
	db, _ := openTest(t, nil)
	items := db.Collection("items")
	if _, err := items.InsertMany([]any{M{"_id": 1, "a": 2, "b": 3}, M{"_id": 2, "a": 10, "b": 1}}); err != nil {
		t.Fatal(err)
	}
	total := []any{M{"$set": M{"total": M{"$add": []any{"$a", "$b"}}}}}
	res, err := items.UpdateOne(M{"_id": 1}, total, nil)
	skipUnlessCoreHas(t, "pipeline updates", "update must be a JSON object", err)
	if err != nil || res.Matched != 1 || res.Modified != 1 {
		t.Fatalf("UpdateOne with a pipeline = %+v, %v", res, err)
	}
	mustDoc(t, "after UpdateOne", items.FindByID(1), M{"_id": json.Number("1"), "a": json.Number("2"), "b": json.Number("3"), "total": json.Number("5")})
	res, err = items.UpdateMany(nil, json.RawMessage(`[{"$unset": "b"}]`), nil)
	if err != nil || res.Matched != 2 || res.Modified != 2 {
		t.Fatalf("UpdateMany with a pipeline = %+v, %v", res, err)
	}
	// b is gone: $add of a missing field is null, as in MongoDB.
	mustDoc(t, "FindOneAndUpdate with a pipeline",
		items.FindOneAndUpdate(M{"_id": 2}, []M{{"$set": M{"total": M{"$add": []any{"$a", "$b"}}}}}, FindOneAndUpdateOptions{ReturnDocument: ReturnAfter}),
		M{"_id": json.Number("2"), "a": json.Number("10"), "total": nil})
	mustDoc(t, "after UpdateMany", items.FindByID(1), M{"_id": json.Number("1"), "a": json.Number("2"), "total": json.Number("5")})
}

func TestAPipelineUpdateIsCheckedByTheLibrary(t *testing.T) {
	db, _ := openTest(t, nil)
	items := db.Collection("items")
	if _, err := items.InsertOne(M{"_id": 1, "a": 1}); err != nil {
		t.Fatal(err)
	}
	// A stage an update pipeline cannot hold (or, before the core has them, a pipeline at all).
	_, err := items.UpdateOne(M{"_id": 1}, []any{M{"$group": M{"_id": nil}}}, nil)
	wantErr(t, "a $group stage", err, ErrInvalidArgument)
	_, err = items.ReplaceOne(M{"_id": 1}, []any{M{"$set": M{"b": 1}}}, nil)
	wantErr(t, "ReplaceOne with a pipeline", err, ErrInvalidArgument)
	mustDoc(t, "after refused updates", items.FindByID(1), M{"_id": json.Number("1"), "a": json.Number("1")})
}
