package cairn

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestLostManifestIsCorruptionAndRepairBringsTheDataBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, &Options{Sync: "never", MemtableSizeMB: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i++ {
		if err := db.Put([]byte(fmt.Sprintf("k%06d", i)), []byte(fmt.Sprintf("value %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, nil)
	wantErr(t, "Open(no MANIFEST)", err, ErrCorruption)
	report, err := Repair(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if report.OldManifest != "missing" || len(report.SetAside) != 0 || !report.RangeDeletionsLost {
		t.Fatalf("report = %+v", report)
	}
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i < 20000; i += 7 {
		mustGet(t, db, fmt.Sprintf("k%06d", i), fmt.Sprintf("value %d", i))
	}
	_, err = Repair(dir, nil)
	wantErr(t, "Repair(open database)", err, ErrBusy)
}
