// Command go-example shows Cairn from Go: it reads what the C and Python
// examples wrote, adds its own keys in one atomic batch (one with a TTL),
// lists every key in the database, then adds documents to the "notes"
// collection (each with "author": "go"), queries them, finishes one in a
// transaction together with a key-value counter, and lists the distinct
// authors of the notes.
//
//	go-example DATABASE_DIR
//
// `make demo` runs the C example, then the Python example, then this one,
// all on the same directory: each reads what the ones before it wrote.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unicode/utf8"

	"cairn.dev/cairn"
)

// show renders a value that may be binary as readable text.
func show(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s DATABASE_DIR\n", os.Args[0])
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "go-example:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	db, err := cairn.Open(path, nil)
	if err != nil {
		return err
	}
	defer db.Close() // a backstop for early returns; the final Close is checked below

	// 1. What the C example wrote: an iterator over its prefix.
	fromC, err := readPrefix(db, "c:")
	if err != nil {
		return err
	}
	// 2. What the Python example wrote: a key listing, then one GetMany.
	pyKeys, err := db.Keys(cairn.KeysOptions{Prefix: "python:"})
	if err != nil {
		return err
	}
	var pyValues [][]byte
	if len(pyKeys) > 0 {
		if pyValues, err = db.GetMany(pyKeys); err != nil {
			return err
		}
	}
	fmt.Printf("read %d key(s) the C example wrote:\n", len(fromC))
	for _, kv := range fromC {
		fmt.Printf("  %-24s = %s\n", show(kv[0]), show(kv[1]))
	}
	fmt.Printf("read %d key(s) the Python example wrote:\n", len(pyKeys))
	for i, k := range pyKeys {
		v := "(expired)"
		if pyValues[i] != nil {
			v = show(pyValues[i])
		}
		fmt.Printf("  %-24s = %s\n", show(k), v)
	}
	if len(fromC) == 0 || len(pyKeys) == 0 {
		fmt.Println("  (run the C and Python examples first to see their keys here)")
	}

	// 3. Our own keys, all or nothing: Update writes the batch only when the
	// function returns nil. The TTL string means the same in every language.
	ttl, err := cairn.ParseTTL("1h")
	if err != nil {
		return err
	}
	written := 0
	err = db.Update(func(b *cairn.Batch) error {
		puts := [][2]string{
			{"go:greeting", "hello from Go"},
			{"go:version", runtime.Version()},
			{"go:binding", "cgo"},
			{"go:scratch", "deleted before the batch lands"},
		}
		for _, p := range puts {
			if err := b.Put([]byte(p[0]), []byte(p[1])); err != nil {
				return err
			}
		}
		if err := b.PutTTL([]byte("go:session"), []byte("expires in an hour"), ttl); err != nil {
			return err
		}
		if err := b.Delete([]byte("go:scratch")); err != nil {
			return err
		}
		written = b.Len()
		return nil
	})
	if err != nil {
		return err
	}

	// 4. Reading back: an absent key is an error value to test, not a crash.
	if _, err := db.Get([]byte("go:scratch")); !errors.Is(err, cairn.ErrNotFound) {
		return fmt.Errorf("go:scratch should be gone, got %v", err)
	}
	goKeys, err := db.Keys(cairn.KeysOptions{Prefix: "go:"})
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d key(s) with prefix go: in one batch of %d operations (go:session expires in %v)\n",
		len(goKeys), written, ttl)

	// 5. Every key in the database, with its value.
	all, err := db.Keys(cairn.KeysOptions{})
	if err != nil {
		return err
	}
	values, err := getAll(db, all)
	if err != nil {
		return err
	}
	fmt.Printf("all %d key(s) in %s:\n", len(all), path)
	for i, k := range all {
		fmt.Printf("  %-24s = %s\n", show(k), show(values[i]))
	}

	// 6. Documents: JSON objects in a collection, queried with MongoDB's
	// filters. The first insert creates the collection.
	if err := notes(db); err != nil {
		return err
	}
	// The transaction in notes() added a key under go:.
	if goKeys, err = db.Keys(cairn.KeysOptions{Prefix: "go:"}); err != nil {
		return err
	}

	stats, err := db.Stats()
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Printf("summary: %d from C, %d from Python, %d from Go, %v live key(s); Go binding on cairn %s\n",
		len(fromC), len(pyKeys), len(goKeys), stats["live_keys"], cairn.Version())
	return nil
}

