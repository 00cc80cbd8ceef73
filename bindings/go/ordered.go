package cairn

// Ordered documents. A Go map has no order, and encoding/json writes its
// keys sorted by name, so a map cannot say "sort by age, then by name". D
// (as mongo-go-driver's bson.D) is a document whose keys keep the order
// written; Asc and Desc make the pairs of a sort or an index:
//
//	cur, err := users.Find(nil, &cairn.FindOptions{Sort: cairn.D{cairn.Desc("age"), cairn.Asc("name")}})
//	name, err := users.CreateIndex(cairn.D{cairn.Asc("age"), cairn.Desc("name")}, cairn.IndexOptions{})
//	cur, err = users.Aggregate([]any{cairn.D{{Key: "$sort", Value: cairn.D{cairn.Asc("age"), cairn.Asc("name")}}}})
//
// Wherever the order of keys matters (a sort, index keys, a $sort or
// $project stage), a map with more than one key is an error
// (ErrInvalidArgument) rather than a silent reordering. A map with one key
// is fine. Find's projections take a D as well, and a map of any size,
// since their results follow the stored document's order.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
)

// E is one key and its value in a D.
type E struct {
	Key   string
	Value any
}

// D is a document whose keys keep their order: a slice of key/value pairs.
// It marshals to a JSON object in that order, its values converted as every
// document's are (time.Time to {"$date": ...}, []byte to {"$binary": ...}).
// Decoding into a *D keeps the stored order; nested objects become D too.
type D []E

// Asc is the pair field: 1 (Ascending), for sorts and index keys.
func Asc(field string) E { return E{Key: field, Value: Ascending} }

// Desc is the pair field: -1 (Descending), for sorts and index keys.
func Desc(field string) E { return E{Key: field, Value: Descending} }

// Map returns d as a map (losing the order), for looking keys up.
func (d D) Map() map[string]any {
	m := make(map[string]any, len(d))
	for _, e := range d {
		m[e.Key] = e.Value
	}
	return m
}

// MarshalJSON writes d as a JSON object, keys in order.
func (d D) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, e := range d {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := encodeValue(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", e.Key, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a JSON object keeping its key order. Numbers become
// json.Number, nested objects D, dates time.Time and binary data []byte.
func (d *D) UnmarshalJSON(text []byte) error {
	v, err := decodeOrdered(text)
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*d = nil
		return nil
	case D:
		*d = convertOrdered(v).(D)
		return nil
	}
	return fmt.Errorf("cairn: D: want a JSON object, got %.40s", text)
}

// decodeOrdered decodes one JSON value keeping object key order: objects
// become D, arrays []any, numbers json.Number. Trailing data is an error.
func decodeOrdered(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	v, err := decodeOrderedValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

func decodeOrderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			d := D{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeOrderedValue(dec)
				if err != nil {
					return nil, err
				}
				d = append(d, E{Key: key, Value: v})
			}
			_, err := dec.Token() // '}'
			return d, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeOrderedValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", tok)
	default:
		return tok, nil // string, json.Number, bool, nil
	}
}

// orderedJSON marshals a value whose key order matters (a sort, index
// keys): a D, an E (one pair), a []SortField or []IndexKey, a
// struct, JSON text, or a map with at most one key. what names it in the
// error.
func orderedJSON(what string, v any) ([]byte, error) {
	switch s := v.(type) {
	case E:
		return D{s}.MarshalJSON()
	case SortField:
		return orderedKeysJSON([]SortField{s})
	case []SortField:
		return orderedKeysJSON(s)
	case IndexKey:
		return orderedKeysJSON([]SortField{SortField(s)})
	case []IndexKey:
		fields := make([]SortField, len(s))
		for i, k := range s {
			fields[i] = SortField(k)
		}
		return orderedKeysJSON(fields)
	}
	if err := checkOrdered(what, v); err != nil {
		return nil, err
	}
	return marshalJSON(v)
}

// projectionJSON marshals a Find projection: a D, an E, a map, a struct or
// JSON text. A map of several keys is fine here, unlike in orderedJSON: a
// Find projection returns fields in the stored document's order whatever
// the order of the projection's keys, so a map cannot reorder anything. (A
// $project stage does follow its keys' order; checkPipelineOrder refuses a
// map there.)
func projectionJSON(v any) ([]byte, error) {
	if e, ok := v.(E); ok {
		return D{e}.MarshalJSON()
	}
	js, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("projection: %v", err)
	}
	return js, nil
}

// checkOrdered refuses a map of more than one key where key order matters.
func checkOrdered(what string, v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Map && rv.Len() > 1 {
		return fmt.Errorf("%s: a Go map has no key order (%d keys); use a cairn.D such as "+
			"cairn.D{cairn.Asc(\"a\"), cairn.Desc(\"b\")}", what, rv.Len())
	}
	return nil
}

// checkPipelineOrder refuses a $sort or $project stage whose value is a map
// of more than one key: the stage would run in key-name order.
func checkPipelineOrder(pipeline any) error {
	rv := reflect.ValueOf(pipeline)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil // JSON text, or not a pipeline: the library judges it
	}
	if _, isText := pipeline.([]byte); isText {
		return nil
	}
	for i := 0; i < rv.Len(); i++ {
		stage := rv.Index(i).Interface()
		for _, op := range []string{"$sort", "$project"} {
			var spec any
			var found bool
			switch s := stage.(type) {
			case D:
				for _, e := range s {
					if e.Key == op {
						spec, found = e.Value, true
					}
				}
			default:
				sv := reflect.ValueOf(stage)
				for sv.Kind() == reflect.Pointer || sv.Kind() == reflect.Interface {
					if sv.IsNil() {
						break
					}
					sv = sv.Elem()
				}
				if sv.Kind() == reflect.Map && sv.Type().Key().Kind() == reflect.String {
					if v := sv.MapIndex(reflect.ValueOf(op).Convert(sv.Type().Key())); v.IsValid() {
						spec, found = v.Interface(), true
					}
				}
			}
			if found {
				if err := checkOrdered(fmt.Sprintf("stage %d: %s", i, op), spec); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
