"""The peers of the time-series bench (bench/ts_bench.c): loads the same
TSBS-style CSV into DuckDB, runs the same queries with time_bucket, and
prints every row beside Cairn's with the ratio. DuckDB is in-process, as
Cairn is. With --influx, the rows bench/ts_bench_influx.py printed for
InfluxDB (a server, reached over HTTP on loopback) join the table. A
benchmark asserts no speeds.

    python bench/ts_bench_peers.py --csv=FILE --cairn=ts_bench_output.txt --db=DIR [--influx=FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import time

import duckdb

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]


def timed(con: duckdb.DuckDBPyConnection, sql: str, reps: int) -> tuple[float, int]:
    start = time.perf_counter()
    rows = 0
    for _ in range(reps):
        rows = len(con.execute(sql).fetchall())
    return (time.perf_counter() - start) * 1000 / reps, rows


def read_rows(path: str) -> dict[str, tuple[float, str]]:
    """The "row <name> <value> <unit and notes>" lines of ts_bench.c and ts_bench_influx.py."""
    rows: dict[str, tuple[float, str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"row (\S+) ([0-9.]+) (.*)", line.strip())
            if m:
                rows[m.group(1)] = (float(m.group(2)), m.group(3))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", required=True)
    parser.add_argument("--cairn", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--influx", help="the rows of ts_bench_influx.py; a missing file prints '-' for InfluxDB")
    args = parser.parse_args()
    cairn = read_rows(args.cairn)
    influx = read_rows(args.influx) if args.influx and os.path.exists(args.influx) else {}

    os.makedirs(args.db, exist_ok=True)
    path = os.path.join(args.db, "cpu.duckdb")
    if os.path.exists(path):
        os.remove(path)
    con = duckdb.connect(path)
    start = time.perf_counter()
    con.execute(f"CREATE TABLE cpu AS SELECT epoch_ms(time) AS time, * EXCLUDE (time) FROM read_csv_auto('{args.csv}')")
    con.execute("CHECKPOINT")
    load = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM cpu").fetchone()[0]
    points = rows * len(FIELDS)
    size = os.path.getsize(path)
    t_min, t_max = con.execute("SELECT min(time), max(time) FROM cpu").fetchone()
    mid = con.execute("SELECT min(time) + (max(time) - min(time)) / 2 FROM cpu").fetchone()[0]
    hosts100 = ",".join(f"'host_{h}'" for h in range(100))
    duck: dict[str, tuple[float, str]] = {
        "ingest": (points / load, f"points/s (CSV load of {rows} rows x 10 fields, CREATE TABLE AS)"),
        "bytes_per_point": (size / points, f"bytes ({size} bytes, after CHECKPOINT)"),
    }
    queries = {
        "range_1h_one_series": (f"SELECT time, usage_user FROM cpu WHERE hostname = 'host_7' AND time >= TIMESTAMP '{mid}' "
                                f"AND time < TIMESTAMP '{mid}' + INTERVAL 1 HOUR ORDER BY time", 200),
        "avg_5m_one_host": ("SELECT time_bucket(INTERVAL 5 MINUTE, time) AS t, avg(usage_user) FROM cpu "
                            "WHERE hostname = 'host_7' GROUP BY t ORDER BY t", 20),
        "avg_5m_100_hosts": (f"SELECT hostname, time_bucket(INTERVAL 5 MINUTE, time) AS t, avg(usage_user) FROM cpu "
                             f"WHERE hostname IN ({hosts100}) GROUP BY hostname, t ORDER BY hostname, t", 3),
        "last_point_every_series": ("SELECT hostname, arg_max(usage_user, time), max(time) FROM cpu GROUP BY hostname", 1),
        "tag_query_40k_series": ("SELECT DISTINCT hostname FROM cpu WHERE region = 'eu-west-1' AND service IN (1, 2, 3) "
                                 "AND os <> 'Ubuntu15.10'", 20),
    }
    for name, (sql, reps) in queries.items():
        ms, n = timed(con, sql, reps)
        duck[name] = (ms, f"ms ({n} rows)")
    con.close()

    print(f"time-series bench: {rows} host-rows from {t_min} to {t_max}; DuckDB {duckdb.__version__} (in-process); "
          f"InfluxDB {influx_version(args.influx)} (a server: every number includes an HTTP request on loopback)"
          if args.influx else
          f"time-series bench: {rows} host-rows from {t_min} to {t_max}; DuckDB {duckdb.__version__} (in-process)")

    def ratio(c: tuple[float, str] | None, p: tuple[float, str] | None) -> str:
        return f"{c[0] / p[0]:.2f}" if c and p and p[0] > 0 else "-"

    def cell(r: tuple[float, str] | None) -> str:
        return f"{r[0] if r else float('nan'):14.3f}"
    peers = [("duckdb", duck)] + ([("influxdb(http)", influx)] if args.influx else [])
    print(f"{'row':26} {'cairn':>14}" + "".join(f" {name:>14} {'cairn/' + name:>20}" for name, _ in peers) + "  notes")
    for name in ["ingest", "bytes_per_point", "range_1h_one_series", "avg_5m_one_host", "avg_5m_100_hosts",
                 "last_point_every_series", "tag_query_40k_series"]:
        c = cairn.get(name)
        line = f"{name:26} {cell(c)}"
        notes = [f"cairn: {c[1] if c else '-'}"]
        for peer, table in peers:
            p = table.get(name)
            line += f" {cell(p)} {ratio(c, p):>20}"
            notes.append(f"{peer}: {p[1] if p else '-'}")
        print(f"{line}  {'; '.join(notes)}")
    print("(ingest and bytes: higher ingest is better, lower bytes are better; queries are ms, lower is better. "
          "DuckDB's last point is per host (usage_user), Cairn's per series (10 per host); "
          "DuckDB's tag query returns hosts, Cairn's the series of every metric"
          + ("; InfluxDB (a server, reached over HTTP on loopback: its times include the request and the JSON "
             "answer) returns the last point of every field of every host (as Cairn's series) and its tag query "
             "returns series keys, one a host, each holding the 10 fields)" if args.influx else ")"))


def influx_version(path: str) -> str:
    """The server's version from the header line ts_bench_influx.py writes into its rows file."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("version "):
                    return line.split(" ", 1)[1].strip()
    except OSError:
        pass
    return "(not run)"

if __name__ == "__main__":
    main()
