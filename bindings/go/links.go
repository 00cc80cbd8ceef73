package cairn

// Documents that expire (InsertOneTTL; TTL indexes are created with
// CreateIndex and IndexOptions.ExpireAfterSeconds) and links between keys
// and documents. See cairn.h, "Documents that expire" and "Links between
// keys and documents".

/*
#include "cairn.h"
*/
import "C"

import (
	"encoding/base64"
	"encoding/json"
	"runtime"
	"time"
)

// InsertOneTTL is InsertOne for a document that expires ttl from now
// (rounded up to whole milliseconds; use ParseTTL for "1h"). The document
// is stored with "_expiresAt" set to that instant, which the collection's
// TTL index on "_expiresAt" governs: the first such insert outside a
// transaction creates it, and inside one it must exist already
// (ErrInvalidArgument says how). Expired documents are never returned.
func (c *Collection) InsertOneTTL(doc any, ttl time.Duration) (id any, err error) {
	ms := C.int64_t(ttlMillis(ttl))
	return c.insertOne("Collection.InsertOneTTL", doc, func(h *C.cairn_db, n *C.char, nn C.size_t, d *C.char, dn C.size_t,
		out **C.char, outLen *C.size_t, msg **C.char) C.int {
		return C.cairn_insert_one_with_ttl(h, n, nn, d, dn, ms, out, outLen, msg)
	})
}

// Link links key to the document of collection whose primary key is id,
// with metadata (a map or struct, or nil for none) kept on the link;
// linking again replaces it. The key and the document must exist
// (ErrNotFound). Deleting the document removes its links in the same
// transaction; deleting the key hides them until UnlinkAll.
func (db *DB) Link(key []byte, collection string, id any, metadata any) error {
	const op = "DB.Link"
	h, err := db.handle(op)
	if err != nil {
		return err
	}
	idJS, err := marshalJSON(id)
	if err != nil {
		return argErr(op, "id: %v", err)
	}
	var metaJS []byte
	if metadata != nil {
		if metaJS, err = marshalJSON(metadata); err != nil {
			return argErr(op, "metadata: %v", err)
		}
	}
	k, kn := bytesArg(key)
	n, nn := charsArg([]byte(collection))
	i, in := charsArg(idJS)
	m, mn := charsArg(metaJS)
	var msg *C.char
	rc := C.cairn_link(h, k, kn, n, nn, i, in, m, mn, &msg)
	runtime.KeepAlive(db)
	return statusErr(op, rc, msg)
}

// Unlink removes the link between key and a document and reports whether
// it existed.
func (db *DB) Unlink(key []byte, collection string, id any) (bool, error) {
	const op = "DB.Unlink"
	h, err := db.handle(op)
	if err != nil {
		return false, err
	}
	idJS, err := marshalJSON(id)
	if err != nil {
		return false, argErr(op, "id: %v", err)
	}
	k, kn := bytesArg(key)
	n, nn := charsArg([]byte(collection))
	i, in := charsArg(idJS)
	var removed C.int
	var msg *C.char
	rc := C.cairn_unlink(h, k, kn, n, nn, i, in, &removed, &msg)
	runtime.KeepAlive(db)
	return removed != 0, statusErr(op, rc, msg)
}

// UnlinkAll removes every link of key (in a transaction, beside the key's
// Delete) and returns how many there were.
func (db *DB) UnlinkAll(key []byte) (int, error) {
	const op = "DB.UnlinkAll"
	h, err := db.handle(op)
	if err != nil {
		return 0, err
	}
	k, kn := bytesArg(key)
	var removed C.size_t
	var msg *C.char
	rc := C.cairn_unlink_all(h, k, kn, &removed, &msg)
	runtime.KeepAlive(db)
	return int(removed), statusErr(op, rc, msg)
}

// DocumentLink is one document a key links to.
type DocumentLink struct {
	Collection string
	// ID is the document's primary key, decoded as InsertOne's _id.
	ID any
	// Metadata is the link's metadata, or nil.
	Metadata map[string]any
}

// Links returns the documents key links to, by collection then primary key.
func (db *DB) Links(key []byte) ([]DocumentLink, error) {
	const op = "DB.Links"
	h, err := db.handle(op)
	if err != nil {
		return nil, err
	}
	k, kn := bytesArg(key)
	js, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_key_links(h, k, kn, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	var raw []struct {
		Collection string          `json:"collection"`
		ID         json.RawMessage `json:"id"`
		Metadata   json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, internalErr(op, "library returned malformed links: %v", err)
	}
	links := make([]DocumentLink, 0, len(raw))
	for _, entry := range raw {
		id, err := decodeValue(entry.ID)
		if err != nil {
			return nil, internalErr(op, "library returned a malformed id: %v", err)
		}
		metadata, err := decodeMetadata(entry.Metadata)
		if err != nil {
			return nil, internalErr(op, "library returned malformed metadata: %v", err)
		}
		links = append(links, DocumentLink{Collection: entry.Collection, ID: id, Metadata: metadata})
	}
	return links, nil
}

// KeyLink is one key linked to a document.
type KeyLink struct {
	Key []byte
	// Metadata is the link's metadata, or nil.
	Metadata map[string]any
}

// LinkedKeys returns the keys linked to the document whose primary key is
// id, in key order. Keys that no longer exist are left out.
func (c *Collection) LinkedKeys(id any) ([]KeyLink, error) {
	const op = "Collection.LinkedKeys"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	idJS, err := marshalJSON(id)
	if err != nil {
		return nil, argErr(op, "id: %v", err)
	}
	n, nn := charsArg([]byte(c.name))
	i, in := charsArg(idJS)
	js, err := callJSON(op, func(out **C.char, outLen *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(c.db)
		return C.cairn_document_links(h, n, nn, i, in, out, outLen, msg)
	})
	if err != nil {
		return nil, err
	}
	var raw []struct {
		KeyBase64 string          `json:"key_base64"`
		Metadata  json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, internalErr(op, "library returned malformed links: %v", err)
	}
	links := make([]KeyLink, 0, len(raw))
	for _, entry := range raw {
		key, err := base64.StdEncoding.DecodeString(entry.KeyBase64)
		if err != nil {
			return nil, internalErr(op, "library returned a malformed key: %v", err)
		}
		metadata, err := decodeMetadata(entry.Metadata)
		if err != nil {
			return nil, internalErr(op, "library returned malformed metadata: %v", err)
		}
		links = append(links, KeyLink{Key: key, Metadata: metadata})
	}
	return links, nil
}

// decodeMetadata decodes a link's metadata: an object, or null.
func decodeMetadata(js json.RawMessage) (map[string]any, error) {
	v, err := decodeValue(js)
	if err != nil || v == nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, internalErr("metadata", "not an object: %s", js)
	}
	return m, nil
}
