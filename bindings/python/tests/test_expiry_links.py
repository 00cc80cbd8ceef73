"""Documents that expire (TTL indexes, insert with ttl) and links between
keys and documents, through the Python binding."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest

import cairn


def test_ttl_index_hides_expired_documents(db: cairn.Database) -> None:
    events = db.collection("events")
    events.create_index({"at": 1}, expireAfterSeconds=3600)
    now = datetime.datetime.now(datetime.timezone.utc)
    events.insert_many(
        [
            {"_id": 1, "at": now - datetime.timedelta(hours=2)},
            {"_id": 2, "at": now},
            {"_id": 3, "at": "not a date"},
        ]
    )
    assert [d["_id"] for d in events.find({}, sort={"_id": 1})] == [2, 3]
    assert events.count_documents({}) == 2
    assert events.find_by_id(1) is None
    spec = next(i for i in events.list_indexes() if i["name"] == "at_1")
    assert spec["expireAfterSeconds"] == 3600


def test_insert_with_ttl_expires_and_gives_up_its_id(db: cairn.Database) -> None:
    sessions = db.collection("sessions")
    sessions.insert_one({"_id": "s1", "user": "ann"}, ttl="1h")
    stored = sessions.find_by_id("s1")
    assert stored is not None and isinstance(stored["_expiresAt"], datetime.datetime)
    sessions.insert_one({"_id": "s2"}, ttl_ms=30)
    sessions.insert_many([{"_id": "s3"}, {"_id": "s4"}], ttl=datetime.timedelta(milliseconds=30))
    time.sleep(0.1)
    assert [d["_id"] for d in sessions.find({})] == ["s1"]
    # The expired s2 gives its _id to a new document.
    assert sessions.insert_one({"_id": "s2"}) == "s2"
    with pytest.raises(cairn.InvalidArgument):
        sessions.insert_one({"_id": "x"}, ttl="soon")
    with db.transaction() as txn:
        with pytest.raises(cairn.InvalidArgument, match="TTL index"):
            txn.collection("other").insert_one({"_id": 1}, ttl="1h")


def test_links_between_keys_and_documents(db: cairn.Database) -> None:
    db.put(b"user:1", b"session")
    db.put(b"\xff\x00", b"binary key")
    docs = db.collection("docs")
    docs.insert_many([{"_id": "a"}, {"_id": "b"}])
    db.link(b"user:1", "docs", "a", {"role": "owner"})
    db.link("user:1", "docs", "b")
    db.link(b"\xff\x00", "docs", "a")
    assert db.links(b"user:1") == [
        {"collection": "docs", "id": "a", "metadata": {"role": "owner"}},
        {"collection": "docs", "id": "b", "metadata": None},
    ]
    assert docs.linked_keys("a") == [(b"user:1", {"role": "owner"}), (b"\xff\x00", None)]
    assert db.unlink(b"user:1", "docs", "b") is True
    assert db.unlink(b"user:1", "docs", "b") is False
    with pytest.raises(cairn.NotFound):
        db.link(b"nobody", "docs", "a")
    # Deleting the document removes its links, in the same transaction.
    docs.delete_one({"_id": "a"})
    assert db.links(b"user:1") == []
    # A key's delete hides its links; unlink_all beside it removes them.
    docs.insert_one({"_id": "c"})
    db.link(b"user:1", "docs", "c")
    with db.transaction() as txn:
        txn.delete(b"user:1")
        assert txn.unlink_all(b"user:1") == 1
    assert docs.linked_keys("c") == []


def test_links_survive_reopen(db_path: Path) -> None:
    with cairn.open(db_path, sync="never") as db:
        db.put(b"k", b"v")
        db.collection("c").insert_one({"_id": 1})
        db.link(b"k", "c", 1, {"n": 1})
    with cairn.open(db_path, sync="never") as db:
        assert db.links(b"k") == [{"collection": "c", "id": 1, "metadata": {"n": 1}}]
        db.collection("c").delete_one({"_id": 1})
        assert db.links(b"k") == []
