package cairn

// Extended JSON values: documents hold dates as {"$date": "...Z"} and bytes
// as {"$binary": {"base64": "...", "subType": "00"}}. DateTime and
// BinaryData marshal to and from these forms, so that struct fields of
// these types round-trip through documents and filters.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// dateLayout is the form of "$date": UTC with milliseconds.
const dateLayout = "2006-01-02T15:04:05.000Z"

// DateTime is a time stored in a document as a date, which sorts and
// compares as a date (not as a string) in filters:
//
//	coll.InsertOne(map[string]any{"at": cairn.Date(time.Now())})
//	coll.Count(map[string]any{"at": map[string]any{"$gte": cairn.Date(since)}})
//
// It marshals to {"$date": "2026-11-21T16:17:05.123Z"}: in UTC, with the
// sub-millisecond part dropped, as documents store dates. The embedded
// time.Time gives every time method.
type DateTime struct {
	time.Time
}

// Date returns t as a document date.
func Date(t time.Time) DateTime { return DateTime{t} }

// MarshalJSON writes {"$date": "..."}. Years outside 0..9999 are an error.
func (d DateTime) MarshalJSON() ([]byte, error) {
	t := d.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("cairn: DateTime: year %d outside 0..9999", y)
	}
	return []byte(`{"$date":"` + t.Format(dateLayout) + `"}`), nil
}

// UnmarshalJSON reads {"$date": "..."} (an RFC 3339 time); null leaves d
// unchanged.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var v struct {
		Date *string `json:"$date"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Date == nil {
		return fmt.Errorf("cairn: DateTime: want {\"$date\": \"...\"}, got %.40s", b)
	}
	t, err := time.Parse(time.RFC3339Nano, *v.Date)
	if err != nil {
		return fmt.Errorf("cairn: DateTime: %v", err)
	}
	d.Time = t
	return nil
}

// BinaryData is a byte string stored in a document as binary data (not as
// a base64 string, which is how encoding/json writes a bare []byte). It
// marshals to {"$binary": {"base64": "...", "subType": "00"}}.
type BinaryData struct {
	Data    []byte
	Subtype byte // the BSON binary subtype; 0 is generic
}

// Binary returns b as generic (subtype 0) binary data for a document.
func Binary(b []byte) BinaryData { return BinaryData{Data: b} }

// MarshalJSON writes {"$binary": {"base64": "...", "subType": "xx"}}.
func (b BinaryData) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"$binary":{"base64":"%s","subType":"%02x"}}`,
		base64.StdEncoding.EncodeToString(b.Data), b.Subtype)), nil
}

// UnmarshalJSON reads {"$binary": {"base64": "...", "subType": "xx"}}; null
// leaves b unchanged.
func (b *BinaryData) UnmarshalJSON(text []byte) error {
	if string(text) == "null" {
		return nil
	}
	var v struct {
		Binary *struct {
			Base64  string `json:"base64"`
			SubType string `json:"subType"`
		} `json:"$binary"`
	}
	if err := json.Unmarshal(text, &v); err != nil || v.Binary == nil {
		return fmt.Errorf("cairn: BinaryData: want {\"$binary\": {...}}, got %.40s", text)
	}
	data, err := base64.StdEncoding.DecodeString(v.Binary.Base64)
	if err != nil {
		return fmt.Errorf("cairn: BinaryData: %v", err)
	}
	sub, err := strconv.ParseUint(v.Binary.SubType, 16, 8)
	if err != nil {
		return fmt.Errorf("cairn: BinaryData: subType %q: %v", v.Binary.SubType, err)
	}
	b.Data, b.Subtype = data, byte(sub)
	return nil
}
