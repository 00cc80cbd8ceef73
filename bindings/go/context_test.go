package cairn

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// endlessPipeline would run for many minutes: each of 20,000 documents
// looks at all 20,000 through a $lookup pipeline whose $expr no index can
// serve. Only an interrupt ends it in time, so these tests fail by their
// timeout, never by a measured speed, when interrupting does not work.
var endlessPipeline = []any{
	M{"$lookup": M{"from": "people", "let": M{"n": "$name"}, "as": "others",
		"pipeline": []any{M{"$match": M{"$expr": M{"$ne": []any{"$pad", "$$n"}}}}, M{"$count": "c"}}}},
	M{"$count": "n"},
}

func fillPeople(t *testing.T, db *DB) *Collection {
	t.Helper()
	people := db.Collection("people")
	docs := make([]any, 20000)
	for i := range docs {
		docs[i] = M{"_id": i, "name": fmt.Sprintf("person %d", i%5000), "pad": "xxxxxxxxxx"}
	}
	if _, err := people.InsertMany(docs); err != nil {
		t.Fatal(err)
	}
	return people
}

func TestInterruptFromAnotherGoroutineStopsARunningAggregation(t *testing.T) {
	db, _ := openTest(t, nil)
	people := fillPeople(t, db)
	done := make(chan error, 1)
	go func() {
		cur, err := people.Aggregate(endlessPipeline)
		if err == nil {
			cur.Next()
			err = cur.Err()
			cur.Close()
		}
		done <- err
	}()
	var err error
	// Until the aggregation notices: an interrupt that lands before it
	// starts stops nothing, by design.
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-time.After(20 * time.Millisecond):
			if e := db.Interrupt(); e != nil {
				t.Fatal(e)
			}
		}
	}
	wantErr(t, "an interrupted aggregation", err, ErrInterrupted)
	// Nothing is damaged, and later calls run normally.
	if n, err := people.Count(nil); err != nil || n != 20000 {
		t.Fatalf("Count after the interrupt = %d, %v", n, err)
	}
}

func TestAContextDeadlineStopsAFindAndItsCursor(t *testing.T) {
	db, _ := openTest(t, nil)
	people := fillPeople(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	cur, err := people.AggregateContext(ctx, endlessPipeline)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Next() {
		t.Fatal("the endless aggregation returned a document")
	}
	err = cur.Err()
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Err() = %v; want context.DeadlineExceeded and ErrInterrupted", err)
	}
	cur.Close()

	// A slow filter through FindContext: every document is compared with
	// a regex, and the cursor is read after the deadline.
	ctx2, cancel2 := context.WithCancel(context.Background())
	found, err := people.FindContext(ctx2, M{"name": M{"$regex": "^person 1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer found.Close()
	if !found.Next() {
		t.Fatalf("first document: %v", found.Err())
	}
	cancel2()
	for found.Next() {
	}
	if err := found.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() after cancel = %v; want nil (already read) or context.Canceled", err)
	}
}

func TestCancelledContextsStopCountsAndIndexBuilds(t *testing.T) {
	db, _ := openTest(t, nil)
	people := fillPeople(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := people.CountContext(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("CountContext with a cancelled context = %v", err)
	}
	if _, err := people.CreateIndexContext(ctx, []IndexKey{{Field: "name", Direction: 1}}, IndexOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateIndexContext with a cancelled context = %v", err)
	}
	// With a live context they run as usual.
	if n, err := people.CountContext(context.Background(), M{"name": "person 7"}); err != nil || n != 4 {
		t.Fatalf("CountContext = %d, %v", n, err)
	}
	if err := db.CompactRangeContext(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if n, err := people.Count(nil); err != nil || n != 20000 {
		t.Fatalf("Count after an idle interrupt = %d, %v", n, err)
	}
}
