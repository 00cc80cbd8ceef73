package cairn

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// searchIDs runs Search and returns the hits' _id values in order.
func searchIDs(t *testing.T, c *Collection, query string, opts *SearchOptions) []float64 {
	t.Helper()
	cur, err := c.Search(query, opts)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}
	defer cur.Close()
	ids := []float64{}
	for cur.Next() {
		var hit SearchHit
		if err := cur.Decode(&hit); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(hit.Document, &doc); err != nil {
			t.Fatal(err)
		}
		if hit.Score <= 0 {
			t.Fatalf("hit %v has score %v", doc["_id"], hit.Score)
		}
		ids = append(ids, doc["_id"].(float64))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestSearchTextIndex(t *testing.T) {
	db, _ := openTest(t, nil)
	posts := db.Collection("posts")
	if _, err := posts.InsertMany([]any{
		M{"_id": 1, "title": "Crash-safe storage", "body": "The log is synced before the table"},
		M{"_id": 2, "title": "Fast reads", "body": "Tables are mapped; storage is cached"},
	}); err != nil {
		t.Fatal(err)
	}
	_, err := posts.Search("storage", nil)
	wantErr(t, "Search without a text index", err, ErrNotFound)
	name, err := posts.CreateTextIndex([]string{"title", "body"}, TextIndexOptions{Weights: map[string]float64{"title": 3}})
	if err != nil || name != "title_text_body_text" {
		t.Fatalf("CreateTextIndex = %q, %v", name, err)
	}
	if got := searchIDs(t, posts, "storage", nil); !reflect.DeepEqual(got, []float64{1, 2}) {
		t.Fatalf("storage: %v", got)
	}
	if got := searchIDs(t, posts, `"storage is cached"`, nil); !reflect.DeepEqual(got, []float64{2}) {
		t.Fatalf("phrase: %v", got)
	}
	if got := searchIDs(t, posts, "table*", &SearchOptions{Filter: M{"_id": M{"$gt": 1}}}); !reflect.DeepEqual(got, []float64{2}) {
		t.Fatalf("prefix with filter: %v", got)
	}
	cur, err := posts.Search("cached", &SearchOptions{Highlight: true, Pre: "[", Post: "]"})
	if err != nil {
		t.Fatal(err)
	}
	var hit SearchHit
	if !cur.Next() || cur.Decode(&hit) != nil || !strings.Contains(hit.Snippet, "[cached]") {
		t.Fatalf("highlight: %+v %v", hit, cur.Err())
	}
	cur.Close()
	indexes, err := posts.ListIndexes()
	if err != nil || len(indexes) != 1 || indexes[0].Kind != "text" || indexes[0].Keys[0] != (IndexKey{Field: "title"}) {
		t.Fatalf("ListIndexes = %+v, %v", indexes, err)
	}
	_, err = posts.Search(`say "hi`, nil)
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "position 4") {
		t.Fatalf("unbalanced quote: %v", err)
	}
	_, err = posts.Search("x", &SearchOptions{Limit: -1})
	wantErr(t, "a negative limit", err, ErrInvalidArgument)
}
