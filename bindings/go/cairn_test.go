package cairn

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionAndABI(t *testing.T) {
	if got := ABIVersion(); got != abiVersion {
		t.Fatalf("ABIVersion() = %d, want %d", got, abiVersion)
	}
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Fatalf("Version() = %q, want major.minor.patch", v)
	}
}

func TestSentinelsMatchLibraryNames(t *testing.T) {
	for _, e := range []*Error{ErrNotFound, ErrInvalidArgument, ErrIO, ErrCorruption, ErrBusy,
		ErrClosed, ErrConflict, ErrConstraint, ErrSchema, ErrNoSpace, ErrInternal, ErrNoMemory, ErrInterrupted, ErrHistoryLost, ErrReadOnly} {
		if got := statusName(e.Code); got != e.Status {
			t.Errorf("status %d: library calls it %s, binding %s", e.Code, got, e.Status)
		}
	}
	if got := statusName(12345); got != "CAIRN_UNKNOWN" {
		t.Errorf("statusName(12345) = %q", got)
	}
}

func TestErrorValues(t *testing.T) {
	db, _ := openTest(t, nil)

	_, err := db.Get([]byte("missing"))
	wantErr(t, "Get(missing)", err, ErrNotFound)
	if errors.Is(err, ErrClosed) || errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("not-found error also matches another kind: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *Error", err)
	}
	if e.Op != "Get" || e.Code != 1 || e.Status != "CAIRN_NOT_FOUND" {
		t.Fatalf("error fields: %+v", e)
	}
	if !strings.HasPrefix(err.Error(), "cairn: Get: CAIRN_NOT_FOUND") {
		t.Fatalf("error text %q", err.Error())
	}

	err = db.Put(nil, []byte("v"))
	wantErr(t, "Put(empty key)", err, ErrInvalidArgument)
	if errors.As(err, &e); e.Op != "Put" || e.Message == "" {
		t.Fatalf("invalid-argument error should name Op and carry a message: %+v", e)
	}
	wantErr(t, "Put(oversize key)", db.Put(make([]byte, 65537), nil), ErrInvalidArgument)
	if err := db.Put(make([]byte, 65536), nil); err != nil {
		t.Fatalf("Put(65536-byte key): %v", err)
	}
	wantErr(t, "Get(empty key)", func() error { _, err := db.Get([]byte{}); return err }(), ErrInvalidArgument)
	wantErr(t, "Delete(empty key)", db.Delete(nil), ErrInvalidArgument)

	// Errors wrapped by the caller still match.
	wrapped := fmt.Errorf("context: %w", err)
	if !errors.Is(wrapped, ErrInvalidArgument) {
		t.Fatalf("wrapped error does not match")
	}
}

func TestOpenOptions(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "missing")

	_, err := Open(missing, &Options{CreateIfMissing: Bool(false)})
	wantErr(t, "Open(create_if_missing=false)", err, ErrNotFound)
	if _, statErr := os.Stat(missing); statErr == nil {
		t.Fatalf("a failed open created %s", missing)
	}

	_, err = Open(missing, &Options{Extra: map[string]any{"no_such_option": 1}})
	wantErr(t, "Open(unknown option)", err, ErrInvalidArgument)
	if e := (*Error)(nil); errors.As(err, &e) && !strings.Contains(e.Message, "no_such_option") {
		t.Errorf("message should name the unknown key: %q", e.Message)
	}
	_, err = Open(missing, &Options{Sync: "sometimes"})
	wantErr(t, "Open(bad sync)", err, ErrInvalidArgument)
	_, err = Open(missing, &Options{MemtableSizeMB: -1})
	wantErr(t, "Open(bad memtable size)", err, ErrInvalidArgument)
	_, err = OpenJSON(missing, []byte(`{"sync": `))
	wantErr(t, "OpenJSON(malformed)", err, ErrInvalidArgument)
	_, err = Open("bad\x00path", nil)
	wantErr(t, "Open(NUL in path)", err, ErrInvalidArgument)

	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(file, nil)
	wantErr(t, "Open(regular file)", err, ErrInvalidArgument)

	dir := filepath.Join(base, "db")
	db, err := Open(dir, &Options{Sync: "never", MemtableSizeMB: 8, CreateIfMissing: Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "k", "v")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, &Options{ErrorIfExists: true})
	wantErr(t, "Open(error_if_exists)", err, ErrInvalidArgument)

	db, err = OpenJSON(dir, []byte(`{"create_if_missing": false}`))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustGet(t, db, "k", "v")
}

