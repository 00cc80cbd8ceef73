"""The pymongo-, dict- and asyncio-shaped conveniences (issue 11), none of
which adds logic to the binding: results, find's projection and cursor
chaining, the key-value store as a mapping, run_transaction, cairn.aio,
document keys and nesting, and typed open options."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import cairn
import cairn.aio

from support import ROOT


# -- pymongo's shapes -----------------------------------------------------------


def test_write_results_have_pymongos_attributes_and_keep_the_old_values(db: cairn.Database) -> None:
    users = db.collection("users")
    uid = users.insert_one({"name": "ann"})
    assert isinstance(uid, str) and uid.inserted_id == uid and uid.acknowledged
    assert users.find_one({"_id": uid}) == {"_id": uid, "name": "ann"}  # still usable as the _id
    assert users.insert_one({"_id": 7}).inserted_id == 7
    ids = users.insert_many([{"_id": 1}, {"_id": 2}])
    assert ids == [1, 2] and ids.inserted_ids == [1, 2]
    ids = users.insert_many([{"_id": 3}], ordered=False)
    assert ids.inserted_ids == [3]
    res = users.update_one({"_id": 1}, {"$set": {"a": 1}})
    assert (res.matched_count, res.modified_count, res.upserted_id) == (1, 1, None)
    assert (res.matched, res.modified) == (1, 1)
    res = users.update_many({"_id": 99}, {"$set": {"a": 1}}, upsert=True)
    assert res.matched_count == 0 and res.upserted_id == 99
    deleted = users.delete_many({"_id": {"$in": [1, 2]}})
    assert deleted == 2 and deleted.deleted_count == 2
    assert users.delete_one({"_id": 1}).deleted_count == 0


def test_find_takes_the_projection_second_and_chains_sort_skip_limit(db: cairn.Database) -> None:
    people = db.collection("people")
    people.insert_many([{"_id": i, "age": i % 3, "name": f"n{i}"} for i in range(9)])
    assert list(people.find({"_id": 4}, {"name": 1, "_id": 0})) == [{"name": "n4"}]
    got = [d["_id"] for d in people.find({}, {"_id": 1}).sort("age", -1).skip(1).limit(3)]
    assert got == [5, 8, 1]
    got = [d["_id"] for d in people.find().sort([("age", 1), ("_id", -1)]).limit(2)]
    assert got == [6, 3]
    assert [d["_id"] for d in people.find({"age": 0}).sort({"_id": -1})] == [6, 3, 0]
    cursor = people.find()
    next(cursor)
    with pytest.raises(cairn.InvalidArgument):
        cursor.limit(1)
    cursor.close()
    with pytest.raises(cairn.Closed):
        cursor.sort("age")
    with pytest.raises(cairn.InvalidArgument):
        list(people.find().sort("age", 2))  # the library judges the direction
    with pytest.raises(TypeError):
        people.aggregate([{"$match": {}}]).limit(1)


def test_collections_mapping(db: cairn.Database) -> None:
    users = db.collections["users"]
    assert isinstance(users, cairn.Collection) and users.name == "users"
    assert "users" not in db.collections and len(db.collections) == 0
    users.insert_one({"a": 1})
    assert "users" in db.collections and list(db.collections) == ["users"]
    with db.transaction() as txn:
        assert txn.collections["users"].count_documents({}) == 1


# -- The key-value store as a mapping ---------------------------------------------


def test_kv_mapping_protocol(db: cairn.Database) -> None:
    assert len(db) == 0 and list(db) == [] and bool(db)  # an empty database is still true
    keys = [b"a1", b"a2", b"b", b"\xff\x00x", b"\xff\x00y"]
    for k in keys:
        db[k] = k + b"!"
    assert len(db) == 5
    assert list(db) == keys  # `for k in db` iterates keys, in order
    del db["a1"]
    assert "a1" not in db and len(db) == 4
    with pytest.raises(KeyError):
        del db["a1"]
    assert db.keys(prefix=b"\xff\x00") == [b"\xff\x00x", b"\xff\x00y"]  # a binary prefix
    assert db.keys(prefix="a") == [b"a2"]
    assert db.keys(start=b"a", end=b"c") == [b"a2", b"b"]
    assert db.keys(reverse=True, limit=2, offset=1) == [b"\xff\x00x", b"b"]
    assert db.keys(suffix="2") == [b"a2"]  # the library's matching, as before
    assert db.values(prefix=b"\xff") == [b"\xff\x00x!", b"\xff\x00y!"]
    assert db.items(start="a", end="b") == [(b"a2", b"a2!")]
    assert db.items(limit=1, reverse=True) == [(b"\xff\x00y", b"\xff\x00y!")]
    with pytest.raises(TypeError):
        db.keys(prefix="a", start="a")
    with pytest.raises(cairn.InvalidArgument):
        db.keys(limit=-1)
    with db.transaction() as txn:
        del txn["b"]
    assert "b" not in db


# -- Transactions with retries -----------------------------------------------------


def test_run_transaction_retries_on_conflict_and_returns_the_result(db: cairn.Database) -> None:
    db.put("counter", b"0")
    attempts = []

    def bump(txn: cairn.Transaction) -> int:
        attempts.append(1)
        value = int(txn.get("counter") or b"0")
        txn.put("counter", str(value + 1))
        if len(attempts) == 1:
            db.put("counter", b"10")  # a concurrent write: this attempt's commit conflicts
        return value + 1

    assert db.run_transaction(bump, max_retries=3, initial_backoff=0.0001) == 11
    assert len(attempts) == 2 and db.get("counter") == b"11"

    def always_conflicts(txn: cairn.Transaction) -> None:
        txn.put("k", b"mine")
        db.put("k", b"theirs")

    with pytest.raises(cairn.Conflict):
        db.run_transaction(always_conflicts, max_retries=2, initial_backoff=0.0001)
    with pytest.raises(ZeroDivisionError):
        db.run_transaction(lambda txn: 1 // 0)


# -- asyncio ------------------------------------------------------------------------


def test_aio_runs_the_api_in_a_thread_pool(db_path: Path) -> None:
    async def main() -> list[Any]:
        async with await cairn.aio.open(db_path, sync="never") as db:
            await db.put("k", "v")
            assert await db.get("k") == b"v"
            users = db.collection("users")
            ids = await users.insert_many([{"_id": i, "age": 20 + i} for i in range(5)])
            assert ids.inserted_ids == [0, 1, 2, 3, 4]
            assert (await users.update_one({"_id": 0}, {"$inc": {"age": 1}})).modified_count == 1
            got = [d["_id"] async for d in users.find({"age": {"$gte": 22}}).sort("age", -1).limit(2)]
            assert await users.count_documents({}) == 5
            assert await db.run_transaction(lambda txn: txn.get("k")) == b"v"
            assert [k async for k in db] == [b"k"]
            return got

    assert asyncio.run(main()) == [4, 3]


# -- Checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("document", [{1: "x"}, {None: 1}, {"a": [{True: 1}]}, {"a": {(1, 2): 1}}])
def test_document_keys_that_are_not_strings_raise_type_error(db: cairn.Database, document: Any) -> None:
    with pytest.raises(TypeError, match="keys must be str"):
        db.collection("c").insert_one(document)
    with pytest.raises(TypeError, match="keys must be str"):
        db.collection("c").find_one(document)


@pytest.mark.parametrize("depth", [150, 1000, 5000])
def test_deep_documents_raise_invalid_argument_not_recursion_error(db: cairn.Database, depth: int) -> None:
    document: dict[str, Any] = {}
    inner = document
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(cairn.InvalidArgument):
        db.collection("c").insert_one(document)


def test_open_options_are_typed(tmp_path: Path) -> None:
    program = tmp_path / "uses_cairn.py"
    program.write_text(textwrap.dedent("""
        import cairn
        cairn.open("db", sync="never", memtable_size_mb=8)
        cairn.open("db", synk="never")
        cairn.open("db", sync="sometimes")
    """))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         str(program)],
        capture_output=True, text=True, cwd=ROOT / "bindings" / "python",
    )
    if "No module named mypy" in done.stderr:
        pytest.skip("mypy is not installed")
    out = done.stdout
    assert ':3: error' not in out, out  # the good call type-checks
    assert ':4: error: Unexpected keyword argument "synk"' in out, out
    assert ':5: error' in out and "sync" in out, out


def test_bulk_write_in_pymongos_shape(db: cairn.Database) -> None:
    users = db.collection("users")
    users.create_index("email", unique=True)
    result = users.bulk_write([
        cairn.InsertOne({"_id": 1, "email": "a", "t": [0, 5]}),
        cairn.InsertOne({"_id": 2, "email": "b"}),
        cairn.UpdateOne({"_id": 1}, {"$set": {"n": 1}}),
        cairn.UpdateMany({}, [{"$set": {"seen": True}}]),
        cairn.UpdateOne({"_id": 3}, {"$set": {"email": "c"}}, upsert=True),
        cairn.ReplaceOne({"_id": 2}, {"email": "b2"}),
        cairn.UpdateOne({"_id": 1}, {"$set": {"t.$[x]": 0}}, array_filters=[{"x": {"$gt": 1}}]),
        cairn.DeleteOne({"_id": 3}),
        cairn.DeleteMany({"email": "nobody"}),
    ])
    assert isinstance(result, cairn.BulkWriteResult) and result.acknowledged
    assert (result.inserted_count, result.matched_count, result.modified_count) == (2, 5, 5)
    assert (result.deleted_count, result.upserted_count, result.upserted_ids) == (1, 1, {4: 3})
    assert result.inserted_ids == {0: 1, 1: 2}
    assert result.bulk_api_result["nUpserted"] == 1 and result.bulk_api_result["upserted"] == [{"index": 4, "_id": 3}]
    assert list(users.find()) == [{"_id": 1, "email": "a", "t": [0, 0], "n": 1, "seen": True}, {"_id": 2, "email": "b2"}]

    # Ordered: stops at the first failure, keeping what came before.
    with pytest.raises(cairn.BulkWriteError) as info:
        users.bulk_write([cairn.InsertOne({"_id": 5, "email": "e"}), cairn.InsertOne({"_id": 6, "email": "a"}),
                          cairn.InsertOne({"_id": 7, "email": "g"})])
    assert isinstance(info.value, cairn.ConstraintViolation)
    assert [e["index"] for e in info.value.errors] == [1] and info.value.result.inserted_ids == {0: 5}
    assert users.count_documents({"_id": {"$in": [5, 6, 7]}}) == 1
    # Unordered: tries every request.
    with pytest.raises(cairn.ConstraintViolation) as info2:
        users.bulk_write([cairn.InsertOne({"_id": 5}), cairn.InsertOne({"_id": 8}), cairn.UpdateOne({"_id": 8}, {"$bad": 1})],
                         ordered=False)
    error = info2.value
    assert isinstance(error, cairn.BulkWriteError)
    assert [(e["index"], e["status"]) for e in error.errors] == [(0, "CAIRN_CONSTRAINT"), (2, "CAIRN_INVALID_ARGUMENT")]
    assert error.result.inserted_count == 1
    with pytest.raises(TypeError):
        users.bulk_write([{"insert_one": {"document": {}}}])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        users.bulk_write(cairn.InsertOne({}))  # type: ignore[arg-type]
    with pytest.raises(cairn.InvalidArgument):
        users.bulk_write([])
    assert cairn.UpdateOne({"a": 1}, {"$set": {"b": 2}}) == cairn.UpdateOne({"a": 1}, {"$set": {"b": 2}})
    assert repr(cairn.DeleteOne({"a": 1})) == "DeleteOne(filter={'a': 1})"
    with db.transaction() as txn:
        txn.collection("users").bulk_write([cairn.InsertOne({"_id": 30, "email": "t"})])
        assert users.count_documents({"_id": 30}) == 0
    assert users.count_documents({"_id": 30}) == 1
