package cairn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutGetDelete(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "alpha", "1")
	mustGet(t, db, "alpha", "1")
	mustPut(t, db, "alpha", "two")
	mustGet(t, db, "alpha", "two")
	if err := db.Delete([]byte("alpha")); err != nil {
		t.Fatal(err)
	}
	_, err := db.Get([]byte("alpha"))
	wantErr(t, "Get(deleted)", err, ErrNotFound)
	if err := db.Delete([]byte("never-existed")); err != nil {
		t.Fatalf("Delete(absent) = %v, want nil", err)
	}

	// Empty values are present, and come back as non-nil empty slices.
	if err := db.Put([]byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	v, err := db.Get([]byte("empty"))
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get(empty) = %#v, %v; want []byte{}, nil", v, err)
	}

	// Binary safety: NUL bytes and every byte value survive.
	key := []byte{'b', 0, 'k', 0xff}
	val := make([]byte, 256)
	for i := range val {
		val[i] = byte(i)
	}
	if err := db.Put(key, val); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(key)
	if err != nil || string(got) != string(val) {
		t.Fatalf("binary round trip: %v, %v", got, err)
	}

	// The returned slice is the caller's: changing it changes nothing stored.
	got[0] = 'X'
	again, _ := db.Get(key)
	if again[0] != 0 {
		t.Fatal("Get returned memory shared with a previous result")
	}

	// A large value.
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := db.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Get([]byte("big")); err != nil || string(got) != string(big) {
		t.Fatalf("3 MiB value did not round-trip: len %d, %v", len(got), err)
	}
}

