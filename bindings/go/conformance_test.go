package cairn

// The conformance runner: every JSON case in Tests/conformance/cases (or the
// directory or file named by CAIRN_CONFORMANCE_CASES) runs as one subtest,
// exactly as Tests/conformance/README.md describes. Steps go through the
// idiomatic API where it has an equivalent and through small unexported
// helpers (OpenJSON, keysJSON, parseDurationMS, createCollectionJSON,
// Collection.find, Collection.update, Collection.findOne, ...) where it has
// not, so the runner tests the binding and the library together. A step
// with "txn" runs on that transaction's handle, through the same code. An unknown op or an unknown field
// in a step fails the case; nothing is ever skipped.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// conformancePassed counts the cases that passed; TestMain prints it.
var conformancePassed, conformanceRun int

// stepFields lists, per op, the fields a step may carry besides "op" and
// "expect".
var stepFields = map[string][]string{
	"open":           {"options", "options_raw", "at"},
	"close":          {},
	"reopen":         {"options"},
	"put":            {"key", "value", "ttl_ms"},
	"get":            {"key", "expect_value"},
	"delete":         {"key"},
	"delete_range":   {"start", "end"},
	"get_many":       {"keys", "expect_values"},
	"batch":          {"ops"},
	"scan":           {"start", "end", "prefix", "reverse", "seek", "limit", "batch", "keys_only", "expect_items"},
	"put_if_absent":  {"key", "value", "ttl_ms", "expect_stored"},
	"get_ttl":        {"key", "expect_ttl_ms", "expect_ttl_min", "expect_ttl_max"},
	"touch":          {"key", "ttl_ms"},
	"keys":           {"options", "options_raw", "expect_keys"},
	"stats":          {"expect_fields"},
	"parse_duration": {"text", "expect_ms"},
	"sleep":          {"ms"},
	"flush":          {},
	"compact_range":  {"start", "end"},

	// Document steps.
	"create_collection": {"name", "options"},
	"drop_collection":   {"name"},
	"list_collections":  {"expect_names"},
	"insert_one":        {"collection", "document", "document_raw", "ttl_ms", "expect_id"},
	"link":              {"key", "collection", "id", "metadata"},
	"unlink":            {"key", "collection", "id", "expect_removed"},
	"unlink_all":        {"key", "expect_removed"},
	"key_links":         {"key", "expect_links"},
	"document_links":    {"collection", "id", "expect_links"},
	"insert_many":       {"collection", "documents", "options", "expect_ids", "expect_errors"},
	"find":              {"collection", "filter", "filter_raw", "options", "batch", "expect_documents"},
	"bulk_write":        {"collection", "operations", "options", "expect_result"},
	"count":             {"collection", "filter", "options", "expect_count"},
	"update_one":        {"collection", "filter", "update", "update_raw", "options", "expect_matched", "expect_modified", "expect_upserted"},
	"update_many":       {"collection", "filter", "update", "update_raw", "options", "expect_matched", "expect_modified", "expect_upserted"},
	"replace_one":       {"collection", "filter", "replacement", "options", "expect_matched", "expect_modified", "expect_upserted"},
	"delete_one":        {"collection", "filter", "expect_deleted"},
	"delete_many":       {"collection", "filter", "expect_deleted"},

	// Queries, indexes and collection management.
	"find_one":             {"collection", "filter", "options", "expect_document"},
	"find_by_id":           {"collection", "id", "expect_document"},
	"distinct":             {"collection", "field", "filter", "expect_values"},
	"find_one_and_update":  {"collection", "filter", "update", "options", "expect_document"},
	"find_one_and_replace": {"collection", "filter", "replacement", "options", "expect_document"},
	"find_one_and_delete":  {"collection", "filter", "options", "expect_document"},
	"aggregate":            {"collection", "pipeline", "pipeline_raw", "expect_documents"},
	"vector_search":        {"collection", "options", "options_raw", "expect_documents"},
	"hybrid_search":        {"collection", "options", "options_raw", "expect_documents"},
	"search":               {"collection", "query", "options", "expect_documents", "expect_hits"},
	"explain":              {"collection", "filter", "options", "expect_plan", "expect_index", "expect_keys_examined", "expect_documents_examined", "expect_returned"},
	"create_index":         {"collection", "spec", "spec_raw", "expect_name"},
	"drop_index":           {"collection", "name"},
	"list_indexes":         {"collection", "expect_indexes"},
	"rename_collection":    {"from", "to"},
	"collection_stats":     {"collection", "expect_count", "expect_index_names"},

	// Graphs.
	"create_graph":  {"name", "declaration", "declaration_raw"},
	"drop_graph":    {"name"},
	"list_graphs":   {"expect_graphs"},
	"graph_query":   {"graph", "query", "query_raw", "expect_documents"},
	"delete_vertex": {"graph", "id", "expect_vertices", "expect_edges"},

	// Transactions.
	"begin":    {"txn", "read_only"},
	"commit":   {"txn"},
	"rollback": {"txn"},

	// Change feeds.
	"watch_open":  {"watch", "target", "name", "options", "resume_after"},
	"watch_next":  {"watch", "timeout_ms", "expect_events", "expect_commits"},
	"watch_close": {"watch"},
	// Time series (run through the binding's TS methods).
	"ts_write":         {"points", "expect_written"},
	"ts_import":        {"lines", "options", "expect_written"},
	"ts_query":         {"kind", "query", "expect_rows"},
	"ts_delete":        {"query"},
	"ts_create_rule":   {"rule"},
	"ts_set_retention": {"metric", "keep_ms"},
	"ts_maintain":      {"now_ms"},
	"ts_compact":       {},
}

// handleFreeOps lists the ops that cannot carry "txn": they open, close or
// name no handle, or (begin, commit, rollback) use "txn" for themselves.
// Every other step may carry "txn" and then runs with that transaction's
// handle in place of the database's.
var handleFreeOps = map[string]bool{
	"open": true, "close": true, "reopen": true, "parse_duration": true, "sleep": true,
	"begin": true, "commit": true, "rollback": true,
	"watch_open": true, "watch_next": true, "watch_close": true,
}

// batchOpFields lists the fields of each operation inside a batch step.
var batchOpFields = map[string][]string{
	"put":          {"key", "value", "ttl_ms"},
	"delete":       {"key"},
	"delete_range": {"start", "end"},
}

type confCase struct {
	Name        string                       `json:"name"`
	Description string                       `json:"description"`
	Steps       []map[string]json.RawMessage `json:"steps"`
}

func conformanceCaseFiles(t *testing.T) []string {
	t.Helper()
	where := os.Getenv("CAIRN_CONFORMANCE_CASES")
	if where == "" {
		where = filepath.Join("..", "..", "Tests", "conformance", "cases")
	}
	info, err := os.Stat(where)
	if err != nil {
		t.Fatalf("conformance cases: %v", err)
	}
	if !info.IsDir() {
		return []string{where}
	}
	files, err := filepath.Glob(filepath.Join(where, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no conformance cases (*.json) in %s", where)
	}
	return files
}

func TestConformance(t *testing.T) {
	for _, file := range conformanceCaseFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c confCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Errorf("%s: %v", file, err)
			conformanceRun++
			continue
		}
		if c.Name == "" {
			c.Name = strings.TrimSuffix(filepath.Base(file), ".json")
		}
		conformanceRun++
		if t.Run(c.Name, func(t *testing.T) { runCase(t, c) }) {
			conformancePassed++
		}
	}
}

