"""Checkpoints, verification, backups, and read-only and secondary opens
beside a writer in another process (issue 17)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cairn
from cairn import backup

WRITER = textwrap.dedent(
    """
    import sys
    import cairn

    with cairn.open(sys.argv[1], sync="never", memtable_size_mb=1) as db:
        i = 0
        while True:
            db.put(b"key%08d" % i, b"value-%d" % i)
            i += 1
            if i % 500 == 0:
                print("ack", i, flush=True)
    """
)


def _key(i: int) -> bytes:
    return b"key%08d" % i


def test_checkpoint_opens_as_a_database(db: cairn.Database, tmp_path: Path) -> None:
    for i in range(2000):
        db.put(_key(i), b"v%d" % i)
    report = db.checkpoint(tmp_path / "copy")
    assert report["sequence"] == 2000
    db.put(_key(2000), b"later")
    with cairn.open(tmp_path / "copy") as copy:
        assert copy.get(_key(1999)) == b"v1999"
        assert copy.get(_key(2000)) is None
    assert cairn.verify(tmp_path / "copy")["ok"] is True
    with pytest.raises(cairn.InvalidArgument):
        db.checkpoint(tmp_path / "copy")  # not empty


def test_verify_reports_damage_by_file(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with cairn.open(path, sync="never", compression="none") as db:
        for i in range(3000):
            db.put(_key(i), b"x" * 100)
        db.flush()
        assert db.verify()["ok"] is True
    table = sorted(p for p in path.iterdir() if p.suffix == ".sst")[0]
    data = bytearray(table.read_bytes())
    data[50] ^= 0xFF
    table.write_bytes(bytes(data))
    report = cairn.verify(path)
    assert report["ok"] is False
    assert [f["file"] for f in report["files"] if not f["ok"]] == [table.name]
    with pytest.raises(cairn.NotFound):
        cairn.verify(tmp_path / "none")


def test_backups_create_list_verify_restore_purge(db: cairn.Database, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    for round_number in range(3):
        for i in range(round_number * 1000, (round_number + 1) * 1000):
            db.put(_key(i), b"v%d" % i)
        made = db.backup(backups) if round_number == 0 else backup.create(db, backups)
        assert made["id"] == round_number + 1
    listed = backup.list(backups)
    assert [b["id"] for b in listed] == [1, 2, 3]
    assert [b["sequence"] for b in listed] == [1000, 2000, 3000]
    assert all(backup.verify(backups, b["id"])["ok"] for b in listed)
    backup.restore(backups, 2, tmp_path / "restored")
    with cairn.open(tmp_path / "restored") as restored:
        assert restored.get(_key(1999)) == b"v1999"
        assert restored.get(_key(2000)) is None
    with pytest.raises(cairn.NotFound):
        backup.verify(backups, 42)
    assert backup.purge(backups, keep=1)["deleted"] == [1, 2]
    assert [b["id"] for b in backup.list(backups)] == [3]
    assert backup.delete(backups, 3)["deleted"] == [3]
    assert backup.list(backups) == []
    assert backup.collect_garbage(backups)["deleted"] == []


def test_read_only_and_secondary_follow_a_writer_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None

    def acknowledged(at_least: int) -> int:
        assert writer.stdout is not None
        while True:
            line = writer.stdout.readline()
            assert line, "the writer ended"
            count = int(line.split()[1])
            if count >= at_least:
                return count

    try:
        first = acknowledged(2000)
        with pytest.raises(cairn.Busy, match=f"pid {writer.pid}"):
            cairn.open(path)
        with cairn.open(path, read_only=True) as reader:
            assert reader.get(_key(first - 1)) == b"value-%d" % (first - 1)
            with pytest.raises(cairn.ReadOnly):
                reader.put(b"k", b"v")
        with cairn.open(path, secondary=True) as secondary:
            for _ in range(3):
                now = acknowledged(first + 5000)
                assert secondary.catch_up() >= now
                assert secondary.get(_key(now - 1)) == b"value-%d" % (now - 1)
                first = now
    finally:
        writer.kill()
        writer.wait()


def test_lock_timeout_waits_then_busy(db_path: Path) -> None:
    with cairn.open(db_path):
        with pytest.raises(cairn.Busy, match="this process"):
            cairn.open(db_path, lock_timeout_ms=50)
