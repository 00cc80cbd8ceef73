"""The batched and buffer-reusing paths of the binding (issue 11, "Python
throughput"): iteration, keys(), items(), values(), len() and find cursors
read many items per call (cairn_iter_next_batch, cairn_cursor_next_batch),
get() copies into a reused buffer (cairn_get_into). These check that they
give exactly what the one-item-at-a-time paths gave, for every shape of
batch; they assert no speed. Also put_if_absent, ttl and touch."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

import cairn


def _fill(db: cairn.Database, n: int) -> list[tuple[bytes, bytes]]:
    """n keys of varying lengths with values of varying lengths (empty too)."""
    items = [(b"k%0*d" % (1 + i % 7, i), b"v" * (i % 5)) for i in range(n)]
    with db.batch() as batch:
        for key, value in items:
            batch.put(key, value)
    return sorted(dict(items).items())


@pytest.mark.parametrize("batch_size", [0, 1, 3, 64, 5000])
def test_iteration_in_batches_gives_every_item_in_order(db: cairn.Database, batch_size: int) -> None:
    want = _fill(db, 1500)
    with db.iterate(batch_size=batch_size) as it:
        assert list(it) == want
    with db.iterate(reverse=True, batch_size=batch_size) as it:
        assert list(it) == want[::-1]
    assert list(db) == [k for k, _ in want]
    assert len(db) == len(want)
    assert db.items() == want
    assert db.keys() == [k for k, _ in want]
    assert db.values() == [v for _, v in want]


def test_uniform_and_mixed_lengths_split_alike(db: cairn.Database) -> None:
    # Every key and value of one length takes the struct fast path; one odd
    # item in a batch takes the general one.
    for i in range(200):
        db.put(b"u%05d" % i, b"x" * 10)
    db.put(b"u00100", b"")
    items = db.items(prefix=b"u")
    assert len(items) == 200 and items[100] == (b"u00100", b"") and items[101] == (b"u00101", b"x" * 10)
    assert db.keys(prefix=b"u", limit=3, offset=198) == [b"u00198", b"u00199"]


def test_next_seek_and_for_share_one_position(db: cairn.Database) -> None:
    want = _fill(db, 300)
    with db.iterate() as it:
        assert next(it) == want[0]
        got = []
        for item in it:
            got.append(item)
            if len(got) == 10:
                break
        assert got == want[1:11]
        assert next(it) == want[11]
        it.seek(want[200][0])
        assert [item for _, item in zip(range(3), it)] == want[200:203]
        assert next(it) == want[203]


def test_a_seek_during_a_for_loop_drops_the_items_read_ahead(db: cairn.Database) -> None:
    want = _fill(db, 300)
    seen = []
    with db.iterate() as it:
        for key, _ in it:
            seen.append(key)
            if key == want[5][0]:
                it.seek(want[250][0])
    assert seen == [k for k, _ in want[:6]] + [k for k, _ in want[250:]]


def test_closing_stops_a_running_loop(db: cairn.Database) -> None:
    _fill(db, 300)
    it = db.iterate()
    got = []
    with pytest.raises(cairn.Closed):
        for item in it:
            got.append(item)
            if len(got) == 3:
                it.close()
    assert len(got) == 3


def test_binary_prefixes_and_empty_values(db: cairn.Database) -> None:
    db.put(b"\x00\xff", b"")
    db.put(b"\x00\xff\x00", b"\x00")
    db.put(b"\x01", b"z")
    assert db.items(prefix=b"\x00\xff") == [(b"\x00\xff", b""), (b"\x00\xff\x00", b"\x00")]
    assert db.keys(prefix=b"\x00") == [b"\x00\xff", b"\x00\xff\x00"]


def test_get_copies_values_of_every_size(db: cairn.Database) -> None:
    sizes = [0, 1, 4095, 4096, 4097, 70000, (1 << 20) + 3]
    for size in sizes:
        db.put(b"s%d" % size, bytes(range(256)) * (size // 256) + b"\x07" * (size % 256))
    for size in sizes:
        value = db.get(b"s%d" % size)
        assert value is not None and len(value) == size
        assert value == bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    assert db.get(b"missing") is None
    assert db.get("s0") == b""


def test_get_from_many_threads_keeps_each_threads_value(db: cairn.Database) -> None:
    for t in range(4):
        db.put(f"t{t}", f"value of thread {t}" * (t * 500 + 1))
    failures: list[str] = []

    def reader(t: int) -> None:
        want = f"value of thread {t}".encode() * (t * 500 + 1)
        for _ in range(2000):
            if db.get(f"t{t}") != want:
                failures.append(f"thread {t}")
                return

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("batch_size", [0, 1, 7])
def test_find_in_batches(db: cairn.Database, batch_size: int) -> None:
    users = db.collection("users")
    docs = [{"_id": i, "n": i % 10, "when": datetime.datetime(2026, 1, 1 + i % 28, tzinfo=datetime.timezone.utc)}
            for i in range(300)]
    users.insert_many(docs)
    users.insert_one({"_id": "plain", "s": "no dollar here"})
    assert list(users.find({"n": {"$lt": 10}})) == docs  # dates decode through the hook
    assert list(users.find({"_id": "plain"})) == [{"_id": "plain", "s": "no dollar here"}]
    # Descending, strings sort after numbers: "plain" comes first and is skipped.
    assert [d["_id"] for d in users.find({}, sort={"_id": -1}, limit=5, skip=1)] == [299, 298, 297, 296, 295]


def test_put_if_absent(db: cairn.Database) -> None:
    assert db.put_if_absent("a", "1") is True
    assert db.put_if_absent("a", "2") is False
    assert db["a"] == b"1"
    assert db.put_if_absent("b", "x", ttl_ms=1) is True
    time.sleep(0.03)
    assert db.put_if_absent("b", "y") is True  # an expired key counts as absent
    assert db["b"] == b"y"
    with pytest.raises(cairn.InvalidArgument):
        db.put_if_absent("c", "1", ttl_ms=-1)
    with db.transaction() as txn:
        assert txn.put_if_absent("c", "1") is True
        assert txn.put_if_absent("c", "2") is False
    assert db["c"] == b"1"


def test_put_if_absent_races_store_once(db: cairn.Database) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def racer(t: int) -> None:
        for i in range(200):
            stored = db.put_if_absent(f"race{i}", f"{t}")
            with lock:
                results.append(stored)

    threads = [threading.Thread(target=racer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 200


def test_ttl_and_touch(db: cairn.Database) -> None:
    db.put("plain", "p")
    db.put("session", "s", ttl="1h")
    assert db.ttl("plain") is None and db.ttl_ms("plain") == 0
    remaining = db.ttl("session")
    assert remaining is not None and datetime.timedelta(minutes=59) < remaining <= datetime.timedelta(hours=1)
    assert db.touch("session", ttl="10s") is True
    assert 9000 < db.ttl_ms("session") <= 10000
    assert db["session"] == b"s"
    assert db.touch("session") is True  # no TTL: never expires
    assert db.ttl_ms("session") == 0
    assert db.touch("missing", ttl_ms=5) is False
    with pytest.raises(KeyError):
        db.ttl("missing")
    db.put("short", "x", ttl_ms=1)
    time.sleep(0.03)
    assert db.touch("short", ttl="1h") is False
    with pytest.raises(KeyError):
        db.ttl_ms("short")
    with pytest.raises(cairn.InvalidArgument):
        db.touch("plain", ttl_ms=-1)
    with db.transaction() as txn:
        txn.put("t", "v", ttl_ms=5000)
        assert txn.ttl_ms("t") == 5000
        assert txn.touch("t", ttl_ms=7000)
        assert txn.ttl_ms("t") == 7000
    assert 0 < db.ttl_ms("t") <= 7000