// caseRunner holds the state of one case: its directory and current handle.
type caseRunner struct {
	t      *testing.T
	tmp    string // a fresh directory for the case
	dir    string // the database directory inside tmp, not created up front
	db     *DB
	opened []*DB // every handle opened, closed when the case ends
	txns   map[string]*Tx
	begun  []*Tx // every transaction begun, rolled back when the case ends
	// Watches by name, kept after close for misuse, and every event each
	// delivered (for resume_after); all are closed when the case ends.
	watches   map[string]*ChangeStream
	watched   []*ChangeStream
	delivered map[string][]map[string]any
}

func runCase(t *testing.T, c confCase) {
	if len(c.Steps) == 0 {
		t.Fatal("case has no steps")
	}
	tmp := t.TempDir()
	r := &caseRunner{t: t, tmp: tmp, dir: filepath.Join(tmp, "db"), txns: map[string]*Tx{},
		watches: map[string]*ChangeStream{}, delivered: map[string][]map[string]any{}}
	defer func() {
		for _, w := range r.watched {
			w.Close()
		}
		for _, tx := range r.begun {
			tx.Rollback()
		}
		for _, db := range r.opened {
			db.Close()
		}
	}()
	for i, raw := range c.Steps {
		s := step{fields: raw}
		op := s.str("op")
		where := fmt.Sprintf("%s: step %d (%s)", c.Name, i+1, op)
		if s.err != nil {
			t.Fatalf("%s: %v", where, s.err)
		}
		allowed, known := stepFields[op]
		if !known {
			t.Fatalf("%s: unknown op %q", where, op)
		}
		fields := append([]string{"op", "expect"}, allowed...)
		if !handleFreeOps[op] {
			fields = append(fields, "txn")
		}
		if err := s.onlyFields(fields); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		expect := "OK"
		if s.has("expect") {
			expect = s.str("expect")
		}
		callErr, checkErr := r.runStep(op, &s)
		if s.err != nil { // a malformed or missing field
			t.Fatalf("%s: %v", where, s.err)
		}
		if got := statusOf(callErr); got != expect {
			t.Fatalf("%s: status %s, want %s (error: %v)", where, got, expect, callErr)
		}
		if checkErr != nil {
			t.Fatalf("%s: %v", where, checkErr)
		}
	}
}

// statusOf names the status of an error as the cases do ("OK", "NOT_FOUND").
func statusOf(err error) string {
	if err == nil {
		return "OK"
	}
	var e *Error
	if errors.As(err, &e) {
		return strings.TrimPrefix(e.Status, "CAIRN_")
	}
	return "GO_ERROR"
}

// first returns the first non-nil error: a step's status is that of its
// first call that does not return OK.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runStep executes one step: with "txn", using that transaction's handle
// as the database handle for the step.
func (r *caseRunner) runStep(op string, s *step) (callErr, checkErr error) {
	if handleFreeOps[op] || !s.has("txn") {
		return r.run(op, s)
	}
	tx := r.txn(s)
	if s.err != nil {
		return nil, nil
	}
	db := r.db
	r.db = tx.db
	defer func() { r.db = db }()
	return r.run(op, s)
}

// txn returns the transaction the step's "txn" field names.
func (r *caseRunner) txn(s *step) *Tx {
	name := s.str("txn")
	tx, ok := r.txns[name]
	if s.err == nil && !ok {
		s.fail(fmt.Errorf("no transaction named %q was begun", name))
	}
	return tx
}

