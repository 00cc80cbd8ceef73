"""Incremental backups (cairn_backup_*): a backup directory where tables
shared between backups are stored once, as RocksDB's BackupEngine keeps
them; docs/format/backup.md describes the layout.

    import cairn
    from cairn import backup

    with cairn.open("data") as db:
        made = backup.create(db, "/backups/data")   # {"id": 1, "sequence": ..., ...}
    backup.list("/backups/data")                    # [{"id": 1, ...}], oldest first
    backup.verify("/backups/data", 1)["ok"]         # every file's checksum
    backup.restore("/backups/data", 1, "/tmp/restored")
    backup.purge("/backups/data", keep=7)

A backup is listed only once it is complete, also after a crash.
"""

from __future__ import annotations

import json
import os
from ctypes import byref, c_char_p, c_size_t
from typing import TYPE_CHECKING, Any

from . import errors
from ._convert import take_buffer
from ._ffi import lib

if TYPE_CHECKING:
    from .database import Database

__all__ = ["create", "list", "verify", "restore", "purge", "delete", "collect_garbage"]

_list = list


def _path(path: str | os.PathLike[str], what: str) -> bytes:
    raw = os.fsencode(path)
    if b"\0" in raw:
        errors.invalid(f"{what} contains a NUL byte")
    return raw


def _id(backup_id: int) -> int:
    if not isinstance(backup_id, int) or isinstance(backup_id, bool) or not 0 <= backup_id < 1 << 64:
        errors.invalid(f"backup_id must be an int >= 0, not {backup_id!r}")
    return backup_id


def _json(fn: Any, *args: Any) -> Any:
    text, text_len = c_char_p(), c_size_t()
    errors.call(fn, *args, byref(text), byref(text_len))
    return json.loads(take_buffer(text, text_len.value))


def create(db: Database, backup_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Backs `db` up into `backup_dir` (created when absent) at one sequence
    while writes go on, copying only the tables not stored yet. Returns the
    backup: "id", "timestamp_ms", "sequence", "size", "files",
    "copied_bytes", "reused_bytes"."""
    result: dict[str, Any] = _json(lib.cairn_backup_create, db._handle(), _path(backup_dir, "backup_dir"))
    return result


def list(backup_dir: str | os.PathLike[str]) -> _list[dict[str, Any]]:  # noqa: A001 - the module's verb
    """Every complete backup, oldest first (the objects create() returns)."""
    result: _list[dict[str, Any]] = _json(lib.cairn_backup_list, _path(backup_dir, "backup_dir"))
    return result


def verify(backup_dir: str | os.PathLike[str], backup_id: int) -> dict[str, Any]:
    """Reads every file of the backup and checks its size and CRC-32C; the
    report's "ok" is False (and "files" name the damage) when one fails."""
    result: dict[str, Any] = _json(lib.cairn_backup_verify, _path(backup_dir, "backup_dir"), _id(backup_id))
    return result


def restore(backup_dir: str | os.PathLike[str], backup_id: int, target_dir: str | os.PathLike[str]) -> None:
    """Restores the backup into `target_dir` (absent or empty), checking
    every checksum; the result opens with cairn.open()."""
    errors.call(lib.cairn_backup_restore, _path(backup_dir, "backup_dir"), _id(backup_id), _path(target_dir, "target_dir"))


def purge(backup_dir: str | os.PathLike[str], keep: int) -> dict[str, Any]:
    """Keeps the newest `keep` backups, deletes the others and every file
    only they used. Returns {"deleted": [ids], "removed_files", "freed_bytes"}."""
    if not isinstance(keep, int) or isinstance(keep, bool) or not 0 <= keep < 0xFFFFFFFF:
        errors.invalid(f"keep must be an int from 0 to {0xFFFFFFFF - 1}, not {keep!r}")
    result: dict[str, Any] = _json(lib.cairn_backup_purge, _path(backup_dir, "backup_dir"), keep)
    return result


def delete(backup_dir: str | os.PathLike[str], backup_id: int) -> dict[str, Any]:
    """Deletes one backup and every file only it used (purge()'s report)."""
    result: dict[str, Any] = _json(lib.cairn_backup_delete, _path(backup_dir, "backup_dir"), _id(backup_id))
    return result


def collect_garbage(backup_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Removes files no backup uses (what a crash during a backup left)."""
    result: dict[str, Any] = _json(lib.cairn_backup_purge, _path(backup_dir, "backup_dir"), 0xFFFFFFFF)
    return result
