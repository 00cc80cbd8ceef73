"""Documents, secondary indexes and transactions under SIGKILL: every
acknowledged write survives, the write in flight is applied all or nothing,
transfers keep their invariants, the indexes agree with the documents, and
the database opens every time.

A child process (crash_documents_writer.py, whose docstring describes its
log) writes with sync="always" and a 1 MiB memtable, logging each write
before the call and its outcome after; the parent kills it with SIGKILL at a
random moment, reopens the directory and compares it with a model: the
state it verified after the previous round, plus every acknowledged write.
CAIRN_CRASH_ROUNDS sets the number of rounds and CAIRN_SEED the random
choices (the child's writes are reproducible from it; the kill moments are
not).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import crash_documents_writer as w
import pytest

import cairn

WRITER_SCRIPT = Path(w.__file__)
DOCUMENT_COLLECTIONS = (w.ITEMS, w.ACCOUNTS_A, w.ACCOUNTS_B, w.LEDGER)

#: collection name (or w.KV) -> primary key -> document (or the counter's text)
State = dict[str, dict[Any, Any]]


def read_state(db: cairn.Database) -> State:
    """Every document of the collections, and the counter, as now stored."""
    state: State = {name: {doc["_id"]: doc for doc in db.collection(name).find()} for name in DOCUMENT_COLLECTIONS}
    counter = db.get(w.COUNTER)
    state[w.KV] = {w.COUNTER: None if counter is None else counter.decode()}
    return state


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete lines of the child's log (the kill may cut the last one short)."""
    lines = path.read_bytes().split(b"\n") if path.exists() else [b""]
    return [json.loads(line) for line in lines[:-1]]


def set_value(state: State, collection: str, key: Any, value: Any) -> None:
    if value is None and collection != w.KV:
        state[collection].pop(key, None)
    else:
        state[collection][key] = value


def has_fields(value: Any, fields: Any) -> bool:
    """Whether a stored value is the outcome `fields` of an intent line:
    None for deleted, the text of the counter, or a document with these fields."""
    if fields is None or isinstance(fields, str):
        return value == fields
    return isinstance(value, dict) and all(value.get(name) == v for name, v in fields.items())


def apply_log(records: list[dict[str, Any]], model: State, actual: State, tally: Counter[str], where: str) -> None:
    """Applies the acknowledged writes of `records` to `model`, then the
    outcome of the write in flight as found in `actual` after checking that
    it is all or nothing. Counts in `tally` the answers ("ok", "rejected",
    "conflict") and what became of the write in flight ("applied",
    "absent"; "none" when every write was answered)."""
    pending: dict[str, Any] | None = None
    for record in records:
        assert "error" not in record, f"{where}: the writer saw {record['error']}"
        if "intent" in record:
            assert pending is None, f"{where}: {record} began before {pending} was answered"
            pending = record
            continue
        answer = next(a for a in ("ok", "rejected", "conflict") if a in record)
        assert pending is not None and record[answer] == pending["intent"], f"{where}: {record} answers no intent"
        if answer == "ok":
            for collection, key, value in record["after"]:
                set_value(model, collection, key, value)
        tally[answer] += 1
        pending = None
    tally["none" if pending is None else settle_in_flight(pending, model, actual, where)] += 1


def settle_in_flight(pending: dict[str, Any], model: State, actual: State, where: str) -> str:
    """The write of `pending` was in flight at the kill: it must be in
    `actual` entirely (every document it names has its new fields) or not
    at all (every one is as in `model`). Updates `model` to what is there
    and returns "applied" or "absent"."""
    seq, kind = pending["intent"], pending["kind"]
    where = f"{where}, {kind} seq {seq} in flight"
    if kind == "insert_generated":
        # The _ids were to be generated: find the documents by their "op".
        fresh = {k: d for k, d in actual[w.ITEMS].items() if k not in model[w.ITEMS] and d.get("op") == seq}
        if fresh:
            stored = {d["code"]: {f: v for f, v in d.items() if f != "_id"} for d in fresh.values()}
            assert stored == {d["code"]: d for d in pending["docs"]}, f"{where}: half an insert_many"
            model[w.ITEMS].update(fresh)
        return "applied" if fresh else "absent"
    expect = pending["expect"]
    before = [actual[c].get(k) == model[c].get(k) for c, k, _ in expect]
    after = [has_fields(actual[c].get(k), fields) for c, k, fields in expect]
    details = [(c, k, model[c].get(k), actual[c].get(k)) for c, k, _ in expect]
    if pending.get("must_fail"):
        assert all(before), f"{where}: a write that must fail changed {details}"
    assert all(before) or all(after), f"{where}: applied in part: (collection, id, before, now) {details}"
    for collection, key, _ in expect:
        set_value(model, collection, key, actual[collection].get(key))
    # A write that changes nothing (an update matching no document) counts as absent.
    return "absent" if all(before) else "applied"


