package cairn

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentReadersAndWriters shares one DB between goroutines that
// each write, read back, overwrite and delete their own keys, while others
// list and iterate.
func TestConcurrentReadersAndWriters(t *testing.T) {
	db, _ := openTest(t, nil)
	const goroutines, ops = 8, 2000
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+2)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < ops; i++ {
				key := []byte(fmt.Sprintf("g%d/%05d", g, i))
				val := []byte(fmt.Sprintf("%d-%d", g, i))
				if err := db.Put(key, val); err != nil {
					errs <- err
					return
				}
				got, err := db.Get(key)
				if err != nil || string(got) != string(val) {
					errs <- fmt.Errorf("goroutine %d: Get(%s) = %q, %v", g, key, got, err)
					return
				}
				if i%10 == 9 {
					if err := db.Delete(key); err != nil {
						errs <- err
						return
					}
				}
			}
		}(g)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func(r int) {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r == 0 {
					if _, err := db.Keys(KeysOptions{Prefix: "g3/", Limit: 50}); err != nil {
						errs <- err
						return
					}
					continue
				}
				it, err := db.NewIterator(IterOptions{Prefix: []byte("g1/")})
				if err != nil {
					errs <- err
					return
				}
				var prev []byte
				for n := 0; n < 100 && it.Next(); n++ {
					if prev != nil && string(prev) >= string(it.Key()) {
						errs <- fmt.Errorf("iterator order broken: %q then %q", prev, it.Key())
					}
					prev = it.Key()
				}
				if err := it.Err(); err != nil {
					errs <- err
				}
				it.Close()
			}
		}(r)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	keys, err := db.Keys(KeysOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := goroutines * ops * 9 / 10; len(keys) != want {
		t.Fatalf("%d keys left, want %d", len(keys), want)
	}
}

// TestCloseWhileInUse closes the database while goroutines still use it:
// every call either succeeds or reports ErrClosed, and nothing crashes.
func TestCloseWhileInUse(t *testing.T) {
	db, _ := openTest(t, nil)
	var wg sync.WaitGroup
	start := make(chan struct{})
	bad := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				key := []byte(fmt.Sprintf("c%d/%d", g, i))
				err := db.Put(key, key)
				if err == nil {
					_, err = db.Get(key)
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					bad <- err
					return
				}
			}
		}(g)
	}
	close(start)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = db.Close() }()
	}
	wg.Wait()
	close(bad)
	for err := range bad {
		t.Errorf("call racing with Close: %v, want success or ErrClosed", err)
	}
}
