package cairn

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestBatchAppliesInOrder(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "k0", "old")
	b := db.NewBatch()
	defer b.Close()
	steps := []error{
		b.Put([]byte("k1"), []byte("v1")),
		b.Put([]byte("k2"), []byte("v2")),
		b.Delete([]byte("k0")),
		b.Put([]byte("k1"), []byte("v1b")),
		b.PutTTL([]byte("k3"), []byte("v3"), time.Hour),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	if b.Len() != 5 {
		t.Fatalf("Len = %d, want 5", b.Len())
	}
	// Nothing is visible before Write.
	_, err := db.Get([]byte("k1"))
	wantErr(t, "Get before Write", err, ErrNotFound)
	if err := db.Write(b); err != nil {
		t.Fatal(err)
	}
	_, err = db.Get([]byte("k0"))
	wantErr(t, "Get(k0)", err, ErrNotFound)
	mustGet(t, db, "k1", "v1b")
	mustGet(t, db, "k2", "v2")
	mustGet(t, db, "k3", "v3")

	// The batch is unchanged by Write, can be cleared and reused.
	if b.Len() != 5 {
		t.Fatalf("Len after Write = %d, want 5", b.Len())
	}
	if err := b.Clear(); err != nil || b.Len() != 0 {
		t.Fatalf("Clear: %v, Len %d", err, b.Len())
	}
	if err := b.DeleteRange([]byte("k1"), []byte("k3")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put([]byte("k2"), []byte("reborn")); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(b); err != nil {
		t.Fatal(err)
	}
	keys, _ := db.Keys(KeysOptions{})
	if !equalStrings(strs(keys), []string{"k2", "k3"}) {
		t.Fatalf("keys %q", keys)
	}
	mustGet(t, db, "k2", "reborn")

	// An empty batch is a no-op.
	if err := b.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(b); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func TestBatchInvalidOperationWritesNothing(t *testing.T) {
	db, _ := openTest(t, nil)
	b := db.NewBatch()
	defer b.Close()
	if err := b.Put([]byte("k4"), []byte("v4")); err != nil {
		t.Fatal(err)
	}
	err := b.Put(nil, []byte("empty key"))
	wantErr(t, "Batch.Put(empty key)", err, ErrInvalidArgument)
	// Write refuses a batch with a failed operation, even if the caller
	// ignored the error.
	wantErr(t, "Write(batch with a failed op)", db.Write(b), ErrInvalidArgument)
	_, err = db.Get([]byte("k4"))
	wantErr(t, "Get(k4)", err, ErrNotFound)
	// Clear forgets the failure.
	if err := b.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := b.Put([]byte("k5"), []byte("v5")); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(b); err != nil {
		t.Fatal(err)
	}
	mustGet(t, db, "k5", "v5")
}

func TestBatchClose(t *testing.T) {
	db, _ := openTest(t, nil)
	b := db.NewBatch()
	if err := b.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := b.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	wantErr(t, "Put after Close", b.Put([]byte("a"), []byte("1")), ErrClosed)
	wantErr(t, "Write after Close", db.Write(b), ErrClosed)
	if b.Len() != 0 {
		t.Fatalf("Len of a closed batch = %d", b.Len())
	}
	var zero Batch
	wantErr(t, "Put on a zero Batch", zero.Put([]byte("a"), nil), ErrClosed)
}

func TestUpdateCommits(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "gone", "x")
	err := db.Update(func(b *Batch) error {
		for i := 0; i < 100; i++ {
			if err := b.Put([]byte(fmt.Sprintf("u%03d", i)), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return b.Delete([]byte("gone"))
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := db.Keys(KeysOptions{Prefix: "u"})
	if len(keys) != 100 {
		t.Fatalf("%d keys after Update, want 100", len(keys))
	}
	_, err = db.Get([]byte("gone"))
	wantErr(t, "Get(gone)", err, ErrNotFound)
}

func TestUpdateRollsBack(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "keep", "x")
	errStop := errors.New("stop")
	err := db.Update(func(b *Batch) error {
		if err := b.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		if err := b.Delete([]byte("keep")); err != nil {
			return err
		}
		return errStop
	})
	if err != errStop {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	_, err = db.Get([]byte("a"))
	wantErr(t, "Get(a) after rollback", err, ErrNotFound)
	mustGet(t, db, "keep", "x")

	// An invalid operation returned by fn rolls back too.
	err = db.Update(func(b *Batch) error {
		if err := b.Put([]byte("b"), []byte("2")); err != nil {
			return err
		}
		return b.Put(nil, []byte("bad"))
	})
	wantErr(t, "Update with an invalid op", err, ErrInvalidArgument)
	_, err = db.Get([]byte("b"))
	wantErr(t, "Get(b)", err, ErrNotFound)

	// A panic writes nothing and is passed on.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic", r)
			}
		}()
		_ = db.Update(func(b *Batch) error {
			_ = b.Put([]byte("c"), []byte("3"))
			panic("boom")
		})
	}()
	_, err = db.Get([]byte("c"))
	wantErr(t, "Get(c) after panic", err, ErrNotFound)
}