def assert_same_state(model: State, actual: State, where: str) -> None:
    for collection in model:
        if model[collection] == actual[collection]:
            continue
        missing = sorted(set(model[collection]) - set(actual[collection]), key=str)
        extra = sorted(set(actual[collection]) - set(model[collection]), key=str)
        changed = [k for k, v in model[collection].items() if k in actual[collection] and actual[collection][k] != v]
        example = f"; {changed[0]!r} expected {model[collection][changed[0]]}, found {actual[collection][changed[0]]}"
        raise AssertionError(
            f"{where}: {collection} differs from the acknowledged writes: missing {missing[:10]}, "
            f"unexpected {extra[:10]}, changed {changed[:10]}" + (example if changed else "")
        )


def assert_transfer_invariants(state: State, where: str) -> None:
    """All or nothing per transfer: balances, move counts, ledger and counter agree."""
    accounts_a, accounts_b = state[w.ACCOUNTS_A].values(), state[w.ACCOUNTS_B].values()
    assert len(accounts_a) == len(accounts_b) == w.ACCOUNTS, where
    total = sum(d["balance"] for d in accounts_a) + sum(d["balance"] for d in accounts_b)
    assert total == 2 * w.ACCOUNTS * w.INITIAL_BALANCE, f"{where}: balances sum to {total}"
    counter = int(state[w.KV][w.COUNTER])
    moves = (sum(d["moves"] for d in accounts_a), sum(d["moves"] for d in accounts_b))
    assert moves == (counter, counter), f"{where}: counter {counter}, moves {moves}"
    ledger = state[w.LEDGER]
    assert set(ledger) == {f"t{i}" for i in range(1, counter + 1)}, f"{where}: counter {counter}, {sorted(ledger)}"
    moved = sum(d["amount"] for d in ledger.values())
    taken = w.ACCOUNTS * w.INITIAL_BALANCE - sum(d["balance"] for d in accounts_a)
    assert moved == taken, f"{where}: the ledger moved {moved}, the accounts {taken}"


def ids(cursor: cairn.Cursor) -> list[Any]:
    return sorted(doc["_id"] for doc in cursor)


def never_indexed(filter: dict[str, Any]) -> dict[str, Any]:
    """The same filter in a form no index can answer."""
    return {"$or": [filter, {"no_such_field": "never"}]}


def assert_index_scan(
    coll: cairn.Collection, filter: dict[str, Any], index: str, expected: list[Any], where: str
) -> None:
    """find(filter) uses `index`, examines one index entry per match (so no
    entry is left over from a deleted or changed document) and returns
    exactly the documents `expected`."""
    plan = coll.explain(filter)
    assert (plan["plan"], plan["index"]) == ("index_scan", index), f"{where}: {filter} planned as {plan}"
    assert plan["keys_examined"] == plan["returned"] == len(expected), f"{where}: {filter}: {plan}, not {len(expected)}"
    assert ids(coll.find(filter)) == expected, f"{where}: {filter} through {index}"


