"""Change feeds from Python: the iterator with a timeout, `with`, use from a
thread, close from another thread, resume tokens, HistoryLost."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cairn


@pytest.fixture
def feed_db(db_path: Path) -> Iterator[cairn.Database]:
    with cairn.open(db_path, sync="never", change_feed=True) as handle:
        yield handle


def test_off_by_default(db: cairn.Database) -> None:
    with pytest.raises(cairn.InvalidArgument, match="change_feed"):
        db.watch()


def test_events_come_as_python_values_in_commit_order(feed_db: cairn.Database) -> None:
    with feed_db.watch(timeout=0.05) as stream:
        feed_db.put("user:1", b"\x00\x01", ttl="1h")
        people = feed_db.collection("people")
        uid = people.insert_one({"name": "ann", "tags": ["a"]})
        people.update_one({"_id": uid}, {"$set": {"name": "bo"}, "$unset": {"tags": ""}})
        feed_db.delete("user:1")
        events = list(stream)
    assert [e["operationType"] for e in events] == ["put", "create", "insert", "update", "delete"]
    put = events[0]
    assert put["key"] == b"user:1" and put["value"] == b"\x00\x01" and put["ttlMillis"] == 3_600_000
    assert put["ns"] == {"kv": True}
    assert isinstance(put["wallTime"], datetime.datetime)
    assert events[2]["fullDocument"] == {"_id": uid, "name": "ann", "tags": ["a"]}
    assert events[3]["updateDescription"] == {"updatedFields": {"name": "bo"}, "removedFields": ["tags"]}
    tokens = [(e["_id"]["seq"], e["_id"]["pos"]) for e in events]
    assert tokens == sorted(tokens) and len(set(tokens)) == len(tokens)
    assert stream.closed


def test_collection_watch_filter_and_full_document(feed_db: cairn.Database) -> None:
    feed_db.create_collection("orders", change_stream_pre_and_post_images=True)
    orders = feed_db.collection("orders")
    with orders.watch(
        filter={"operationType": "update", "fullDocument.status": "paid"},
        full_document="whenAvailable",
        full_document_before_change="whenAvailable",
        timeout=0.05,
    ) as stream:
        orders.insert_one({"_id": 1, "status": "new"})
        orders.update_one({"_id": 1}, {"$set": {"status": "paid"}})
        orders.update_one({"_id": 1}, {"$set": {"note": "x"}})
        feed_db.collection("other").insert_one({"_id": 1, "status": "paid"})
        events = list(stream)
    assert len(events) == 2
    assert events[0]["fullDocumentBeforeChange"] == {"_id": 1, "status": "new"}
    assert events[1]["fullDocument"] == {"_id": 1, "status": "paid", "note": "x"}


def test_resume_token_across_reopen(db_path: Path) -> None:
    with cairn.open(db_path, sync="never", change_feed=True) as db:
        stream = db.watch(key_prefix="k", timeout=0.05)
        for i in range(5):
            db.put(f"k{i}", "v")
        first = stream.next_event(timeout=1)
        assert first is not None and first["key"] == b"k0"
        token = stream.resume_token
        assert token == first["_id"]
        stream.close()
    with cairn.open(db_path, sync="never", change_feed=True) as db:
        with db.watch(key_prefix="k", resume_after=token, timeout=0.05) as resumed:
            assert [e["key"] for e in resumed] == [b"k1", b"k2", b"k3", b"k4"]
        everything = db.watch(start_at_operation_time=1, timeout=0.05)
        assert [e["key"] for e in everything] == [b"k0", b"k1", b"k2", b"k3", b"k4"]
        since = db.watch(start_at_operation_time=first["wallTime"], timeout=0.05)
        assert len(list(since)) == 5
    # Written without the feed: resuming across that gap is HistoryLost.
    with cairn.open(db_path, sync="never") as db:
        db.put("k9", "v")
    with cairn.open(db_path, sync="never", change_feed=True) as db:
        with pytest.raises(cairn.HistoryLost):
            db.watch(resume_after=token)


def test_iterates_in_a_thread_and_close_from_another_thread_ends_it(feed_db: cairn.Database) -> None:
    received: list[dict[str, Any]] = []
    stream = feed_db.watch()  # no timeout: waits until closed

    def consume() -> None:
        for event in stream:
            received.append(event)

    thread = threading.Thread(target=consume)
    thread.start()
    for i in range(20):
        feed_db.put(f"t{i}", "v")
    deadline = time.monotonic() + 5
    while len(received) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.close()
    thread.join(timeout=5)
    assert not thread.is_alive(), "close() from another thread ends the iteration"
    assert [e["key"] for e in received] == [f"t{i}".encode() for i in range(20)]
    with pytest.raises(cairn.Closed):
        next(stream)


def test_next_event_times_out_and_misuse_raises(feed_db: cairn.Database) -> None:
    stream = feed_db.watch()
    start = time.monotonic()
    assert stream.next_event(timeout=0.1) is None
    assert time.monotonic() - start >= 0.09
    with pytest.raises(TypeError):
        feed_db.watch("c", key_prefix="k")
    with pytest.raises(cairn.InvalidArgument):
        feed_db.watch(full_document="sometimes")  # type: ignore[arg-type]
    with pytest.raises(cairn.InvalidArgument):
        feed_db.watch(resume_after={"seq": -1, "pos": 0})
    stream.close()
    stream.close()


def test_database_close_ends_a_watch_with_closed(db_path: Path) -> None:
    db = cairn.open(db_path, sync="never", change_feed=True)
    stream = db.watch()
    db.close()
    with pytest.raises(cairn.Closed):
        stream.next_event(timeout=0)
    stream.close()


def test_retention_trims_and_a_slow_watch_gets_history_lost(db_path: Path) -> None:
    with cairn.open(db_path, sync="never", change_feed={"retention_bytes": 20000, "retention_seconds": 0}) as db:
        slow = db.watch()
        for i in range(100):
            db.put(f"k{i}", b"x" * 1000)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                db.watch(start_at_operation_time=1)
            except cairn.HistoryLost:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the history was not trimmed to its retention")
        with pytest.raises(cairn.HistoryLost):
            slow.next_event(timeout=0)
