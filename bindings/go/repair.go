package cairn

/*
#include <stdlib.h>
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"strings"
	"unsafe"
)

// RepairReport says what Repair recovered and what it could not.
type RepairReport struct {
	Tables      int    `json:"tables"`       // tables the new manifest lists
	Entries     int64  `json:"entries"`      // entries in them (all versions)
	LogSegments int    `json:"log_segments"` // log segments found
	LogRecords  int64  `json:"log_records"`  // log records replayed
	OldManifest string `json:"old_manifest"` // "readable", "missing" or "unreadable: ..."
	// SetAside lists the files moved to the "lost" subdirectory (never
	// deleted), each with the reason.
	SetAside []struct {
		File   string `json:"file"`
		Reason string `json:"reason"`
	} `json:"set_aside"`
	// RangeDeletionsLost is true when the manifest, the only place range
	// deletions are kept, could not be read.
	RangeDeletionsLost bool     `json:"range_deletions_lost"`
	Notes              []string `json:"notes"`
}

// Repair rebuilds the manifest of a damaged database from the tables and
// log segments its directory still holds, then compacts it (cairn_repair).
// Run it when Open fails with an error matching ErrCorruption: it never
// runs by itself, and the database must not be open (ErrBusy). Files it
// cannot use are moved to the "lost" subdirectory, never deleted.
func Repair(path string, opts *Options) (*RepairReport, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, argErr("Repair", "path contains a NUL byte")
	}
	js, err := opts.marshal()
	if err != nil {
		return nil, argErr("Repair", "options: %v", err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	opt, optLen := charsArg(js)
	report, err := callJSON("Repair", func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		return C.cairn_repair(cpath, opt, optLen, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	var result RepairReport
	if err := json.Unmarshal(report, &result); err != nil {
		return nil, internalErr("Repair", "library returned malformed JSON: %v", err)
	}
	return &result, nil
}
