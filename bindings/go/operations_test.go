package cairn

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestCheckpointVerifyAndBackups(t *testing.T) {
	db, _ := openTest(t, nil)
	for i := 0; i < 1000; i++ {
		mustPut(t, db, fmt.Sprintf("key%06d", i), fmt.Sprint(i))
	}
	dir := t.TempDir()
	report, err := db.Checkpoint(filepath.Join(dir, "copy"))
	if err != nil || report.Sequence != 1000 {
		t.Fatalf("Checkpoint: %+v, %v", report, err)
	}
	if _, err := db.Checkpoint(filepath.Join(dir, "copy")); err == nil {
		t.Fatal("a checkpoint into a non-empty directory must fail")
	} else {
		wantErr(t, "checkpoint into a full directory", err, ErrInvalidArgument)
	}
	verified, err := Verify(filepath.Join(dir, "copy"))
	if err != nil || !verified.OK || verified.FilesChecked == 0 {
		t.Fatalf("Verify: %+v, %v", verified, err)
	}
	live, err := db.Verify()
	if err != nil || !live.OK {
		t.Fatalf("DB.Verify: %+v, %v", live, err)
	}
	copyDB, err := Open(filepath.Join(dir, "copy"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, copyDB, "key000999", "999")
	copyDB.Close()

	backups := filepath.Join(dir, "backups")
	for round := 0; round < 2; round++ {
		info, err := db.Backup(backups)
		if err != nil || info.ID != uint64(round+1) {
			t.Fatalf("Backup: %+v, %v", info, err)
		}
		mustPut(t, db, "later", fmt.Sprint(round))
	}
	list, err := ListBackups(backups)
	if err != nil || len(list) != 2 || list[0].Sequence != 1000 || list[0].Time().IsZero() {
		t.Fatalf("ListBackups: %+v, %v", list, err)
	}
	if v, err := VerifyBackup(backups, 2); err != nil || !v.OK {
		t.Fatalf("VerifyBackup: %+v, %v", v, err)
	}
	_, err = VerifyBackup(backups, 7)
	wantErr(t, "verify a missing backup", err, ErrNotFound)
	if err := RestoreBackup(backups, 2, filepath.Join(dir, "restored")); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(filepath.Join(dir, "restored"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, restored, "later", "0")
	restored.Close()
	if p, err := PurgeBackups(backups, 1); err != nil || len(p.Deleted) != 1 || p.Deleted[0] != 1 {
		t.Fatalf("PurgeBackups: %+v, %v", p, err)
	}
	if p, err := DeleteBackup(backups, 2); err != nil || len(p.Deleted) != 1 {
		t.Fatalf("DeleteBackup: %+v, %v", p, err)
	}
	if _, err := CollectBackupGarbage(backups); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyAndSecondaryOpens(t *testing.T) {
	db, dir := openTest(t, nil)
	mustPut(t, db, "a", "1")
	_, err := Open(dir, &Options{LockTimeout: 20 * time.Millisecond})
	wantErr(t, "a second writer", err, ErrBusy)
	ro, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	mustGet(t, ro, "a", "1")
	wantErr(t, "a write on a read-only handle", ro.Put([]byte("b"), []byte("2")), ErrReadOnly)
	sec, err := Open(dir, &Options{Secondary: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Close()
	mustPut(t, db, "b", "2")
	if v, _ := sec.Get([]byte("b")); v != nil {
		t.Fatalf("before CatchUp the secondary sees %q", v)
	}
	seq, err := sec.CatchUp()
	if err != nil || seq != 2 {
		t.Fatalf("CatchUp: %d, %v", seq, err)
	}
	mustGet(t, sec, "b", "2")
	_, err = ro.CatchUp()
	wantErr(t, "CatchUp on a read-only handle", err, ErrInvalidArgument)
}
