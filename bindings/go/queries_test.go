package cairn

import (
	"encoding/json"
	"errors"
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
