package cairn

// Full-text search: text indexes and Search. A text index keeps, for each
// document, the words of its indexed fields (folded, stemmed with Snowball,
// stopwords dropped) in the same atomic write as the document; Search scores
// matches with Lucene's BM25. See include/cairn.h, "Full-text search".

/*
#include "cairn.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strconv"
)

// TextIndexOptions configure CreateTextIndex. The zero value makes an index
// named after its fields ("title_text_body_text"), English, stemmed, with
// English stopwords, every field of weight 1, k1 = 1.2 and b = 0.75.
type TextIndexOptions struct {
	Name string
	// Weights multiply each field's score (default 1).
	Weights map[string]float64
	// Language is a Snowball language ("english", "french", ...), an ISO
	// code ("fr") or "none" (no stemming, no stopwords).
	Language string
	// NoStemming and NoStopwords turn the analyzer's steps off; Stopwords
	// replaces the language's list with these words.
	NoStemming  bool
	NoStopwords bool
	Stopwords   []string
	// MinTokenLength leaves shorter words out (0: 1).
	MinTokenLength int
	// K1 and B are BM25's parameters (0: the defaults).
	K1, B float64
}

// CreateTextIndex creates a text index over fields (at least one, dotted
// paths allowed) and returns its name. The existing documents are indexed
// before it returns.
//
//	name, err := posts.CreateTextIndex([]string{"title", "body"}, cairn.TextIndexOptions{Weights: map[string]float64{"title": 3}})
func (c *Collection) CreateTextIndex(fields []string, opts TextIndexOptions) (string, error) {
	const op = "Collection.CreateTextIndex"
	if len(fields) == 0 {
		return "", argErr(op, "fields: name at least one field")
	}
	var spec bytes.Buffer
	spec.WriteString(`{"keys":{`)
	for i, f := range fields {
		if i > 0 {
			spec.WriteByte(',')
		}
		name, err := json.Marshal(f)
		if err != nil {
			return "", argErr(op, "fields: %v", err)
		}
		spec.Write(name)
		spec.WriteString(`:"text"`)
	}
	spec.WriteByte('}')
	add := func(key string, v any) error {
		js, err := json.Marshal(v)
		if err != nil {
			return argErr(op, "%s: %v", key, err)
		}
		spec.WriteString(`,"` + key + `":`)
		spec.Write(js)
		return nil
	}
	if opts.Name != "" {
		if err := add("name", opts.Name); err != nil {
			return "", err
		}
	}
	if opts.Weights != nil {
		if err := add("weights", opts.Weights); err != nil {
			return "", err
		}
	}
	if opts.Language != "" {
		if err := add("default_language", opts.Language); err != nil {
			return "", err
		}
	}
	analyzer := map[string]any{"stemming": !opts.NoStemming, "stopwords": !opts.NoStopwords}
	if opts.Stopwords != nil {
		analyzer["stopwords"] = opts.Stopwords
	}
	if opts.MinTokenLength != 0 {
		analyzer["min_token_length"] = opts.MinTokenLength
	}
	if err := add("analyzer", analyzer); err != nil {
		return "", err
	}
	if opts.K1 != 0 {
		if err := add("k1", opts.K1); err != nil {
			return "", err
		}
	}
	if opts.B != 0 {
		if err := add("b", opts.B); err != nil {
			return "", err
		}
	}
	spec.WriteByte('}')
	return c.createIndexJSON(op, spec.Bytes())
}

// SearchOptions shape Search. The zero value searches every field of the
// collection's only text index and returns the 10 best hits.
type SearchOptions struct {
	// Index names the text index (needed when there are several).
	Index string
	// Fields limits the search to these fields.
	Fields []string
	// Weights replaces the index's field weights for this search.
	Weights map[string]float64
	// Filter is a filter the documents must also match (as Find's).
	Filter any
	// Limit is the most hits (0: 10); Skip the hits to skip.
	Limit, Skip int
	// MinScore leaves out hits scoring less, when not nil.
	MinScore *float64
	// Highlight adds each hit's marked fields and a snippet; Pre and Post
	// mark the words ("<em>", "</em>" when empty).
	Highlight bool
	Pre, Post string
	// Projection shapes each hit's document, as Find's.
	Projection any
}

// SearchHit is one result of Search; decode it with Cursor.Decode.
type SearchHit struct {
	// Document is the matching document as JSON; decode it with
	// json.Unmarshal into a map or a struct.
	Document json.RawMessage `json:"document"`
	Score    float64         `json:"score"`
	// Highlights maps each matched field to its text with the matched
	// words marked (an array for an array field); with Highlight only.
	Highlights map[string]any `json:"highlights,omitempty"`
	// Snippet is a short window of the best field around the matches.
	Snippet string `json:"snippet,omitempty"`
}

// Search runs a full-text query over the collection's text index and opens
// a cursor over the hits, best first; decode each into a SearchHit. The
// query syntax: words (OR-ed), +must, -must_not, "a phrase", pre*, fuzzy~1,
// field:word. A malformed query fails with ErrInvalidArgument naming the
// position; a collection without a text index with ErrNotFound.
//
//	cur, err := posts.Search(`+database "read path" -sql`, &cairn.SearchOptions{Limit: 5})
//	for cur.Next() {
//		var hit cairn.SearchHit
//		_ = cur.Decode(&hit)
//	}
func (c *Collection) Search(query string, opts *SearchOptions) (*Cursor, error) {
	const op = "Collection.Search"
	ojs, err := opts.marshal(op)
	if err != nil {
		return nil, err
	}
	return c.search(op, query, ojs)
}

// search calls cairn_search with the options as JSON text (nil: none).
func (c *Collection) search(op, query string, optionsJSON []byte) (*Cursor, error) {
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	n, nn := charsArg([]byte(c.name))
	q, qn := charsArg([]byte(query))
	o, on := charsArg(optionsJSON)
	var ch *C.cairn_cursor
	var msg *C.char
	rc := C.cairn_search(h, n, nn, q, qn, o, on, &ch, &msg)
	runtime.KeepAlive(c.db)
	if err := statusErr(op, rc, msg); err != nil {
		return nil, err
	}
	return newCursor(ch, c.db), nil
}

func (o *SearchOptions) marshal(op string) ([]byte, error) {
	if o == nil {
		return nil, nil
	}
	var obj jsonObject
	add := func(key string, v any) error {
		js, err := json.Marshal(v)
		if err != nil {
			return argErr(op, "%s: %v", key, err)
		}
		obj.add(key, js)
		return nil
	}
	if o.Index != "" {
		if err := add("index", o.Index); err != nil {
			return nil, err
		}
	}
	if o.Fields != nil {
		if err := add("fields", o.Fields); err != nil {
			return nil, err
		}
	}
	if o.Weights != nil {
		if err := add("weights", o.Weights); err != nil {
			return nil, err
		}
	}
	if o.Filter != nil {
		fjs, err := filterArg(op, o.Filter)
		if err != nil {
			return nil, err
		}
		obj.add("filter", fjs)
	}
	if o.Limit < 0 || o.Skip < 0 {
		return nil, argErr(op, "Limit and Skip must not be negative")
	}
	if o.Limit != 0 {
		obj.add("limit", strconv.AppendInt(nil, int64(o.Limit), 10))
	}
	if o.Skip != 0 {
		obj.add("skip", strconv.AppendInt(nil, int64(o.Skip), 10))
	}
	if o.MinScore != nil {
		if err := add("min_score", *o.MinScore); err != nil {
			return nil, err
		}
	}
	if o.Highlight {
		marks := map[string]string{}
		if o.Pre != "" {
			marks["pre"] = o.Pre
		}
		if o.Post != "" {
			marks["post"] = o.Post
		}
		if err := add("highlight", marks); err != nil {
			return nil, err
		}
	}
	if o.Projection != nil {
		js, err := projectionJSON(o.Projection)
		if err != nil {
			return nil, argErr(op, "projection: %v", err)
		}
		obj.add("projection", js)
	}
	return obj.text(), nil
}
