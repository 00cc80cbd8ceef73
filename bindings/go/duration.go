package cairn

/*
#include "cairn.h"
*/
import "C"

import (
	"math"
	"time"
)

// ParseTTL parses a duration the way every Cairn binding does: a positive
// whole number and one unit, "ms", "s", "m", "h", "d" or "w" ("500ms",
// "30s", "2d", "1w"); a bare number means milliseconds. The parsing is done
// by the library, so the same string means the same TTL in every language.
// Invalid text fails with ErrInvalidArgument.
func ParseTTL(s string) (time.Duration, error) {
	ms, err := parseDurationMS("ParseTTL", s)
	if err != nil {
		return 0, err
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return 0, argErr("ParseTTL", "%q is %d ms, longer than a time.Duration can hold", s, ms)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// parseDurationMS calls cairn_parse_duration.
func parseDurationMS(op, s string) (int64, error) {
	if abiErr != nil {
		return 0, abiErr
	}
	text := []byte(s)
	p, n := charsArg(text)
	var ms C.int64_t
	var msg *C.char
	rc := C.cairn_parse_duration(p, n, &ms, &msg)
	if err := statusErr(op, rc, msg); err != nil {
		return 0, err
	}
	return int64(ms), nil
}
