package cairn

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"runtime"
)

// Stats returns the database's statistics: counters such as "puts", "gets",
// "deletes", "writes", "bytes_written", sizes such as "live_keys",
// "wal_bytes", "table_bytes", "level0_tables", and latency percentiles such
// as "get_p99_micros". Numbers are json.Number, so that large
// counters keep every digit (use their Int64 or Float64 methods). New fields
// may appear in later versions; existing ones keep their meaning.
func (db *DB) Stats() (map[string]any, error) {
	h, err := db.handle("Stats")
	if err != nil {
		return nil, err
	}
	js, err := callJSON("Stats", func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_stats(h, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var stats map[string]any
	if err := dec.Decode(&stats); err != nil {
		return nil, internalErr("Stats", "library returned malformed JSON: %v", err)
	}
	return stats, nil
}

// Metrics returns the statistics in Prometheus text exposition format,
// one metric per figure named cairn_<name> (counters end in _total).
func (db *DB) Metrics() (string, error) {
	h, err := db.handle("Metrics")
	if err != nil {
		return "", err
	}
	text, err := callJSON("Metrics", func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_metrics(h, out, outLen, msg)
	})
	if err != nil {
		return "", err
	}
	return string(text), nil
}

// Flush writes the memtable to a table now and waits for it, so that a
// later open replays no log.
func (db *DB) Flush() error {
	h, err := db.handle("Flush")
	if err != nil {
		return err
	}
	var msg *C.char
	rc := C.cairn_flush(h, &msg)
	runtime.KeepAlive(db)
	return statusErr("Flush", rc, msg)
}

// CompactRange compacts every table overlapping [start, end] (nil or empty:
// unbounded) down to the deepest level, dropping overwritten, deleted and
// expired entries at once instead of waiting for background compaction.
func (db *DB) CompactRange(start, end []byte) error {
	h, err := db.handle("CompactRange")
	if err != nil {
		return err
	}
	s, sn := bytesArg(start)
	e, en := bytesArg(end)
	var msg *C.char
	rc := C.cairn_compact_range(h, s, sn, e, en, &msg)
	runtime.KeepAlive(db)
	return statusErr("CompactRange", rc, msg)
}
