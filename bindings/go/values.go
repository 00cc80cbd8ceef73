package cairn

// Go values to documents and back, keeping types that JSON alone loses:
//
//	Go                         document (Extended JSON)
//	time.Time, *time.Time      {"$date": "2026-12-06T08:00:00.000Z"} (UTC, milliseconds)
//	[]byte (inside a value)    {"$binary": {"base64": "...", "subType": "00"}}
//	                           (decoded: other subtypes as BinaryData)
//	integers, json.Number      integers, every digit kept
//	D                          an object in the order written
//	struct                     an object with encoding/json's field names and
//	                           tags ("-", omitempty, embedded structs); an
//	                           `json:"_id,omitempty"` field left empty lets the
//	                           library generate the _id
//
// A top-level []byte or json.RawMessage is JSON text, sent as it is.
// Decoding reverses it: into a *any, *map[string]any or *D, a date becomes
// a time.Time, binary data a []byte and a number a json.Number; into a
// struct, a time.Time field takes a date and a []byte field binary data
// (DateTime and BinaryData fields keep working as before). Types with
// their own MarshalJSON or UnmarshalJSON are left to it.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var (
	timeType          = reflect.TypeOf(time.Time{})
	bytesType         = reflect.TypeOf([]byte(nil))
	marshalerType     = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	unmarshalerType   = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	jsonNumberType    = reflect.TypeOf(json.Number(""))
	rawMessageType    = reflect.TypeOf(json.RawMessage(nil))
	emptyInterfaceTyp = reflect.TypeOf((*any)(nil)).Elem()
)

// encodeValue marshals v as a document value (see the table above).
func encodeValue(v any) ([]byte, error) {
	n, err := normalize(reflect.ValueOf(v), 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(n)
}

// maxEncodeDepth bounds normalize's recursion (a cyclic value would
// otherwise never end); the library refuses far shallower documents.
const maxEncodeDepth = 1000

// normalize returns v as a tree that encoding/json writes in document form.
func normalize(v reflect.Value, depth int) (any, error) {
	if depth > maxEncodeDepth {
		return nil, fmt.Errorf("value nested more than %d deep (a cycle?)", maxEncodeDepth)
	}
	if !v.IsValid() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == timeType:
		return Date(v.Interface().(time.Time)), nil
	case t == bytesType:
		return Binary(v.Bytes()), nil
	case t == rawMessageType || t == jsonNumberType:
		return v.Interface(), nil
	case t == reflect.TypeOf(D(nil)) || t == reflect.TypeOf(E{}):
		return v.Interface(), nil // D marshals its values through encodeValue
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		if t.Kind() == reflect.Pointer && t.Implements(marshalerType) && !t.Elem().Implements(marshalerType) {
			return v.Interface(), nil // MarshalJSON on the pointer receiver
		}
		return normalize(v.Elem(), depth+1) // *time.Time is a date too
	case t.Implements(marshalerType):
		return v.Interface(), nil
	}
	switch t.Kind() {
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		if t.Key().Kind() != reflect.String {
			return v.Interface(), nil // encoding/json's rules for other keys
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			n, err := normalize(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			m[it.Key().String()] = n
		}
		return m, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		fallthrough
	case reflect.Array:
		a := make([]any, v.Len())
		for i := range a {
			n, err := normalize(v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			a[i] = n
		}
		return a, nil
	case reflect.Struct:
		d := D{}
		if err := appendStructFields(&d, v, depth); err != nil {
			return nil, err
		}
		return d, nil
	}
	return v.Interface(), nil
}

// appendStructFields appends v's fields as encoding/json names them.
func appendStructFields(d *D, v reflect.Value, depth int) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv, ft = fv.Elem(), ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !ft.Implements(marshalerType) {
				if err := appendStructFields(d, fv, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmptyValue(fv) {
			continue
		}
		n, err := normalize(fv, depth+1)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		*d = append(*d, E{Key: name, Value: n})
	}
	return nil
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// extendedValue recognises {"$date": "..."} and {"$binary": {...}} in an
// ordered tree and returns the time.Time or []byte they hold.
func extendedValue(d D) (any, bool) {
	if len(d) != 1 {
		return nil, false
	}
	switch d[0].Key {
	case "$date":
		if s, ok := d[0].Value.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t, true
			}
		}
	case "$binary":
		inner, ok := d[0].Value.(D)
		if !ok {
			return nil, false
		}
		var data []byte
		var sub uint64
		var okData bool
		for _, e := range inner {
			s, _ := e.Value.(string)
			switch e.Key {
			case "base64":
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, false
				}
				data, okData = b, true
			case "subType":
				n, err := strconv.ParseUint(s, 16, 8)
				if err != nil {
					return nil, false
				}
				sub = n
			}
		}
		if !okData {
			return nil, false
		}
		if sub != 0 { // only generic binary is a plain []byte
			return BinaryData{Data: data, Subtype: byte(sub)}, true
		}
		return data, true
	}
	return nil, false
}