func TestGetMany(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "a", "1")
	mustPut(t, db, "c", "3")
	if err := db.Put([]byte("e"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetMany([][]byte{[]byte("c"), []byte("b"), []byte("a"), []byte("e"), []byte("c")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || string(got[0]) != "3" || got[1] != nil || string(got[2]) != "1" ||
		got[3] == nil || len(got[3]) != 0 || string(got[4]) != "3" {
		t.Fatalf("GetMany = %#v", got)
	}
	_, err = db.GetMany(nil)
	wantErr(t, "GetMany(no keys)", err, ErrInvalidArgument)
	_, err = db.GetMany([][]byte{[]byte("a"), nil})
	wantErr(t, "GetMany(empty key)", err, ErrInvalidArgument)
}

func TestDeleteRange(t *testing.T) {
	db, _ := openTest(t, nil)
	for _, k := range []string{"a", "b", "ba", "c", "d"} {
		mustPut(t, db, k, k)
	}
	if err := db.DeleteRange([]byte("b"), []byte("c")); err != nil {
		t.Fatal(err)
	}
	keys, err := db.Keys(KeysOptions{})
	if err != nil || !equalStrings(strs(keys), []string{"a", "c", "d"}) {
		t.Fatalf("after DeleteRange(b, c): %q, %v", keys, err)
	}
	if err := db.DeleteRange([]byte("d"), []byte("a")); err != nil {
		t.Fatalf("empty range: %v", err)
	}
	wantErr(t, "DeleteRange(empty start)", db.DeleteRange(nil, []byte("c")), ErrInvalidArgument)
	wantErr(t, "DeleteRange(empty end)", db.DeleteRange([]byte("a"), nil), ErrInvalidArgument)
}

func TestTTL(t *testing.T) {
	db, _ := openTest(t, nil)
	if err := db.PutTTL([]byte("short"), []byte("s"), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// A positive sub-millisecond TTL is rounded up, never turned into "forever".
	if err := db.PutTTL([]byte("tiny"), []byte("t"), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	hour, err := ParseTTL("1h")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutTTL([]byte("long"), []byte("l"), hour); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTTL([]byte("zero"), []byte("z"), 0); err != nil {
		t.Fatalf("PutTTL(0) means no expiry: %v", err)
	}
	wantErr(t, "PutTTL(negative)", db.PutTTL([]byte("bad"), []byte("x"), -time.Second), ErrInvalidArgument)
	wantErr(t, "PutTTL(-1ns)", db.PutTTL([]byte("bad"), []byte("x"), -1), ErrInvalidArgument)
	_, err = db.Get([]byte("bad"))
	wantErr(t, "Get(bad)", err, ErrNotFound)

	time.Sleep(60 * time.Millisecond)
	for _, k := range []string{"short", "tiny"} {
		_, err := db.Get([]byte(k))
		wantErr(t, "Get(expired "+k+")", err, ErrNotFound)
	}
	mustGet(t, db, "long", "l")
	mustGet(t, db, "zero", "z")
	keys, err := db.Keys(KeysOptions{})
	if err != nil || !equalStrings(strs(keys), []string{"long", "zero"}) {
		t.Fatalf("Keys after expiry: %q, %v", keys, err)
	}
}

func TestTTLMillis(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 0}, {time.Millisecond, 1}, {1, 1}, {1500 * time.Microsecond, 2},
		{time.Hour, 3600000}, {-1, -1}, {-time.Millisecond, -1}, {-1500 * time.Microsecond, -2},
	} {
		if got := ttlMillis(c.d); got != c.want {
			t.Errorf("ttlMillis(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestParseTTL(t *testing.T) {
	for text, want := range map[string]time.Duration{
		"500ms": 500 * time.Millisecond, "30s": 30 * time.Second, "5m": 5 * time.Minute,
		"1h": time.Hour, "2d": 48 * time.Hour, "1w": 7 * 24 * time.Hour, "250": 250 * time.Millisecond,
	} {
		got, err := ParseTTL(text)
		if err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	for _, text := range []string{"", "5y", "-5s", "0s", "1.5h", "s", "99999999999999999999w", "1h\x00"} {
		_, err := ParseTTL(text)
		wantErr(t, "ParseTTL("+text+")", err, ErrInvalidArgument)
	}
}

func TestKeysFilters(t *testing.T) {
	db, _ := openTest(t, nil)
	for _, k := range []string{"img/cat.png", "img/dog.jpg", "img/dogs.png", "doc/dog.txt", "doc/readme"} {
		mustPut(t, db, k, "x")
	}
	for _, c := range []struct {
		opts KeysOptions
		want []string
	}{
		{KeysOptions{}, []string{"doc/dog.txt", "doc/readme", "img/cat.png", "img/dog.jpg", "img/dogs.png"}},
		{KeysOptions{Prefix: "img/"}, []string{"img/cat.png", "img/dog.jpg", "img/dogs.png"}},
		{KeysOptions{Suffix: ".png"}, []string{"img/cat.png", "img/dogs.png"}},
		{KeysOptions{Contains: "dog"}, []string{"doc/dog.txt", "img/dog.jpg", "img/dogs.png"}},
		{KeysOptions{Prefix: "img/", Contains: "dog", Suffix: ".png"}, []string{"img/dogs.png"}},
		{KeysOptions{Limit: 2}, []string{"doc/dog.txt", "doc/readme"}},
		{KeysOptions{Offset: 3}, []string{"img/dog.jpg", "img/dogs.png"}},
		{KeysOptions{Contains: "dog", Offset: 1, Limit: 1}, []string{"img/dog.jpg"}},
		{KeysOptions{Offset: 99}, []string{}},
		{KeysOptions{Prefix: "zzz"}, []string{}},
	} {
		got, err := db.Keys(c.opts)
		if err != nil {
			t.Fatalf("Keys(%+v): %v", c.opts, err)
		}
		if got == nil || !equalStrings(strs(got), c.want) {
			t.Errorf("Keys(%+v) = %q, want %q", c.opts, got, c.want)
		}
	}
	_, err := db.Keys(KeysOptions{Limit: -1})
	wantErr(t, "Keys(limit -1)", err, ErrInvalidArgument)
	_, err = db.keysJSON("Keys", []byte(`{"sort": "desc"}`))
	wantErr(t, "Keys(unknown option)", err, ErrInvalidArgument)
}

func TestStats(t *testing.T) {
	db, _ := openTest(t, nil)
	mustPut(t, db, "a", "1")
	mustPut(t, db, "b", "2")
	mustGet(t, db, "a", "1")
	stats, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"puts", "gets", "deletes", "writes", "bytes_written", "live_keys", "wal_bytes", "table_bytes", "get_p99_micros"} {
		n, ok := stats[f].(json.Number)
		if !ok {
			t.Fatalf("stats[%q] = %#v, want a number", f, stats[f])
		}
		if _, err := n.Float64(); err != nil {
			t.Fatalf("stats[%q] = %v: %v", f, n, err)
		}
	}
	if n, _ := stats["live_keys"].(json.Number).Int64(); n != 2 {
		t.Errorf("live_keys = %v, want 2", stats["live_keys"])
	}
	if n, _ := stats["puts"].(json.Number).Int64(); n < 2 {
		t.Errorf("puts = %v, want >= 2", stats["puts"])
	}
}

func TestFlushCompactRangeAndMetrics(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), &Options{Sync: "never", MemtableSizeMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < 5000; i++ {
		if err := db.Put([]byte(fmt.Sprintf("k%05d", i)), bytes.Repeat([]byte("v"), 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5000; i += 2 {
		if err := db.Delete([]byte(fmt.Sprintf("k%05d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CompactRange(nil, nil); err != nil {
		t.Fatal(err)
	}
	text, err := db.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "# TYPE cairn_puts_total counter") || !strings.Contains(text, "\ncairn_puts_total 5000\n") {
		t.Fatalf("metrics lack cairn_puts_total 5000:\n%s", text)
	}
	if _, err := db.Get([]byte("k00002")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key after compaction: %v", err)
	}
	db.Close()
	if _, err := db.Metrics(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Metrics after Close: %v, want ErrClosed", err)
	}
}
