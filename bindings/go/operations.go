package cairn

/*
#include <stdlib.h>
#include "cairn.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// CheckpointReport says what DB.Checkpoint copied.
type CheckpointReport struct {
	Directory    string `json:"directory"`
	Sequence     uint64 `json:"sequence"` // the copy holds every write up to it
	LinkedTables int    `json:"linked_tables"`
	CopiedTables int    `json:"copied_tables"`
	TableBytes   int64  `json:"table_bytes"`
	LogSegments  int    `json:"log_segments"`
	LogBytes     int64  `json:"log_bytes"`
	Micros       int64  `json:"micros"`
}

// VerifyReport is what Verify, DB.Verify and VerifyBackup found.
type VerifyReport struct {
	OK           bool   `json:"ok"` // every file verified
	Directory    string `json:"directory"`
	FilesChecked int    `json:"files_checked"`
	FilesDamaged int    `json:"files_damaged"`
	BytesChecked int64  `json:"bytes_checked"`
	Sequence     uint64 `json:"sequence"`
	Files        []struct {
		File    string `json:"file"`
		Kind    string `json:"kind"` // "manifest", "table", "log"; "shared", "private" in a backup
		Bytes   int64  `json:"bytes"`
		Blocks  int    `json:"blocks"`
		Records int    `json:"records"`
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Note    string `json:"note"`
	} `json:"files"`
	Notes []string `json:"notes"`
}

// BackupInfo describes one backup in a backup directory.
type BackupInfo struct {
	ID          uint64 `json:"id"`
	TimestampMS int64  `json:"timestamp_ms"`
	Sequence    uint64 `json:"sequence"` // the backup holds every write up to it
	Size        int64  `json:"size"`
	Files       int    `json:"files"`
	DatabaseID  string `json:"database_id"`
	CopiedBytes int64  `json:"copied_bytes"`
	ReusedBytes int64  `json:"reused_bytes"`
}

// Time is when the backup was taken.
func (b BackupInfo) Time() time.Time { return time.UnixMilli(b.TimestampMS) }

// PurgeReport says what PurgeBackups and DeleteBackup removed.
type PurgeReport struct {
	Deleted      []uint64 `json:"deleted"`
	RemovedFiles int      `json:"removed_files"`
	FreedBytes   int64    `json:"freed_bytes"`
}

func cpath(op, what, path string) (*C.char, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return nil, argErr(op, "%s is empty or contains a NUL byte", what)
	}
	return C.CString(path), nil
}

func decode[T any](op string, text []byte, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal(text, &out); err != nil {
		return nil, argErr(op, "bad report: %v", err)
	}
	return &out, nil
}

// Checkpoint writes a consistent copy of the database into dir (absent or
// empty) while writes go on (cairn_checkpoint). The copy opens with Open.
func (db *DB) Checkpoint(dir string) (*CheckpointReport, error) {
	h, err := db.handle("Checkpoint")
	if err != nil {
		return nil, err
	}
	cdir, err := cpath("Checkpoint", "dir", dir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON("Checkpoint", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_checkpoint(h, cdir, out, n, msg)
	})
	return decode[CheckpointReport]("Checkpoint", text, err)
}

// Verify verifies the database's live files while writes go on
// (cairn_verify_live). Damage is in the report, not an error.
func (db *DB) Verify() (*VerifyReport, error) {
	h, err := db.handle("Verify")
	if err != nil {
		return nil, err
	}
	text, err := callJSON("Verify", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_verify_live(h, out, n, msg)
	})
	return decode[VerifyReport]("Verify", text, err)
}

// CatchUp brings a database opened with Options.Secondary up to its
// writer's last write (cairn_catch_up) and returns the sequence now visible.
func (db *DB) CatchUp() (uint64, error) {
	h, err := db.handle("CatchUp")
	if err != nil {
		return 0, err
	}
	var sequence C.uint64_t
	var msg *C.char
	rc := C.cairn_catch_up(h, &sequence, &msg)
	runtime.KeepAlive(db)
	return uint64(sequence), statusErr("CatchUp", rc, msg)
}

// Verify verifies the database in directory path (cairn_verify): every
// table block and live log record checksum. Damage is in the report.
func Verify(path string) (*VerifyReport, error) {
	cp, err := cpath("Verify", "path", path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cp))
	text, err := callJSON("Verify", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		return C.cairn_verify(cp, nil, 0, out, n, msg)
	})
	return decode[VerifyReport]("Verify", text, err)
}

// Backup backs the database up into backupDir (created when absent),
// copying only the tables it does not hold yet (cairn_backup_create).
func (db *DB) Backup(backupDir string) (*BackupInfo, error) {
	h, err := db.handle("Backup")
	if err != nil {
		return nil, err
	}
	cdir, err := cpath("Backup", "backupDir", backupDir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON("Backup", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		defer runtime.KeepAlive(db)
		return C.cairn_backup_create(h, cdir, out, n, msg)
	})
	return decode[BackupInfo]("Backup", text, err)
}

// ListBackups returns the complete backups in backupDir, oldest first.
func ListBackups(backupDir string) ([]BackupInfo, error) {
	cdir, err := cpath("ListBackups", "backupDir", backupDir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON("ListBackups", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		return C.cairn_backup_list(cdir, out, n, msg)
	})
	list, err := decode[[]BackupInfo]("ListBackups", text, err)
	if err != nil {
		return nil, err
	}
	return *list, nil
}

// VerifyBackup reads every file of backup id and checks its checksum.
func VerifyBackup(backupDir string, id uint64) (*VerifyReport, error) {
	cdir, err := cpath("VerifyBackup", "backupDir", backupDir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON("VerifyBackup", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		return C.cairn_backup_verify(cdir, C.uint64_t(id), out, n, msg)
	})
	return decode[VerifyReport]("VerifyBackup", text, err)
}

// RestoreBackup restores backup id into targetDir (absent or empty),
// checking every checksum; the result opens with Open.
func RestoreBackup(backupDir string, id uint64, targetDir string) error {
	cdir, err := cpath("RestoreBackup", "backupDir", backupDir)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cdir))
	ctarget, err := cpath("RestoreBackup", "targetDir", targetDir)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ctarget))
	var msg *C.char
	rc := C.cairn_backup_restore(cdir, C.uint64_t(id), ctarget, &msg)
	return statusErr("RestoreBackup", rc, msg)
}

// PurgeBackups keeps the newest keep backups and deletes the others, with
// every file only they used.
func PurgeBackups(backupDir string, keep int) (*PurgeReport, error) {
	if keep < 0 || keep >= 0xFFFFFFFF {
		return nil, argErr("PurgeBackups", "keep must be from 0 to %d", 0xFFFFFFFE)
	}
	return purge("PurgeBackups", backupDir, C.uint32_t(keep))
}

// CollectBackupGarbage removes files no backup uses (a crash's leftovers).
func CollectBackupGarbage(backupDir string) (*PurgeReport, error) {
	return purge("CollectBackupGarbage", backupDir, C.uint32_t(0xFFFFFFFF))
}

func purge(op, backupDir string, keep C.uint32_t) (*PurgeReport, error) {
	cdir, err := cpath(op, "backupDir", backupDir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON(op, func(out **C.char, n *C.size_t, msg **C.char) C.int {
		return C.cairn_backup_purge(cdir, keep, out, n, msg)
	})
	return decode[PurgeReport](op, text, err)
}

// DeleteBackup deletes backup id and every file only it used.
func DeleteBackup(backupDir string, id uint64) (*PurgeReport, error) {
	cdir, err := cpath("DeleteBackup", "backupDir", backupDir)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cdir))
	text, err := callJSON("DeleteBackup", func(out **C.char, n *C.size_t, msg **C.char) C.int {
		return C.cairn_backup_delete(cdir, C.uint64_t(id), out, n, msg)
	})
	return decode[PurgeReport]("DeleteBackup", text, err)
}
