"""cairn_interrupt through Python: Database.interrupt() from another thread,
and Ctrl-C (SIGINT) in the main thread during a long query."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import cairn

# A query that would run for many minutes: each of 20,000 documents looks
# at all 20,000 through a $lookup pipeline whose $expr no index can serve
# (400 million evaluations). Only an interrupt ends it in time, so a test
# that waits for it fails by its timeout, never by a measured speed, when
# interrupting does not work.
ENDLESS_PIPELINE = [
    {
        "$lookup": {
            "from": "people",
            "let": {"n": "$name"},
            "pipeline": [{"$match": {"$expr": {"$ne": ["$pad", "$$n"]}}}, {"$count": "c"}],
            "as": "others",
        }
    },
    {"$count": "n"},
]


def fill(db: cairn.Database, count: int = 20_000) -> None:
    people = db.collection("people")
    people.insert_many([{"_id": i, "name": f"person {i % 5000}", "pad": "x" * 50} for i in range(count)])


def test_interrupt_from_another_thread_stops_a_running_aggregation(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db"), sync="never") as db:
        fill(db)
        started = threading.Event()
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                started.set()
                list(db.collection("people").aggregate(ENDLESS_PIPELINE))
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        started.wait()
        # Interrupt repeatedly until the worker notices: an interrupt that
        # lands between two aggregations stops nothing, by design.
        while worker.is_alive():
            db.interrupt()
            worker.join(0.05)
        assert len(outcome) == 1 and isinstance(outcome[0], cairn.Interrupted), outcome
        # Nothing is damaged, and later calls are not affected.
        assert db.collection("people").count_documents({}) == 20_000
        assert list(db.collection("people").aggregate([{"$count": "n"}])) == [{"n": 20_000}]


def test_interrupting_an_idle_or_closed_database_is_harmless(tmp_path: Path) -> None:
    db = cairn.open(str(tmp_path / "db"))
    db.interrupt()
    db.put(b"k", b"v")
    assert db.get(b"k") == b"v"
    db.close()
    db.interrupt()


def test_ctrl_c_during_a_long_query_raises_keyboard_interrupt(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal, sys, threading, time
        import cairn
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_interrupt import fill, ENDLESS_PIPELINE
        # As in an interactive interpreter: a shell that starts a job in the
        # background (as CI may) leaves SIGINT ignored, and Python keeps it so.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        db = cairn.open({str(tmp_path / "db")!r}, sync="never")
        fill(db)
        # SIGINT from a timer, as a terminal's Ctrl-C would send it, while
        # the main thread is inside the library.
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            list(db.collection("people").aggregate(ENDLESS_PIPELINE))
            print("FINISHED")
        except KeyboardInterrupt:
            print("KEYBOARD INTERRUPT")
        print("COUNT", db.collection("people").count_documents({{}}))
        db.close()
        """
    )
    # The query never ends by itself: only an interrupted library call gets
    # the script to its end before the timeout.
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["KEYBOARD INTERRUPT", "COUNT 20000"], result.stdout
