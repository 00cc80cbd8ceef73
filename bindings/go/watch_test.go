package cairn

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func openFeed(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, &Options{Sync: "never", Extra: map[string]any{"change_feed": true}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestWatchOffByDefault(t *testing.T) {
	db, _ := openTest(t, nil)
	_, err := db.Watch(nil)
	wantErr(t, "Watch without change_feed", err, ErrInvalidArgument)
}

func TestWatchNextDeliversInCommitOrderAndDecodes(t *testing.T) {
	db := openFeed(t, filepath.Join(t.TempDir(), "db"))
	defer db.Close()
	s, err := db.Watch(&WatchOptions{KeyPrefix: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := db.NewBatch()
	defer b.Close()
	for i := 0; i < 3; i++ {
		if err := b.Put([]byte(fmt.Sprintf("k%d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(b); err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "other", "x")
	mustPut(t, db, "k9", "last")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var events []*ChangeEvent
	for len(events) < 4 {
		e, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	for i, want := range []string{"k0", "k1", "k2", "k9"} {
		if events[i].OperationType != "put" || events[i].Key == nil || string(events[i].Key.Data) != want || !events[i].NS.KV {
			t.Fatalf("event %d = %s, want a put of %s", i, events[i].Raw, want)
		}
	}
	// The batch is one commit: same sequence, positions 0..2, three events.
	for i := 0; i < 3; i++ {
		if events[i].Seq != events[0].Seq || events[i].ID.Pos != uint32(i) || events[i].TxnEvents != 3 || events[i].TxnID != events[0].Seq {
			t.Fatalf("event %d of the batch: %s", i, events[i].Raw)
		}
	}
	if events[3].Seq <= events[0].Seq || events[3].WallTime.Time.IsZero() {
		t.Fatalf("the last event: %s", events[3].Raw)
	}
	if tok := s.ResumeToken(); tok == nil || *tok != events[3].ID {
		t.Fatalf("ResumeToken() = %v, want %v", tok, events[3].ID)
	}
}

func TestWatchNextHonoursContextAndClose(t *testing.T) {
	db := openFeed(t, filepath.Join(t.TempDir(), "db"))
	defer db.Close()
	s, err := db.Watch(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Next(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after the deadline = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("Next returned %v after its deadline", elapsed)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); ccancel() }()
	if _, err := s.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); s.Close() }()
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWatchResumeAcrossReopenAndHistoryLost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openFeed(t, dir)
	coll := db.Collection("people")
	s, err := db.Watch(&WatchOptions{Collection: "people", Filter: map[string]any{"operationType": "insert"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := coll.InsertOne(map[string]any{"_id": i}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	first, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.DocumentKey) != `{"_id":0}` || first.NS.Coll != "people" {
		t.Fatalf("first event %s", first.Raw)
	}
	token := first.ID
	s.Close()
	db.Close()

	db = openFeed(t, dir)
	r, err := db.Watch(&WatchOptions{Collection: "people", ResumeAfter: &token})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 4; i++ {
		e, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"_id":%d}`, i); string(e.DocumentKey) != want {
			t.Fatalf("resumed event %d: %s, want documentKey %s", i, e.Raw, want)
		}
	}
	r.Close()
	db.Close()

	plain, err := Open(dir, &Options{Sync: "never"})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, plain, "unrecorded", "x")
	plain.Close()
	db = openFeed(t, dir)
	defer db.Close()
	_, err = db.Watch(&WatchOptions{ResumeAfter: &token})
	wantErr(t, "resume across unrecorded writes", err, ErrHistoryLost)
	_, err = db.Watch(&WatchOptions{Collection: "c", KeyPrefix: []byte("k")})
	wantErr(t, "two targets", err, ErrInvalidArgument)
}
