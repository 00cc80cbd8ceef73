"""The InfluxDB peer of the time-series bench (bench/ts_bench.c): starts its
own influxd (Debian's influxdb 1.6, installed by bench/install-influxdb.sh;
never the system service) on loopback with a config written into --dir,
writes the same TSBS-style CSV as line protocol over HTTP, runs the same
queries in InfluxQL over HTTP, prints one "row <name> <value> <unit>" line
per measurement (the format of ts_bench.c, read by ts_bench_peers.py) and
always stops the server. InfluxDB is a server: every number here includes
an HTTP round trip on loopback and the JSON of the answer. A benchmark
asserts no speeds: it fails only when the server fails.

    python bench/ts_bench_influx.py --csv=FILE --dir=DIR [--out=FILE] [--batch=10000]
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
STEP = 10000  # ms between points, as ts_bench.c
DB = "bench"
# The shard is cold (no writes) this long before influxd snapshots its cache
# to TSM files and then fully compacts it; 1.6 has no command that forces
# either, so the bench shortens the defaults (10m and 4h) and waits.
SNAPSHOT_COLD = 5
FULL_COMPACTION_COLD = 15


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(root: str, http_port: int, rpc_port: int) -> str:
    """A config with nothing but the HTTP API on loopback (the RPC listener
    for backup/restore on a loopback port too, it cannot be turned off), no
    usage reports, no _internal monitor database, no other services."""
    path = os.path.join(root, "influxdb.conf")
    text = f"""# Written by bench/ts_bench_influx.py for one run; deleted with the bench dir.
reporting-enabled = false
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  index-version = "inmem"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "{SNAPSHOT_COLD}s"
  compact-full-write-cold-duration = "{FULL_COMPACTION_COLD}s"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  pprof-enabled = false

[ifql]
  enabled = false

