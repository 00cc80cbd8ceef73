"""A steady-state query driver for profiling vector search (issue 15):
builds bench/vector_bench.py's clustered-L2 128-d set (same generator and
seed 7) into a fresh Cairn database (or hnswlib), warms it with 20
queries, then runs the 200 queries REPS times at each ef and prints
recall@10, queries/s and the process's CPU time per query
(time.process_time), which holds up better than wall time on a shared
machine. Ids only (projection {"_id": 1}), as the bench.

    PYTHONPATH=bindings/python CAIRN_LIBRARY=build/lib/libcairn.so \\
        .venv/bin/python bench/vector_query_driver.py --ef=10,40 --reps=5
    .venv/bin/python bench/vector_query_driver.py --engine=hnswlib

--keep reuses the database at --path; --no-gt skips the ground truth
(for perf record and callgrind, whose profiles it would swamp).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--ef", default="10,40")
p.add_argument("--reps", type=int, default=5)
p.add_argument("--n", type=int, default=20000)
p.add_argument("--engine", default="cairn")
p.add_argument("--path", default="/tmp/cairn-vector-driver")
p.add_argument("--keep", action="store_true")
p.add_argument("--no-gt", action="store_true")
a = p.parse_args()

rng = np.random.default_rng(7)
n, dim = a.n, 128
centers = rng.normal(0, 10, size=(max(10, n // 1000), dim)).astype(np.float32)
data = (centers[rng.integers(0, len(centers), n)] + rng.normal(0, 1, size=(n, dim)).astype(np.float32)).astype(np.float32)
q = (centers[rng.integers(0, len(centers), 200)] + rng.normal(0, 1, size=(200, dim)).astype(np.float32)).astype(np.float32)
gt = [] if a.no_gt else [set(np.argsort(((data - v) ** 2).sum(1), kind="stable")[:10].tolist()) for v in q]


def recall(found):
    return sum(len(set(f) & e) for f, e in zip(found, gt)) / (10 * len(gt)) if gt else float("nan")


if a.engine == "hnswlib":
    import hnswlib

    index = hnswlib.Index(space="l2", dim=dim)
    index.init_index(max_elements=n, M=16, ef_construction=200)
    t = time.perf_counter()
    index.add_items(data, np.arange(n), num_threads=1)
    print(f"build {time.perf_counter() - t:.2f}s wall")

    def search(ef):
        index.set_ef(ef)
        return lambda v: index.knn_query(v, k=10, num_threads=1)[0][0].tolist()
else:
    import cairn

    if not a.keep or not os.path.exists(a.path):
        shutil.rmtree(a.path, ignore_errors=True)
        db = cairn.open(a.path)
        coll = db.collection("v")
        coll.create_vector_index("e", dim, metric="l2", M=16, ef_construction=200, filter_fields=["f"])
        t, c = time.perf_counter(), time.process_time()
        for start in range(0, n, 1000):
            coll.insert_many([{"_id": i, "f": i % 100, "e": cairn.vector(data[i])} for i in range(start, min(start + 1000, n))])
        print(f"build {time.perf_counter() - t:.2f}s wall {time.process_time() - c:.2f}s cpu")
    else:
        db = cairn.open(a.path)
        coll = db.collection("v")

    def search(ef):
        return lambda v: [d["_id"] for d in coll.vector_search(v, 10, ef=ef, projection={"_id": 1})]

for ef in [int(x) for x in a.ef.split(",") if x]:
    one = search(ef)
    for v in q[:20]:
        one(v)
    t, c = time.perf_counter(), time.process_time()
    for _ in range(a.reps):
        found = [one(v) for v in q]
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    count = a.reps * len(q)
    print(f"{a.engine} ef={ef} recall={recall(found):.3f} qps={count / wall:.0f} cpu_us/q={1e6 * cpu / count:.1f}")
