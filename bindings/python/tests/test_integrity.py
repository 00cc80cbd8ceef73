"""What a user does to a database outside the rules: fork() with it open,
delete its manifest, kill it while it opens. Each gives an error or the right
data, never lost or invented data.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cairn


def _wait(pid: int, seconds: float) -> int:
    """The exit status of child `pid`; fails the test if it hangs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the child hung")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_handle_used_after_fork_fails_in_the_child_and_the_parent_loses_nothing(db_path: Path) -> None:
    db = cairn.open(db_path, sync="always")
    db.put("before", "fork")
    notes = db.collection("notes")
    notes.insert_one({"_id": 1})
    release_child, child_waits = os.pipe()[::-1]
    pid = os.fork()
    if pid == 0:  # the child: every call fails at once, close frees only memory
        code = 0
        for call in (lambda: db.put("child", "x"), db.flush, lambda: db.get("before"),
                     lambda: notes.insert_one({"_id": 2}), lambda: db.stats()):
            try:
                call()
                code = 1
            except cairn.InvalidArgument as error:
                if "fork" not in str(error):
                    code = 2
            except BaseException:  # noqa: BLE001 - any other outcome fails the test
                code = 3
        try:
            db.close()
        except BaseException:  # noqa: BLE001
            code = 4
        os.read(child_waits, 1)  # stay alive (holding the inherited descriptors) until the parent has reopened
        os._exit(code)
    try:
        for i in range(1000):
            db.put(f"parent-{i}", str(i))
        db.close()
        # The child still lives and shares the lock file's descriptor: the
        # parent's close must have released the lock all the same.
        with cairn.open(db_path) as again:
            assert again.get("before") == b"fork"
            assert again.get("child") is None
            assert [again.get(f"parent-{i}") for i in range(1000)] == [str(i).encode() for i in range(1000)]
            assert again.collection("notes").count() == 1
    finally:
        os.write(release_child, b"x")
        assert _wait(pid, 30) == 0


def test_a_lost_manifest_is_corruption_and_repair_brings_the_data_back(db_path: Path) -> None:
    with cairn.open(db_path, sync="never", memtable_size_mb=1) as db:
        for i in range(20_000):
            db.put(f"k{i:06}", f"v{i}" * 20)
        db.flush()
        for i in range(20_000, 21_000):
            db.put(f"k{i:06}", f"v{i}" * 20)
    (db_path / "MANIFEST").unlink()
    before = sorted(os.listdir(db_path))
    with pytest.raises(cairn.Corruption, match="MANIFEST"):
        cairn.open(db_path)
    assert sorted(os.listdir(db_path)) == before, "a refused open deletes nothing"
    report = cairn.repair(db_path)
    assert report["old_manifest"] == "missing"
    assert report["set_aside"] == []
    with cairn.open(db_path) as db:
        assert all(db.get(f"k{i:06}") == (f"v{i}" * 20).encode() for i in range(0, 21_000, 7))
        with pytest.raises(cairn.Busy):
            cairn.repair(db_path)


OPENER = textwrap.dedent(
    """
    import sys
    import cairn

    path, round_number = sys.argv[1], int(sys.argv[2])
    # sync "never" survives a process kill, and leaves each round a large
    # log (a 64 MiB memtable is not flushed) for the next round's open.
    with cairn.open(path, sync="never", memtable_size_mb=64) as db:
        print("ready", flush=True)
        for i in range(100000):
            db.put(f"r{round_number}-{i}", str(i))
            print(i, flush=True)
    """
)