[logging]
  level = "info"
  suppress-logo = true
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def die_with_parent() -> None:
    """In the child before exec: influxd gets SIGTERM if this process dies,
    even by SIGKILL, so no server outlives the bench (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Influx:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def query(self, q: str) -> dict:
        body = urllib.parse.urlencode({"db": DB, "q": q, "epoch": "ms"}).encode()
        status, data = self.request("POST", "/query", body, {"Content-Type": "application/x-www-form-urlencoded"})
        answer = json.loads(data)
        if status != 200 or "error" in answer or any("error" in r for r in answer.get("results", [])):
            raise RuntimeError(f"InfluxQL failed ({status}): {q[:200]}: {data[:500]!r}")
        return answer

    def write(self, lines: bytes) -> int:
        """POST /write; returns the retries a full cache cost (influxd answers
        500 "cache-max-memory-size exceeded" until a snapshot frees it)."""
        retries = 0
        while True:
            status, data = self.request("POST", f"/write?db={DB}&precision=ms", lines)
            if status == 204:
                return retries
            if status >= 500 and b"cache" in data and retries < 50:
                retries += 1
                time.sleep(0.2)
                continue
            raise RuntimeError(f"write failed ({status}): {data[:500]!r}")


def start(root: str, log_path: str) -> tuple[subprocess.Popen, int]:
    http_port, rpc_port = free_port(), free_port()
    while rpc_port == http_port:
        rpc_port = free_port()
    config = write_config(root, http_port, rpc_port)
    influxd = shutil.which("influxd")
    if influxd is None:
        raise RuntimeError("influxd is not installed (bench/install-influxdb.sh installs Debian's influxdb)")
    log = open(log_path, "wb")
    proc = subprocess.Popen([influxd, "-config", config], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    log.close()
    try:  # a server that never answered, or a signal meanwhile: stop it before unwinding
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"influxd exited with {proc.returncode}; see {log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=2)
                c.request("GET", "/ping")
                ok = c.getresponse().status == 204
                c.close()
                if ok:
                    return proc, http_port
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"influxd did not answer /ping within 60 s; see {log_path}")
            time.sleep(0.2)
    except BaseException:
        stop(proc)
        raise


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tree_bytes(*dirs: str) -> tuple[int, int, int]:
    """Bytes allocated on disk (st_blocks, as du counts: influxd preallocates
    its series file's segments sparsely, 4 MiB apiece), bytes of .tsm files
    (st_size), and .tsm files, under dirs."""
    allocated, tsm_bytes, tsm = 0, 0, 0
    for d in dirs:
        for base, _, files in os.walk(d):
            for name in files:
                try:
                    st = os.lstat(os.path.join(base, name))
                except FileNotFoundError:  # removed by a compaction meanwhile
                    continue
                allocated += st.st_blocks * 512
                if name.endswith(".tsm"):
                    tsm_bytes += st.st_size
                    tsm += 1
    return allocated, tsm_bytes, tsm


def settle(data: str, wal: str, log_path: str, timeout: float) -> tuple[int, int, int, int, float, int]:
    """Waits, or at most timeout seconds, until the WAL is empty (the cache
    snapshotted), no compaction is running (the log's start and end lines
    pair up) and the files have not moved for longer than the full
    compaction's cold duration: influxd plans a full compaction that long
    after the last change of its files (the snapshot's included), so by then
    it has run if it had anything to merge. Returns bytes, .tsm bytes, .tsm
    files, WAL bytes, seconds waited and the full compactions the log shows."""
    t0 = time.monotonic()
    last, still_since = -1, t0
    while True:
        time.sleep(1)
        size, tsm_bytes, tsm = tree_bytes(data, wal)
        wal_size = tree_bytes(wal)[0]
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        compacting = log.count('msg="TSM compaction (start)"') != log.count('msg="TSM compaction (end)"')
        full = sum(1 for line in log.splitlines()
                   if 'msg="TSM compaction (end)"' in line and "tsm1_strategy=full" in line)
        now = time.monotonic()
        if size != last:
            last, still_since = size, now
        if (wal_size == 0 and not compacting and now - still_since >= FULL_COMPACTION_COLD + 5) or now - t0 > timeout:
            return size, tsm_bytes, tsm, wal_size, now - t0, full


def lines_of(path: str, batch: int):
    """Yields (line protocol bytes, rows) in batches of `batch` rows, from the
    CSV of ts_bench.c (time in ms, the ten tags, the ten fields as written)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        tag_cols = header[1:11]
        order = sorted(range(len(tag_cols)), key=lambda i: tag_cols[i])  # influxd's own order, saves it a sort
        out: list[str] = []
        for rec in reader:
            tags = ",".join(f"{tag_cols[i]}={rec[1 + i]}" for i in order)
            fields = ",".join(f"{FIELDS[i]}={rec[11 + i]}" for i in range(10))
            out.append(f"cpu,{tags} {fields} {rec[0]}")
            if len(out) == batch:
                yield ("\n".join(out) + "\n").encode(), len(out)
                out = []
        if out:
            yield ("\n".join(out) + "\n").encode(), len(out)


def timed(db: Influx, q: str, reps: int, count) -> tuple[float, int]:
    start = time.perf_counter()
    rows = 0
    for _ in range(reps):
        rows = count(db.query(q))
    return (time.perf_counter() - start) * 1000 / reps, rows


def value_rows(answer: dict) -> int:
    return sum(len(s.get("values") or []) for r in answer["results"] for s in r.get("series", []))


def non_null_values(answer: dict) -> int:
    """last(*): one row per series key (host), a column per field; counts
    the field series that have a last point, as Cairn counts its series."""
    return sum(sum(v is not None for v in row[1:])
               for r in answer["results"] for s in r.get("series", []) for row in s.get("values") or [])


def run(args: argparse.Namespace) -> tuple[str, list[tuple[str, float, str]]]:
    root = os.path.abspath(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    data, wal = os.path.join(root, "data"), os.path.join(root, "wal")
    log_path = os.path.join(root, "influxd.log")
    proc, port = start(root, log_path)
    rows_out: list[tuple[str, float, str]] = []
    try:
        # "InfluxDB v1.6.7~rc0 (git: unknown unknown)" -> "1.6.7~rc0"
        version = subprocess.run(["influxd", "version"], capture_output=True, text=True).stdout
        version = version.strip().split(" (")[0].replace("InfluxDB v", "")
        db = Influx(port)
        db.query(f"CREATE DATABASE {DB}")

        ingest, wall0, rows, retries, batches = 0.0, time.perf_counter(), 0, 0, 0
        for body, n in lines_of(args.csv, args.batch):
            b0 = time.perf_counter()
            retries += db.write(body)
            ingest += time.perf_counter() - b0
            rows += n
            batches += 1
        wall = time.perf_counter() - wall0
        points = rows * len(FIELDS)
        rows_out.append(("ingest", points / ingest,
                         f"points/s ({rows} rows x 10 fields, {batches} POSTs /write of {args.batch} lines, one "
                         f"connection; {points / wall:.0f}/s with the bench's own line-protocol formatting; "
                         f"{retries} retries on a full cache)"))

        size, tsm_bytes, tsm, wal_size, waited, full = settle(data, wal, log_path, args.settle)
        rows_out.append(("bytes_per_point", size / points,
                         f"bytes ({size} bytes allocated in data+wal as du counts, .tsm files alone "
                         f"{tsm_bytes / points:.3f} a point in {tsm}, WAL {wal_size} bytes, after {waited:.0f} s idle: "
                         f"cache snapshot at {SNAPSHOT_COLD} s and full compaction at {FULL_COMPACTION_COLD} s cold, "
                         f"{full} full compactions logged; index inmem, not on disk)"))

        t_min = db.query("SELECT first(usage_user) FROM cpu")["results"][0]["series"][0]["values"][0][0]
        t_max = db.query("SELECT last(usage_user) FROM cpu")["results"][0]["series"][0]["values"][0][0]
        # As ts_bench.c: steps points a series, end exclusive, mid at step steps/2.
        steps = (t_max - t_min) // STEP + 1
        end = t_min + steps * STEP
        mid = t_min + (steps // 2) * STEP
        hosts100 = " OR ".join(f"hostname = 'host_{h}'" for h in range(100))
        queries = {
            "range_1h_one_series": (f"SELECT usage_user FROM cpu WHERE hostname = 'host_7' AND time >= {mid}ms "
                                    f"AND time < {mid + 3600000}ms", 200, value_rows),
            "avg_5m_one_host": (f"SELECT mean(usage_user) FROM cpu WHERE hostname = 'host_7' AND time >= {t_min}ms "
                                f"AND time < {end}ms GROUP BY time(5m) fill(none)", 20, value_rows),
            "avg_5m_100_hosts": (f"SELECT mean(usage_user) FROM cpu WHERE ({hosts100}) AND time >= {t_min}ms "
                                 f"AND time < {end}ms GROUP BY time(5m), hostname fill(none)", 3, value_rows),
            "last_point_every_series": ("SELECT last(*) FROM cpu GROUP BY *", 1, non_null_values),
            "tag_query_40k_series": ("SHOW SERIES FROM cpu WHERE region = 'eu-west-1' AND "
                                     "(service = '1' OR service = '2' OR service = '3') AND os != 'Ubuntu15.10'",
                                     20, value_rows),
        }
        for name, (q, reps, count) in queries.items():
            ms, n = timed(db, q, reps, count)
            unit = {"last_point_every_series": "field series", "tag_query_40k_series": "series keys"}.get(name, "rows")
            rows_out.append((name, ms, f"ms ({n} {unit})"))
        db.conn.close()
        print(f"influxdb: InfluxDB {version} (server, HTTP on loopback 127.0.0.1:{port}); "
              f"{rows} rows from {t_min} to {t_max} ms")
    finally:
        stop(proc)
    return version, rows_out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", required=True)
    parser.add_argument("--dir", required=True, help="the server's data, meta, wal, config and log (emptied first)")
    parser.add_argument("--out", help="also write the rows to this file")
    parser.add_argument("--batch", type=int, default=10000, help="lines a POST (TSBS's loader: 10,000)")
    parser.add_argument("--settle", type=float, default=300, help="seconds to wait at most for the compaction")
    args = parser.parse_args()
    # make's Ctrl-C or a kill: unwind through run()'s finally, which stops influxd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    version, rows = run(args)
    text = f"version {version}\n" + "".join(f"row {name} {value:.3f} {note}\n" for name, value, note in rows)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