// convertOrdered replaces dates and binary data in an ordered tree by
// time.Time and []byte, keeping objects as D.
func convertOrdered(v any) any {
	switch v := v.(type) {
	case D:
		if x, ok := extendedValue(v); ok {
			return x
		}
		for i := range v {
			v[i].Value = convertOrdered(v[i].Value)
		}
		return v
	case []any:
		for i := range v {
			v[i] = convertOrdered(v[i])
		}
		return v
	}
	return v
}

// convertGeneric turns an ordered tree into encoding/json's untyped form
// (map[string]any, []any, json.Number, ...), with dates as time.Time and
// binary data as []byte.
func convertGeneric(v any) any {
	switch v := v.(type) {
	case D:
		if x, ok := extendedValue(v); ok {
			return x
		}
		m := make(map[string]any, len(v))
		for _, e := range v {
			m[e.Key] = convertGeneric(e.Value)
		}
		return m
	case []any:
		for i := range v {
			v[i] = convertGeneric(v[i])
		}
		return v
	}
	return v
}

// rewriteFor prepares an ordered tree for json.Unmarshal into type t: a date
// meant for a time.Time becomes its RFC 3339 string and binary data meant
// for a []byte its base64 string, which is what those types decode.
func rewriteFor(v any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) && t != timeType {
		return v
	}
	switch v := v.(type) {
	case D:
		switch {
		case t == timeType:
			if len(v) == 1 && v[0].Key == "$date" {
				return v[0].Value
			}
			return v
		case t.Kind() == reflect.Struct:
			for i := range v {
				if f, ok := fieldFor(t, v[i].Key); ok {
					v[i].Value = rewriteFor(v[i].Value, f.Type)
				}
			}
		case t.Kind() == reflect.Map:
			for i := range v {
				v[i].Value = rewriteFor(v[i].Value, t.Elem())
			}
		}
		if t == bytesType || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8) {
			if b, ok := extendedValue(v); ok {
				switch b := b.(type) {
				case []byte:
					return base64.StdEncoding.EncodeToString(b)
				case BinaryData:
					return base64.StdEncoding.EncodeToString(b.Data)
				}
			}
		}
		return v
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i := range v {
				v[i] = rewriteFor(v[i], t.Elem())
			}
		}
		return v
	}
	return v
}

// fieldFor finds the struct field encoding/json would decode key into:
// the exact name first, then a case-insensitive match, through embedded
// structs.
func fieldFor(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold reflect.StructField
	var folded bool
	var walk func(t reflect.Type) (reflect.StructField, bool)
	walk = func(t reflect.Type) (reflect.StructField, bool) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					if sf, ok := walk(ft); ok {
						return sf, true
					}
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			if name == key {
				return f, true
			}
			if !folded && strings.EqualFold(name, key) {
				fold, folded = f, true
			}
		}
		return reflect.StructField{}, false
	}
	if f, ok := walk(t); ok {
		return f, true
	}
	return fold, folded
}

// decodeInto decodes a document or value the library returned into target
// (a non-nil pointer), with the conversions above.
func decodeInto(text []byte, target any) error {
	tree, err := decodeOrdered(text)
	if err != nil {
		return err
	}
	switch p := target.(type) {
	case *any:
		*p = convertGeneric(tree)
		return nil
	case *map[string]any:
		switch g := convertGeneric(tree).(type) {
		case map[string]any:
			*p = g
			return nil
		case nil:
			*p = nil
			return nil
		}
		return fmt.Errorf("cannot decode %.40s into a map", text)
	case *D:
		return p.UnmarshalJSON(text)
	}
	rt := reflect.TypeOf(target)
	if rt == nil || rt.Kind() != reflect.Pointer {
		return fmt.Errorf("Decode needs a non-nil pointer, not %T", target)
	}
	js, err := json.Marshal(rewriteFor(tree, rt.Elem()))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(js)))
	dec.UseNumber()
	return dec.Decode(target)
}
