package cairn

// Time series: points per metric and tags (the cairn_ts_ functions of
// cairn.h, "Time series"). Timestamps are int64 milliseconds since the
// epoch. Queries are JSON objects (a map, a struct, a D or JSON text) with
// "metric", "tags", "where", "id", "start", "end", ...; rows come back
// through a *Cursor as JSON objects. Float values that are NaN or infinite
// cross as the strings "NaN", "Infinity", "-Infinity"; TSValue reads either
// form.

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"math"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// TSNow asks TSMaintain to use the database's clock.
const TSNow int64 = math.MinInt64

// TSPoint is one point to write: a series (Metric and Tags, or ID) at T
// (milliseconds) with value V (a float64, an int64 or another integer).
// Type ("float" or "int") applies when the write creates the series.
type TSPoint struct {
	Metric string            `json:"metric,omitempty"`
	Tags   map[string]string `json:"tags,omitempty"`
	ID     uint64            `json:"id,omitempty"`
	T      int64             `json:"t"`
	V      any               `json:"v"`
	Type   string            `json:"type,omitempty"`
}

// TSValue is a value in a row: a number, or "NaN", "Infinity", "-Infinity".
type TSValue float64

// UnmarshalJSON reads a number or one of the three strings.
func (v *TSValue) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*v = TSValue(math.NaN())
		case "Infinity":
			*v = TSValue(math.Inf(1))
		case "-Infinity":
			*v = TSValue(math.Inf(-1))
		default:
			return argErr("TSValue", "not a number: %q", s)
		}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*v = TSValue(f)
	return nil
}

func tsValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		} else if math.IsInf(x, 1) {
			return "Infinity"
		} else if math.IsInf(x, -1) {
			return "-Infinity"
		}
	case float32:
		return tsValue(float64(x))
	}
	return v
}

