package cairn

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The batched reads (cairn_iter_next_batch, cairn_cursor_next_batch) and
// the get into a reused buffer give what one item at a time gave; and
// PutIfAbsent, TTL, Touch and BulkWrite.

func TestIteratorBatchesKeysOnlyAndSizes(t *testing.T) {
	db, _ := openTest(t, nil)
	var want [][2][]byte
	for i := 0; i < 1000; i++ {
		k, v := []byte(fmt.Sprintf("k%0*d", 1+i%6, i)), bytes.Repeat([]byte("v"), i%4)
		if err := db.Put(k, v); err != nil {
			t.Fatal(err)
		}
		want = append(want, [2][]byte{k, v})
	}
	all, _ := db.NewIterator(IterOptions{})
	var sorted [][2][]byte
	for all.Next() {
		sorted = append(sorted, [2][]byte{all.Key(), all.Value()})
	}
	all.Close()
	if len(sorted) != len(want) {
		t.Fatalf("iterated %d items, want %d", len(sorted), len(want))
	}
	for _, size := range []int{0, 1, 7, 5000} {
		for _, keysOnly := range []bool{false, true} {
			it, err := db.NewIterator(IterOptions{BatchSize: size, KeysOnly: keysOnly})
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			var keys [][]byte
			for it.Next() {
				if !bytes.Equal(it.Key(), sorted[i][0]) {
					t.Fatalf("size %d: item %d key %q, want %q", size, i, it.Key(), sorted[i][0])
				}
				if keysOnly && it.Value() != nil || !keysOnly && !bytes.Equal(it.Value(), sorted[i][1]) {
					t.Fatalf("size %d keysOnly %v: item %d value %q", size, keysOnly, i, it.Value())
				}
				keys = append(keys, it.Key())
				i++
			}
			if err := it.Err(); err != nil || i != len(sorted) {
				t.Fatalf("size %d: %d items, err %v", size, i, err)
			}
			// Keys stay valid, and appending to one does not clobber the next.
			_ = append(keys[0], 'x')
			if !bytes.Equal(keys[1], sorted[1][0]) {
				t.Fatalf("appending to a key changed the next: %q", keys[1])
			}
			it.Close()
		}
	}
	if _, err := db.NewIterator(IterOptions{BatchSize: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("BatchSize -1: %v", err)
	}
}

func TestIteratorAfterCloseAndSeek(t *testing.T) {
	db, _ := openTest(t, nil)
	for i := 0; i < 300; i++ {
		mustPut(t, db, fmt.Sprintf("s%03d", i), "v")
	}
	it, _ := db.NewIterator(IterOptions{})
	it.Next()
	if err := it.Seek([]byte("s250")); err != nil {
		t.Fatal(err)
	}
	if !it.Next() || string(it.Key()) != "s250" {
		t.Fatalf("after Seek: %q", it.Key())
	}
	db.Close()
	if it.Next() || !errors.Is(it.Err(), ErrClosed) {
		t.Fatalf("Next after the database closed: %v", it.Err())
	}
	it.Close()
}

func TestGetIntoGrowsAndMisses(t *testing.T) {
	db, _ := openTest(t, nil)
	for _, n := range []int{0, 1, 4096, 4097, 2 << 20} {
		v := bytes.Repeat([]byte{byte(n)}, n)
		key := []byte(fmt.Sprint("g", n))
		if err := db.Put(key, v); err != nil {
			t.Fatal(err)
		}
		got, err := db.Get(key)
		if err != nil || !bytes.Equal(got, v) || got == nil {
			t.Fatalf("Get of %d bytes: %d bytes, %v", n, len(got), err)
		}
	}
	if _, err := db.Get([]byte("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
}

func TestPutIfAbsentTTLTouch(t *testing.T) {
	db, _ := openTest(t, nil)
	if ok, err := db.PutIfAbsent([]byte("a"), []byte("1"), 0); !ok || err != nil {
		t.Fatalf("PutIfAbsent = %v, %v", ok, err)
	}
	if ok, err := db.PutIfAbsent([]byte("a"), []byte("2"), 0); ok || err != nil {
		t.Fatalf("PutIfAbsent(present) = %v, %v", ok, err)
	}
	mustGet(t, db, "a", "1")
	if ttl, err := db.TTL([]byte("a")); ttl != 0 || err != nil {
		t.Fatalf("TTL(no expiry) = %v, %v", ttl, err)
	}
	if err := db.Touch([]byte("a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl, err := db.TTL([]byte("a")); ttl <= 50*time.Second || ttl > time.Minute || err != nil {
		t.Fatalf("TTL after Touch(1m) = %v, %v", ttl, err)
	}
	mustGet(t, db, "a", "1")
	if err := db.Touch([]byte("missing"), time.Second); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Touch(missing) = %v", err)
	}
	if _, err := db.TTL([]byte("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TTL(missing) = %v", err)
	}
	if _, err := db.PutIfAbsent([]byte("b"), nil, -time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative TTL: %v", err)
	}
	// Racing writers: exactly one stores each key.
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				ok, err := db.PutIfAbsent([]byte(fmt.Sprint("race", i)), []byte("x"), 0)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					stored++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if stored != 100 {
		t.Fatalf("%d stores for 100 keys", stored)
	}
	err := db.Transaction(func(tx *Tx) error {
		if ok, err := tx.PutIfAbsent([]byte("t"), []byte("v"), 5*time.Second); !ok || err != nil {
			return fmt.Errorf("Tx.PutIfAbsent = %v, %v", ok, err)
		}
		if ttl, err := tx.TTL([]byte("t")); ttl != 5*time.Second || err != nil {
			return fmt.Errorf("Tx.TTL = %v, %v", ttl, err)
		}
		return tx.Touch([]byte("t"), 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ttl, err := db.TTL([]byte("t")); ttl != 0 || err != nil {
		t.Fatalf("TTL after the transaction = %v, %v", ttl, err)
	}
}

func TestBulkWrite(t *testing.T) {
	db, _ := openTest(t, nil)
	users := db.Collection("users")
	res, err := users.BulkWrite([]WriteModel{
		&InsertOneModel{Document: D{{Key: "_id", Value: 1}, {Key: "n", Value: 1}}},
		&InsertOneModel{Document: map[string]any{"_id": 2}},
		&UpdateOneModel{Filter: D{{Key: "_id", Value: 1}}, Update: D{{Key: "$inc", Value: D{{Key: "n", Value: 1}}}}},
		&UpdateManyModel{Filter: nil, Update: D{{Key: "$set", Value: D{{Key: "all", Value: true}}}}},
		&ReplaceOneModel{Filter: D{{Key: "_id", Value: 3}}, Replacement: D{{Key: "r", Value: 1}}, Upsert: true},
		&DeleteOneModel{Filter: D{{Key: "_id", Value: 2}}},
		&DeleteManyModel{Filter: D{{Key: "r", Value: 5}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.InsertedCount != 2 || res.MatchedCount != 3 || res.ModifiedCount != 3 || res.DeletedCount != 1 ||
		res.UpsertedCount != 1 || fmt.Sprint(res.UpsertedIDs[4]) != "3" || len(res.InsertedIDs) != 2 {
		t.Fatalf("result %+v", res)
	}
	res, err = users.BulkWrite([]WriteModel{
		&InsertOneModel{Document: D{{Key: "_id", Value: 1}}},
		&InsertOneModel{Document: D{{Key: "_id", Value: 9}}},
	}, &BulkWriteOptions{Unordered: true})
	var bulk *BulkWriteError
	if !errors.As(err, &bulk) || !errors.Is(err, ErrConstraint) || len(bulk.Errors) != 1 || bulk.Errors[0].Index != 0 ||
		res == nil || res.InsertedCount != 1 || bulk.Result != res || fmt.Sprint(bulk.InsertedIDs) != "[9]" {
		t.Fatalf("unordered with a duplicate: %+v, %v", res, err)
	}
	if _, err := users.BulkWrite([]WriteModel{&InsertOneModel{Document: make(chan int)}}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an unencodable document: %v", err)
	}
	if _, err := users.BulkWrite([]WriteModel{nil}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a nil model: %v", err)
	}
}