def test_sigkill_during_the_open_that_replays_a_large_log(db_path: Path) -> None:
    """Recovery itself is crash-safe: each round kills a process while its
    open replays (and flushes) a large log, or just after; the next open
    succeeds and every acknowledged write is there."""
    rounds = int(os.environ.get("CAIRN_CRASH_ROUNDS", "20"))
    rng = random.Random(int(os.environ.get("CAIRN_SEED", "20261206")))
    base = 60_000
    with cairn.open(db_path, sync="never", memtable_size_mb=64) as db:
        for i in range(base):
            db.put(f"base-{i:06}", "x" * 100)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    acknowledged: dict[int, int] = {}
    for round_number in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", OPENER, str(db_path), str(round_number)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        output, errors = child.communicate()
        lines = [line for line in output.splitlines() if line.strip() and line != "ready"]
        acknowledged[round_number] = len(lines)
        assert "Error" not in errors, errors
    with cairn.open(db_path) as db:
        assert all(db.get(f"base-{i:06}") == b"x" * 100 for i in range(0, base, 3))
        for round_number, count in acknowledged.items():
            for i in range(count):
                assert db.get(f"r{round_number}-{i}") == str(i).encode(), (round_number, i)
        notes = db.stats()["recovery_notes"]
    print(f"crash-open: {rounds} SIGKILL rounds during opens that replay a {base}-key log, "
          f"{sum(acknowledged.values())} acknowledged writes all present; last open: {notes}")


BUILDER = textwrap.dedent(
    """
    import sys
    import cairn

    with cairn.open(sys.argv[1]) as db:
        people = db.collection("people")
        print("ready", flush=True)
        people.create_index(sys.argv[2], unique=sys.argv[2] == "u")
        print("built", flush=True)
    """
)


def test_sigkill_during_an_index_build_leaves_no_half_visible_index(db_path: Path) -> None:
    """Kills index builds (backfills of 150,000 documents) at random moments.
    After each reopen, while the resumed build runs and once it is ready,
    every read path returns what the documents say, and a half-built index
    is never listed as ready."""
    rounds = int(os.environ.get("CAIRN_CRASH_ROUNDS_INDEX", "5"))
    rng = random.Random(int(os.environ.get("CAIRN_SEED", "20261206")))
    total = 150_000
    with cairn.open(db_path, sync="never") as db:
        people = db.collection("people")
        for start in range(0, total, 10_000):
            people.insert_many([{"_id": i, "n": (i * 7919) % total, "u": i, "g": i % 13}
                                for i in range(start, start + 10_000)])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)

    def check(db: cairn.Database, field: str) -> None:
        people = db.collection("people")
        low = rng.randrange(0, total - 500)
        rows = list(people.find({field: {"$gte": low, "$lt": low + 300}}, sort=[(field, 1)], projection={"_id": 1}))
        want = sorted((i for i in range(total) if low <= ((i * 7919) % total if field == "n" else i) < low + 300),
                      key=lambda i: (i * 7919) % total if field == "n" else i)
        assert [row["_id"] for row in rows] == want
        assert people.count({field: {"$lt": 1000}}) == 1000
        assert sorted(people.distinct("g", {field: {"$lt": 13}})) == sorted({i % 13 for i in range(total)
                                                                              if ((i * 7919) % total if field == "n" else i) < 13})
        groups = list(people.aggregate([{"$match": {field: {"$lt": 2600}}}, {"$group": {"_id": "$g", "c": {"$sum": 1}}},
                                        {"$sort": {"_id": 1}}]))
        assert sum(group["c"] for group in groups) == 2600
        found = people.find_one_and_update({field: low}, {"$inc": {"touched": 1}})
        assert found is not None and found[field] == low

    # How long one build takes here, so that the kills land inside builds.
    with cairn.open(db_path) as db:
        started = time.monotonic()
        db.collection("people").create_index("g")
        build_seconds = time.monotonic() - started
        db.collection("people").drop_index("g_1")
    kills = 0
    for round_number in range(rounds):
        field = "n" if round_number % 2 == 0 else "u"
        with cairn.open(db_path) as db:  # start each round with no index on the field
            people = db.collection("people")
            for index in people.list_indexes():
                people.drop_index(index["name"])
        child = subprocess.Popen([sys.executable, "-c", BUILDER, str(db_path), field],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.1, 0.9) * build_seconds)
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate()
        kills += "built" not in output
        with cairn.open(db_path) as db:
            people = db.collection("people")
            states = {index["name"]: index["state"] for index in people.list_indexes()}
            assert set(states) <= {f"{field}_1"}, states
            check(db, field)  # while the resumed build runs (or after it)
            deadline = time.monotonic() + 60
            while people.list_indexes() and people.list_indexes()[0]["state"] != "ready":
                assert time.monotonic() < deadline, "the resumed build never finished"
                time.sleep(0.05)
            if people.list_indexes():
                assert people.explain({field: {"$gte": 5, "$lt": 9}})["index"] == f"{field}_1"
            check(db, field)
    assert kills > 0, "no kill landed inside a build"
    print(f"crash-index: {rounds} rounds of 150000-document builds ({build_seconds:.2f} s each), {kills} killed mid-build; "
          "every read path agreed with the documents, before and after the resumed build")


