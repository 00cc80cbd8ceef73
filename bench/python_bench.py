"""Cairn through its Python binding against the peers a Python user would
pick, all in one run (`make bench-python`, see mk/bench.mk):

  key-value: Cairn, plyvel (LevelDB), rocksdict (RocksDB), lmdb and sqlite3,
             N keys with V-byte values, sync off everywhere: put/s (one put
             per call, keys in random order), get/s (every key once, random
             order) and a full scan (items/s, key and value of each).
  documents: Cairn's collections against sqlite3 + json (an in-memory table
             of JSON text with an index on json_extract(body, '$.name')):
             iterating a full find, and find_one by an indexed field.

Every engine runs in this process, one after the other, on a fresh
directory. A peer that is not installed is reported and skipped. The
benchmark asserts no speeds: it fails only when an engine fails (a wrong
count or value). Ratios are Cairn's rate over the peer's (above 1: Cairn is
faster).

    python bench/python_bench.py --num=200000 --docs=100000
    python bench/python_bench.py --engines=cairn,plyvel --rows=scan
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

KV_ENGINES = ("cairn", "plyvel", "rocksdict", "lmdb", "sqlite3")
KV_ROWS = ("put", "get", "scan")


#: How many times each read row runs; the best rate is reported, as timeit
#: does, since on a shared machine the slower runs measure the neighbours.
REPEAT = 3


def timed(fn: Callable[[], int], repeat: int = 1) -> tuple[float, int]:
    """Runs fn (which returns how many operations it did) `repeat` times
    with the garbage collector off, as timeit does; returns (the best rate
    in operations per second, count)."""
    best, count = 0.0, 0
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            count = fn()
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        best = max(best, count / elapsed)
    return best, count


class Failure(Exception):
    """An engine returned a wrong answer."""


# -- Key-value engines: each opens a fresh store in `path` and offers put,
# get and scan over the whole key set; scan returns the engine's own
# iterator of (key, value), closed after the loop when it has close(). -------


def kv_cairn(path: str) -> Any:
    import cairn

    db = cairn.open(path, sync="never")
    return db, db.put, db.get, lambda: db.iterate(), db.close


def kv_plyvel(path: str) -> Any:
    import plyvel

    db = plyvel.DB(path, create_if_missing=True)
    return db, db.put, db.get, lambda: db.iterator(), db.close


def kv_rocksdict(path: str) -> Any:
    import rocksdict

    db = rocksdict.Rdict(path)
    # Rdict's default pickles; raw mode stores bytes as they are.
    db.close()
    rocksdict.Rdict.destroy(path)
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    db = rocksdict.Rdict(path, options)
    write_options = rocksdict.WriteOptions()
    write_options.sync = False
    db.set_write_options(write_options)
    return db, db.put, db.get, lambda: db.items(), db.close


def kv_lmdb(path: str) -> Any:
    import lmdb

    env = lmdb.open(path, map_size=1 << 30, sync=False, metasync=False)

    def put(key: bytes, value: bytes) -> None:
        with env.begin(write=True) as txn:
            txn.put(key, value)

    # One read transaction for all the gets, begun at the first: an open
    # reader pins pages, so it must not be open while the puts run.
    reader: list[Any] = []

    def get(key: bytes) -> bytes | None:
        if not reader:
            reader.append(env.begin())
        value: bytes | None = reader[0].get(key)
        return value

    class Scan:
        """A read transaction's cursor, iterated as it is (no Python code
        per item), and both closed after the loop."""

        def __init__(self) -> None:
            self.txn = env.begin()
            self.cursor = self.txn.cursor()

        def __iter__(self) -> Any:
            return iter(self.cursor)

        def close(self) -> None:
            self.cursor.close()
            self.txn.abort()

    def scan() -> Any:
        return Scan()

    def close() -> None:
        for txn in reader:
            txn.abort()
        env.close()

    return env, put, get, scan, close


def kv_sqlite3(path: str) -> Any:
    conn = sqlite3.connect(os.path.join(path, "kv.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def put(key: bytes, value: bytes) -> None:
        conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))

    def get(key: bytes) -> bytes | None:
        row = conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def scan() -> Any:
        return conn.execute("SELECT k, v FROM kv ORDER BY k")

    return conn, put, get, scan, conn.close


KV_OPENERS = {
    "cairn": kv_cairn,
    "plyvel": kv_plyvel,
    "rocksdict": kv_rocksdict,
    "lmdb": kv_lmdb,
    "sqlite3": kv_sqlite3,
}


def run_kv(engine: str, root: str, n: int, value_size: int, rows: tuple[str, ...]) -> dict[str, float]:
    path = os.path.join(root, f"kv-{engine}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    rng = random.Random(42)
    keys = [b"key%013d" % i for i in range(n)]
    write_order = keys[:]
    rng.shuffle(write_order)
    read_order = keys[:]
    rng.shuffle(read_order)
    value = bytes(rng.getrandbits(8) for _ in range(value_size))
    _, put, get, scan, close = KV_OPENERS[engine](path)
    results: dict[str, float] = {}
    try:

        def do_put() -> int:
            for key in write_order:
                put(key, value)
            return len(write_order)

        def do_get() -> int:
            found = 0
            for key in read_order:
                if get(key) is not None:
                    found += 1
            if found != n:
                raise Failure(f"{engine}: get found {found} of {n} keys")
            return n

        def do_scan() -> int:
            count = 0
            items = scan()
            for k, v in items:
                count += 1
            close = getattr(items, "close", None)  # each engine's own iterator, closed after
            if close is not None:
                close()
            if count != n:
                raise Failure(f"{engine}: scan saw {count} of {n} items")
            return count

        # put always runs, once (a second run would overwrite, another
        # workload): the other rows read what it wrote.
        results["put"] = timed(do_put)[0]
        if "get" in rows:
            results["get"] = timed(do_get, REPEAT)[0]
        if "scan" in rows:
            results["scan"] = timed(do_scan, REPEAT)[0]
        if get(keys[0]) != value:
            raise Failure(f"{engine}: read back a wrong value")
    finally:
        close()
        shutil.rmtree(path, ignore_errors=True)
    return results


# -- Documents -------------------------------------------------------------


def make_documents(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    cities = ["Oslo", "Lima", "Pune", "Kyiv", "Rome", "Nara", "Cork", "Baku"]
    return [
        {
            "_id": i,
            "name": f"user{i:07d}",
            "age": rng.randrange(18, 90),
            "city": cities[i % len(cities)],
            "score": round(rng.random() * 100, 3),
            "tags": ["a", "b"] if i % 3 else ["c"],
            "active": i % 2 == 0,
        }
        for i in range(n)
    ]


def docs_cairn(root: str, documents: list[dict[str, Any]]) -> Any:
    import cairn

    path = os.path.join(root, "docs-cairn")
    shutil.rmtree(path, ignore_errors=True)
    db = cairn.open(path, sync="never")
    users = db.collection("users")
    for start in range(0, len(documents), 10_000):
        users.insert_many(documents[start : start + 10_000])
    users.create_index("name")
    # The reads measure a settled database: the flushes and compactions the
    # load started would otherwise run during them (on this 2-core machine,
    # against the reader), which an in-memory SQLite never has.
    db.compact_range()

    def scan() -> int:
        return sum(1 for _ in users.find())

    def find_one(name: str) -> Any:
        return users.find_one({"name": name})

    def close() -> None:
        db.close()
        shutil.rmtree(path, ignore_errors=True)

    return scan, find_one, close


def docs_sqlite3(root: str, documents: list[dict[str, Any]]) -> Any:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.executemany("INSERT INTO docs VALUES (?, ?)", ((d["_id"], json.dumps(d)) for d in documents))
    conn.execute("CREATE INDEX docs_name ON docs (json_extract(body, '$.name'))")
    conn.commit()
    loads = json.loads

    def scan() -> int:
        return sum(1 for (body,) in conn.execute("SELECT body FROM docs ORDER BY id") if loads(body))

    def find_one(name: str) -> Any:
        row = conn.execute("SELECT body FROM docs WHERE json_extract(body, '$.name') = ? LIMIT 1", (name,)).fetchone()
        return None if row is None else loads(row[0])

    return scan, find_one, conn.close


def run_docs(engine: str, root: str, documents: list[dict[str, Any]], lookups: int) -> dict[str, float]:
    scan, find_one, close = (docs_cairn if engine == "cairn" else docs_sqlite3)(root, documents)
    rng = random.Random(3)
    names = [documents[rng.randrange(len(documents))]["name"] for _ in range(lookups)]
    results: dict[str, float] = {}
    try:

        def do_scan() -> int:
            count = scan()
            if count != len(documents):
                raise Failure(f"{engine}: find saw {count} of {len(documents)} documents")
            return count

        def do_find_one() -> int:
            for name in names:
                document = find_one(name)
                if document is None or document["name"] != name:
                    raise Failure(f"{engine}: find_one({name!r}) returned {document!r}")
            return len(names)

        results["find_all"] = timed(do_scan, REPEAT)[0]
        results["find_one"] = timed(do_find_one, REPEAT)[0]
    finally:
        close()
    return results


# -- Output ------------------------------------------------------------------


def rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    return f"{value / 1e3:.0f}k"


def version_of(engine: str) -> str:
    try:
        if engine == "cairn":
            import cairn

            return str(cairn.library_version())
        if engine == "sqlite3":
            return sqlite3.sqlite_version
        from importlib.metadata import version

        return version(engine)
    except Exception:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num", type=int, default=200_000, help="keys (default 200,000)")
    parser.add_argument("--value-size", type=int, default=100, help="value bytes (default 100)")
    parser.add_argument("--docs", type=int, default=100_000, help="documents (default 100,000; 0 skips them)")
    parser.add_argument("--lookups", type=int, default=20_000, help="find_one calls (default 20,000)")
    parser.add_argument("--engines", default=",".join(KV_ENGINES), help="key-value engines, comma-separated")
    parser.add_argument("--rows", default=",".join(KV_ROWS), help="key-value rows: put,get,scan")
    parser.add_argument("--dir", default=None, help="where the stores go (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each read row, the best reported (default 3)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)

    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in KV_OPENERS:
            parser.error(f"unknown engine {engine!r}")
    rows = tuple(r for r in args.rows.split(",") if r)
    root = args.dir or tempfile.mkdtemp(prefix="cairn-pybench-")
    os.makedirs(root, exist_ok=True)

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
          f"N={args.num:,} keys, {args.value_size}-byte values, sync off; {args.docs:,} documents; "
          f"reads: best of {REPEAT}, puts: one run; load average {os.getloadavg()[0]:.2f}")
    available = []
    for engine in engines:
        module = {"cairn": "cairn", "plyvel": "plyvel", "rocksdict": "rocksdict", "lmdb": "lmdb"}.get(engine)
        if module is not None:
            try:
                __import__(module)
            except ImportError as exc:
                print(f"  {engine}: not installed ({exc}); skipped")
                continue
        available.append(engine)
    print("  versions: " + ", ".join(f"{e} {version_of(e)}" for e in available))

    failed = False
    kv: dict[str, dict[str, float]] = {}
    for engine in available:
        try:
            kv[engine] = run_kv(engine, root, args.num, args.value_size, rows)
        except Failure as exc:
            print(f"  FAILED: {exc}")
            failed = True
        print(f"  {engine}: " + ", ".join(f"{row} {rate(v)}/s" for row, v in kv.get(engine, {}).items()), flush=True)

    shown = [e for e in available if e in kv]
    print()
    print("| key-value | " + " | ".join(shown) + " |")
    print("|---|" + "---:|" * len(shown))
    for row in ("put", "get", "scan"):
        if row != "put" and row not in rows:
            continue
        label = {"put": "put/s", "get": "get/s", "scan": "full scan, items/s"}[row]
        print(f"| {label} | " + " | ".join(rate(kv[e].get(row)) for e in shown) + " |")
    if "cairn" in kv:
        print()
        print("| Cairn / peer | " + " | ".join(e for e in shown if e != "cairn") + " |")
        print("|---|" + "---:|" * (len(shown) - 1))
        for row in ("put", "get", "scan"):
            if row not in kv["cairn"]:
                continue
            ratios = [kv["cairn"][row] / kv[e][row] if kv[e].get(row) else None for e in shown if e != "cairn"]
            print(f"| {row} | " + " | ".join("-" if r is None else f"{r:.2f}" for r in ratios) + " |")

    if args.docs > 0:
        documents = make_documents(args.docs)
        docs: dict[str, dict[str, float]] = {}
        for engine in ("cairn", "sqlite3"):
            try:
                docs[engine] = run_docs(engine, root, documents, args.lookups)
            except Failure as exc:
                print(f"  FAILED: {exc}")
                failed = True
        if len(docs) == 2:
            print()
            print("| documents | Cairn | sqlite3 + json (memory) | Cairn / sqlite3 |")
            print("|---|---:|---:|---:|")
            for row, label in (("find_all", "full find, documents/s"), ("find_one", "indexed find_one/s")):
                c, s = docs["cairn"][row], docs["sqlite3"][row]
                print(f"| {label} | {rate(c)} | {rate(s)} | {c / s:.2f} |")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
