"""The child process of test_crash_documents.py: writes documents, indexed
fields and transactions until it is killed, and logs what it does.

    python crash_documents_writer.py DB_PATH ROUND SEED LOG_PATH

It opens the database with sync="always" and a 1 MiB memtable (so that
flushes and compactions run while the kills come), prints "ready" on stdout,
then loops forever over a random mix (from SEED) of insert_many, an
insert_many that breaks the unique index, update_many of indexed fields,
delete_many, find_one_and_update, transactions that move a balance from a
document of one collection to a document of another and count the transfer
in a key-value counter and a ledger collection, and now and then a flush or
a compaction, so that some kills come in the middle of one.

The log, one JSON object per line, tells the parent what must be true after
the kill. Before each write:

    {"intent": seq, "kind": ..., "expect": [[collection, id, fields], ...]}

names every document (or the key-value counter, collection "kv") the write
will change and the fields each has afterwards (null: deleted; the counter:
its text). An insert whose _ids the library generates has "docs", the
documents without _id, instead of "expect". After the write:

    {"ok": seq, "after": [[collection, id, document or null], ...]}

once the call returned (the write is acknowledged), with each document as
read back; {"rejected": seq} when the write failed as it had to (a broken
unique index); {"conflict": seq} when a commit met a concurrent write (the
transfer is then run again under a new seq); {"error": text} when the
library did something it must not (the parent fails on it). So at most one
write, the last intent without an answer, is in flight at the kill.

Every write sets "op": seq in the documents it changes, so the parent can
tell the in-flight write's outcome apart from the state before it. seq is
unique across rounds (ROUND * SEQ_PER_ROUND + a counter).
"""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable
from typing import Any

import cairn

#: The collection with the secondary indexes.
ITEMS = "items"
#: The two collections of accounts; a transfer takes from one and gives to the other.
ACCOUNTS_A, ACCOUNTS_B = "accounts_a", "accounts_b"
#: One document per committed transfer, with _id "t<counter>".
LEDGER = "ledger"
#: The pseudo-collection of the key-value counter in the log and the model.
KV = "kv"
#: The key-value counter of committed transfers.
COUNTER = "transfers"

ACCOUNTS = 8  # per collection: a0..a7 and b0..b7
INITIAL_BALANCE = 1000
GROUPS = 12  # values of the non-unique indexed field "grp"
TAGS = ("red", "green", "blue", "cyan", "magenta", "yellow", "black", "white")
SEQ_PER_ROUND = 1_000_000

#: The indexes of ITEMS, by name: unique, non-unique and multikey.
ITEM_INDEXES = {"code_1": "code", "grp_1": "grp", "tags_1": "tags"}


def create_schema(db: cairn.Database) -> None:
    """The starting state, made once before the first round: the indexes,
    the accounts and the counter at 0."""
    items = db.collection(ITEMS)
    assert items.create_index("code", unique=True) == "code_1"
    assert items.create_index("grp") == "grp_1"
    assert items.create_index("tags") == "tags_1"
    for name, prefix in ((ACCOUNTS_A, "a"), (ACCOUNTS_B, "b")):
        accounts = db.collection(name)
        assert accounts.create_index("balance") == "balance_1"
        accounts.insert_many(
            [{"_id": f"{prefix}{i}", "balance": INITIAL_BALANCE, "moves": 0} for i in range(ACCOUNTS)]
        )
    db.put(COUNTER, "0")


