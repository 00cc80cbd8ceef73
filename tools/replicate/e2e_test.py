"""End-to-end test of replication through NATS JetStream (issue 13).

Run by `make test-replicate`, which starts nats-server with JetStream on
loopback and stops it afterwards:

    e2e_test.py NATS_URL BIN_DIR WORK_DIR

1. writes on the primary (key-value puts, deletes, range deletions, batches,
   documents with a unique index and a schema, updates, replacements,
   deletes, transactions mixing both);
2. runs cairn-replicate and kills it with SIGKILL mid-stream, then runs it
   again to the end;
3. runs cairn-follow on the replica and kills it mid-stream, then runs it
   again (a restart of the follower);
4. writes again (a rename, a dropped index, a dropped collection, TTLs, a
   batch with a range deletion), replicates and follows again;
5. checks that the replica equals the primary key by key and document by
   document (and index by index), that the stream holds every event of the
   primary's history exactly once, and that no commit was applied twice.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cairn

STREAM = "E2E"


def write_phase_one(db: cairn.Database, rng: random.Random) -> None:
    people = db.create_collection("people", primary_key="email", change_stream_pre_and_post_images=True)
    people.create_index("age", name="by_age")
    orders = db.collection("orders")
    orders.create_index({"sku": 1, "qty": -1}, name="sku_qty", unique=False)
    for i in range(300):
        db.put(f"user:{i:04d}", f"value {i}".encode() + bytes([i % 256]))
        if i % 7 == 0:
            db.delete(f"user:{i - 3:04d}")
        people.insert_one({"email": f"p{i}@x.org", "age": rng.randrange(80), "tags": ["a", str(i)], "nested": {"n": i}})
        orders.insert_one({"_id": i, "sku": f"s{i % 13}", "qty": i})
        if i % 5 == 0:
            people.update_one({"email": f"p{i}@x.org"}, {"$inc": {"age": 1}, "$set": {"nested.m": i}, "$unset": {"tags": ""}})
        if i % 11 == 0:
            orders.replace_one({"_id": i}, {"sku": "replaced", "qty": -i})
        if i % 13 == 0:
            orders.delete_one({"_id": i - 1})
        if i % 17 == 0:
            with db.transaction() as txn:
                txn.put(f"txn:{i}", b"in a transaction")
                txn.collection("orders").update_many({"sku": f"s{i % 13}"}, {"$inc": {"qty": 1000}})
                txn.collection("ledger").insert_one({"_id": i, "what": "transfer"})
                txn.delete(f"user:{i:04d}")
    batch = db.batch()
    for i in range(50):
        batch.put(f"batch:{i:03d}", b"b")
    batch.delete_range("user:0100", "user:0150")
    db.write(batch)


def write_phase_two(db: cairn.Database) -> None:
    db.put("ttl:long", b"stays", ttl="1h")
    db.put("ttl:short", b"goes", ttl="200ms")
    db.collection("orders").drop_index("sku_qty")
    db.collection("ledger").rename("journal")
    db.collection("temp").insert_one({"_id": 1})
    db.drop_collection("temp")
    db.collection("journal").update_many({}, {"$set": {"moved": True}})
    batch = db.batch()
    batch.delete_range("batch:010", "batch:020")
    batch.put("batch:999", b"after")
    db.write(batch)
    for i in range(200):
        db.put(f"late:{i}", b"x")


def run_until_lines(command: list[str], prefix: str, lines: int) -> list[str]:
    """Runs `command`, kills it with SIGKILL once it printed `lines` lines
    starting with `prefix`, and returns those lines."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    seen: list[str] = []
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(prefix):
            seen.append(line.strip())
            if len(seen) >= lines:
                child.kill()
                break
    child.wait()
    assert child.returncode == -9, f"{command[0]} ended on its own ({child.returncode}) before it was killed"
    return seen


def run_to_end(command: list[str]) -> list[str]:
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 0, f"{command} exited {done.returncode}: {done.stdout[-2000:]}"
    return done.stdout.splitlines()


