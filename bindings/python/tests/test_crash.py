"""Durability under SIGKILL: every acknowledged write survives, no batch is
half-applied, and the database opens every time.

A child process writes with sync="always" and prints each write after the
call returned; the parent kills it with SIGKILL at a random moment, reopens
the directory and checks. CAIRN_CRASH_ROUNDS sets the number of rounds and
CAIRN_SEED the random moments.
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

import cairn

WRITER = textwrap.dedent(
    """
    import sys
    import cairn

    path, round_number = sys.argv[1], int(sys.argv[2])
    # A small memtable, so that flushes and compactions run while the kills come.
    with cairn.open(path, sync="always", memtable_size_mb=1) as db:
        print("ready", flush=True)
        i = 0
        while True:
            if i % 3 == 0:
                with db.batch() as batch:
                    for part in range(3):
                        batch.put(f"r{round_number}-b{i}-{part}", f"batch {i}")
                print(f"batch {i}", flush=True)
            else:
                db.put(f"r{round_number}-k{i}", f"value {i}" + "v" * 400)
                print(f"put {i}", flush=True)
            i += 1
    """
)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    rounds = int(os.environ.get("CAIRN_CRASH_ROUNDS", "50"))
    rng = random.Random(int(os.environ.get("CAIRN_SEED", "20261121")))
    path = str(tmp_path / "db")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    total_acknowledged = 0
    for round_number in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, path, str(round_number)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.005, 0.08))
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        acknowledged = [line.split() for line in output.splitlines() if line.strip()]
        total_acknowledged += len(acknowledged)

        with cairn.open(path, memtable_size_mb=1) as db:
            for kind, index in acknowledged:
                i = int(index)
                if kind == "put":
                    assert db.get(f"r{round_number}-k{i}") == (f"value {i}" + "v" * 400).encode(), (round_number, i)
                else:
                    for part in range(3):
                        assert db.get(f"r{round_number}-b{i}-{part}") == f"batch {i}".encode(), (round_number, i)
            # The write in flight when the kill came is all there or absent.
            batches = {key.rsplit(b"-", 1)[0] for key in db.keys(prefix=f"r{round_number}-b")}
            for batch in batches:
                parts = [db.get(batch + f"-{part}".encode()) for part in range(3)]
                assert all(parts) or not any(parts), (batch, parts)
    assert total_acknowledged > rounds, "the writer made progress before the kills"
    print(f"crash: {rounds} SIGKILL rounds, {total_acknowledged} acknowledged writes all present")
