package cairn

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"runtime"
	"unsafe"
)

// Stats returns the database's statistics: counters such as "puts", "gets",
// "deletes", "writes", "bytes_written" and sizes such as "live_keys",
// "wal_bytes", "checkpoint_bytes". Numbers are json.Number, so that large
// counters keep every digit (use their Int64 or Float64 methods). New fields
// may appear in later versions; existing ones keep their meaning.
func (db *DB) Stats() (map[string]any, error) {
	h, err := db.handle("Stats")
	if err != nil {
		return nil, err
	}
	var js *C.char
	var n C.size_t
	var msg *C.char
	rc := C.cairn_stats(h, &js, &n, &msg)
	runtime.KeepAlive(db)
	defer C.cairn_free(unsafe.Pointer(js))
	if err := statusErr("Stats", rc, msg); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(cView(unsafe.Pointer(js), n)))
	dec.UseNumber()
	var stats map[string]any
	if err := dec.Decode(&stats); err != nil {
		return nil, internalErr("Stats", "library returned malformed JSON: %v", err)
	}
	return stats, nil
}
