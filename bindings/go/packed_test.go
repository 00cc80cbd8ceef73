package cairn

import (
	"bytes"
	"testing"
)

func TestPackedListRoundTrip(t *testing.T) {
	items := [][]byte{[]byte("a"), {}, []byte("with\x00nul"), bytes.Repeat([]byte("x"), 300)}
	buf, err := packList(items)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{1, 0, 0, 0, 'a', 0, 0, 0, 0}; !bytes.HasPrefix(buf, want) {
		t.Fatalf("encoding starts %v, want %v", buf[:9], want)
	}
	got, err := unpackList(buf, false)
	if err != nil || len(got) != len(items) {
		t.Fatalf("unpack: %q, %v", got, err)
	}
	for i := range items {
		if !bytes.Equal(got[i], items[i]) || got[i] == nil {
			t.Fatalf("item %d: %q, want %q", i, got[i], items[i])
		}
	}
}

func TestPackedListAbsentAndMalformed(t *testing.T) {
	buf := []byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 'v'}
	got, err := unpackList(buf, true)
	if err != nil || len(got) != 2 || got[0] != nil || string(got[1]) != "v" {
		t.Fatalf("absent: %q, %v", got, err)
	}
	if _, err := unpackList(buf, false); err == nil {
		t.Fatal("absent item accepted in a list that cannot hold one")
	}
	for _, bad := range [][]byte{{1, 0}, {5, 0, 0, 0, 'a'}} {
		if _, err := unpackList(bad, true); err == nil {
			t.Fatalf("malformed list %v accepted", bad)
		}
	}
	if got, err := unpackList(nil, false); err != nil || len(got) != 0 {
		t.Fatalf("empty list: %q, %v", got, err)
	}
}