class Writer:
    """Runs the writes of one round and logs them (see the module docstring)."""

    def __init__(self, db: cairn.Database, log_fd: int, rng: random.Random, round_number: int) -> None:
        self.db = db
        self.log_fd = log_fd
        self.rng = rng
        self.seq = round_number * SEQ_PER_ROUND
        self.items = db.collection(ITEMS)
        self.size = self.items.count()

    def run(self) -> None:
        while True:
            deletes = 8 if self.size > 500 else (0 if self.size < 50 else 2)
            choices = [
                (self.insert_many, 3),
                (self.insert_duplicate, 1),
                (self.update_many, 2),
                (self.delete_many, deletes),
                (self.find_one_and_update, 2),
                (self.transfer, 3),
                (self.db.flush, 0.5),
                (self.db.compact_range, 0.2),
            ]
            operation: Callable[[], None] = self.rng.choices(
                [op for op, _ in choices], [weight for _, weight in choices]
            )[0]
            operation()

    # -- The log ----------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def log(self, **record: Any) -> None:
        """Appends one line with one write(2) (the file survives the kill; a
        line cut short by it is ignored by the parent)."""
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        while line:
            line = line[os.write(self.log_fd, line) :]

    def error(self, text: str) -> None:
        self.log(error=text)

    def read_back(self, keys: list[tuple[str, Any]]) -> list[list[Any]]:
        """[collection, id, document or None] for each key, read now."""
        after: list[list[Any]] = []
        for collection, key in keys:
            if collection == KV:
                value = self.db.get(key)
                after.append([KV, key, None if value is None else value.decode()])
            else:
                after.append([collection, key, self.db.collection(collection).find_by_id(key)])
        return after

    def acknowledge(self, seq: int, keys: list[tuple[str, Any]]) -> None:
        self.log(ok=seq, after=self.read_back(keys))

    # -- Documents of ITEMS ------------------------------------------------------

    def new_item(self, seq: int, j: int, with_id: bool = True) -> dict[str, Any]:
        rng = self.rng
        doc: dict[str, Any] = {
            "code": f"c{seq}-{j}",
            "grp": rng.randrange(GROUPS),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "n": rng.randrange(1000),
            "op": seq,
            "pad": rng.randbytes(300).hex(),  # bulk, so that memtables fill
        }
        if with_id:
            doc = {"_id": f"i{seq}-{j}", **doc}
        return doc

    def insert_many(self) -> None:
        seq = self.next_seq()
        generated = self.rng.random() < 0.3  # _ids generated by the library
        docs = [self.new_item(seq, j, with_id=not generated) for j in range(self.rng.randint(1, 20))]
        if generated:
            self.log(intent=seq, kind="insert_generated", docs=docs)
        else:
            self.log(intent=seq, kind="insert", expect=[[ITEMS, doc["_id"], doc] for doc in docs])
        ids = self.items.insert_many(docs)
        self.acknowledged_items(seq, ids)
        self.size += len(docs)

    def insert_duplicate(self) -> None:
        """An insert_many whose last document repeats an existing code: the
        unique index must refuse it, and none of the documents is written."""
        victim = self.items.find_one({"grp": self.rng.randrange(GROUPS)}) or self.items.find_one()
        if victim is None:
            return
        seq = self.next_seq()
        docs = [self.new_item(seq, j) for j in range(3)]
        docs[-1]["code"] = victim["code"]
        self.log(intent=seq, kind="insert_duplicate", must_fail=True, expect=[[ITEMS, d["_id"], d] for d in docs])
        try:
            self.items.insert_many(docs)
        except cairn.ConstraintViolation:
            self.log(rejected=seq)
        else:
            self.error(f"seq {seq}: insert_many with the code {victim['code']!r} of {victim['_id']!r} was accepted")

    def update_many(self) -> None:
        rng = self.rng
        seq = self.next_seq()
        new_group = rng.randrange(GROUPS)
        tag = rng.choice(TAGS)
        shape = rng.randrange(3)
        if shape == 0:  # through grp_1, moving documents to another group
            filter: dict[str, Any] = {"grp": rng.randrange(GROUPS)}
            update: dict[str, Any] = {"$set": {"grp": new_group, "op": seq}, "$inc": {"n": 1}}
            fields: dict[str, Any] = {"grp": new_group, "op": seq}
        elif shape == 1:  # through tags_1, removing the tag it matched on
            filter = {"tags": tag}
            update = {"$set": {"grp": new_group, "op": seq}, "$pull": {"tags": tag}}
            fields = {"grp": new_group, "op": seq}
        else:  # a collection scan, adding a tag
            low = rng.randrange(1000)
            filter = {"n": {"$gte": low, "$lt": low + 60}}
            update = {"$set": {"op": seq}, "$addToSet": {"tags": tag}}
            fields = {"op": seq}
        ids = [doc["_id"] for doc in self.items.find(filter, projection={"_id": 1})]
        self.log(intent=seq, kind="update_many", expect=[[ITEMS, i, fields] for i in ids])
        result = self.items.update_many(filter, update)
        if result.matched != len(ids):
            self.error(f"seq {seq}: update_many({filter}) matched {result.matched}, find() found {len(ids)}")
        self.acknowledged_items(seq, ids)

    def delete_many(self) -> None:
        rng = self.rng
        seq = self.next_seq()
        shape = rng.randrange(3)
        if shape == 0:
            filter: dict[str, Any] = {"grp": rng.randrange(GROUPS), "n": {"$lt": rng.randrange(1000)}}
        elif shape == 1:
            filter = {"tags": rng.choice(TAGS), "grp": {"$in": rng.sample(range(GROUPS), 3)}}
        else:
            some = self.items.find({"grp": rng.randrange(GROUPS)}, limit=5, projection={"code": 1})
            filter = {"code": {"$in": [doc["code"] for doc in some]}}
        ids = [doc["_id"] for doc in self.items.find(filter, projection={"_id": 1})]
        self.log(intent=seq, kind="delete_many", expect=[[ITEMS, i, None] for i in ids])
        deleted = self.items.delete_many(filter)
        if deleted != len(ids):
            self.error(f"seq {seq}: delete_many({filter}) deleted {deleted}, find() found {len(ids)}")
        self.acknowledged_items(seq, ids)
        self.size -= deleted

    def find_one_and_update(self) -> None:
        """Gives the first document of a group (by n descending, then code) a
        new unique code, another group and one more tag."""
        rng = self.rng
        seq = self.next_seq()
        filter = {"grp": rng.randrange(GROUPS)}
        sort = [("n", -1), ("code", 1)]
        target = self.items.find_one(filter, sort=sort)
        fields = {"code": f"c{seq}", "grp": rng.randrange(GROUPS), "op": seq}
        update = {"$set": fields, "$addToSet": {"tags": rng.choice(TAGS)}}
        when = rng.choice(["before", "after"])
        keys = [] if target is None else [(ITEMS, target["_id"])]
        self.log(intent=seq, kind="find_one_and_update", expect=[[ITEMS, i, fields] for _, i in keys])
        returned = self.items.find_one_and_update(filter, update, sort=sort, return_document=when)
        if target is None:
            if returned is not None:
                self.error(f"seq {seq}: find_one_and_update({filter}) updated {returned}; find_one found nothing")
        elif returned is None or returned["_id"] != target["_id"]:
            self.error(f"seq {seq}: find_one_and_update({filter}) returned {returned}, expected {target['_id']!r}")
        elif when == "before" and returned != target:
            self.error(f"seq {seq}: find_one_and_update returned {returned} as before, find_one read {target}")
        elif when == "after" and any(returned.get(f) != v for f, v in fields.items()):
            self.error(f"seq {seq}: find_one_and_update returned {returned} as after, without {fields}")
        self.acknowledged_items(seq, [i for _, i in keys])

    def acknowledged_items(self, seq: int, ids: list[Any]) -> None:
        self.acknowledge(seq, [(ITEMS, i) for i in ids])

    # -- Transactions ----------------------------------------------------------

    def transfer(self) -> None:
        """Moves an amount from an account of ACCOUNTS_A to one of ACCOUNTS_B
        (or back, when negative), adds a ledger document and increments
        the counter, in one transaction. Sometimes another write changes the
        first account between the transaction's writes and its commit: the
        commit must then fail with Conflict, and the transfer runs again."""
        rng = self.rng
        a, b = f"a{rng.randrange(ACCOUNTS)}", f"b{rng.randrange(ACCOUNTS)}"
        amount = rng.randint(1, 50) * rng.choice((1, -1))
        interfere = rng.random() < 0.25
        while True:
            seq = self.next_seq()
            with self.db.transaction() as txn:
                counter = int(txn.get(COUNTER) or b"0") + 1
                accounts_a, accounts_b = txn.collection(ACCOUNTS_A), txn.collection(ACCOUNTS_B)
                before_a, before_b = accounts_a.find_by_id(a), accounts_b.find_by_id(b)
                assert before_a is not None and before_b is not None, (a, b)
                accounts_a.update_one({"_id": a}, {"$inc": {"balance": -amount, "moves": 1}, "$set": {"op": seq}})
                accounts_b.update_one({"_id": b}, {"$inc": {"balance": amount, "moves": 1}, "$set": {"op": seq}})
                entry = {"_id": f"t{counter}", "op": seq, "from": a, "to": b, "amount": amount}
                txn.collection(LEDGER).insert_one(entry)
                txn.put(COUNTER, str(counter))
                if interfere:
                    self.interfere(a)
                expect = [
                    [ACCOUNTS_A, a, moved(before_a, -amount, seq)],
                    [ACCOUNTS_B, b, moved(before_b, amount, seq)],
                    [LEDGER, entry["_id"], entry],
                    [KV, COUNTER, str(counter)],
                ]
                self.log(intent=seq, kind="transfer", expect=expect)
                try:
                    txn.commit()
                except cairn.Conflict:
                    self.log(conflict=seq)
                    if not interfere:
                        self.error(f"seq {seq}: Conflict with no other writer")
                    interfere = False
                    continue
            if interfere:
                self.error(f"seq {seq}: the commit succeeded although {a} changed after the transaction began")
            self.acknowledge(seq, [(ACCOUNTS_A, a), (ACCOUNTS_B, b), (LEDGER, entry["_id"]), (KV, COUNTER)])
            return

    def interfere(self, account: str) -> None:
        """A write outside the open transaction, to a document it changed."""
        seq = self.next_seq()
        fields = {"poke": seq, "op": seq}
        self.log(intent=seq, kind="interfere", expect=[[ACCOUNTS_A, account, fields]])
        self.db.collection(ACCOUNTS_A).update_one({"_id": account}, {"$set": fields})
        self.acknowledge(seq, [(ACCOUNTS_A, account)])


def moved(account: dict[str, Any], amount: int, seq: int) -> dict[str, Any]:
    """The fields of `account` after transfer `seq` added `amount` to it."""
    return {"balance": account["balance"] + amount, "moves": account["moves"] + 1, "op": seq}


def main() -> None:
    path, round_number, seed, log_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    # A small memtable, so that flushes and compactions run while the kills come.
    with cairn.open(path, sync="always", memtable_size_mb=1) as db:
        writer = Writer(db, log_fd, random.Random(seed), round_number)
        print("ready", flush=True)
        writer.run()


if __name__ == "__main__":
    main()
