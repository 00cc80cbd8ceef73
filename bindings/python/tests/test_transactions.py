"""Transactions: snapshot reads, read-your-writes, commit, rollback, conflicts."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import cairn


@pytest.fixture
def accounts(db: cairn.Database) -> cairn.Collection:
    coll = db.collection("accounts")
    coll.insert_many([{"_id": "ann", "balance": 10}, {"_id": "bob", "balance": 0}])
    return coll


def balances(coll: cairn.Collection) -> dict[str, int]:
    return {doc["_id"]: doc["balance"] for doc in coll.find()}


# -- commit and rollback --------------------------------------------------------------


def test_with_commits_every_write_at_once(db: cairn.Database, accounts: cairn.Collection) -> None:
    with db.transaction() as txn:
        assert isinstance(txn, cairn.Transaction) and not txn.read_only
        moved = txn.collection("accounts")
        moved.update_one({"_id": "ann"}, {"$inc": {"balance": -4}})
        moved.update_one({"_id": "bob"}, {"$inc": {"balance": 4}})
        txn.put("audit:1", "ann->bob 4")
        assert balances(accounts) == {"ann": 10, "bob": 0}  # others see nothing yet
        assert db.get("audit:1") is None
    assert txn.closed
    assert balances(accounts) == {"ann": 6, "bob": 4}
    assert db.get("audit:1") == b"ann->bob 4"


def test_with_rolls_back_when_the_block_raises(db: cairn.Database, accounts: cairn.Collection) -> None:
    with pytest.raises(RuntimeError, match="boom"), db.transaction() as txn:
        txn.collection("accounts").update_one({"_id": "ann"}, {"$set": {"balance": 0}})
        txn.put("k", "v")
        raise RuntimeError("boom")
    assert txn.closed
    assert balances(accounts) == {"ann": 10, "bob": 0}
    assert db.get("k") is None


def test_explicit_commit_and_rollback(db: cairn.Database) -> None:
    txn = db.transaction()
    txn.put("a", "1")
    txn.commit()
    assert db.get("a") == b"1"
    txn = db.transaction()
    txn.put("b", "2")
    txn.delete("a")
    txn.rollback()
    assert (db.get("a"), db.get("b")) == (b"1", None)
    with db.transaction() as txn:  # ended inside the block: `with` leaves it be
        txn.put("c", "3")
        txn.rollback()
    assert db.get("c") is None


def test_an_ended_transaction_raises_closed(db: cairn.Database) -> None:
    txn = db.transaction()
    coll = txn.collection("c")
    txn.commit()
    assert repr(txn) == "<cairn.Transaction ended>"
    txn.rollback()  # idempotent, as close() is
    txn.close()
    calls: list[Callable[[], Any]] = [
        txn.commit,
        lambda: txn.put("k", "v"),
        lambda: txn.get("k"),
        lambda: txn.delete("k"),
        lambda: txn.get_many(["k"]),
        lambda: coll.insert_one({"x": 1}),
        lambda: coll.find_one(),
        txn.list_collections,
        txn.__enter__,
    ]
    for call in calls:
        with pytest.raises(cairn.Closed):
            call()


# -- what a transaction sees -----------------------------------------------------------


def test_a_transaction_reads_its_own_writes(db: cairn.Database, accounts: cairn.Collection) -> None:
    with db.transaction() as txn:
        txn.put("k", "v")
        txn["j"] = "w"
        assert txn.get("k") == b"v" and txn["j"] == b"w" and "k" in txn
        assert txn.get_many(["k", "j", "nope"]) == [b"v", b"w", None]
        txn.delete("k")
        assert txn.get("k") is None

        coll = txn.collection("accounts")
        coll.insert_one({"_id": "cy", "balance": 3})
        coll.update_one({"_id": "ann"}, {"$inc": {"balance": 1}})
        coll.delete_one({"_id": "bob"})
        assert coll.count() == 2
        assert coll.find_by_id("cy") == {"_id": "cy", "balance": 3}
        assert coll.find_one({"_id": "ann"}) == {"_id": "ann", "balance": 11}
        assert [d["_id"] for d in coll.find(sort={"balance": -1})] == ["ann", "cy"]
        assert coll.distinct("balance") == [3, 11]
        total = list(coll.aggregate([{"$group": {"_id": None, "sum": {"$sum": "$balance"}}}]))
        assert total == [{"_id": None, "sum": 14}]
        assert coll.find_one_and_update({"_id": "cy"}, {"$inc": {"balance": 1}}, return_document="after") == {
            "_id": "cy",
            "balance": 4,
        }
        assert balances(accounts) == {"ann": 10, "bob": 0}  # still the old state outside
    assert balances(accounts) == {"ann": 11, "cy": 4}


def test_a_transaction_reads_one_snapshot(db: cairn.Database, accounts: cairn.Collection) -> None:
    db.put("k", "old")
    with db.transaction(read_only=True) as txn:
        db.put("k", "new")
        accounts.update_one({"_id": "ann"}, {"$set": {"balance": 99}})
        accounts.insert_one({"_id": "cy", "balance": 1})
        assert txn.get("k") == b"old"
        assert balances(txn.collection("accounts")) == {"ann": 10, "bob": 0}
    assert db.get("k") == b"new"


def test_a_cursor_in_a_transaction_sees_the_writes_made_before_it_opened(db: cairn.Database) -> None:
    with db.transaction() as txn:
        coll = txn.collection("c")
        coll.insert_many([{"_id": 1}, {"_id": 2}])
        with coll.find() as cursor:
            coll.insert_one({"_id": 3})
            assert [d["_id"] for d in cursor] == [1, 2]
        assert coll.count() == 3


def test_collections_of_a_transaction(db: cairn.Database, accounts: cairn.Collection) -> None:
    with db.transaction() as txn:
        coll = txn.collection("accounts")
        assert (coll.database, coll.transaction, accounts.transaction) == (db, txn, None)
        assert repr(coll) == "<cairn.Collection 'accounts' in a transaction>"
        assert txn.list_collections() == ["accounts"]
        # The header allows neither inside a transaction.
        for call in (coll.drop, lambda: coll.rename("other"), coll.stats):
            with pytest.raises(cairn.InvalidArgument):
                call()
        txn.rollback()
    assert accounts.count() == 2


def test_read_only_transactions_refuse_writes(db: cairn.Database, accounts: cairn.Collection) -> None:
    db.put("k", "v")
    txn = db.transaction(read_only=True)
    assert txn.read_only and repr(txn) == "<cairn.Transaction open, read-only>"
    assert txn.get("k") == b"v"
    assert txn.collection("accounts").count() == 2
    for call in (
        lambda: txn.put("k", "w"),
        lambda: txn.delete("k"),
        lambda: txn.collection("accounts").insert_one({"_id": "cy"}),
        lambda: txn.collection("accounts").update_one({"_id": "ann"}, {"$set": {"balance": 0}}),
    ):
        with pytest.raises(cairn.InvalidArgument):
            call()
    txn.commit()
    assert db.get("k") == b"v" and balances(accounts) == {"ann": 10, "bob": 0}


# -- conflicts ---------------------------------------------------------------------------


def test_second_commit_of_the_same_document_raises_conflict(db: cairn.Database, accounts: cairn.Collection) -> None:
    first, second = db.transaction(), db.transaction()
    first.collection("accounts").update_one({"_id": "ann"}, {"$inc": {"balance": 1}})
    second.collection("accounts").update_one({"_id": "ann"}, {"$inc": {"balance": 100}})
    second.put("side effect", "x")
    first.commit()
    with pytest.raises(cairn.Conflict) as info:
        second.commit()
    assert info.value.status == "CAIRN_CONFLICT"
    assert second.closed  # ended whatever commit returned
    assert balances(accounts) == {"ann": 11, "bob": 0}
    assert db.get("side effect") is None  # nothing of the second was written


def test_conflict_on_a_key_and_with_a_plain_write(db: cairn.Database) -> None:
    txn = db.transaction()
    txn.put("k", "from txn")
    db.put("k", "outside")  # a single write is a transaction of its own, committed first
    with pytest.raises(cairn.Conflict), txn:  # raised by the commit on leaving the block
        pass
    assert db.get("k") == b"outside"


def test_transactions_writing_different_data_both_commit(db: cairn.Database, accounts: cairn.Collection) -> None:
    first, second = db.transaction(), db.transaction()
    first.collection("accounts").update_one({"_id": "ann"}, {"$inc": {"balance": 1}})
    second.collection("accounts").update_one({"_id": "bob"}, {"$inc": {"balance": 1}})
    first.put("a", "1")
    second.put("b", "2")
    first.commit()
    second.commit()
    assert balances(accounts) == {"ann": 11, "bob": 1}
    assert db.get_many(["a", "b"]) == [b"1", b"2"]


def test_retrying_on_conflict_loses_no_update(db: cairn.Database) -> None:
    counters = db.collection("counters")
    counters.insert_one({"_id": "hits", "n": 0})
    start = threading.Barrier(4)

    def worker() -> int:
        start.wait()
        conflicts = 0
        for _ in range(25):
            while True:
                try:
                    with db.transaction() as txn:
                        coll = txn.collection("counters")
                        n = coll.find_by_id("hits")["n"]  # type: ignore[index]
                        coll.update_one({"_id": "hits"}, {"$set": {"n": n + 1}})
                    break
                except cairn.Conflict:
                    conflicts += 1
        return conflicts

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker) for _ in range(4)]
        [f.result(timeout=120) for f in futures]
    assert counters.find_by_id("hits") == {"_id": "hits", "n": 100}


# -- lifetime ----------------------------------------------------------------------------


def test_closing_the_database_ends_its_transactions(db_path: Path) -> None:
    db = cairn.open(db_path, sync="never")
    txn = db.transaction()
    txn.put("k", "v")
    db.close()
    with pytest.raises(cairn.Closed):
        txn.get("k")
    with pytest.raises(cairn.Closed):
        txn.commit()
    txn.rollback()
    with cairn.open(db_path, sync="never") as db:
        assert db.get("k") is None


def test_a_forgotten_transaction_is_rolled_back_when_collected(db: cairn.Database) -> None:
    txn = db.transaction()
    txn.put("k", "v")
    del txn
    gc.collect()
    assert db.get("k") is None
    with db.transaction() as txn:  # and it blocks nothing
        txn.put("k", "w")
    assert db.get("k") == b"w"


def test_a_transaction_cannot_begin_on_a_closed_database(db_path: Path) -> None:
    db = cairn.open(db_path, sync="never")
    db.close()
    with pytest.raises(cairn.Closed):
        db.transaction()
