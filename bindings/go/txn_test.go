package cairn

import (
	"errors"
	"testing"
)

func mustBegin(t *testing.T, db *DB) *Tx {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

func TestTxCommitMakesWritesVisibleAtOnce(t *testing.T) {
	db, _ := openTest(t, nil)
	tx := mustBegin(t, db)
	if err := tx.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Collection("c").InsertOne(M{"_id": 1, "v": "x"}); err != nil {
		t.Fatal(err)
	}
	_, err := db.Get([]byte("a"))
	wantErr(t, "Get outside the transaction before Commit", err, ErrNotFound)
	if n, err := db.Collection("c").Count(nil); err != nil || n != 0 {
		t.Fatalf("Count outside the transaction before Commit = %d, %v; want 0", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, db, "a", "1")
	if n, err := db.Collection("c").Count(nil); err != nil || n != 1 {
		t.Fatalf("Count after Commit = %d, %v; want 1", n, err)
	}
}

func TestTxReadsItsOwnWrites(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "gone", "x")
	tx := mustBegin(t, db)
	if err := tx.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if v, err := tx.Get([]byte("a")); err != nil || string(v) != "1" {
		t.Fatalf("tx.Get(a) = %q, %v; want its own write", v, err)
	}
	_, err := tx.Get([]byte("gone"))
	wantErr(t, "tx.Get of a key it deleted", err, ErrNotFound)
	vals, err := tx.GetMany([][]byte{[]byte("a"), []byte("gone")})
	if err != nil || len(vals) != 2 || string(vals[0]) != "1" || vals[1] != nil {
		t.Fatalf("tx.GetMany = %q, %v", vals, err)
	}

	c := tx.Collection("users")
	if _, err := c.InsertOne(M{"_id": 1, "name": "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateOne(M{"_id": 1}, M{"$set": M{"age": 31}}, nil); err != nil {
		t.Fatal(err)
	}
	var p person
	if err := c.FindByID(1).Decode(&p); err != nil || p.Name != "ann" || p.Age != 31 {
		t.Fatalf("FindByID in the transaction = %+v, %v", p, err)
	}
	if got := names(t, mustFind(t, c, nil, nil)); !equalStrings(got, []string{"ann"}) {
		t.Fatalf("Find in the transaction = %q", got)
	}
	if n, err := db.Collection("users").Count(nil); err != nil || n != 0 {
		t.Fatalf("Count outside = %d, %v; want 0", n, err)
	}
}

func TestTxReadsItsSnapshot(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "k", "old")
	tx := mustBegin(t, db)
	mustPut(t, db, "k", "new")
	if v, err := tx.Get([]byte("k")); err != nil || string(v) != "old" {
		t.Fatalf("tx.Get(k) = %q, %v; want the snapshot's \"old\"", v, err)
	}
}

func TestTxRollbackDiscardsWrites(t *testing.T) {
	db, _ := openTest(t, nil)
	tx := mustBegin(t, db)
	if err := tx.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Collection("c").InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	_, err := db.Get([]byte("a"))
	wantErr(t, "Get after Rollback", err, ErrNotFound)
	if n, err := db.Collection("c").Count(nil); err != nil || n != 0 {
		t.Fatalf("Count after Rollback = %d, %v; want 0", n, err)
	}
}

func TestTxConflictOnSameDocument(t *testing.T) {
	db, _ := openTest(t, nil)
	accounts := db.Collection("accounts")
	if _, err := accounts.InsertOne(M{"_id": 1, "balance": 100}); err != nil {
		t.Fatal(err)
	}
	tx1, tx2 := mustBegin(t, db), mustBegin(t, db)
	for i, tx := range []*Tx{tx1, tx2} {
		if _, err := tx.Collection("accounts").UpdateOne(M{"_id": 1}, M{"$inc": M{"balance": -10}}, nil); err != nil {
			t.Fatalf("UpdateOne in tx%d: %v", i+1, err)
		}
	}
	if err := tx1.Commit(); err != nil {
		t.Fatalf("first Commit: %v", err)
	}
	err := tx2.Commit()
	wantErr(t, "second Commit of a write to the same document", err, ErrConflict)
	var e *Error
	if !errors.As(err, &e) || e.Op != "Tx.Commit" {
		t.Fatalf("conflict error %#v, want an *Error with Op Tx.Commit", err)
	}
	var doc struct{ Balance int64 }
	if err := accounts.FindByID(1).Decode(&doc); err != nil || doc.Balance != 90 {
		t.Fatalf("balance %d, %v; want 90 (only the first commit applied)", doc.Balance, err)
	}
}

func TestTxConflictOnSameKey(t *testing.T) {
	db, _ := openTest(t, nil)
	tx1, tx2 := mustBegin(t, db), mustBegin(t, db)
	if err := tx1.Put([]byte("k"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Put([]byte("k"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "second Commit of a write to the same key", tx2.Commit(), ErrConflict)
	mustGet(t, db, "k", "1")
}

func TestTxEndedFailsWithClosed(t *testing.T) {
	db, _ := openTest(t, nil)
	tx := mustBegin(t, db)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Put after Commit", tx.Put([]byte("a"), []byte("1")), ErrClosed)
	_, err := tx.Get([]byte("a"))
	wantErr(t, "Get after Commit", err, ErrClosed)
	_, err = tx.Collection("c").InsertOne(M{"a": 1})
	wantErr(t, "InsertOne after Commit", err, ErrClosed)
	wantErr(t, "Commit after Commit", tx.Commit(), ErrClosed)
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after Commit: %v, want nil", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback again: %v, want nil", err)
	}

	var zero Tx
	wantErr(t, "Put on a zero Tx", zero.Put([]byte("a"), nil), ErrClosed)
	wantErr(t, "Commit on a zero Tx", zero.Commit(), ErrClosed)
}

func TestTxReadOnlyRefusesWrites(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "a", "1")
	tx, err := db.BeginTx(TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if v, err := tx.Get([]byte("a")); err != nil || string(v) != "1" {
		t.Fatalf("Get in a read-only transaction = %q, %v", v, err)
	}
	wantErr(t, "Put in a read-only transaction", tx.Put([]byte("b"), []byte("2")), ErrInvalidArgument)
	_, err = tx.Collection("c").InsertOne(M{"a": 1})
	wantErr(t, "InsertOne in a read-only transaction", err, ErrInvalidArgument)
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit of a read-only transaction: %v", err)
	}
}

func TestTxRefusesCallsOutsideTransactions(t *testing.T) {
	db, _ := openTest(t, nil)
	tx := mustBegin(t, db)
	c := tx.Collection("c")
	if _, err := c.InsertOne(M{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Stats()
	wantErr(t, "Stats in a transaction", err, ErrInvalidArgument)
	wantErr(t, "Drop in a transaction", c.Drop(), ErrInvalidArgument)
	wantErr(t, "Rename in a transaction", c.Rename("d"), ErrInvalidArgument)
	_, err = c.CreateIndex([]IndexKey{{"a", Ascending}}, IndexOptions{})
	wantErr(t, "CreateIndex in a transaction", err, ErrInvalidArgument)
	// The transaction is still usable.
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestTxCollectionsAndCursors(t *testing.T) {
	db, _ := openTest(t, nil)
	tx := mustBegin(t, db)
	if err := tx.CreateCollection("people", nil); err != nil {
		t.Fatal(err)
	}
	c := tx.Collection("people")
	if _, err := c.InsertMany([]any{M{"_id": 1, "name": "ann"}, M{"_id": 2, "name": "bob"}}); err != nil {
		t.Fatal(err)
	}
	cur := mustFind(t, c, nil, nil)
	// Written after the cursor opened: not seen by it.
	if _, err := c.InsertOne(M{"_id": 3, "name": "cy"}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, cur); !equalStrings(got, []string{"ann", "bob"}) {
		t.Fatalf("cursor opened before the third insert read %q", got)
	}
	if list, err := db.ListCollections(); err != nil || len(list) != 0 {
		t.Fatalf("db.ListCollections before Commit = %q, %v", list, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Collection("people").Count(nil); err != nil || n != 3 {
		t.Fatalf("Count after Commit = %d, %v; want 3", n, err)
	}
}

func TestTxListCollectionsSeesItsOwnCollections(t *testing.T) {
	db, _ := openTest(t, nil)
	if err := db.CreateCollection("old", nil); err != nil {
		t.Fatal(err)
	}
	tx := mustBegin(t, db)
	if err := tx.CreateCollection("new", nil); err != nil {
		t.Fatal(err)
	}
	list, err := tx.ListCollections()
	if err != nil || !equalStrings(list, []string{"new", "old"}) {
		t.Fatalf("tx.ListCollections = %q, %v; want [new old]", list, err)
	}
	if list, err := db.ListCollections(); err != nil || !equalStrings(list, []string{"old"}) {
		t.Fatalf("db.ListCollections before Commit = %q, %v; want [old]", list, err)
	}
}

func TestTransactionCommitsOnNil(t *testing.T) {
	db, _ := openTest(t, nil)
	err := db.Transaction(func(tx *Tx) error {
		if err := tx.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		_, err := tx.Collection("c").InsertOne(M{"_id": "x"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, db, "a", "1")
	var doc M
	if err := db.Collection("c").FindByID("x").Decode(&doc); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionRollsBackOnError(t *testing.T) {
	db, _ := openTest(t, nil)
	boom := errors.New("boom")
	err := db.Transaction(func(tx *Tx) error {
		if err := tx.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Transaction returned %v, want fn's error", err)
	}
	_, err = db.Get([]byte("a"))
	wantErr(t, "Get after a failed Transaction", err, ErrNotFound)
}

func TestTransactionRollsBackOnPanic(t *testing.T) {
	db, _ := openTest(t, nil)
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the panic passed on", p)
			}
		}()
		db.Transaction(func(tx *Tx) error {
			if err := tx.Put([]byte("a"), []byte("1")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := db.Get([]byte("a"))
	wantErr(t, "Get after a panicking Transaction", err, ErrNotFound)
}

func TestTransactionReturnsConflict(t *testing.T) {
	db, _ := openTest(t, nil)
	err := db.Transaction(func(tx *Tx) error {
		if err := tx.Put([]byte("k"), []byte("tx")); err != nil {
			return err
		}
		// Another writer changes the same key before the commit.
		return db.Put([]byte("k"), []byte("outside"))
	})
	wantErr(t, "Transaction after a concurrent write", err, ErrConflict)
	mustGet(t, db, "k", "outside")
}

func TestCloseRollsBackOpenTx(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{Sync: "never"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Put after the database closed", tx.Put([]byte("b"), nil), ErrClosed)
	wantErr(t, "Commit after the database closed", tx.Commit(), ErrClosed)
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after the database closed: %v", err)
	}
	db, err = Open(dir, &Options{Sync: "never"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Get([]byte("a"))
	wantErr(t, "Get of a write of a transaction ended by Close", err, ErrNotFound)
}

func TestBeginOnClosedDB(t *testing.T) {
	db, _ := openTest(t, nil)
	db.Close()
	_, err := db.Begin()
	wantErr(t, "Begin on a closed DB", err, ErrClosed)
	err = db.Transaction(func(*Tx) error { t.Fatal("fn ran"); return nil })
	wantErr(t, "Transaction on a closed DB", err, ErrClosed)
}
