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

// Transfer moves an amount between two accounts in one transaction: both
// updates are written, or (when fn fails or a concurrent transaction wrote
// one of the accounts first) neither is.
func ExampleDB_Transaction() {
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

	accounts := db.Collection("accounts")
	if _, err := accounts.InsertMany([]any{
		map[string]any{"_id": "ann", "balance": 100},
		map[string]any{"_id": "bob", "balance": 20},
	}); err != nil {
		log.Fatal(err)
	}

	transfer := func(from, to string, amount int) error {
		return db.Transaction(func(tx *cairn.Tx) error {
			acc := tx.Collection("accounts")
			var src struct{ Balance int }
			if err := acc.FindByID(from).Decode(&src); err != nil {
				return err
			}
			if src.Balance < amount {
				return fmt.Errorf("%s has %d, cannot pay %d", from, src.Balance, amount)
			}
			if _, err := acc.UpdateOne(map[string]any{"_id": from},
				map[string]any{"$inc": map[string]any{"balance": -amount}}, nil); err != nil {
				return err
			}
			_, err := acc.UpdateOne(map[string]any{"_id": to},
				map[string]any{"$inc": map[string]any{"balance": amount}}, nil)
			return err
		})
	}

	for {
		err = transfer("ann", "bob", 30)
		if !errors.Is(err, cairn.ErrConflict) {
			break // committed, or failed for good; on a conflict, run it again
		}
	}
	fmt.Println("transfer 30:", err)
	fmt.Println("transfer 500:", transfer("ann", "bob", 500))

	cur, err := accounts.Find(nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cur.Close()
	for cur.Next() {
		var a struct {
			ID      string `json:"_id"`
			Balance int    `json:"balance"`
		}
		if err := cur.Decode(&a); err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.ID, a.Balance)
	}
	if err := cur.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// transfer 30: <nil>
	// transfer 500: ann has 70, cannot pay 500
	// ann 70
	// bob 50
}
