"""Cairn from Python: read what the C example wrote, then add our own keys.

    python examples/python/example.py DATABASE_DIR

`make demo` runs the C example, then this one, then the Go example, all on
the same directory: each reads what the ones before it wrote. Every key this
example writes starts with "python:", and every document it adds to the
"notes" collection has "author": "python". It also shows a transaction that
changes a document and a key together, and an aggregation over the notes of
every example so far.
"""

from __future__ import annotations

import sys

import cairn


def show(value: bytes) -> str:
    """Bytes as readable text; anything unprintable is escaped."""
    text = value.decode("utf-8", "backslashreplace")
    return text if text.isprintable() else repr(value)[2:-1]


def main(path: str) -> None:
    # `with` closes the database when the block ends, even on an error.
    with cairn.open(path) as db:
        # 1. What the C example left behind: an iterator over a key prefix.
        with db.iterate(prefix=b"c:") as items:
            from_c = list(items)
        if from_c:
            print(f"read {len(from_c)} key(s) that C wrote:")
            for key, value in from_c:
                print(f"  {show(key):<20} = {show(value)}")
        else:
            print("no keys with prefix c: (the C example has not run on this directory)")

        # 2. Our own keys in one atomic batch: all of them land, or none does.
        with db.batch() as batch:
            batch.put("python:greeting", "hello from Python")
            batch.put("python:version", f"{sys.version_info.major}.{sys.version_info.minor}")
            batch.put("python:binding", "ctypes")
            batch.put("python:session", "short-lived", ttl="1h")  # expires in an hour
            batch.put("python:draft", "never seen: deleted in the same batch")
            batch.delete("python:draft")
            operations = len(batch)
        print(f"wrote one batch of {operations} operations")

        # 3. Reading back: get() gives None for an absent key; db[key] raises KeyError.
        print(f"  'python:draft' in db -> {'python:draft' in db}; db.get('python:draft') -> {db.get('python:draft')!r}")
        mine = db.keys(prefix="python:")
        for key in mine:
            print(f"  {show(key):<20} = {show(db[key])}")

        # 4. Documents: JSON objects in a collection, queried with MongoDB's filters.
        notes = db.collection("notes")  # the first insert creates the collection
        notes.delete_many({"author": "python"})  # whatever an earlier run left
        ids = notes.insert_many(
            [
                {"author": "python", "title": "buy milk", "priority": 2, "done": False},
                {"author": "python", "title": "ship 0.1", "priority": 3, "done": True},
                {"author": "python", "title": "write the docs", "priority": 1, "done": False},
            ]
        )
        print(f"inserted {len(ids)} notes; the open ones by priority:")
        query = {"author": "python", "done": False}
        with notes.find(query, sort=[("priority", 1)], projection={"_id": 0, "title": 1, "priority": 1}) as cursor:
            for note in cursor:
                print(f"  {note['priority']}. {note['title']}")

        # 5. A transaction: one snapshot, committed when the block ends (rolled
        # back if it raises), so the note and the counter change together.
        with db.transaction() as txn:
            result = txn.collection("notes").update_one(
                {"author": "python", "title": "buy milk"}, {"$set": {"done": True}}
            )
            finished = int(txn.get("python:notes_done") or b"0") + result.modified
            txn.put("python:notes_done", str(finished))
        print(f"one transaction: 'buy milk' is done and python:notes_done = {finished}")

        # 6. An aggregation pipeline over the notes of every example so far.
        print("notes by author:")
        print(f"  {'author':<8} {'notes':>5} {'open':>5}")
        pipeline = [
            {"$group": {"_id": "$author", "notes": {"$sum": 1}, "open": {"$sum": {"$cond": ["$done", 0, 1]}}}},
            {"$sort": {"notes": -1, "_id": 1}},
        ]
        for row in notes.aggregate(pipeline):
            print(f"  {row['_id']:<8} {row['notes']:>5} {row['open']:>5}")

        # 7. Full-text search: a text index on the titles, hits ranked by BM25.
        notes.create_index([("title", cairn.TEXT)])
        print('full-text search for "docs ship":')
        for hit in notes.search("docs ship", limit=3, highlight=True):
            print(f"  {hit['score']:.3f}  {hit['highlights']['title']}  ({hit['document']['author']})")

        # 8. A short summary, partly from the database's own counters.
        stats = db.stats()
        print(
            f"summary: {len(from_c)} key(s) from C, {len(db.keys(prefix='python:'))} from Python, "
            f"{stats['live_keys']} live in total; python:session expires in 1h"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DATABASE_DIR")
    try:
        main(sys.argv[1])
    except cairn.Error as exc:  # every Cairn failure: .code, .status, .message
        sys.exit(f"example.py: {exc}")