// note is a document of the "notes" collection; the tags name its JSON fields.
type note struct {
	Author   string `json:"author"`
	Title    string `json:"title"`
	Priority int    `json:"priority"`
	Done     bool   `json:"done"`
}

// notes replaces this example's notes, then lists the open ones by priority.
func notes(db *cairn.DB) error {
	coll := db.Collection("notes")
	if _, err := coll.DeleteMany(map[string]any{"author": "go"}); err != nil { // what an earlier run left
		return err
	}
	ids, err := coll.InsertMany([]any{
		note{Author: "go", Title: "review the cgo binding", Priority: 2},
		note{Author: "go", Title: "tag v0.1", Priority: 3, Done: true},
		note{Author: "go", Title: "benchmark Find", Priority: 1},
	})
	if err != nil {
		return err
	}
	cur, err := coll.Find(map[string]any{"author": "go", "done": false}, &cairn.FindOptions{
		Sort: []cairn.SortField{{Field: "priority", Direction: cairn.Ascending}},
	})
	if err != nil {
		return err
	}
	defer cur.Close()
	fmt.Printf("inserted %d note(s); the open ones by priority:\n", len(ids))
	for cur.Next() {
		var n note
		if err := cur.Decode(&n); err != nil {
			return err
		}
		fmt.Printf("  %d. %s\n", n.Priority, n.Title)
	}
	if err := cur.Err(); err != nil {
		return err
	}

	// Finish the most urgent open note and count it, atomically: Transaction
	// commits when the function returns nil and rolls back otherwise.
	var finished note
	var count int
	err = db.Transaction(func(tx *cairn.Tx) error {
		err := tx.Collection("notes").FindOneAndUpdate(
			map[string]any{"author": "go", "done": false},
			map[string]any{"$set": map[string]any{"done": true}},
			cairn.FindOneAndUpdateOptions{
				Sort:           []cairn.SortField{{Field: "priority", Direction: cairn.Ascending}},
				ReturnDocument: cairn.ReturnAfter, // the note as the update left it
			}).Decode(&finished)
		if err != nil {
			return err
		}
		if count, err = counter(tx, "go:notes_done"); err != nil {
			return err
		}
		count++
		return tx.Put([]byte("go:notes_done"), []byte(strconv.Itoa(count)))
	})
	if err != nil {
		return err
	}
	fmt.Printf("one transaction: %q now has done=%v, and go:notes_done = %d\n", finished.Title, finished.Done, count)

	authors, err := coll.Distinct("author", nil)
	if err != nil {
		return err
	}
	fmt.Printf("distinct authors of notes: %v\n", authors)
	total, err := coll.Count(nil)
	if err != nil {
		return err
	}
	fmt.Printf("notes holds %d note(s) from every example\n", total)

	// Full-text search: a text index on the titles, hits ranked by BM25.
	if _, err := coll.CreateTextIndex([]string{"title"}, cairn.TextIndexOptions{}); err != nil {
		return err
	}
	hits, err := coll.Search("docs ship", &cairn.SearchOptions{Limit: 3, Highlight: true})
	if err != nil {
		return err
	}
	defer hits.Close()
	fmt.Println(`full-text search for "docs ship":`)
	for hits.Next() {
		var hit cairn.SearchHit
		if err := hits.Decode(&hit); err != nil {
			return err
		}
		fmt.Printf("  %.3f  %v\n", hit.Score, hit.Highlights["title"])
	}
	return hits.Err()
}

// counter reads a decimal counter in the transaction; an absent key is 0.
func counter(tx *cairn.Tx, key string) (int, error) {
	v, err := tx.Get([]byte(key))
	if errors.Is(err, cairn.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

// readPrefix walks the keys under prefix with an iterator.
func readPrefix(db *cairn.DB, prefix string) ([][2][]byte, error) {
	it, err := db.NewIterator(cairn.IterOptions{Prefix: []byte(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var items [][2][]byte
	for it.Next() {
		items = append(items, [2][]byte{it.Key(), it.Value()}) // copies: ours to keep
	}
	return items, it.Err()
}

// getAll reads keys in one consistent GetMany (which needs at least one key).
func getAll(db *cairn.DB, keys [][]byte) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	return db.GetMany(keys)
}