NO_MEMORY = textwrap.dedent(
    """
    import resource, sys
    import cairn

    db = cairn.open(sys.argv[1], sync="never")
    notes = db.collection("notes")
    value = b"v" * (200 << 20)
    document = "t" * (15 << 20)
    # Room for what is mapped now and 150 MiB more: a put of 200 MiB needs
    # several copies on its way, so it cannot be had.
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + (150 << 20), resource.RLIM_INFINITY))
    def batch():
        with db.batch() as b:
            b.put("big", value)

    for name, call in (("put", lambda: db.put("big", value)), ("batch", batch),
                       ("insert", lambda: notes.insert_one({"_id": 1, "text": document}))):
        try:
            call()
            print(name, "stored", flush=True)
        except cairn.NoMemory as error:
            print(name, "no-memory", "nothing was written" in str(error), flush=True)
    db.put("small", "still works")
    print("small", db.get("small").decode())
    db.close()
    """
)


def test_an_allocation_the_input_asks_for_fails_with_no_memory_not_an_abort(db_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", NO_MEMORY, str(db_path)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120, check=False)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "put no-memory True" in result.stdout, result.stdout
    assert "batch no-memory True" in result.stdout, result.stdout
    assert "small still works" in result.stdout, result.stdout
    with cairn.open(db_path) as db:
        assert db.get("big") is None
        assert db.get("small") == b"still works"
        assert db.collection("notes").count() in (0, 1)  # the 15 MiB document fits or is refused whole


FEW_DESCRIPTORS = textwrap.dedent(
    """
    import random, resource, sys
    import cairn

    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    path = sys.argv[1]
    value = b"v" * 1000
    # Sequential keys and a 1 MiB memtable: every flush is a table that moves
    # down without a merge, so the database ends with many small tables.
    with cairn.open(path, sync="never", memtable_size_mb=1, max_open_tables=16) as db:
        for i in range(120_000):
            db.put(f"k{i:07}", value)
        db.flush()
        tables = db.stats()["tables"]
    for round in range(2):
        with cairn.open(path, max_open_tables=16) as db:
            rng = random.Random(round)
            for i in rng.sample(range(120_000), 4000):
                assert db.get(f"k{i:07}") == value, i
            assert sum(1 for _ in db.iterate()) == 120_000
            opened = db.stats()["open_tables"]
    print("tables", tables, "open", opened, flush=True)
    """
)


def test_a_low_descriptor_limit_with_many_tables(db_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", FEW_DESCRIPTORS, str(db_path)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=300, check=False)
    assert result.returncode == 0, (result.returncode, result.stderr[-3000:])
    _, tables, _, opened = result.stdout.split()
    assert int(tables) > 48, "more tables than the process may open files"
    assert int(opened) <= 16, "max_open_tables is respected"
    print(f"descriptors: ulimit -n 64, {tables} tables, at most {opened} open, every key read back")