// run executes one step. callErr is the step's status; checkErr reports a
// wrong result (only looked at when the status is as expected).
func (r *caseRunner) run(op string, s *step) (callErr, checkErr error) {
	switch op {
	case "watch_open", "watch_next", "watch_close":
		return r.watch(op, s)
	case "open":
		path := r.dir
		if s.has("at") {
			switch at := s.str("at"); at {
			case "regular_file":
				path = filepath.Join(r.tmp, "regular_file")
				s.fail(os.WriteFile(path, []byte("not a database\n"), 0o644))
			default:
				s.fail(fmt.Errorf("unknown \"at\" value %q", at))
			}
		}
		return r.open(path, s), nil

	case "close":
		return r.db.Close(), nil

	case "reopen":
		return first(r.db.Close(), r.open(r.dir, s)), nil

	case "put":
		key, value := s.bytes("key"), s.bytes("value")
		ttl := time.Duration(s.optInt("ttl_ms", 0)) * time.Millisecond
		if s.err != nil {
			return nil, nil
		}
		return r.db.PutTTL(key, value, ttl), nil

	case "put_if_absent":
		key, value := s.bytes("key"), s.bytes("value")
		ttl := time.Duration(s.optInt("ttl_ms", 0)) * time.Millisecond
		var want *bool
		if s.has("expect_stored") {
			want = new(bool)
			s.decode("expect_stored", want)
		}
		if s.err != nil {
			return nil, nil
		}
		stored, err := r.db.PutIfAbsent(key, value, ttl)
		if err != nil || want == nil {
			return err, nil
		}
		if stored != *want {
			return nil, fmt.Errorf("put_if_absent stored %v, want %v", stored, *want)
		}
		return nil, nil

	case "get_ttl":
		key := s.bytes("key")
		exact := s.optInt("expect_ttl_ms", -1)
		least, most := s.optInt("expect_ttl_min", math.MinInt64), s.optInt("expect_ttl_max", math.MaxInt64)
		if s.err != nil {
			return nil, nil
		}
		ttl, err := r.db.TTL(key)
		if err != nil {
			return err, nil
		}
		ms := ttl.Milliseconds()
		if (s.has("expect_ttl_ms") && ms != exact) || ms < least || ms > most {
			return nil, fmt.Errorf("ttl %d ms, want %d (in %d...%d)", ms, exact, least, most)
		}
		return nil, nil

	case "touch":
		key := s.bytes("key")
		ttl := time.Duration(s.optInt("ttl_ms", 0)) * time.Millisecond
		if s.err != nil {
			return nil, nil
		}
		return r.db.Touch(key, ttl), nil

	case "get":
		key := s.bytes("key")
		if s.err != nil {
			return nil, nil
		}
		v, err := r.db.Get(key)
		if err != nil || !s.has("expect_value") {
			return err, nil
		}
		if want := s.bytes("expect_value"); !bytes.Equal(v, want) {
			return nil, fmt.Errorf("value %q, want %q", v, want)
		}
		return nil, nil

	case "delete":
		key := s.bytes("key")
		if s.err != nil {
			return nil, nil
		}
		return r.db.Delete(key), nil

	case "delete_range":
		start, end := s.bytes("start"), s.bytes("end")
		if s.err != nil {
			return nil, nil
		}
		return r.db.DeleteRange(start, end), nil

	case "get_many":
		keys := s.byteList("keys")
		if s.err != nil {
			return nil, nil
		}
		values, err := r.db.GetMany(keys)
		if err != nil || !s.has("expect_values") {
			return err, nil
		}
		want := s.nullableByteList("expect_values")
		if s.err != nil {
			return nil, nil
		}
		return nil, compareNullable(values, want)

	case "batch":
		return r.batch(s)

	case "scan":
		return r.scan(s)

	case "keys":
		var opts []byte
		if s.has("options") {
			opts = s.fields["options"]
		}
		if s.has("options_raw") {
			if s.has("options") {
				s.fail(errors.New("both options and options_raw"))
			}
			opts = []byte(s.str("options_raw"))
		}
		if s.err != nil {
			return nil, nil
		}
		keys, err := r.db.keysJSON("Keys", opts)
		if err != nil || !s.has("expect_keys") {
			return err, nil
		}
		want := s.byteList("expect_keys")
		if s.err != nil {
			return nil, nil
		}
		return nil, compareLists(keys, want)

	case "stats":
		// The README lists expect_fields without "(optional)", but steps
		// that expect an error (a transaction handle) carry none.
		var fields []string
		if s.has("expect_fields") {
			fields = s.strList("expect_fields")
		}
		if s.err != nil {
			return nil, nil
		}
		stats, err := r.db.Stats()
		if err != nil {
			return err, nil
		}
		for _, f := range fields {
			v, ok := stats[f]
			if !ok {
				return nil, fmt.Errorf("stats lack field %q: %v", f, stats)
			}
			if _, isNumber := v.(json.Number); !isNumber {
				return nil, fmt.Errorf("stats field %q is %T %v, not a number", f, v, v)
			}
		}
		return nil, nil

	case "parse_duration":
		text := s.str("text")
		if s.err != nil {
			return nil, nil
		}
		ms, err := parseDurationMS("ParseTTL", text)
		if err != nil || !s.has("expect_ms") {
			return err, nil
		}
		if want := s.optInt("expect_ms", 0); ms != want {
			return nil, fmt.Errorf("parse_duration(%q) = %d ms, want %d", text, ms, want)
		}
		return nil, nil

	case "flush":
		return r.db.Flush(), nil

	case "ts_write", "ts_import", "ts_query", "ts_delete", "ts_create_rule", "ts_set_retention", "ts_maintain", "ts_compact":
		return r.timeSeries(op, s)

	case "compact_range":
		var start, end []byte
		if s.has("start") {
			start = []byte(s.str("start"))
		}
		if s.has("end") {
			end = []byte(s.str("end"))
		}
		if s.err != nil {
			return nil, nil
		}
		return r.db.CompactRange(start, end), nil

	case "sleep":
		ms := s.int("ms")
		if s.err != nil {
			return nil, nil
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return nil, nil

	case "create_collection", "drop_collection", "list_collections",
		"insert_one", "insert_many", "find", "count", "bulk_write",
		"update_one", "update_many", "replace_one", "delete_one", "delete_many":
		return r.document(op, s)

	case "find_one", "find_by_id", "distinct", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
		"aggregate", "explain", "search", "vector_search", "hybrid_search":
		return r.query(op, s)

	case "link", "unlink", "unlink_all", "key_links", "document_links":
		return r.links(op, s)

	case "create_index", "drop_index", "list_indexes", "rename_collection", "collection_stats":
		return r.manage(op, s)

	case "create_graph", "drop_graph", "list_graphs", "graph_query", "delete_vertex":
		return r.graph(op, s)

	case "begin":
		name := s.str("txn")
		var opts TxOptions
		if s.has("read_only") {
			s.decode("read_only", &opts.ReadOnly)
		}
		if s.err != nil {
			return nil, nil
		}
		tx, err := r.db.BeginTx(opts)
		if err != nil {
			return err, nil
		}
		r.txns[name] = tx
		r.begun = append(r.begun, tx)
		return nil, nil

	case "commit":
		tx := r.txn(s)
		if s.err != nil {
			return nil, nil
		}
		return tx.Commit(), nil

	case "rollback":
		tx := r.txn(s)
		if s.err != nil {
			return nil, nil
		}
		return tx.Rollback(), nil
	}
	return nil, fmt.Errorf("op %q has no implementation in the Go runner", op)
}

// open opens path with the step's options or options_raw, making the result
// the current handle (nil on failure).
func (r *caseRunner) open(path string, s *step) error {
	var opts []byte
	if s.has("options") {
		opts = s.fields["options"]
	}
	if s.has("options_raw") {
		if s.has("options") {
			s.fail(errors.New("both options and options_raw"))
		}
		opts = []byte(s.str("options_raw"))
	}
	if s.err != nil {
		return nil
	}
	db, err := OpenJSON(path, opts)
	r.db = db
	if db != nil {
		r.opened = append(r.opened, db)
	}
	return err
}

func (r *caseRunner) batch(s *step) (callErr, checkErr error) {
	var ops []map[string]json.RawMessage
	s.decode("ops", &ops)
	if s.err != nil {
		return nil, nil
	}
	b := r.db.NewBatch()
	defer b.Close()
	for i, raw := range ops {
		o := step{fields: raw}
		op := o.str("op")
		allowed, known := batchOpFields[op]
		if o.err == nil && !known {
			o.fail(fmt.Errorf("unknown op %q", op))
		}
		if o.err == nil {
			o.fail(o.onlyFields(append([]string{"op"}, allowed...)))
		}
		var err error
		switch op {
		case "put":
			key, value := o.bytes("key"), o.bytes("value")
			ttl := time.Duration(o.optInt("ttl_ms", 0)) * time.Millisecond
			if o.err == nil {
				err = b.PutTTL(key, value, ttl)
			}
		case "delete":
			key := o.bytes("key")
			if o.err == nil {
				err = b.Delete(key)
			}
		case "delete_range":
			start, end := o.bytes("start"), o.bytes("end")
			if o.err == nil {
				err = b.DeleteRange(start, end)
			}
		}
		if o.err != nil {
			s.fail(fmt.Errorf("batch op %d: %v", i+1, o.err))
			return nil, nil
		}
		if err != nil {
			return err, nil // the step's status: nothing is written
		}
	}
	if n := b.Len(); n != len(ops) {
		return nil, fmt.Errorf("batch holds %d operations, want %d", n, len(ops))
	}
	return r.db.Write(b), nil
}

func (r *caseRunner) scan(s *step) (callErr, checkErr error) {
	var opts IterOptions
	if s.has("start") {
		opts.Start = s.bytes("start")
	}
	if s.has("end") {
		opts.End = s.bytes("end")
	}
	usePrefix := s.has("prefix")
	if usePrefix {
		opts.Prefix = s.bytes("prefix")
	}
	if s.has("reverse") {
		s.decode("reverse", &opts.Reverse)
	}
	if s.has("keys_only") {
		if !s.has("batch") {
			s.fail(errors.New("keys_only needs batch"))
		}
		s.decode("keys_only", &opts.KeysOnly)
	}
	// The binding always reads in batches; "batch" sets their size.
	opts.BatchSize = int(s.optInt("batch", 0))
	limit := s.optInt("limit", -1)
	var want [][2][]byte
	if s.has("expect_items") {
		var items [][]string
		s.decode("expect_items", &items)
		for _, it := range items {
			if len(it) != 2 {
				s.fail(fmt.Errorf("expect_items entry %q is not a [key, value] pair", it))
				break
			}
			want = append(want, [2][]byte{[]byte(it[0]), []byte(it[1])})
		}
	}
	if s.err != nil {
		return nil, nil
	}
	// With "prefix" present the runner uses cairn_iter_open_prefix, even
	// for an empty prefix.
	it, err := r.db.openIterator("NewIterator", usePrefix, opts)
	if err != nil {
		return err, nil
	}
	defer it.Close()
	if s.has("seek") {
		if err := it.Seek(s.bytes("seek")); err != nil {
			return err, nil
		}
	}
	var got [][2][]byte
	for (limit < 0 || int64(len(got)) < limit) && it.Next() {
		value := it.Value()
		if opts.KeysOnly {
			if value != nil {
				return nil, fmt.Errorf("a keys-only iterator returned the value %q", value)
			}
			value = []byte{}
		}
		got = append(got, [2][]byte{it.Key(), value})
	}
	if err := it.Err(); err != nil {
		return err, nil
	}
	if !s.has("expect_items") {
		return nil, nil
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("scan returned %d items %s, want %d %s", len(got), items(got), len(want), items(want))
	}
	for i := range got {
		if !bytes.Equal(got[i][0], want[i][0]) || !bytes.Equal(got[i][1], want[i][1]) {
			return nil, fmt.Errorf("scan returned %s, want %s", items(got), items(want))
		}
	}
	return nil, nil
}

func items(list [][2][]byte) string {
	var b strings.Builder
	b.WriteString("[")
	for i, it := range list {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%q=%q", it[0], it[1])
	}
	b.WriteString("]")
	return b.String()
}

func compareLists(got, want [][]byte) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return fmt.Errorf("got %q, want %q", got, want)
		}
	}
	return nil
}

