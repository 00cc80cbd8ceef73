package cairn

import (
	"reflect"
	"testing"
)

func TestUniqueIndexViolationIsErrConstraint(t *testing.T) {
	db, _ := openTest(t, nil)
	users := db.Collection("users")
	name, err := users.CreateIndex([]IndexKey{{"email", Ascending}}, IndexOptions{Unique: true})
	if err != nil {
		t.Fatal(err)
	}
	if name != "email_1" {
		t.Fatalf("index name %q, want email_1", name)
	}
	if _, err := users.InsertOne(M{"_id": 1, "email": "a@x"}); err != nil {
		t.Fatal(err)
	}
	_, err = users.InsertOne(M{"_id": 2, "email": "a@x"})
	wantErr(t, "InsertOne of a duplicate email", err, ErrConstraint)
	if _, err := users.InsertOne(M{"_id": 3, "email": "b@x"}); err != nil {
		t.Fatal(err)
	}
	_, err = users.UpdateOne(M{"_id": 3}, M{"$set": M{"email": "a@x"}}, nil)
	wantErr(t, "UpdateOne to a duplicate email", err, ErrConstraint)
	_, err = users.InsertMany([]any{M{"_id": 4, "email": "c@x"}, M{"_id": 5, "email": "c@x"}})
	wantErr(t, "InsertMany with two equal emails", err, ErrConstraint)
	if n, err := users.Count(nil); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2 (nothing of the refused writes)", n, err)
	}

	// Existing duplicates refuse a unique index.
	dups := db.Collection("dups")
	if _, err := dups.InsertMany([]any{M{"k": 1}, M{"k": 1}}); err != nil {
		t.Fatal(err)
	}
	_, err = dups.CreateIndex([]IndexKey{{"k", Ascending}}, IndexOptions{Unique: true})
	wantErr(t, "a unique index over duplicates", err, ErrConstraint)
}

func TestIndexesKeepKeyOrder(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	keys := []IndexKey{{"zeta", Ascending}, {"alpha", Descending}, {"m.n", Ascending}}
	name, err := c.CreateIndex(keys, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name != "zeta_1_alpha_-1_m.n_1" {
		t.Fatalf("default name %q", name)
	}
	if _, err := c.CreateIndex([]IndexKey{{"s", Descending}}, IndexOptions{Name: "by_s", Sparse: true}); err != nil {
		t.Fatal(err)
	}
	// The same name and keys again is fine; other keys are not.
	if _, err := c.CreateIndex([]IndexKey{{"s", Descending}}, IndexOptions{Name: "by_s", Sparse: true}); err != nil {
		t.Fatalf("CreateIndex again: %v", err)
	}
	_, err = c.CreateIndex([]IndexKey{{"t", Ascending}}, IndexOptions{Name: "by_s"})
	wantErr(t, "CreateIndex of an existing name with other keys", err, ErrInvalidArgument)
	_, err = c.CreateIndex(nil, IndexOptions{})
	wantErr(t, "CreateIndex without keys", err, ErrInvalidArgument)

	got, err := c.ListIndexes()
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexInfo{
		{Name: "zeta_1_alpha_-1_m.n_1", Keys: keys},
		{Name: "by_s", Keys: []IndexKey{{"s", Descending}}, Sparse: true},
	}
	if !sameIndexes(got, want) {
		t.Fatalf("ListIndexes = %+v, want %+v", got, want)
	}

	if err := c.DropIndex("by_s"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DropIndex of a missing index", c.DropIndex("by_s"), ErrNotFound)
	got, err = c.ListIndexes()
	if err != nil || !sameIndexes(got, want[:1]) {
		t.Fatalf("ListIndexes after DropIndex = %+v, %v", got, err)
	}
	got, err = db.Collection("missing").ListIndexes()
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ListIndexes of a missing collection = %#v, %v; want empty", got, err)
	}
}

// sameIndexes compares index lists regardless of their order.
func sameIndexes(got, want []IndexInfo) bool {
	if len(got) != len(want) {
		return false
	}
	byName := map[string]IndexInfo{}
	for _, ix := range got {
		byName[ix.Name] = ix
	}
	for _, w := range want {
		if g, ok := byName[w.Name]; !ok || !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func TestExplainShowsTheIndexUsed(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	docs := make([]any, 50)
	for i := range docs {
		docs[i] = M{"_id": i, "age": i % 10}
	}
	if _, err := c.InsertMany(docs); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Explain(M{"age": 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Plan != PlanCollectionScan || ex.Index != "" || ex.DocumentsExamined != 50 || ex.Returned != 5 {
		t.Fatalf("Explain without an index = %+v", *ex)
	}
	if _, err := c.CreateIndex([]IndexKey{{"age", Ascending}}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	ex, err = c.Explain(M{"age": 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Plan != PlanIndexScan || ex.Index != "age_1" || ex.Returned != 5 || ex.DocumentsExamined != 5 {
		t.Fatalf("Explain with an index = %+v", *ex)
	}
	ex, err = c.Explain(M{"_id": 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Plan != PlanPrimaryKey || ex.Returned != 1 {
		t.Fatalf("Explain by _id = %+v", *ex)
	}
	ex, err = c.Explain(M{"age": M{"$gte": 8}}, &FindOptions{Sort: []SortField{{"age", Ascending}}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Plan != PlanIndexScan || !ex.SortFromIndex || ex.Returned != 3 {
		t.Fatalf("Explain of a sorted range = %+v", *ex)
	}
}

func TestCollectionStats(t *testing.T) {
	db, _ := openTest(t, nil)
	c := db.Collection("c")
	if _, err := c.InsertMany([]any{M{"_id": 1, "tags": []string{"a", "b"}}, M{"_id": 2, "tags": []string{"c"}}, M{"_id": 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateIndex([]IndexKey{{"tags", Ascending}}, IndexOptions{Sparse: true}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "c" || st.Documents != 3 || st.Bytes <= 0 || st.PrimaryKey != "_id" || st.Schema != nil {
		t.Fatalf("Stats = %+v", *st)
	}
	want := []IndexStats{{IndexInfo: IndexInfo{Name: "tags_1", Keys: []IndexKey{{"tags", Ascending}}, Sparse: true}, Entries: 3}}
	if !reflect.DeepEqual(st.Indexes, want) {
		t.Fatalf("Stats().Indexes = %+v, want %+v (one entry per array element)", st.Indexes, want)
	}
	_, err = db.Collection("missing").Stats()
	wantErr(t, "Stats of a missing collection", err, ErrNotFound)
}