// TSSeriesID returns the id of the series metric{tags}, creating it (holding
// "float" or "int" values; "" means "float") when missing.
func (db *DB) TSSeriesID(metric string, tags map[string]string, typ string) (uint64, error) {
	const op = "TSSeriesID"
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	if typ == "" {
		typ = "float"
	}
	if tags == nil {
		tags = map[string]string{}
	}
	js, err := json.Marshal(map[string]any{"metric": metric, "tags": tags, "type": typ})
	if err != nil {
		return 0, argErr(op, "%v", err)
	}
	p, pn := charsArg(js)
	var id C.uint64_t
	var msg *C.char
	rc := C.cairn_ts_series_id(h, p, pn, &id, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(js)
	return uint64(id), statusErr(op, rc, msg)
}

// TSWrite writes points as one atomic write, creating missing series, and
// returns how many it wrote.
func (db *DB) TSWrite(points []TSPoint) (int, error) {
	const op = "TSWrite"
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	items := make([]TSPoint, len(points))
	for i, p := range points {
		p.V = tsValue(p.V)
		items[i] = p
	}
	js, err := json.Marshal(items)
	if err != nil {
		return 0, argErr(op, "%v", err)
	}
	p, pn := charsArg(js)
	var written C.size_t
	var msg *C.char
	rc := C.cairn_ts_write(h, p, pn, &written, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(js)
	return int(written), statusErr(op, rc, msg)
}

// TSWriteFloat writes len(ids) float64 points (ids[i] at times[i] with
// values[i]) as one atomic write: the fast path for batches.
func (db *DB) TSWriteFloat(ids []uint64, times []int64, values []float64) error {
	const op = "TSWriteFloat"
	if len(times) != len(ids) || len(values) != len(ids) {
		return argErr(op, "ids, times and values have different lengths")
	}
	h, err := db.handle(op)
	if err != nil || len(ids) == 0 {
		return err
	}
	var msg *C.char
	rc := C.cairn_ts_write_float(h, (*C.uint64_t)(unsafe.Pointer(&ids[0])), (*C.int64_t)(unsafe.Pointer(&times[0])),
		(*C.double)(unsafe.Pointer(&values[0])), C.size_t(len(ids)), &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// TSWriteInt is TSWriteFloat with int64 values (a float series converts them).
func (db *DB) TSWriteInt(ids []uint64, times []int64, values []int64) error {
	const op = "TSWriteInt"
	if len(times) != len(ids) || len(values) != len(ids) {
		return argErr(op, "ids, times and values have different lengths")
	}
	h, err := db.handle(op)
	if err != nil || len(ids) == 0 {
		return err
	}
	var msg *C.char
	rc := C.cairn_ts_write_int(h, (*C.uint64_t)(unsafe.Pointer(&ids[0])), (*C.int64_t)(unsafe.Pointer(&times[0])),
		(*C.int64_t)(unsafe.Pointer(&values[0])), C.size_t(len(ids)), &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// TSImport imports InfluxDB line protocol; precision is "ns" ("" means
// "ns"), "us", "ms" or "s". A malformed line fails with ErrInvalidArgument
// naming its line number, before anything is written.
func (db *DB) TSImport(lines []byte, precision string) (int, error) {
	const op = "TSImport"
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	if precision == "" {
		precision = "ns"
	}
	opts, _ := json.Marshal(map[string]string{"precision": precision})
	l, ln := charsArg(lines)
	o, on := charsArg(opts)
	var written C.size_t
	var msg *C.char
	rc := C.cairn_ts_import(h, l, ln, o, on, &written, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(lines)
	return int(written), statusErr(op, rc, msg)
}

func (db *DB) tsQuery(op string, query any) ([]byte, *C.cairn_db, error) {
	h, err := db.handle(op)
	if err != nil {
		return nil, nil, err
	}
	if query == nil {
		return []byte("{}"), h, nil
	}
	js, err := marshalJSON(query)
	if err != nil {
		return nil, nil, argErr(op, "query: %v", err)
	}
	return js, h, nil
}

// TSDelete deletes the points in ["start", "end") of the series the query
// selects and returns how many series it selected.
func (db *DB) TSDelete(query any) (int, error) {
	const op = "TSDelete"
	js, h, err := db.tsQuery(op, query)
	if err != nil {
		return 0, err
	}
	q, qn := charsArg(js)
	var series C.size_t
	var msg *C.char
	rc := C.cairn_ts_delete(h, q, qn, &series, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(js)
	return int(series), statusErr(op, rc, msg)
}

func (db *DB) tsCursor(op string, query any,
	open func(*C.cairn_db, *C.char, C.size_t, **C.cairn_cursor, **C.char) C.int) (*Cursor, error) {
	js, h, err := db.tsQuery(op, query)
	if err != nil {
		return nil, err
	}
	q, qn := charsArg(js)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := open(h, q, qn, &ch, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(js)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, db), nil
}

// TSRange opens a cursor over the points in ["start", "end") of the
// selected series: rows {"t", "v"}, with "metric" and "tags" unless the
// query names one series.
func (db *DB) TSRange(query any) (*Cursor, error) {
	return db.tsCursor("TSRange", query, func(h *C.cairn_db, q *C.char, n C.size_t, c **C.cairn_cursor, m **C.char) C.int {
		return C.cairn_ts_range(h, q, n, c, m)
	})
}

// TSLast opens a cursor over the newest point at or before "as_of" of each
// selected series: rows {"id", "metric", "tags", "t", "v"}.
func (db *DB) TSLast(query any) (*Cursor, error) {
	return db.tsCursor("TSLast", query, func(h *C.cairn_db, q *C.char, n C.size_t, c **C.cairn_cursor, m **C.char) C.int {
		return C.cairn_ts_last(h, q, n, c, m)
	})
}

// TSSeries opens a cursor over the selected series: rows {"id", "metric",
// "tags", "type"}.
func (db *DB) TSSeries(query any) (*Cursor, error) {
	return db.tsCursor("TSSeries", query, func(h *C.cairn_db, q *C.char, n C.size_t, c **C.cairn_cursor, m **C.char) C.int {
		return C.cairn_ts_series(h, q, n, c, m)
	})
}

// TSAggregate opens a cursor over windowed aggregates ("every",
// "aggregates", "group_by", "fill"): rows {"group", "t", <aggregate>...}.
func (db *DB) TSAggregate(query any) (*Cursor, error) {
	return db.tsCursor("TSAggregate", query, func(h *C.cairn_db, q *C.char, n C.size_t, c **C.cairn_cursor, m **C.char) C.int {
		return C.cairn_ts_aggregate(h, q, n, c, m)
	})
}

// TSSetRetention keeps metric's points for keep (0: forever).
func (db *DB) TSSetRetention(metric string, keep time.Duration) error {
	const op = "TSSetRetention"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	b := []byte(metric)
	m, mn := charsArg(b)
	var msg *C.char
	rc := C.cairn_ts_set_retention(h, m, mn, C.int64_t(keep/time.Millisecond), &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(b)
	return statusErr(op, rc, msg)
}

// TSCreateRule creates or replaces a downsampling rule ({"name", "metric",
// "every", "aggregates", "delay", "retention"}).
func (db *DB) TSCreateRule(rule any) error {
	const op = "TSCreateRule"
	js, h, err := db.tsQuery(op, rule)
	if err != nil {
		return err
	}
	r, rn := charsArg(js)
	var msg *C.char
	rc := C.cairn_ts_create_rule(h, r, rn, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(js)
	return statusErr(op, rc, msg)
}

// TSDropRule drops a downsampling rule (ErrNotFound when there is none).
func (db *DB) TSDropRule(name string) error {
	const op = "TSDropRule"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	b := []byte(name)
	n, nn := charsArg(b)
	var msg *C.char
	rc := C.cairn_ts_drop_rule(h, n, nn, &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(b)
	return statusErr(op, rc, msg)
}

// TSSettings returns the rules and retentions as JSON.
func (db *DB) TSSettings() (json.RawMessage, error) {
	h, err := db.handle("TSSettings")
	if err != nil {
		return nil, err
	}
	return callJSON("TSSettings", func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_ts_settings(h, out, outLen, msg)
	})
}

// TSSetMaintenanceInterval sets how often background maintenance runs (0: never).
func (db *DB) TSSetMaintenanceInterval(d time.Duration) error {
	const op = "TSSetMaintenanceInterval"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	var msg *C.char
	rc := C.cairn_ts_set_maintenance_interval(h, C.int64_t(d/time.Millisecond), &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// TSMaintain runs the downsampling rules and retention as of nowMS (TSNow:
// the database's clock) and returns its report.
func (db *DB) TSMaintain(nowMS int64) (json.RawMessage, error) {
	h, err := db.handle("TSMaintain")
	if err != nil {
		return nil, err
	}
	return callJSON("TSMaintain", func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_ts_maintain(h, C.int64_t(nowMS), out, outLen, msg)
	})
}

// TSCompact packs every bucket and compacts; it returns the buckets packed.
func (db *DB) TSCompact() (int, error) {
	const op = "TSCompact"
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	var packed C.size_t
	var msg *C.char
	rc := C.cairn_ts_compact(h, &packed, &msg)
	runtime.KeepAlive(db)
	return int(packed), statusErr(op, rc, msg)
}
