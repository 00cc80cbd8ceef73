package cairn_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"cairn.dev/cairn"
)

func Example() {
	tmp, err := os.MkdirTemp("", "cairn-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	db, err := cairn.Open(filepath.Join(tmp, "db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	if err := db.Put([]byte("user:1"), []byte("ann")); err != nil {
		log.Fatal(err)
	}
	err = db.Update(func(b *cairn.Batch) error {
		if err := b.Put([]byte("user:2"), []byte("bob")); err != nil {
			return err
		}
		ttl, err := cairn.ParseTTL("1h")
		if err != nil {
			return err
		}
		return b.PutTTL([]byte("session:9"), []byte("token"), ttl)
	})
	if err != nil {
		log.Fatal(err)
	}

	v, err := db.Get([]byte("user:2"))
	fmt.Printf("user:2 = %s (%v)\n", v, err)
	_, err = db.Get([]byte("user:3"))
	fmt.Println("user:3 missing:", errors.Is(err, cairn.ErrNotFound))

	it, err := db.NewIterator(cairn.IterOptions{Prefix: []byte("user:")})
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		fmt.Printf("%s -> %s\n", it.Key(), it.Value())
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// user:2 = bob (<nil>)
	// user:3 missing: true
	// user:1 -> ann
	// user:2 -> bob
}