func TestOptionsMarshal(t *testing.T) {
	for _, c := range []struct {
		opts *Options
		want string
	}{
		{nil, ""},
		{&Options{}, ""},
		{&Options{CreateIfMissing: Bool(false)}, `{"create_if_missing":false}`},
		{&Options{ErrorIfExists: true, Sync: "never", MemtableSizeMB: 8, Compression: "lz4"},
			`{"compression":"lz4","error_if_exists":true,"memtable_size_mb":8,"sync":"never"}`},
		{&Options{Sync: "never", Extra: map[string]any{"sync": "always", "x": 1}}, `{"sync":"always","x":1}`},
	} {
		got, err := c.opts.marshal()
		if err != nil || string(got) != c.want {
			t.Errorf("%+v: got %s, %v; want %s", c.opts, got, err, c.want)
		}
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := db.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	var nilDB *DB
	if err := nilDB.Close(); err != nil {
		t.Fatalf("nil DB Close: %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "k", "v")
	it, err := db.NewIterator(IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	b := db.NewBatch()
	defer b.Close()
	if err := b.Put([]byte("x"), []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	calls := map[string]func() error{
		"Put":         func() error { return db.Put([]byte("k"), []byte("w")) },
		"PutTTL":      func() error { return db.PutTTL([]byte("k"), []byte("w"), 1e9) },
		"Get":         func() error { _, err := db.Get([]byte("k")); return err },
		"Delete":      func() error { return db.Delete([]byte("k")) },
		"DeleteRange": func() error { return db.DeleteRange([]byte("a"), []byte("z")) },
		"GetMany":     func() error { _, err := db.GetMany([][]byte{[]byte("k")}); return err },
		"Keys":        func() error { _, err := db.Keys(KeysOptions{}); return err },
		"Stats":       func() error { _, err := db.Stats(); return err },
		"Write":       func() error { return db.Write(b) },
		"Update":      func() error { return db.Update(func(b *Batch) error { return b.Put([]byte("a"), nil) }) },
		"NewIterator": func() error { _, err := db.NewIterator(IterOptions{}); return err },
		"Iterator.Next": func() error {
			if it.Next() {
				return errors.New("Next returned an item after the database was closed")
			}
			return it.Err()
		},
	}
	for name, call := range calls {
		wantErr(t, name+" after Close", call(), ErrClosed)
	}
	var zero DB
	wantErr(t, "Get on a zero DB", func() error { _, err := zero.Get([]byte("k")); return err }(), ErrClosed)

	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustGet(t, db, "k", "v")
}

// TestOpenBusy opens a database here and again from a second process, which
// must be refused with ErrBusy; once closed here, the other process may
// open it.
func TestOpenBusy(t *testing.T) {
	db, dir := openTest(t, nil)
	second := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperOpenEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := second(); got != "BUSY" {
		t.Fatalf("second process opening an open database: %s, want BUSY", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := second(); got != "OK" {
		t.Fatalf("second process opening a closed database: %s, want OK", got)
	}
}

func TestPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "a", "1")
	mustPut(t, db, "b", "2")
	if err := db.Delete([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, &Options{CreateIfMissing: Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustGet(t, db, "a", "1")
	_, err = db.Get([]byte("b"))
	wantErr(t, "Get(deleted)", err, ErrNotFound)
}