func compareNullable(got, want [][]byte) error {
	show := func(l [][]byte) string {
		parts := make([]string, len(l))
		for i, v := range l {
			if v == nil {
				parts[i] = "null"
			} else {
				parts[i] = fmt.Sprintf("%q", v)
			}
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	if len(got) != len(want) {
		return fmt.Errorf("got %s, want %s", show(got), show(want))
	}
	for i := range got {
		if (got[i] == nil) != (want[i] == nil) || !bytes.Equal(got[i], want[i]) {
			return fmt.Errorf("got %s, want %s", show(got), show(want))
		}
	}
	return nil
}

// step reads the fields of one step (or batch operation). The first missing
// or malformed field is kept in err, which fails the case.
type step struct {
	fields map[string]json.RawMessage
	err    error
}

func (s *step) fail(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

func (s *step) has(name string) bool { _, ok := s.fields[name]; return ok }

func (s *step) onlyFields(allowed []string) error {
	ok := make(map[string]bool, len(allowed))
	for _, f := range allowed {
		ok[f] = true
	}
	var unknown []string
	for f := range s.fields {
		if !ok[f] {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown field(s) %s", strings.Join(unknown, ", "))
	}
	return nil
}

// decode decodes a required field into v, rejecting null.
func (s *step) decode(name string, v any) {
	raw, ok := s.fields[name]
	if !ok {
		s.fail(fmt.Errorf("missing field %q", name))
		return
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		s.fail(fmt.Errorf("field %q is null", name))
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		s.fail(fmt.Errorf("field %q: %v", name, err))
	}
}

func (s *step) str(name string) string {
	var v string
	s.decode(name, &v)
	return v
}

// bytes returns a string field as its UTF-8 bytes.
func (s *step) bytes(name string) []byte { return []byte(s.str(name)) }

func (s *step) int(name string) int64 {
	var v int64
	s.decode(name, &v)
	return v
}

func (s *step) optInt(name string, def int64) int64 {
	if !s.has(name) {
		return def
	}
	return s.int(name)
}

func (s *step) strList(name string) []string {
	var v []string
	s.decode(name, &v)
	return v
}

func (s *step) byteList(name string) [][]byte {
	list := s.strList(name)
	out := make([][]byte, len(list))
	for i, v := range list {
		out[i] = []byte(v)
	}
	return out
}

// nullableByteList decodes an array of strings and nulls; null becomes nil.
func (s *step) nullableByteList(name string) [][]byte {
	var list []*string
	s.decode(name, &list)
	out := make([][]byte, len(list))
	for i, v := range list {
		if v != nil {
			out[i] = []byte(*v)
		}
	}
	return out
}

// insertManyWithOptions runs an insert_many step with options through
// Collection.insertManyWithOptions, with the documents (any JSON value, so
// that a case can pass one that is not an array) and the options as the
// case's text. inserted_ids and the errors' index and status are compared
// whatever the status; a call refused as a whole has none to compare.
func (r *caseRunner) insertManyWithOptions(s *step) (callErr, checkErr error) {
	coll := r.db.Collection(s.str("collection"))
	docs, _ := s.jsonText("documents", true)
	options, _ := s.jsonText("options", true)
	var wantIDs any
	if s.has("expect_ids") {
		wantIDs = s.jsonValue("expect_ids")
	}
	var wantErrors []struct {
		Index  *int    `json:"index"`
		Status *string `json:"status"`
	}
	if s.has("expect_errors") {
		s.decode("expect_errors", &wantErrors)
		var strict []map[string]json.RawMessage
		s.decode("expect_errors", &strict)
		for i, e := range strict {
			for field := range e {
				if field != "index" && field != "status" {
					s.fail(fmt.Errorf("expect_errors[%d]: unknown field %q", i, field))
				}
			}
		}
		for i, e := range wantErrors {
			if e.Index == nil || e.Status == nil {
				s.fail(fmt.Errorf("expect_errors[%d] needs index and status", i))
			} else if _, known := statusCodes["CAIRN_"+*e.Status]; !known {
				s.fail(fmt.Errorf("expect_errors[%d]: unknown status %q", i, *e.Status))
			}
		}
	}
	if s.err != nil {
		return nil, nil
	}
	ids, err := coll.insertManyWithOptions("Collection.InsertManyWithOptions", docs, options)
	var writeErrors []WriteError
	var bulk *BulkWriteError
	switch {
	case errors.As(err, &bulk):
		ids, writeErrors = bulk.InsertedIDs, bulk.Errors
	case err != nil:
		if s.has("expect_ids") || s.has("expect_errors") {
			return err, fmt.Errorf("the call was refused as a whole (%v): no inserted_ids or errors to compare", err)
		}
		return err, nil
	}
	if s.has("expect_ids") {
		if ids == nil {
			ids = []any{}
		}
		if checkErr := sameJSON("inserted_ids", ids, wantIDs); checkErr != nil {
			return err, checkErr
		}
	}
	if s.has("expect_errors") {
		got := make([]string, len(writeErrors))
		for i, w := range writeErrors {
			got[i] = fmt.Sprintf("%d:%s", w.Index, statusOf(w.Err))
		}
		want := make([]string, len(wantErrors))
		for i, e := range wantErrors {
			want[i] = fmt.Sprintf("%d:%s", *e.Index, *e.Status)
		}
		if !equalStrings(got, want) {
			return err, fmt.Errorf("insert_many errors (index:status) %q, want %q", got, want)
		}
	}
	return err, nil
}

// document runs a document step. JSON-valued fields reach the library as
// the text the case holds (so that key order, as in a sort, is kept), *_raw
// fields as their string verbatim; documents, _ids and names that come
// back are compared as parsed JSON (see sameJSON). Steps without options go
// through the public methods, steps with options through the unexported
// helpers that take raw option text.
func (r *caseRunner) document(op string, s *step) (callErr, checkErr error) {
	switch op {
	case "create_collection":
		name := s.str("name")
		if s.err != nil {
			return nil, nil
		}
		if s.has("options") {
			return r.db.createCollectionJSON("CreateCollection", name, s.fields["options"]), nil
		}
		return r.db.CreateCollection(name, nil), nil

	case "drop_collection":
		name := s.str("name")
		if s.err != nil {
			return nil, nil
		}
		return r.db.DropCollection(name), nil

	case "list_collections":
		var want []string
		if s.has("expect_names") {
			want = s.strList("expect_names")
		}
		if s.err != nil {
			return nil, nil
		}
		names, err := r.db.ListCollections()
		if err != nil || !s.has("expect_names") {
			return err, nil
		}
		if !equalStrings(names, want) {
			return nil, fmt.Errorf("collections %q, want %q", names, want)
		}
		return nil, nil

	case "insert_one":
		coll := r.db.Collection(s.str("collection"))
		doc, _ := s.jsonText("document", true)
		var want any
		if s.has("expect_id") {
			want = s.jsonValue("expect_id")
		}
		if s.err != nil {
			return nil, nil
		}
		var id any
		var err error
		if s.has("ttl_ms") {
			id, err = coll.InsertOneTTL(doc, time.Duration(s.int("ttl_ms"))*time.Millisecond)
		} else {
			id, err = coll.InsertOne(doc)
		}
		if err != nil || !s.has("expect_id") {
			return err, nil
		}
		return nil, sameJSON("_id", id, want)

	case "insert_many":
		if s.has("options") {
			return r.insertManyWithOptions(s)
		}
		if s.has("expect_errors") {
			s.fail(errors.New("expect_errors needs options"))
		}
		coll := r.db.Collection(s.str("collection"))
		var raw []json.RawMessage
		s.decode("documents", &raw)
		var want any
		if s.has("expect_ids") {
			want = s.jsonValue("expect_ids")
		}
		if s.err != nil {
			return nil, nil
		}
		docs := make([]any, len(raw))
		for i, d := range raw {
			docs[i] = d
		}
		ids, err := coll.InsertMany(docs)
		if err != nil || !s.has("expect_ids") {
			return err, nil
		}
		return nil, sameJSON("_ids", ids, want)

	case "bulk_write":
		coll := r.db.Collection(s.str("collection"))
		operations := s.fields["operations"]
		var options []byte
		if s.has("options") {
			options = s.fields["options"]
		}
		var want any
		if s.has("expect_result") {
			want = s.jsonValue("expect_result")
		}
		if s.err != nil {
			return nil, nil
		}
		result, err := coll.bulkWrite("Collection.BulkWrite", operations, options)
		if result == nil {
			if want != nil {
				return err, fmt.Errorf("bulk_write returned no result (%v), but the step expects one", err)
			}
			return err, nil
		}
		if want != nil {
			// The result as the cases state it: ids keyed by index as text,
			// errors reduced to index and status without the prefix.
			got := map[string]any{
				"inserted_count": result.InsertedCount, "matched_count": result.MatchedCount,
				"modified_count": result.ModifiedCount, "deleted_count": result.DeletedCount,
				"upserted_count": result.UpsertedCount,
			}
			for name, ids := range map[string]map[int]any{"inserted_ids": result.InsertedIDs, "upserted_ids": result.UpsertedIDs} {
				m := map[string]any{}
				for index, id := range ids {
					m[strconv.Itoa(index)] = id
				}
				got[name] = m
			}
			errorList := []any{}
			var bulk *BulkWriteError
			if errors.As(err, &bulk) {
				for _, e := range bulk.Errors {
					var ce *Error
					errors.As(e.Err, &ce)
					errorList = append(errorList, map[string]any{"index": e.Index, "status": strings.TrimPrefix(ce.Status, "CAIRN_")})
				}
			}
			got["errors"] = errorList
			// Through JSON, so that numbers compare as the case's do.
			js, merr := json.Marshal(got)
			if merr != nil {
				return err, merr
			}
			gotValue, derr := decodeValue(js)
			if derr != nil {
				return err, derr
			}
			if checkErr := sameJSON("bulk_write result", gotValue, want); checkErr != nil {
				return err, checkErr
			}
		}
		return err, nil

	case "find":
		coll := r.db.Collection(s.str("collection"))
		filter, hasFilter := s.jsonText("filter", false)
		var want any
		if s.has("expect_documents") {
			want = s.jsonValue("expect_documents")
		}
		if s.err != nil {
			return nil, nil
		}
		var cur *Cursor
		var err error
		switch {
		case s.has("options"):
			cur, err = coll.find("Collection.Find", filter, s.fields["options"])
		case hasFilter:
			cur, err = coll.Find(filter, nil)
		default:
			cur, err = coll.Find(nil, nil)
		}
		if err != nil {
			return err, nil
		}
		defer cur.Close()
		// The binding always reads in batches; "batch" sets their size.
		cur.batchSize = int(s.optInt("batch", 0))
		return readCursor(cur, s.has("expect_documents"), want)

	case "count":
		coll := r.db.Collection(s.str("collection"))
		var filter any
		raw, ok := s.jsonText("filter", false)
		if ok {
			filter = raw
		}
		// The README lists expect_count without "(optional)", but steps
		// that expect an error carry none.
		want := s.optInt("expect_count", -1)
		if s.err != nil {
			return nil, nil
		}
		var n int64
		var err error
		if s.has("options") {
			n, err = coll.countDocuments("Collection.CountDocuments", raw, s.fields["options"])
		} else {
			n, err = coll.Count(filter)
		}
		if err != nil || want < 0 {
			return err, nil
		}
		if n != want {
			return nil, fmt.Errorf("count %d, want %d", n, want)
		}
		return nil, nil

	case "update_one", "update_many", "replace_one":
		return r.update(op, s)

	case "delete_one", "delete_many":
		coll := r.db.Collection(s.str("collection"))
		filter, _ := s.jsonText("filter", true)
		if s.err != nil {
			return nil, nil
		}
		var n int64
		var err error
		if op == "delete_one" {
			n, err = coll.DeleteOne(filter)
		} else {
			n, err = coll.DeleteMany(filter)
		}
		if err != nil || !s.has("expect_deleted") {
			return err, nil
		}
		if want := s.int("expect_deleted"); n != want {
			return nil, fmt.Errorf("deleted %d, want %d", n, want)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("op %q has no implementation in the Go runner", op)
}

// readCursor reads every document of cur (closing it) and, when check is
// set, compares them with want.
func readCursor(cur *Cursor, check bool, want any) (callErr, checkErr error) {
	defer cur.Close()
	got := []any{}
	for cur.Next() {
		doc, err := decodeValue(cur.Raw())
		if err != nil {
			return nil, fmt.Errorf("document %d is malformed JSON %q: %v", len(got)+1, cur.Raw(), err)
		}
		got = append(got, doc)
	}
	if err := cur.Err(); err != nil || !check {
		return err, nil
	}
	return nil, sameJSON("documents", got, want)
}

// readHits reads a search's hits and checks expect_documents (their
// documents, in order) and expect_hits (the fields each hit must hold;
// "score" within 1e-6 relative).
func readHits(cur *Cursor, s *step) (callErr, checkErr error) {
	defer cur.Close()
	hits := []map[string]any{}
	for cur.Next() {
		hit, err := decodeValue(cur.Raw())
		object, isObject := hit.(map[string]any)
		if err != nil || !isObject {
			return nil, fmt.Errorf("hit %d is not a JSON object: %q", len(hits)+1, cur.Raw())
		}
		hits = append(hits, object)
	}
	if err := cur.Err(); err != nil {
		return err, nil
	}
	if s.has("expect_documents") {
		documents := []any{}
		for _, hit := range hits {
			documents = append(documents, hit["document"])
		}
		if err := sameJSON("search documents", documents, s.jsonValue("expect_documents")); err != nil {
			return nil, err
		}
	}
	if !s.has("expect_hits") {
		return nil, nil
	}
	wanted, _ := s.jsonValue("expect_hits").([]any)
	if len(wanted) != len(hits) {
		return nil, fmt.Errorf("search: got %d hits %v, want %d", len(hits), hits, len(wanted))
	}
	for i, w := range wanted {
		fields, _ := w.(map[string]any)
		for key, value := range fields {
			if key == "score" {
				got, err1 := asFloat(hits[i]["score"])
				want, err2 := asFloat(value)
				if err1 != nil || err2 != nil || math.Abs(got-want) > 1e-6*math.Abs(want) {
					return nil, fmt.Errorf("search: hit %d score %v, want %v", i, hits[i]["score"], value)
				}
			} else if err := sameJSON("search hit field "+key, hits[i][key], value); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// asFloat reads a decoded JSON number (a json.Number or a float64).
func asFloat(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Float64()
	case float64:
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// query runs find_one, find_by_id, distinct, find_one_and_update,
// find_one_and_replace, find_one_and_delete, aggregate and explain. As in document, steps without options go through the public
// methods and steps with options through the helpers taking option text.
func (r *caseRunner) query(op string, s *step) (callErr, checkErr error) {
	coll := r.db.Collection(s.str("collection"))
	var want any
	for _, name := range []string{"expect_document", "expect_values", "expect_documents"} {
		if s.has(name) {
			want = s.jsonValue(name)
		}
	}
	switch op {
	case "find_one":
		filter, _ := s.jsonText("filter", false)
		if s.err != nil {
			return nil, nil
		}
		var res *SingleResult
		if s.has("options") {
			res = coll.findOne("Collection.FindOne", filter, s.fields["options"])
		} else {
			res = coll.FindOne(filter, nil)
		}
		return compareSingle(res, s.has("expect_document"), want)

	case "find_by_id":
		id, _ := s.jsonText("id", true)
		if s.err != nil {
			return nil, nil
		}
		return compareSingle(coll.FindByID(id), s.has("expect_document"), want)

	case "distinct":
		field := s.str("field")
		filter, _ := s.jsonText("filter", false)
		if s.err != nil {
			return nil, nil
		}
		values, err := coll.Distinct(field, filter)
		if err != nil || !s.has("expect_values") {
			return err, nil
		}
		return nil, sameJSON("values", values, want)

	case "find_one_and_update":
		filter, _ := s.jsonText("filter", true)
		update, _ := s.jsonText("update", true)
		if s.err != nil {
			return nil, nil
		}
		var res *SingleResult
		if s.has("options") {
			res = coll.findOneAndUpdate("Collection.FindOneAndUpdate", filter, update, s.fields["options"])
		} else {
			res = coll.FindOneAndUpdate(filter, update, FindOneAndUpdateOptions{})
		}
		return compareSingle(res, s.has("expect_document"), want)

	case "find_one_and_replace":
		filter, _ := s.jsonText("filter", true)
		replacement, _ := s.jsonText("replacement", true)
		if s.err != nil {
			return nil, nil
		}
		var res *SingleResult
		if s.has("options") {
			res = coll.findOneAndReplace("Collection.FindOneAndReplace", filter, replacement, s.fields["options"])
		} else {
			res = coll.FindOneAndReplace(filter, replacement, nil)
		}
		return compareSingle(res, s.has("expect_document"), want)

	case "find_one_and_delete":
		filter, _ := s.jsonText("filter", true)
		if s.err != nil {
			return nil, nil
		}
		var res *SingleResult
		if s.has("options") {
			res = coll.findOneAndDelete("Collection.FindOneAndDelete", filter, s.fields["options"])
		} else {
			res = coll.FindOneAndDelete(filter, nil)
		}
		return compareSingle(res, s.has("expect_document"), want)

	case "aggregate":
		pipeline, _ := s.jsonText("pipeline", true)
		if s.err != nil {
			return nil, nil
		}
		cur, err := coll.Aggregate(pipeline)
		if err != nil {
			return err, nil
		}
		return readCursor(cur, s.has("expect_documents"), want)

	case "search":
		query := s.str("query")
		options, _ := s.jsonText("options", false)
		if s.err != nil {
			return nil, nil
		}
		cur, err := coll.search("Collection.Search", query, options)
		if err != nil {
			return err, nil
		}
		return readHits(cur, s)

	case "vector_search", "hybrid_search":
		options, _ := s.jsonText("options", true)
		if s.err != nil {
			return nil, nil
		}
		search := coll.vectorSearchJSON
		if op == "hybrid_search" {
			search = coll.hybridSearchJSON
		}
		cur, err := search("Collection."+op, []byte(options))
		if err != nil {
			return err, nil
		}
		return readCursor(cur, s.has("expect_documents"), want)

	case "explain":
		filter, _ := s.jsonText("filter", false)
		var wantIndex *string
		if s.has("expect_index") {
			if err := json.Unmarshal(s.fields["expect_index"], &wantIndex); err != nil {
				s.fail(fmt.Errorf("field \"expect_index\": %v", err))
			}
		}
		if s.err != nil {
			return nil, nil
		}
		var res *ExplainResult
		var err error
		if s.has("options") {
			var text []byte
			text, err = coll.explainJSON("Collection.Explain", filter, s.fields["options"])
			if err == nil {
				res, err = decodeExplain("Collection.Explain", text)
			}
		} else {
			res, err = coll.Explain(filter, nil)
		}
		if err != nil {
			return err, nil
		}
		if s.has("expect_plan") {
			if want := s.str("expect_plan"); res.Plan != want {
				return nil, fmt.Errorf("plan %q, want %q (%+v)", res.Plan, want, *res)
			}
		}
		if s.has("expect_index") {
			want := ""
			if wantIndex != nil {
				want = *wantIndex
			}
			if res.Index != want {
				return nil, fmt.Errorf("index %q, want %q (%+v)", res.Index, want, *res)
			}
		}
		for _, f := range []struct {
			field string
			got   int64
		}{
			{"expect_keys_examined", res.KeysExamined},
			{"expect_documents_examined", res.DocumentsExamined},
			{"expect_returned", res.Returned},
		} {
			if s.has(f.field) {
				if want := s.int(f.field); f.got != want {
					return nil, fmt.Errorf("%s: got %d, want %d (%+v)", f.field, f.got, want, *res)
				}
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("op %q has no implementation in the Go runner", op)
}

// graph runs the graph steps through the Graph methods (raw JSON where a
// step may hold malformed text).
func (r *caseRunner) graph(op string, s *step) (callErr, checkErr error) {
	switch op {
	case "create_graph":
		name := s.str("name")
		declaration, _ := s.jsonText("declaration", true)
		if s.err != nil {
			return nil, nil
		}
		return r.db.createGraphJSON("DB.CreateGraph", name, declaration), nil
	case "drop_graph":
		name := s.str("name")
		if s.err != nil {
			return nil, nil
		}
		return r.db.DropGraph(name), nil
	case "list_graphs":
		var want any
		if s.has("expect_graphs") {
			want = s.jsonValue("expect_graphs")
		}
		if s.err != nil {
			return nil, nil
		}
		text, err := r.db.listGraphsJSON("DB.ListGraphs")
		if err != nil || !s.has("expect_graphs") {
			return err, nil
		}
		got, err := decodeValue(text)
		if err != nil {
			return nil, fmt.Errorf("graphs are malformed JSON %q: %v", text, err)
		}
		return nil, sameJSON("graphs", got, want)
	case "graph_query":
		graph := s.str("graph")
		query, _ := s.jsonText("query", true)
		var want any
		if s.has("expect_documents") {
			want = s.jsonValue("expect_documents")
		}
		if s.err != nil {
			return nil, nil
		}
		cur, err := r.db.Graph(graph).Query(context.Background(), query)
		if err != nil {
			return err, nil
		}
		return readCursor(cur, s.has("expect_documents"), want)
	case "delete_vertex":
		graph := s.str("graph")
		id, _ := s.jsonText("id", true)
		if s.err != nil {
			return nil, nil
		}
		vertices, edges, err := r.db.Graph(graph).DeleteVertex(id)
		if err != nil {
			return err, nil
		}
		if s.has("expect_vertices") && int64(vertices) != s.int("expect_vertices") {
			return nil, fmt.Errorf("vertices deleted %d, want %d", vertices, s.int("expect_vertices"))
		}
		if s.has("expect_edges") && int64(edges) != s.int("expect_edges") {
			return nil, fmt.Errorf("edges deleted %d, want %d", edges, s.int("expect_edges"))
		}
		return nil, nil
	}
	return nil, fmt.Errorf("op %q has no implementation in the Go runner", op)
}

// compareSingle checks a SingleResult against want when check is set.
func compareSingle(res *SingleResult, check bool, want any) (callErr, checkErr error) {
	raw, err := res.Raw()
	if err != nil || !check {
		return err, nil
	}
	got, err := decodeValue(raw)
	if err != nil {
		return nil, fmt.Errorf("document is malformed JSON %q: %v", raw, err)
	}
	return nil, sameJSON("document", got, want)
}

// manage runs the index and collection management steps.
func (r *caseRunner) manage(op string, s *step) (callErr, checkErr error) {
	switch op {
	case "create_index":
		coll := r.db.Collection(s.str("collection"))
		spec, _ := s.jsonText("spec", true)
		if s.err != nil {
			return nil, nil
		}
		name, err := coll.createIndexJSON("Collection.CreateIndex", spec)
		if err != nil || !s.has("expect_name") {
			return err, nil
		}
		if want := s.str("expect_name"); name != want {
			return nil, fmt.Errorf("index name %q, want %q", name, want)
		}
		return nil, nil

	case "drop_index":
		coll := r.db.Collection(s.str("collection"))
		name := s.str("name")
		if s.err != nil {
			return nil, nil
		}
		return coll.DropIndex(name), nil

	case "list_indexes":
		coll := r.db.Collection(s.str("collection"))
		var want any
		if s.has("expect_indexes") {
			want = s.jsonValue("expect_indexes")
		}
		if s.err != nil {
			return nil, nil
		}
		// Compared as the library's JSON, as every runner does; the public
		// decoding must accept it too.
		text, err := coll.listIndexesJSON("Collection.ListIndexes")
		if err != nil {
			return err, nil
		}
		if _, err := decodeIndexList("Collection.ListIndexes", text); err != nil {
			return err, nil
		}
		if !s.has("expect_indexes") {
			return nil, nil
		}
		got, err := decodeValue(text)
		if err != nil {
			return nil, fmt.Errorf("indexes are malformed JSON %q: %v", text, err)
		}
		return nil, sameJSON("indexes", got, want)

	case "rename_collection":
		from, to := s.str("from"), s.str("to")
		if s.err != nil {
			return nil, nil
		}
		return r.db.RenameCollection(from, to), nil

	case "collection_stats":
		coll := r.db.Collection(s.str("collection"))
		count := s.optInt("expect_count", -1)
		var names []string
		if s.has("expect_index_names") {
			names = s.strList("expect_index_names")
		}
		if s.err != nil {
			return nil, nil
		}
		text, err := coll.statsJSON("Collection.Stats")
		if err != nil {
			return err, nil
		}
		st, err := decodeCollectionStats("Collection.Stats", text)
		if err != nil {
			return err, nil
		}
		raw, err := decodeValue(text)
		obj, isObject := raw.(map[string]any)
		if err != nil || !isObject {
			return nil, fmt.Errorf("stats are not a JSON object: %q", text)
		}
		if _, isNumber := obj["bytes"].(json.Number); !isNumber {
			return nil, fmt.Errorf("stats field \"bytes\" is %T %v, not a number", obj["bytes"], obj["bytes"])
		}
		if count >= 0 && st.Documents != count {
			return nil, fmt.Errorf("documents %d, want %d (%s)", st.Documents, count, text)
		}
		if s.has("expect_index_names") {
			got := make([]string, len(st.Indexes))
			for i, ix := range st.Indexes {
				got[i] = ix.Name
			}
			if !equalStrings(got, names) {
				return nil, fmt.Errorf("index names %q, want %q", got, names)
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("op %q has no implementation in the Go runner", op)
}

func (r *caseRunner) update(op string, s *step) (callErr, checkErr error) {
	coll := r.db.Collection(s.str("collection"))
	filter, _ := s.jsonText("filter", true)
	var upd json.RawMessage
	if op == "replace_one" {
		upd, _ = s.jsonText("replacement", true)
	} else {
		upd, _ = s.jsonText("update", true)
	}
	matched := s.optInt("expect_matched", -1)
	modified := s.optInt("expect_modified", -1)
	var upserted bool
	if s.has("expect_upserted") {
		s.decode("expect_upserted", &upserted)
	}
	if s.err != nil {
		return nil, nil
	}
	var res *UpdateResult
	var err error
	if s.has("options") {
		kind := map[string]updateKind{"update_one": updateOne, "update_many": updateMany, "replace_one": replaceOne}[op]
		res, err = coll.update("Collection."+op, kind, filter, upd, s.fields["options"])
	} else {
		switch op {
		case "update_one":
			res, err = coll.UpdateOne(filter, upd, nil)
		case "update_many":
			res, err = coll.UpdateMany(filter, upd, nil)
		default:
			res, err = coll.ReplaceOne(filter, upd, nil)
		}
	}
	if err != nil {
		return err, nil
	}
	if matched >= 0 && res.Matched != matched {
		return nil, fmt.Errorf("matched %d, want %d (result %+v)", res.Matched, matched, *res)
	}
	if modified >= 0 && res.Modified != modified {
		return nil, fmt.Errorf("modified %d, want %d (result %+v)", res.Modified, modified, *res)
	}
	if s.has("expect_upserted") && (res.UpsertedID != nil) != upserted {
		return nil, fmt.Errorf("upserted_id %v, want upserted %v", res.UpsertedID, upserted)
	}
	return nil, nil
}

// jsonText returns the JSON text of field name, or the string of its
// name_raw variant verbatim; at most one of them may be present, and one
// must be when required. ok says whether one was.
func (s *step) jsonText(name string, required bool) (text json.RawMessage, ok bool) {
	rawName := name + "_raw"
	switch {
	case s.has(name) && s.has(rawName):
		s.fail(fmt.Errorf("both %s and %s", name, rawName))
	case s.has(name):
		return s.fields[name], true
	case s.has(rawName):
		return json.RawMessage(s.str(rawName)), true
	case required:
		s.fail(fmt.Errorf("missing field %q", name))
	}
	return nil, false
}

// jsonValue decodes a required field as decodeValue decodes library
// results (numbers as json.Number).
func (s *step) jsonValue(name string) any {
	raw, ok := s.fields[name]
	if !ok {
		s.fail(fmt.Errorf("missing field %q", name))
		return nil
	}
	v, err := decodeValue(raw)
	if err != nil {
		s.fail(fmt.Errorf("field %q: %v", name, err))
	}
	return v
}

// sameJSON compares parsed JSON as the README says: arrays in order,
// object keys in any order, numbers by value (1 equals 1.0).
func sameJSON(what string, got, want any) error {
	if jsonEqual(got, want) {
		return nil
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return fmt.Errorf("%s %s, want %s", what, g, w)
}

func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, okx := new(big.Rat).SetString(string(x))
		ry, oky := new(big.Rat).SetString(string(y))
		if !okx || !oky {
			return x == y
		}
		return rx.Cmp(ry) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

// watch runs the change feed steps through watchJSON (the cases' option
// text as it is) and ChangeStream.poll.
func (r *caseRunner) watch(op string, s *step) (callErr, checkErr error) {
	name := s.str("watch")
	switch op {
	case "watch_open":
		kinds := map[string]int{"all": watchAll, "collections": watchCollections, "collection": watchCollection, "key_prefix": watchKeyPrefix}
		kind, ok := kinds[s.str("target")]
		if !ok {
			s.fail(fmt.Errorf("unknown watch target %q", s.str("target")))
			return nil, nil
		}
		var target []byte
		if s.has("name") {
			target = s.bytes("name")
		}
		options := map[string]json.RawMessage{}
		if s.has("options") {
			s.decode("options", &options)
		}
		if s.has("resume_after") {
			var resume struct {
				Watch string `json:"watch"`
				Event int    `json:"event"`
			}
			s.decode("resume_after", &resume)
			events := r.delivered[resume.Watch]
			if resume.Event < 0 || resume.Event >= len(events) {
				s.fail(fmt.Errorf("resume_after names no delivered event"))
				return nil, nil
			}
			id, _ := json.Marshal(events[resume.Event]["_id"])
			options["resumeAfter"] = id
		}
		var text []byte
		if s.has("options") || s.has("resume_after") {
			text, _ = json.Marshal(options)
		}
		w, err := r.db.watchJSONKind(op, kind, target, text)
		if err != nil {
			return err, nil
		}
		r.watches[name] = w
		r.watched = append(r.watched, w)
		return nil, nil
	case "watch_next":
		w, ok := r.watches[name]
		if !ok {
			s.fail(fmt.Errorf("no watch named %q", name))
			return nil, nil
		}
		timeout := time.Duration(s.optInt("timeout_ms", 0)) * time.Millisecond
		var got []any
		var events []map[string]any
		for {
			w.mu.Lock()
			event, err := w.poll(op, timeout)
			w.mu.Unlock()
			if err != nil {
				return err, nil
			}
			if event == nil {
				break
			}
			v, err := decodePlain(event.Raw)
			if err != nil {
				return nil, fmt.Errorf("event %q: %v", event.Raw, err)
			}
			m, _ := v.(map[string]any)
			got = append(got, v)
			events = append(events, m)
			r.delivered[name] = append(r.delivered[name], m)
		}
		if s.has("expect_events") {
			wantValue, err := decodePlain(s.fields["expect_events"])
			if err != nil {
				s.fail(fmt.Errorf("expect_events: %v", err))
				return nil, nil
			}
			want, _ := wantValue.([]any)
			if len(want) != len(events) {
				g, _ := json.Marshal(got)
				return nil, fmt.Errorf("got %d events, want %d: %s", len(events), len(want), g)
			}
			for i, w := range want {
				fields, _ := w.(map[string]any)
				for key, value := range fields {
					if key == "$absent" {
						names, _ := value.([]any)
						for _, n := range names {
							if k, _ := n.(string); k != "" {
								if _, present := events[i][k]; present {
									return nil, fmt.Errorf("event %d has %s: %v", i, k, events[i])
								}
							}
						}
						continue
					}
					if have, present := events[i][key]; !present || !jsonEqual(have, value) {
						return nil, sameJSON(fmt.Sprintf("event %d field %s", i, key), have, value)
					}
				}
			}
		}
		if s.has("expect_commits") {
			sizes := []any{}
			var last any
			for i, e := range events {
				if i > 0 && jsonEqual(e["seq"], last) {
					n, _ := sizes[len(sizes)-1].(json.Number).Int64()
					sizes[len(sizes)-1] = json.Number(fmt.Sprint(n + 1))
				} else {
					sizes = append(sizes, json.Number("1"))
				}
				last = e["seq"]
			}
			wantSizes, _ := decodePlain(s.fields["expect_commits"])
			return nil, sameJSON("commits", sizes, wantSizes)
		}
		return nil, nil
	default: // watch_close
		w, ok := r.watches[name]
		if !ok {
			s.fail(fmt.Errorf("no watch named %q", name))
			return nil, nil
		}
		return w.Close(), nil
	}
}

// decodePlain decodes JSON with numbers as json.Number and Extended JSON
// ({"$binary": ...}) left as the objects it is written as, so that events
// compare with the cases' text field by field.
func decodePlain(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// timeSeries runs the time-series steps through the binding's TS methods.
func (r *caseRunner) timeSeries(op string, s *step) (callErr, checkErr error) {
	expectCount := func(got int) error {
		if s.has("expect_written") && int64(got) != s.int("expect_written") {
			return fmt.Errorf("%s wrote %d points, want %d", op, got, s.int("expect_written"))
		}
		return nil
	}
	switch op {
	case "ts_write":
		var points []TSPoint
		s.decode("points", &points)
		if s.err != nil {
			return nil, nil
		}
		n, err := r.db.TSWrite(points)
		if err != nil {
			return err, nil
		}
		return nil, expectCount(n)
	case "ts_import":
		precision := ""
		if s.has("options") {
			var options struct {
				Precision string `json:"precision"`
			}
			s.decode("options", &options)
			precision = options.Precision
		}
		n, err := r.db.TSImport([]byte(s.str("lines")), precision)
		if err != nil {
			return err, nil
		}
		return nil, expectCount(n)
	case "ts_query":
		query, _ := s.jsonText("query", true)
		var want any
		if s.has("expect_rows") {
			want = s.jsonValue("expect_rows")
		}
		if s.err != nil {
			return nil, nil
		}
		var cur *Cursor
		var err error
		switch kind := s.str("kind"); kind {
		case "range":
			cur, err = r.db.TSRange(query)
		case "last":
			cur, err = r.db.TSLast(query)
		case "series":
			cur, err = r.db.TSSeries(query)
		case "aggregate":
			cur, err = r.db.TSAggregate(query)
		default:
			s.fail(fmt.Errorf("ts_query: unknown kind %q", kind))
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
		return readCursor(cur, s.has("expect_rows"), want)
	case "ts_delete":
		query, _ := s.jsonText("query", true)
		if s.err != nil {
			return nil, nil
		}
		_, err := r.db.TSDelete(query)
		return err, nil
	case "ts_create_rule":
		rule, _ := s.jsonText("rule", true)
		if s.err != nil {
			return nil, nil
		}
		return r.db.TSCreateRule(rule), nil
	case "ts_set_retention":
		return r.db.TSSetRetention(s.str("metric"), time.Duration(s.int("keep_ms"))*time.Millisecond), nil
	case "ts_maintain":
		_, err := r.db.TSMaintain(s.int("now_ms"))
		return err, nil
	default: // ts_compact
		_, err := r.db.TSCompact()
		return err, nil
	}
}

// links runs the steps of links between keys and documents.
func (r *caseRunner) links(op string, s *step) (callErr, failure error) {
	switch op {
	case "link":
		var metadata any
		if s.has("metadata") {
			metadata, _ = s.jsonText("metadata", true)
		}
		id, _ := s.jsonText("id", true)
		key, coll := s.bytes("key"), s.str("collection")
		if s.err != nil {
			return nil, nil
		}
		return r.db.Link(key, coll, id, metadata), nil

	case "unlink":
		id, _ := s.jsonText("id", true)
		key, coll := s.bytes("key"), s.str("collection")
		var want *bool
		if s.has("expect_removed") {
			want = new(bool)
			s.decode("expect_removed", want)
		}
		if s.err != nil {
			return nil, nil
		}
		removed, err := r.db.Unlink(key, coll, id)
		if err != nil || want == nil || removed == *want {
			return err, nil
		}
		return nil, fmt.Errorf("unlink removed %v, want %v", removed, *want)

	case "unlink_all":
		key := s.bytes("key")
		if s.err != nil {
			return nil, nil
		}
		removed, err := r.db.UnlinkAll(key)
		if err != nil || !s.has("expect_removed") {
			return err, nil
		}
		if want := s.int("expect_removed"); int64(removed) != want {
			return nil, fmt.Errorf("unlink_all removed %d, want %d", removed, want)
		}
		return nil, nil

	case "key_links":
		key := s.bytes("key")
		if s.err != nil {
			return nil, nil
		}
		links, err := r.db.Links(key)
		if err != nil || !s.has("expect_links") {
			return err, nil
		}
		got := []any{}
		for _, link := range links {
			got = append(got, map[string]any{"collection": link.Collection, "id": link.ID, "metadata": metadataValue(link.Metadata)})
		}
		return nil, sameJSON("links", got, s.jsonValue("expect_links"))

	default: // document_links
		id, _ := s.jsonText("id", true)
		coll := s.str("collection")
		if s.err != nil {
			return nil, nil
		}
		links, err := r.db.Collection(coll).LinkedKeys(id)
		if err != nil || !s.has("expect_links") {
			return err, nil
		}
		got := []any{}
		for _, link := range links {
			var key any
			if utf8.Valid(link.Key) {
				key = string(link.Key)
			}
			got = append(got, map[string]any{"key": key, "key_base64": base64.StdEncoding.EncodeToString(link.Key),
				"metadata": metadataValue(link.Metadata)})
		}
		return nil, sameJSON("links", got, s.jsonValue("expect_links"))
	}
}

// metadataValue is a link's metadata as decodeValue gives JSON: nil for none.
func metadataValue(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}
