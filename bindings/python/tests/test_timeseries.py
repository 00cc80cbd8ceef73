"""Time series through the Python binding: writes, reads, aggregation,
line protocol (errors naming the line), rules and retention, and a SIGKILL
during batched writes that must keep every acknowledged point."""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import cairn

T = 4_102_444_800_000  # 2100-01-01: out of reach of the clock's maintenance


def test_write_read_aggregate(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db")) as db:
        ts = db.timeseries
        assert ts.write([
            {"metric": "cpu", "tags": {"host": "a"}, "t": T + 2000, "v": 2.0},
            {"metric": "cpu", "tags": {"host": "a"}, "t": T + 1000, "v": math.inf},
            {"metric": "cpu", "tags": {"host": "b"}, "t": T + 1000, "v": 5},
        ]) == 3
        rows = list(ts.range("cpu", tags={"host": "a"}))
        assert rows == [{"t": T + 1000, "v": math.inf}, {"t": T + 2000, "v": 2.0}]
        latest = ts.latest("cpu", {"host": "a"}, as_of=T + 1500)
        assert latest == (T + 1000, math.inf)
        assert ts.latest("cpu", {"host": "a"}, as_of=T) is None
        assert [s["tags"]["host"] for s in ts.series("cpu", where={"host": {"$ne": "a"}})] == ["b"]
        groups = list(ts.aggregate("cpu", every="1s", aggregates=["count", "max"], group_by=["host"], start=T, end=T + 3000))
        assert groups == [
            {"group": {"host": "a"}, "t": T + 1000, "count": 1, "max": math.inf},
            {"group": {"host": "a"}, "t": T + 2000, "count": 1, "max": 2.0},
            {"group": {"host": "b"}, "t": T + 1000, "count": 1, "max": 5.0},
        ]
        with pytest.raises(cairn.errors.InvalidArgument, match="unknown aggregate 'nope'"):
            ts.aggregate("cpu", every=10, aggregates=["nope"])
        sid = ts.series_id("n", {"k": "v"}, type="int")
        ts.write_columns([sid] * 3, [T, T + 1, T + 2], [1, 2, 3])
        assert [r["v"] for r in ts.range(id=sid)] == [1, 2, 3]
        with pytest.raises(cairn.errors.InvalidArgument):
            ts.write_columns([sid], [T], [1.5])
        assert ts.delete(id=sid, start=T + 1, end=T + 2) == 1
        assert [r["t"] for r in ts.range(id=sid)] == [T, T + 2]


def test_line_protocol_errors_name_the_line(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db")) as db:
        ts = db.timeseries
        text = "m,host=a v=1 1\nm,host=a v=2 2\nm,host=a v=\n"
        with pytest.raises(cairn.errors.InvalidArgument, match="line 3"):
            ts.import_lines(text, precision="s")
        assert list(ts.range("m.v")) == [], "a bad line writes nothing"
        assert ts.import_lines(text.rsplit("\n", 2)[0] + "\n", precision="s") == 2
        assert [r["t"] for r in ts.range("m.v", tags={"host": "a"})] == [1000, 2000]


def test_rules_retention_settings(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db")) as db:
        ts = db.timeseries
        ts.write([{"metric": "temp", "t": T + i * 60_000, "v": float(i)} for i in range(10)])
        ts.create_rule("5m", "temp", every="5m", aggregates=["avg", "count"], retention="1d")
        report = ts.maintain(T + 10 * 60_000)
        assert report["rolled_up"] == 4
        assert [r["v"] for r in ts.range("temp:5m:avg", tags={})] == [2.0, 7.0]
        settings = ts.settings()
        assert settings["rules"][0]["name"] == "5m" and settings["retention"]["temp:5m:avg"] == 86_400_000
        ts.set_retention("temp", "2h")
        ts.maintain(T + 5 * 3_600_000)
        assert list(ts.range("temp", tags={})) == []
        ts.drop_rule("5m")
        with pytest.raises(cairn.errors.NotFound):
            ts.drop_rule("5m")


def test_concurrent_writers(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db"), sync="never") as db:
        ts = db.timeseries
        ids = [ts.series_id("w", {"n": str(i)}) for i in range(4)]

        def write(i: int) -> None:
            for b in range(50):
                ts.write_columns([ids[i]] * 100, [T + (b * 100 + j) * 10 for j in range(100)], [float(j) for j in range(100)])

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = list(ts.aggregate("w", every="100d", aggregates=["count"], group_by=["n"]))
        assert [c["count"] for c in counts] == [5000] * 4


WRITER = textwrap.dedent(
    """
    import sys
    import cairn

    path, round_number = sys.argv[1], int(sys.argv[2])
    T = 4_102_444_800_000
    with cairn.open(path, sync="always", memtable_size_mb=1) as db:
        ts = db.timeseries
        ids = [ts.series_id("crash", {"round": str(round_number), "s": str(s)}) for s in range(5)]
        print("ready", flush=True)
        i = 0
        while True:
            # One batch: 5 series x 20 points, partly out of order.
            times = [T + (i * 20 + (j * 7) % 20) * 1000 for j in range(20)]
            ts.write_columns([sid for sid in ids for _ in times], times * 5, [float(i)] * 100)
            print(f"batch {i}", flush=True)
            i += 1
    """
)


def test_acknowledged_points_survive_sigkill(tmp_path: Path) -> None:
    rounds = int(os.environ.get("CAIRN_CRASH_ROUNDS", "15"))
    rng = random.Random(int(os.environ.get("CAIRN_SEED", "20261206")))
    path = str(tmp_path / "db")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    for round_number in range(rounds):
        child = subprocess.Popen([sys.executable, "-c", WRITER, path, str(round_number)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.01, 0.15))
        child.send_signal(signal.SIGKILL)
        # Read through the same file object as readline() above: its buffer
        # may already hold the first "batch" lines, which communicate()
        # (reading the descriptor itself) would miss.
        output = child.stdout.read()
        child.wait()
        if child.stderr is not None:
            child.stderr.close()
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        acknowledged = [int(line.split()[1]) for line in output.splitlines() if line.startswith("batch")]
        with cairn.open(path) as db:
            ts = db.timeseries
            for s in range(5):
                points = list(ts.range("crash", tags={"round": str(round_number), "s": str(s)}))
                # Batch i covers [i*20, i*20+20) seconds, value i: every
                # acknowledged batch whole, the one in flight whole or absent.
                done = len(acknowledged)
                assert len(points) in (done * 20, done * 20 + 20), (round_number, s, len(points), done)
                for k, point in enumerate(points):
                    assert point["t"] == T + k * 1000 and point["v"] == float(k // 20)


def test_extreme_times_and_widths_never_trap(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db"), sync="never") as db:
        ts = db.timeseries
        ts.write([{"metric": "m", "t": -(2**62), "v": 1.0}, {"metric": "m", "t": 2**62 - 1, "v": 2.0}])
        with pytest.raises(cairn.errors.InvalidArgument):
            ts.write([{"metric": "m", "t": 2**62, "v": 1.0}])
        with pytest.raises(cairn.errors.InvalidArgument, match="2\\^60"):
            list(ts.aggregate("m", every=2**62 - 1, aggregates=["count"]))
        for every in (2**60, 2**60 - 7, 2**59):
            for fill in (None, "previous", "linear"):
                bounds = {"start": -(2**62) + 1, "end": 2**62 - 2} if fill else {}
                rows = list(ts.aggregate("m", every=every, aggregates=["count", "rate", "p50"], fill=fill, **bounds))
                assert sum(r["count"] or 0 for r in rows if fill is None) == (2 if fill is None else 0)
        with pytest.raises(cairn.errors.InvalidArgument, match="10,000,000"):
            list(ts.aggregate("m", every=3, aggregates=["count"], fill="linear", start=-(2**62) + 1, end=2**62 - 2))
        ts.create_rule("r", "m", every=2**60, aggregates=["avg"])
        ts.maintain(-(2**62))
        ts.maintain(2**62 - 1)
        ts.set_retention("m", 2**63 - 1)
        ts.maintain(2**62 - 1)
        assert ts.delete("m", start=-(2**63), end=2**63 - 1) == 1
        assert list(ts.range("m")) == []