def snapshot(path: Path) -> dict[str, Any]:
    """Every key-value pair, every document of every collection (but the
    replica's own position) and every index, as comparable values."""
    with cairn.open(path) as db:
        kv = {key: db.get(key) for key in db}
        collections = {}
        indexes = {}
        for name in db.list_collections():
            if name == "__cairn_replica":
                continue
            coll = db.collection(name)
            collections[name] = sorted((repr(sorted(doc.items())) for doc in coll.find()))
            indexes[name] = sorted(repr(sorted((k, v) for k, v in ix.items() if k != "entries")) for ix in coll.list_indexes())
        return {"kv": kv, "collections": collections, "indexes": indexes}


def history_length(path: Path) -> tuple[int, int]:
    """The number of events the primary's history holds and its last commit's sequence."""
    with cairn.open(path, change_feed=True) as db:
        events = list(db.watch(start_at_operation_time=1, timeout=0.2))
        return len(events), events[-1]["seq"]


def main() -> None:
    url, bin_dir, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    primary, replica = work / "primary", work / "replica"
    replicate = [str(bin_dir / "cairn-replicate"), str(primary), "--url", url, "--stream", STREAM]
    follow = [str(bin_dir / "cairn-follow"), str(replica), "--url", url, "--stream", STREAM]
    rng = random.Random(1306)

    with cairn.open(primary, change_feed=True) as db:
        write_phase_one(db, rng)
    total, _ = history_length(primary)

    published = run_until_lines(replicate + ["--progress"], "published ", rng.randrange(200, total // 2))
    start = time.monotonic()
    rest = [l for l in run_to_end(replicate + ["--progress", "--idle-exit", "1000"]) if l.startswith("published ")]
    publish_rate = len(rest) / max(time.monotonic() - start - 1.0, 1e-3)  # less the idle second before it exits
    published += rest
    applied = run_until_lines(follow + ["--progress"], "applied ", rng.randrange(50, 300))
    start = time.monotonic()
    rest = [l for l in run_to_end(follow + ["--progress", "--idle-exit", "1500"]) if l.startswith("applied ")]
    apply_rate = sum(int(l.split()[2]) for l in rest) / max(time.monotonic() - start - 1.5, 1e-3)
    applied += rest

    with cairn.open(primary, change_feed=True) as db:
        write_phase_two(db)
    time.sleep(0.3)  # ttl:short expires on the primary
    published += [l for l in run_to_end(replicate + ["--progress", "--idle-exit", "1000"]) if l.startswith("published ")]
    out = run_to_end(follow + ["--progress", "--idle-exit", "1500"])
    applied += [l for l in out if l.startswith("applied ")]
    lag = [l for l in out if l.startswith("lag: ")]

    total, last_seq = history_length(primary)
    tokens = [tuple(l.split()[1:3]) for l in published]
    assert len(tokens) == len(set(tokens)), "an event was published twice"
    assert len(tokens) <= total
    last_lag = dict(item.split("=") for item in lag[-1][len("lag: "):].split())
    assert int(last_lag["stream_last"]) == total, f"the stream holds {last_lag['stream_last']} events, the history {total}"
    assert int(last_lag["events_behind"]) == 0 and int(last_lag["ms_behind_primary"]) == 0, lag[-1]
    commits = [l.split()[1] for l in applied]
    assert len(commits) == len(set(commits)), "a commit was applied twice"
    with cairn.open(replica) as db:
        position = db.collection("__cairn_replica").find_by_id("position")
        assert position is not None and position["seq"] == last_seq, (position, last_seq)

    want, got = snapshot(primary), snapshot(replica)
    assert want["kv"].keys() == got["kv"].keys(), sorted(set(want["kv"]) ^ set(got["kv"]))[:10]
    assert want["kv"] == got["kv"], "values differ"
    assert want["collections"].keys() == got["collections"].keys(), (want["collections"].keys(), got["collections"].keys())
    for name in want["collections"]:
        assert want["collections"][name] == got["collections"][name], f"collection {name} differs"
    assert want["indexes"] == got["indexes"], (want["indexes"], got["indexes"])
    print(f"replication: {total} events, {len(set(commits))} commits applied once each, "
          f"{len(want['kv'])} keys and {sum(len(d) for d in want['collections'].values())} documents equal; {lag[-1]}")
    print(f"replication: published about {publish_rate:.0f} events/s, applied about {apply_rate:.0f} events/s (one event a request each way)")
    print("replication: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