def assert_indexes_agree(db: cairn.Database, state: State, rng: random.Random, where: str) -> None:
    """Every index of ITEMS and of the accounts holds exactly one entry per
    document and indexed value (per distinct element of an array), finds
    every document by each of its values, returns what a collection scan
    returns for range filters, and the unique index still refuses a repeat."""
    items, docs = db.collection(w.ITEMS), state[w.ITEMS]
    codes = [d["code"] for d in docs.values()]
    assert len(set(codes)) == len(codes), f"{where}: the unique index code_1 let a code repeat"
    by_code = {d["code"]: key for key, d in docs.items()}
    for code, key in by_code.items():
        assert ids(items.find({"code": code})) == [key], f"{where}: {key!r} by its code {code!r}"
    for code in rng.sample(codes, min(3, len(codes))):
        assert_index_scan(items, {"code": code}, "code_1", [by_code[code]], where)
    for group in range(w.GROUPS):
        expected = sorted(k for k, d in docs.items() if d["grp"] == group)
        assert_index_scan(items, {"grp": group}, "grp_1", expected, where)
    for tag in w.TAGS:
        expected = sorted(k for k, d in docs.items() if tag in d["tags"])
        assert_index_scan(items, {"tags": tag}, "tags_1", expected, where)
    # Whole-index scans find no entry left over from a deleted or changed document.
    assert_index_scan(items, {"code": {"$gte": ""}}, "code_1", sorted(docs), where)
    assert_index_scan(items, {"grp": {"$gte": 0}}, "grp_1", sorted(docs), where)
    entries = {index["name"]: index["entries"] for index in items.stats()["indexes"]} if docs else {}
    if docs:
        # A multikey index holds one entry per distinct element (an empty array has one too).
        multikey = sum(max(1, len(set(d["tags"]))) for d in docs.values())
        assert entries == {"code_1": len(docs), "grp_1": len(docs), "tags_1": multikey}, f"{where}: {entries}"

    # Range filters: through the index, and the same filter where no index can help.
    sorted_codes = sorted(codes)
    filters: list[tuple[dict[str, Any], Any]] = []
    for _ in range(2):
        low = rng.randrange(w.GROUPS)
        high = rng.randrange(low, w.GROUPS + 1)
        filters.append(({"grp": {"$gte": low, "$lt": high}}, lambda d, lo=low, hi=high: lo <= d["grp"] < hi))
    if sorted_codes:
        first, last = sorted(rng.sample(sorted_codes, 2) if len(sorted_codes) > 1 else sorted_codes * 2)
        filters.append(({"code": {"$gt": first, "$lte": last}}, lambda d, f=first, la=last: f < d["code"] <= la))
    chosen = rng.sample(w.TAGS, 2)
    filters.append(({"tags": {"$in": chosen}}, lambda d, c=chosen: any(t in d["tags"] for t in c)))
    for filter, predicate in filters:
        expected = sorted(k for k, d in docs.items() if predicate(d))
        assert items.explain(filter)["plan"] == "index_scan", f"{where}: {filter}"
        assert items.explain(never_indexed(filter))["plan"] == "collection_scan", f"{where}: {filter}"
        through_index, scanned = ids(items.find(filter)), ids(items.find(never_indexed(filter)))
        assert through_index == scanned == expected, f"{where}: {filter}: {len(through_index)} by index, {len(scanned)}"
        counts = (items.count(filter), items.count(never_indexed(filter)))
        assert counts == (len(expected), len(expected)), f"{where}: count({filter}) {counts}, not {len(expected)}"

    # The unique index still refuses a repeated code after recovery.
    if codes:
        with pytest.raises(cairn.ConstraintViolation):
            items.insert_one({"_id": "probe", "code": codes[0]})
        assert items.find_by_id("probe") is None, where

    for name in (w.ACCOUNTS_A, w.ACCOUNTS_B):
        accounts, account_docs = db.collection(name), state[name]
        for balance in {d["balance"] for d in account_docs.values()}:
            expected = sorted(k for k, d in account_docs.items() if d["balance"] == balance)
            assert_index_scan(accounts, {"balance": balance}, "balance_1", expected, f"{where}, {name}")
        assert_index_scan(accounts, {"balance": {"$gte": -(10**9)}}, "balance_1", sorted(account_docs), where)
        assert [i["entries"] for i in accounts.stats()["indexes"]] == [w.ACCOUNTS], f"{where}, {name}"


def test_documents_indexes_and_transactions_survive_sigkill(tmp_path: Path) -> None:
    rounds = int(os.environ.get("CAIRN_CRASH_ROUNDS", "30"))
    seed = int(os.environ.get("CAIRN_SEED", "20261121"))
    kills, checks = random.Random(seed), random.Random(seed + 1)
    path = str(tmp_path / "db")
    with cairn.open(path, memtable_size_mb=1) as db:
        w.create_schema(db)
        model = read_state(db)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    tally: Counter[str] = Counter()
    for round_number in range(rounds):
        where = f"CAIRN_SEED={seed} round {round_number}"
        log_path = tmp_path / f"round-{round_number}.log"
        child_seed = seed * 1000 + round_number
        child = subprocess.Popen(
            [sys.executable, str(WRITER_SCRIPT), path, str(round_number), str(child_seed), str(log_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(kills.uniform(0.02, 0.3))
        child.send_signal(signal.SIGKILL)
        _, stderr = child.communicate()
        assert child.returncode == -signal.SIGKILL, f"{where}: the writer failed: {stderr}"

        with cairn.open(path, memtable_size_mb=1) as db:
            actual = read_state(db)
            apply_log(read_log(log_path), model, actual, tally, where)
            assert_same_state(model, actual, where)
            assert_transfer_invariants(actual, where)
            assert_indexes_agree(db, actual, checks, where)
            tables = db.stats()["tables"]
        model = actual
    transfers = int(model[w.KV][w.COUNTER])
    assert tally["ok"] > rounds and transfers > 0, "the writer made progress before the kills"
    print(
        f"crash-documents: {rounds} SIGKILL rounds, {tally['ok']} acknowledged operations checked "
        f"({transfers} transfers, {tally['conflict']} conflicts retried, {tally['rejected']} unique-index "
        f"rejections; {len(model[w.ITEMS])} documents, {tables} tables on disk; the write in flight at the "
        f"kill: {tally['applied']} applied, {tally['absent']} absent, {tally['none']} none)"
    )
