package cairn

import (
	"errors"
	"testing"
	"time"
)

func TestTTLIndexAndInsertOneTTL(t *testing.T) {
	db, _ := openTest(t, nil)
	events := db.Collection("events")
	if _, err := events.CreateIndex(Asc("at"), IndexOptions{ExpireAfterSeconds: Int64(3600)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := events.InsertMany([]any{
		map[string]any{"_id": 1, "at": now.Add(-2 * time.Hour)},
		map[string]any{"_id": 2, "at": now},
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := events.CountDocuments(nil, nil); err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1 (the expired document is hidden)", n, err)
	}
	indexes, err := events.ListIndexes()
	if err != nil || len(indexes) != 1 || indexes[0].ExpireAfterSeconds == nil || *indexes[0].ExpireAfterSeconds != 3600 {
		t.Fatalf("indexes = %+v, %v", indexes, err)
	}

	sessions := db.Collection("sessions")
	if _, err := sessions.InsertOneTTL(map[string]any{"_id": "s1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.InsertOneTTL(map[string]any{"_id": "s2"}, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.InsertManyWithOptions([]any{map[string]any{"_id": "s3"}}, InsertManyOptions{TTL: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if n, err := sessions.CountDocuments(nil, nil); err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1", n, err)
	}
	if _, err := sessions.InsertOne(map[string]any{"_id": "s2"}); err != nil {
		t.Fatalf("reusing an expired _id: %v", err)
	}
}

func TestLinksBetweenKeysAndDocuments(t *testing.T) {
	db, _ := openTest(t, nil)
	docs := db.Collection("docs")
	if err := db.Put([]byte("user:1"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := docs.InsertMany([]any{map[string]any{"_id": "a"}, map[string]any{"_id": "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Link([]byte("user:1"), "docs", "a", map[string]any{"role": "owner"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Link([]byte("user:1"), "docs", "b", nil); err != nil {
		t.Fatal(err)
	}
	links, err := db.Links([]byte("user:1"))
	if err != nil || len(links) != 2 || links[0].ID != "a" || links[0].Metadata["role"] != "owner" || links[1].Metadata != nil {
		t.Fatalf("links = %+v, %v", links, err)
	}
	keys, err := docs.LinkedKeys("a")
	if err != nil || len(keys) != 1 || string(keys[0].Key) != "user:1" {
		t.Fatalf("linked keys = %+v, %v", keys, err)
	}
	if err := db.Link([]byte("nobody"), "docs", "a", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to a missing key: %v", err)
	}
	if removed, err := db.Unlink([]byte("user:1"), "docs", "b"); err != nil || !removed {
		t.Fatalf("unlink = %v, %v", removed, err)
	}
	if _, err := docs.DeleteOne(map[string]any{"_id": "a"}); err != nil {
		t.Fatal(err)
	}
	if links, err := db.Links([]byte("user:1")); err != nil || len(links) != 0 {
		t.Fatalf("links after the document's delete = %+v, %v", links, err)
	}
	if n, err := db.UnlinkAll([]byte("user:1")); err != nil || n != 0 {
		t.Fatalf("unlink all = %d, %v", n, err)
	}
}
