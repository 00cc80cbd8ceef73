package cairn

// Secondary indexes. An index keeps, for each document, entries whose keys
// encode the indexed values in sort order, so that equality, ranges, $in,
// prefixes of a compound index and sorts become range scans. The library
// updates indexes in the same atomic write as their documents.

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
)

// IndexKey is one key of an index: a field name (dotted paths allowed) and
// Ascending or Descending. A compound index takes a []IndexKey or a D of
// Asc and Desc pairs, which keep their order:
//
//	name, err := users.CreateIndex(cairn.D{cairn.Asc("age"), cairn.Desc("name")}, cairn.IndexOptions{})
type IndexKey struct {
	Field     string
	Direction int
}

// IndexOptions configure CreateIndex. The zero value makes a non-unique,
// non-sparse index with the default name.
type IndexOptions struct {
	// Name names the index; "" means the fields and directions joined by
	// "_", such as "age_1_name_-1".
	Name string
	// Unique forbids two documents with the same values for the keys (a
	// missing field counts as null). A write that would break it fails with
	// an error matching ErrConstraint and changes nothing.
	Unique bool
	// Sparse gives no entry to documents missing every key field.
	Sparse bool
	// ExpireAfterSeconds, when set, makes a TTL index on one date field:
	// a document expires once the earliest date in the field plus this
	// many seconds is past, and is never returned again (cairn.h,
	// "Documents that expire"). Use cairn.Int64(3600).
	ExpireAfterSeconds *int64
}

// IndexInfo describes an index, as ListIndexes returns it.
type IndexInfo struct {
	Name   string
	Keys   []IndexKey // in the order of the index
	Unique bool
	Sparse bool
	// ExpireAfterSeconds is set for a TTL index.
	ExpireAfterSeconds *int64
	// Kind is "" for an ordered index, "text" for a text index
	// (CreateTextIndex) and "vector" for a vector index; the keys of a
	// text or vector index have Direction 0.
	Kind string
}

// CreateIndex creates an index on keys (at least one) and returns its name.
// A missing collection is created. The existing documents are indexed
// before it returns (readers go on meanwhile, writers wait); if they break
// Unique, it fails with ErrConstraint. A document with an array in a key
// field gets one entry per element; two array fields in one compound index
// fail with ErrInvalidArgument. Creating an index again with the same name
// and keys succeeds; the same name with other keys fails with
// ErrInvalidArgument.
//
// keys is a D (cairn.D{cairn.Asc("age"), cairn.Desc("name")}), a
// []IndexKey, one IndexKey or E, or a map of one key; a map of several keys
// is an error (ErrInvalidArgument), since a Go map has no order.
func (c *Collection) CreateIndex(keys any, opts IndexOptions) (string, error) {
	const op = "Collection.CreateIndex"
	var buf bytes.Buffer
	buf.WriteString(`{"keys":`)
	js, err := orderedJSON("keys", keys)
	if err != nil {
		return "", argErr(op, "%v", err)
	}
	buf.Write(js)
	if opts.Name != "" {
		js, err := json.Marshal(opts.Name)
		if err != nil {
			return "", argErr(op, "name: %v", err)
		}
		buf.WriteString(`,"name":`)
		buf.Write(js)
	}
	if opts.Unique {
		buf.WriteString(`,"unique":true`)
	}
	if opts.Sparse {
		buf.WriteString(`,"sparse":true`)
	}
	if opts.ExpireAfterSeconds != nil {
		fmt.Fprintf(&buf, `,"expireAfterSeconds":%d`, *opts.ExpireAfterSeconds)
	}
	buf.WriteByte('}')
	return c.createIndexJSON(op, buf.Bytes())
}

// createIndexJSON calls cairn_index_create with a raw JSON specification.
func (c *Collection) createIndexJSON(op string, specJSON []byte) (string, error) {
	h, err := c.handle(op)
	if err != nil {
		return "", err
	}
	n, nn := charsArg([]byte(c.name))
	s, sn := charsArg(specJSON)
	name, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_index_create(h, n, nn, s, sn, out, outLen, msg)
	})
	if err != nil {
		return "", err
	}
	return string(name), nil
}

// DropIndex drops the index called name. A missing index fails with
// ErrNotFound.
func (c *Collection) DropIndex(name string) error {
	const op = "Collection.DropIndex"
	h, err := c.handle(op)
	if err != nil {
		return err
	}
	n, nn := charsArg([]byte(c.name))
	x, xn := charsArg([]byte(name))
	var msg *C.char
	rc := C.cairn_index_drop(h, n, nn, x, xn, &msg)
	runtime.KeepAlive(c.db)
	return statusErr(op, rc, msg)
}

// ListIndexes describes the indexes of the collection. The result is empty
// (not nil) when there are none, also for a missing collection.
func (c *Collection) ListIndexes() ([]IndexInfo, error) {
	const op = "Collection.ListIndexes"
	text, err := c.listIndexesJSON(op)
	if err != nil {
		return nil, err
	}
	return decodeIndexList(op, text)
}

// decodeIndexList decodes the JSON text cairn_index_list returned.
func decodeIndexList(op string, text []byte) ([]IndexInfo, error) {
	var list []indexJSON
	if err := json.Unmarshal(text, &list); err != nil {
		return nil, internalErr(op, "library returned malformed indexes %q: %v", text, err)
	}
	out := make([]IndexInfo, 0, len(list))
	for _, ix := range list {
		info, err := ix.info()
		if err != nil {
			return nil, internalErr(op, "library returned malformed indexes %q: %v", text, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// listIndexesJSON calls cairn_index_list and returns its JSON text.
func (c *Collection) listIndexesJSON(op string) ([]byte, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	return callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_index_list(h, n, nn, out, outLen, msg)
	})
}

// indexJSON is an index as the library describes it; its keys stay JSON
// text until info reads them in order.
type indexJSON struct {
	Name   string          `json:"name"`
	Keys   json.RawMessage `json:"keys"`
	Unique bool            `json:"unique"`
	Sparse bool            `json:"sparse"`
	TTL    *int64          `json:"expireAfterSeconds"`
}

func (ix indexJSON) info() (IndexInfo, error) {
	keys, kind, err := parseOrderedKeys(ix.Keys)
	if err != nil {
		return IndexInfo{}, err
	}
	return IndexInfo{Name: ix.Name, Keys: keys, Unique: ix.Unique, Sparse: ix.Sparse, ExpireAfterSeconds: ix.TTL, Kind: kind}, nil
}

// parseOrderedKeys reads {"field": 1 or -1, ...} keeping the order of the
// fields, which a Go map would lose; a search index's {"field": "text"}
// or {"field": "vector"} gives keys without a direction and its kind.
func parseOrderedKeys(text []byte) (keys []IndexKey, kind string, err error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", fmt.Errorf("index keys %q are not an object", text)
	}
	keys = []IndexKey{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		field, _ := tok.(string)
		tok, err = dec.Token()
		if err != nil {
			return nil, "", err
		}
		if named, ok := tok.(string); ok {
			keys = append(keys, IndexKey{Field: field})
			kind = named
			continue
		}
		num, isNumber := tok.(json.Number)
		dir, err := num.Int64()
		if !isNumber || err != nil {
			return nil, "", fmt.Errorf("index key %q has direction %v, not an integer", field, tok)
		}
		keys = append(keys, IndexKey{Field: field, Direction: int(dir)})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, "", fmt.Errorf("index keys %q are not an object", text)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", fmt.Errorf("data after the index keys %q", text)
	}
	return keys, kind, nil
}
