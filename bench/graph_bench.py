"""The graph bench (issue 18): Cairn's graph layer against networkx and
igraph (in memory), Kuzu (embedded) and SQLite recursive CTEs, on one
generated social graph.

Data: V vertices and E distinct directed edges without self-loops (default
100,000 and 2,400,000, the size of the published Kuzu vs Neo4j study),
from a fixed seed: each edge's source is uniform, its target drawn with
probability proportional to a Zipf weight (a few celebrities, a long
tail). Rows, each peer in a process of its own so that its peak RSS is its
own:

    ingest        edges loaded (Cairn: cairn_insert_many batches of 100,000
                  edge documents, each writing the document and its two
                  adjacency index entries; Kuzu: COPY from CSV; SQLite:
                  executemany in one transaction, then its two indexes;
                  networkx/igraph: building the in-memory graph)
    2-hop         the number of 2-hop paths from 1,000 random start
                  vertices (Cairn: traverse, each edge once per path,
                  min_depth = max_depth = 2, count_only)
    shortest      unweighted shortest path lengths of 1,000 random pairs
                  (SQLite: a recursive CTE on a sample of pairs, its time
                  scaled to 1,000)
    shortest again  the same pairs once more: an application's steady
                  state (Cairn's graph cache holds the adjacency lists the
                  first pass read; the first pass reads them from the LSM
                  right after the ingest)
    wcc           weakly connected components
    cycle         whether a directed cycle exists
    peak RSS      the process's high-water mark (ru_maxrss)

Peers missing from the venv are reported as skipped. Timings are wall
clock on whatever else the machine runs; a bench asserts nothing.

    python bench/graph_bench.py [--vertices=N] [--edges=N] [--peers=cairn,networkx,...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

PEERS = ["cairn", "networkx", "igraph", "kuzu", "sqlite"]
ROWS = ["ingest", "2-hop", "shortest", "shortest again", "wcc", "cycle"]


def generate(vertices: int, edges: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(vertices)]
    order = list(range(vertices))
    rng.shuffle(order)  # celebrities anywhere in the id space
    cumulative: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    seen: set[int] = set()
    out: list[tuple[int, int]] = []
    batch = 1 << 16
    while len(out) < edges:
        sources = [rng.randrange(vertices) for _ in range(batch)]
        targets = [order[i] for i in rng.choices(range(vertices), cum_weights=cumulative, k=batch)]
        for s, t in zip(sources, targets):
            if s == t:
                continue
            key = s * vertices + t
            if key in seen:
                continue
            seen.add(key)
            out.append((s, t))
            if len(out) == edges:
                break
    return out


def workload(vertices: int, seed: int) -> tuple[list[int], list[tuple[int, int]]]:
    rng = random.Random(seed + 1)
    starts = [rng.randrange(vertices) for _ in range(1000)]
    pairs = [(rng.randrange(vertices), rng.randrange(vertices)) for _ in range(1000)]
    return starts, pairs


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


# -- peers: each returns {row: (seconds, checksum)} -----------------------------


def run_cairn(edges: list[tuple[int, int]], vertices: int, starts: list[int], pairs: list[tuple[int, int]],
              workdir: str) -> dict[str, Any]:
    from ctypes import byref, c_char_p, c_size_t

    import cairn
    from cairn import errors
    from cairn._ffi import lib

    db = cairn.open(os.path.join(workdir, "cairn"), sync="never")
    graph = db.create_graph("social", edges="follows", vertices=["people"])
    people = db.collection("people")
    people.insert_many([{"_id": v} for v in range(vertices)])
    follows = db.collection("follows")
    size = 100_000
    batches = []
    for i in range(0, len(edges), size):
        text = "[" + ",".join(f'{{"_id":{i + j},"_from":{s},"_to":{t}}}' for j, (s, t) in enumerate(edges[i:i + size])) + "]"
        batches.append(text.encode())
    target = follows._target()

    def ingest() -> int:
        for text in batches:
            out, out_len = c_char_p(), c_size_t()
            errors.call(lib.cairn_insert_many, *target, text, len(text), byref(out), byref(out_len))
            lib.cairn_free(out)
        return len(edges)

    result: dict[str, Any] = {}
    result["ingest"] = timed(ingest)
    result["2-hop"] = timed(lambda: sum(graph.count_paths(s, min_depth=2, max_depth=2) for s in starts))

    def shortest() -> int:
        total = 0
        for s, t in pairs:
            path = graph.shortest_path(s, t)
            total += path["length"] if path else -1
        return total

    result["shortest"] = timed(shortest)
    result["shortest again"] = timed(shortest)
    result["wcc"] = timed(lambda: len(graph.components(memory_limit=4 << 30)))
    result["cycle"] = timed(lambda: graph.has_cycle(memory_limit=4 << 30))
    db.close()
    return result


def run_networkx(edges: list[tuple[int, int]], vertices: int, starts: list[int], pairs: list[tuple[int, int]],
                 workdir: str) -> dict[str, Any]:
    import networkx as nx

    g = nx.DiGraph()

    def ingest() -> int:
        g.add_nodes_from(range(vertices))
        g.add_edges_from(edges)
        return g.number_of_edges()

    result: dict[str, Any] = {"ingest": timed(ingest)}
    out_degree = g.out_degree
    result["2-hop"] = timed(lambda: sum(sum(out_degree(n) for n in g.successors(s)) for s in starts))

    def shortest() -> int:
        total = 0
        for s, t in pairs:
            try:
                total += nx.shortest_path_length(g, s, t)
            except nx.NetworkXNoPath:
                total -= 1
        return total

    result["shortest"] = timed(shortest)
    result["shortest again"] = timed(shortest)
    result["wcc"] = timed(lambda: nx.number_weakly_connected_components(g))

    def cycle() -> bool:
        try:
            nx.find_cycle(g)
            return True
        except nx.NetworkXNoCycle:
            return False

    result["cycle"] = timed(cycle)
    return result


def run_igraph(edges: list[tuple[int, int]], vertices: int, starts: list[int], pairs: list[tuple[int, int]],
               workdir: str) -> dict[str, Any]:
    import igraph

    holder: dict[str, Any] = {}

    def ingest() -> int:
        holder["g"] = igraph.Graph(n=vertices, edges=edges, directed=True)
        return int(holder["g"].ecount())

    result: dict[str, Any] = {"ingest": timed(ingest)}
    g = holder["g"]
    degrees = g.outdegree()
    result["2-hop"] = timed(lambda: sum(sum(degrees[n] for n in g.successors(s)) for s in starts))

    def shortest() -> int:
        total = 0
        for s, t in pairs:
            d = g.distances(source=s, target=t, mode="out")[0][0]
            total += int(d) if d != float("inf") else -1
        return total

    result["shortest"] = timed(shortest)
    result["shortest again"] = timed(shortest)
    result["wcc"] = timed(lambda: len(g.connected_components(mode="weak")))
    result["cycle"] = timed(lambda: not g.is_dag())
    return result


def run_kuzu(edges: list[tuple[int, int]], vertices: int, starts: list[int], pairs: list[tuple[int, int]],
             workdir: str) -> dict[str, Any]:
    import kuzu

    db = kuzu.Database(os.path.join(workdir, "kuzu"))
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE Person(id INT64, PRIMARY KEY(id))")
    conn.execute("CREATE REL TABLE Follows(FROM Person TO Person)")
    people_csv, edges_csv = os.path.join(workdir, "people.csv"), os.path.join(workdir, "edges.csv")
    with open(people_csv, "w") as f:
        f.write("\n".join(str(v) for v in range(vertices)) + "\n")
    with open(edges_csv, "w") as f:
        f.write("\n".join(f"{s},{t}" for s, t in edges) + "\n")
    conn.execute(f"COPY Person FROM '{people_csv}'")

    def ingest() -> int:
        conn.execute(f"COPY Follows FROM '{edges_csv}'")
        return len(edges)

    result: dict[str, Any] = {"ingest": timed(ingest)}

    def two_hop() -> int:
        rows = conn.execute("UNWIND $ids AS i MATCH (a:Person {id: i})-[:Follows]->(:Person)-[:Follows]->(:Person) RETURN count(*)",
                            {"ids": starts})
        return int(rows.get_next()[0])

    result["2-hop"] = timed(two_hop)

    def shortest() -> int:
        total = 0
        for s, t in pairs:
            if s == t:
                continue
            rows = conn.execute("MATCH p = (a:Person)-[:Follows* SHORTEST 1..30]->(b:Person) WHERE a.id = $s AND b.id = $t "
                                "RETURN length(p)", {"s": s, "t": t})
            total += int(rows.get_next()[0]) if rows.has_next() else -1
        return total

    result["shortest"] = timed(shortest)
    result["shortest again"] = timed(shortest)
    for row, query in (("wcc", "CALL weakly_connected_components('social') RETURN count(DISTINCT group_id)"),):
        try:
            conn.execute("INSTALL algo")
            conn.execute("LOAD algo")
            conn.execute("CALL project_graph('social', ['Person'], ['Follows'])")
            result[row] = timed(lambda: conn.execute(query).get_next()[0])
        except Exception as exc:  # the algo extension is downloaded; offline it is missing
            result[row] = f"n/a ({str(exc).splitlines()[0][:60]})"
    result["cycle"] = "n/a (no cycle detection in Cypher)"
    return result


SQLITE_PAIRS = 20


def run_sqlite(edges: list[tuple[int, int]], vertices: int, starts: list[int], pairs: list[tuple[int, int]],
               workdir: str) -> dict[str, Any]:
    sample = SQLITE_PAIRS
    conn = sqlite3.connect(os.path.join(workdir, "graph.sqlite"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("CREATE TABLE edges(src INTEGER NOT NULL, dst INTEGER NOT NULL)")

    def ingest() -> int:
        with conn:
            conn.executemany("INSERT INTO edges VALUES (?, ?)", edges)
            conn.execute("CREATE INDEX edges_src ON edges(src, dst)")
            conn.execute("CREATE INDEX edges_dst ON edges(dst, src)")
        return len(edges)

    result: dict[str, Any] = {"ingest": timed(ingest)}
    two_hop_sql = "SELECT count(*) FROM edges a JOIN edges b ON b.src = a.dst WHERE a.src = ?"
    result["2-hop"] = timed(lambda: sum(conn.execute(two_hop_sql, (s,)).fetchone()[0] for s in starts))
    # Breadth-first by levels in one recursive CTE, to depth 6: each level
    # joins the frontier with the edges; UNION drops repeated (node, depth)
    # rows but not nodes reached at an earlier depth (the recursive step
    # cannot read the rows before it), and the CTE cannot stop at the target.
    shortest_sql = """
        WITH RECURSIVE bfs(node, depth) AS (
            SELECT ?, 0
            UNION
            SELECT e.dst, bfs.depth + 1 FROM bfs JOIN edges e ON e.src = bfs.node
            WHERE bfs.depth < ?
        )
        SELECT min(depth) FROM bfs WHERE node = ?"""

    def shortest() -> float:
        total = 0
        for s, t in pairs[:sample]:
            row = conn.execute(shortest_sql, (s, 6, t)).fetchone()
            total += row[0] if row[0] is not None else -1
        return total

    for row in ("shortest", "shortest again"):
        seconds, total = timed(shortest)
        result[row] = (seconds * len(pairs) / sample, f"{total} over {sample} pairs, time scaled to {len(pairs)}")
    result["wcc"] = "n/a (no practical recursive CTE)"
    result["cycle"] = "n/a (no practical recursive CTE)"
    conn.close()
    return result


RUNNERS = {"cairn": run_cairn, "networkx": run_networkx, "igraph": run_igraph, "kuzu": run_kuzu, "sqlite": run_sqlite}


def child(args: argparse.Namespace) -> None:
    global SQLITE_PAIRS
    SQLITE_PAIRS = args.sqlite_pairs
    edges = generate(args.vertices, args.edges, args.seed)
    starts, pairs = workload(args.vertices, args.seed)
    workdir = tempfile.mkdtemp(prefix=f"graph-bench-{args.peer}-")
    try:
        result = RUNNERS[args.peer](edges, args.vertices, starts, pairs, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["peak RSS"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result, default=str))


def format_row(row: str, value: Any) -> str:
    if row == "peak RSS":
        return f"{value / 2**20:.0f} MB"
    if isinstance(value, list):
        return f"{value[0] * 1000:.1f} ms"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=2_400_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--sqlite-pairs", type=int, default=20, help="pairs the recursive CTE runs (scaled to 1,000)")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        child(args)
        return
    results: dict[str, dict[str, Any]] = {}
    print(f"graph bench: {args.vertices:,} vertices, {args.edges:,} edges, seed {args.seed}", flush=True)
    for peer in args.peers.split(","):
        command = [sys.executable, __file__, f"--peer={peer}", f"--vertices={args.vertices}", f"--edges={args.edges}",
                   f"--seed={args.seed}", f"--sqlite-pairs={args.sqlite_pairs}"]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"  {peer}: skipped ({last[:100]})", flush=True)
            continue
        results[peer] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {peer}: done in {time.perf_counter() - started:.0f} s: {done.stdout.strip().splitlines()[-1]}", flush=True)
    peers = list(results)
    print()
    print("| row | " + " | ".join(peers) + " | " + " | ".join(f"{p} / cairn" for p in peers if p != "cairn") + " |")
    print("|---" * (1 + len(peers) + len([p for p in peers if p != "cairn"])) + "|")
    for row in ROWS + ["peak RSS"]:
        cells = [format_row(row, results[p].get(row, "")) for p in peers]
        ratios = []
        base = results.get("cairn", {}).get(row)
        for p in peers:
            if p == "cairn":
                continue
            value = results[p].get(row)
            if isinstance(base, list) and isinstance(value, list) and base[0] > 0:
                ratios.append(f"{value[0] / base[0]:.2f}")
            elif row == "peak RSS" and base and value:
                ratios.append(f"{value / base:.2f}")
            else:
                ratios.append("")
        print(f"| {row} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    checks = {p: {row: results[p][row][1] for row in ROWS if isinstance(results[p].get(row), list)} for p in peers}
    print("\nchecksums (must agree across peers):", json.dumps(checks))


if __name__ == "__main__":
    main()
