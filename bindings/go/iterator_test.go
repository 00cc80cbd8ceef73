package cairn

import (
	"bytes"
	"fmt"
	"testing"
)

// fill writes n keys "k00000".. with values "v<i>" in one batch.
func fill(t *testing.T, db *DB, prefix string, n int) {
	t.Helper()
	err := db.Update(func(b *Batch) error {
		for i := 0; i < n; i++ {
			if err := b.Put([]byte(fmt.Sprintf("%s%05d", prefix, i)), []byte(fmt.Sprintf("v%d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, db *DB, opts IterOptions, seek []byte) [][2]string {
	t.Helper()
	it, err := db.NewIterator(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if seek != nil {
		if err := it.Seek(seek); err != nil {
			t.Fatal(err)
		}
	}
	var out [][2]string
	for it.Next() {
		out = append(out, [2]string{string(it.Key()), string(it.Value())})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIteratorThousandsOfKeys(t *testing.T) {
	db, _ := openTest(t, nil)
	const n = 5000
	fill(t, db, "a", n)
	fill(t, db, "b", n)

	all := collect(t, db, IterOptions{}, nil)
	if len(all) != 2*n {
		t.Fatalf("forward: %d items, want %d", len(all), 2*n)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1][0] >= all[i][0] {
			t.Fatalf("forward order broken at %d: %q then %q", i, all[i-1][0], all[i][0])
		}
	}

	rev := collect(t, db, IterOptions{Reverse: true}, nil)
	if len(rev) != 2*n {
		t.Fatalf("reverse: %d items", len(rev))
	}
	for i := range rev {
		if rev[i] != all[len(all)-1-i] {
			t.Fatalf("reverse item %d = %v, want %v", i, rev[i], all[len(all)-1-i])
		}
	}

	pre := collect(t, db, IterOptions{Prefix: []byte("b")}, nil)
	if len(pre) != n || pre[0][0] != "b00000" || pre[n-1] != [2]string{"b04999", "v4999"} {
		t.Fatalf("prefix b: %d items, first %v", len(pre), pre[0])
	}
	preRev := collect(t, db, IterOptions{Prefix: []byte("a"), Reverse: true}, nil)
	if len(preRev) != n || preRev[0][0] != "a04999" || preRev[n-1][0] != "a00000" {
		t.Fatalf("reverse prefix a: %d items", len(preRev))
	}

	rng := collect(t, db, IterOptions{Start: []byte("a01000"), End: []byte("a02000")}, nil)
	if len(rng) != 1000 || rng[0][0] != "a01000" || rng[999][0] != "a01999" {
		t.Fatalf("range: %d items", len(rng))
	}
	rngRev := collect(t, db, IterOptions{Start: []byte("a01000"), End: []byte("a02000"), Reverse: true}, nil)
	if len(rngRev) != 1000 || rngRev[0][0] != "a01999" {
		t.Fatalf("reverse range: %d items", len(rngRev))
	}

	seek := collect(t, db, IterOptions{}, []byte("b04990x"))
	if len(seek) != 9 || seek[0][0] != "b04991" {
		t.Fatalf("seek forward: %v", seek)
	}
	seekRev := collect(t, db, IterOptions{Reverse: true}, []byte("a00002x"))
	if len(seekRev) != 3 || seekRev[0][0] != "a00002" {
		t.Fatalf("seek reverse: %v", seekRev)
	}
	// Bounds still apply after a seek.
	seekOut := collect(t, db, IterOptions{Prefix: []byte("a")}, []byte("b"))
	if len(seekOut) != 0 {
		t.Fatalf("seek past the prefix: %d items", len(seekOut))
	}
}

func TestIteratorSnapshotAndCopies(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "a", "1")
	mustPut(t, db, "b", "")
	it, err := db.NewIterator(IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	mustPut(t, db, "c", "3") // not seen: the snapshot predates it

	if it.Key() != nil || it.Value() != nil {
		t.Fatal("Key/Value before Next should be nil")
	}
	if !it.Next() {
		t.Fatal(it.Err())
	}
	k, v := it.Key(), it.Value()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	if string(k) != "a" || string(v) != "1" {
		t.Fatalf("earlier item changed by Next: %q=%q", k, v)
	}
	if string(it.Key()) != "b" || it.Value() == nil || len(it.Value()) != 0 {
		t.Fatalf("empty value item: %q=%#v", it.Key(), it.Value())
	}
	if it.Next() {
		t.Fatalf("snapshot sees a later write: %q", it.Key())
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	// Seeking back after the end works.
	if err := it.Seek([]byte("a")); err != nil || !it.Next() || !bytes.Equal(it.Key(), []byte("a")) {
		t.Fatalf("seek after the end: %v, %q", err, it.Key())
	}
}

func TestIteratorCloseAndMisuse(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "a", "1")
	_, err := db.NewIterator(IterOptions{Prefix: []byte("a"), Start: []byte("a")})
	wantErr(t, "Prefix with Start", err, ErrInvalidArgument)

	it, err := db.NewIterator(IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := it.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if it.Next() {
		t.Fatal("Next on a closed iterator returned an item")
	}
	wantErr(t, "Next after Close", it.Err(), ErrClosed)
	wantErr(t, "Seek after Close", it.Seek([]byte("a")), ErrClosed)

	var zero Iterator
	if zero.Next() {
		t.Fatal("zero Iterator returned an item")
	}
	wantErr(t, "zero Iterator", zero.Err(), ErrClosed)
}
