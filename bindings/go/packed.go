package cairn

// Packed lists (see PACKED LISTS in cairn.h): one buffer holding, for each
// item, a 4-byte little-endian unsigned length followed by that many bytes.
// In a result, the length 0xFFFFFFFF (CAIRN_ABSENT) marks an item that does
// not exist and has no bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const absentLen = 0xFFFFFFFF // CAIRN_ABSENT

// packList encodes items as a packed list. An item too long for a 4-byte
// length (or exactly CAIRN_ABSENT long) cannot be encoded and is an error.
func packList(items [][]byte) ([]byte, error) {
	n := 0
	for i, it := range items {
		if uint64(len(it)) >= absentLen {
			return nil, fmt.Errorf("item %d is %d bytes, too long for a packed list", i, len(it))
		}
		n += 4 + len(it)
	}
	buf := make([]byte, 0, n)
	for _, it := range items {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(it)))
		buf = append(buf, it...)
	}
	return buf, nil
}

// unpackList decodes a packed list, copying every item into its own Go
// slice. Absent items become nil (only when allowAbsent); present items are
// never nil, even when empty.
func unpackList(buf []byte, allowAbsent bool) ([][]byte, error) {
	var items [][]byte
	for off := 0; off < len(buf); {
		if len(buf)-off < 4 {
			return nil, errors.New("packed list ends inside a length")
		}
		n := binary.LittleEndian.Uint32(buf[off:])
		off += 4
		if n == absentLen {
			if !allowAbsent {
				return nil, errors.New("unexpected absent item in packed list")
			}
			items = append(items, nil)
			continue
		}
		if uint64(n) > uint64(len(buf)-off) {
			return nil, fmt.Errorf("packed list item of %d bytes overruns the buffer", n)
		}
		item := make([]byte, n)
		copy(item, buf[off:])
		items = append(items, item)
		off += int(n)
	}
	return items, nil
}
