"""Vector search: Cairn's HNSW index against hnswlib, usearch and faiss
(HNSW and flat), through Python, on the same fixed-seed data; a peer that
is not installed is reported and skipped.

    make bench-vector VEC_BENCH_ARGS='--n=100000'

Rows per dataset: build time; recall@10 and queries/s at each ef
(single-threaded, one query at a time, as ann-benchmarks runs them);
filtered search at 50%, 10% and 1% selectivity; recall after deleting 30%
of the vectors; size on disk; the process's peak RSS. Ground truth is
brute force (numpy). Asserts no speeds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time

import numpy as np

import cairn

EFS = [10, 20, 40, 80, 120, 200, 400]


def dataset(kind: str, n: int, dim: int, queries: int, seed: int):
    rng = np.random.default_rng(seed)
    if kind == "clustered-l2":
        centers = rng.normal(0, 10, size=(max(10, n // 1000), dim)).astype(np.float32)
        data = centers[rng.integers(0, len(centers), n)] + rng.normal(0, 1, size=(n, dim)).astype(np.float32)
        q = centers[rng.integers(0, len(centers), queries)] + rng.normal(0, 1, size=(queries, dim)).astype(np.float32)
        return data.astype(np.float32), q.astype(np.float32), "l2"
    data = rng.normal(size=(n, dim)).astype(np.float32)
    q = rng.normal(size=(queries, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return data, q, "cosine"


def truth(data, q, metric, k, mask=None):
    out = []
    for v in q:
        d = ((data - v) ** 2).sum(1) if metric == "l2" else -(data @ v)
        if mask is not None:
            d = np.where(mask, d, np.inf)
        out.append(set(np.argsort(d, kind="stable")[:k].tolist()))
    return out


def recall(found, expected):
    return sum(len(set(f) & e) for f, e in zip(found, expected)) / sum(len(e) for e in expected)


def dir_size(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def timed(q, one):
    """Runs one(v), the labels of a query's hits, for every query vector in
    turn; returns the labels and the queries per second."""
    found = []
    t = time.perf_counter()
    for v in q:
        found.append(one(v))
    return found, len(q) / (time.perf_counter() - t)


def ef_rows(engine, search, gt, rows):
    """The recall@10 / qps row of search(ef) at every ef."""
    for ef in EFS:
        found, qps = search(ef)
        rows.append((engine, f"ef={ef} recall@10 / qps", (recall(found, gt), qps)))


def thirty_percent(n):
    """The ids the delete rows remove: every id ending in 0, 1 or 2."""
    return list(range(0, n, 10)) + list(range(1, n, 10)) + list(range(2, n, 10))


def after_deletes_row(engine, search, data, q, metric, args, deleted, rows):
    """Recall / qps at filter_ef once `deleted` are gone, against the truth of the rest."""
    keep = np.ones(len(data), bool)
    keep[deleted] = False
    found, qps = search(args.filter_ef)
    rows.append((engine, f"after 30% deletes ef={args.filter_ef} recall / qps", (recall(found, truth(data, q, metric, 10, keep)), qps)))


def run_cairn(data, q, metric, args, gt, filt_gts, rows):
    path = tempfile.mkdtemp(prefix="vec-bench-")
    db = cairn.open(path)
    coll = db.collection("v")
    coll.create_vector_index("e", data.shape[1], metric=metric, M=args.M, ef_construction=args.ef_construction,
                             filter_fields=["f"])
    t = time.perf_counter()
    for start in range(0, len(data), 1000):
        coll.insert_many([{"_id": i, "f": i % 100, "e": cairn.vector(data[i])} for i in range(start, min(start + 1000, len(data)))])
    rows.append(("cairn", "build_s", time.perf_counter() - t))

    def search(ef, filt=None):
        return timed(q, lambda v: [d["_id"] for d in coll.vector_search(v, 10, ef=ef, filter=filt, projection={"_id": 1})])

    search(EFS[0])  # warm the node cache
    ef_rows("cairn", search, gt, rows)
    for label, f, g in filt_gts:
        found, qps = search(args.filter_ef, {"f": f})
        rows.append(("cairn", f"filter {label} recall / qps", (recall(found, g), qps)))
    db.close()
    rows.append(("cairn", "disk_MB", dir_size(path) / 1e6))
    db = cairn.open(path)
    coll = db.collection("v")
    t = time.perf_counter()
    deleted = thirty_percent(len(data))
    for start in range(0, len(deleted), 1000):
        coll.delete_many({"_id": {"$in": deleted[start:start + 1000]}})
    rows.append(("cairn", "delete30_s", time.perf_counter() - t))
    after_deletes_row("cairn", search, data, q, metric, args, deleted, rows)
    db.close()
    shutil.rmtree(path)


def run_hnswlib(data, q, metric, args, gt, filt_gts, rows):
    import hnswlib

    index = hnswlib.Index(space="l2" if metric == "l2" else "cosine", dim=data.shape[1])
    index.init_index(max_elements=len(data), M=args.M, ef_construction=args.ef_construction, random_seed=1)
    index.set_num_threads(1)
    t = time.perf_counter()
    index.add_items(data, np.arange(len(data)))
    rows.append(("hnswlib", "build_s", time.perf_counter() - t))

    def search(ef, filt=None):
        index.set_ef(ef)
        return timed(q, lambda v: index.knn_query(v, k=10, filter=filt)[0][0].tolist())

    ef_rows("hnswlib", search, gt, rows)
    for label, f, g in filt_gts:
        found, qps = search(args.filter_ef, lambda i, f=f: (i % 100) in f)
        rows.append(("hnswlib", f"filter {label} recall / qps", (recall(found, g), qps)))
    path = tempfile.mktemp(prefix="hnsw-")
    index.save_index(path)
    rows.append(("hnswlib", "disk_MB", os.path.getsize(path) / 1e6))
    os.remove(path)
    deleted = thirty_percent(len(data))
    t = time.perf_counter()
    for i in deleted:
        index.mark_deleted(i)
    rows.append(("hnswlib", "delete30_s", time.perf_counter() - t))
    after_deletes_row("hnswlib", search, data, q, metric, args, deleted, rows)


def run_usearch(data, q, metric, args, gt, filt_gts, rows):
    from usearch.index import Index

    index = Index(ndim=data.shape[1], metric="l2sq" if metric == "l2" else "cos", dtype="f32",
                  connectivity=args.M, expansion_add=args.ef_construction)
    t = time.perf_counter()
    index.add(np.arange(len(data)), data, threads=1)
    rows.append(("usearch", "build_s", time.perf_counter() - t))

    def search(ef):
        index.expansion_search = ef
        return timed(q, lambda v: index.search(v, 10, threads=1).keys.tolist())

    ef_rows("usearch", search, gt, rows)
    # usearch's Python API has no filtered search (its C++ one has): no filter rows.
    path = tempfile.mktemp(prefix="usearch-")
    index.save(path)
    rows.append(("usearch", "disk_MB", os.path.getsize(path) / 1e6))
    os.remove(path)
    deleted = thirty_percent(len(data))
    t = time.perf_counter()
    index.remove(np.array(deleted))
    rows.append(("usearch", "delete30_s", time.perf_counter() - t))
    after_deletes_row("usearch", search, data, q, metric, args, deleted, rows)


def run_faiss(data, q, metric, args, gt, filt_gts, rows, flat=False):
    import faiss

    faiss.omp_set_num_threads(1)
    name = "faiss-flat" if flat else "faiss"
    # Cosine on unit vectors is the inner product.
    kind = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexFlat(data.shape[1], kind) if flat else faiss.IndexHNSWFlat(data.shape[1], args.M, kind)
    if not flat:
        index.hnsw.efConstruction = args.ef_construction
    t = time.perf_counter()
    index.add(data)
    rows.append((name, "build_s", time.perf_counter() - t))

    def search(ef, allowed=None):
        params = None
        if flat:
            params = faiss.SearchParameters(sel=allowed) if allowed is not None else None
        else:
            params = faiss.SearchParametersHNSW(efSearch=ef, sel=allowed) if allowed is not None else faiss.SearchParametersHNSW(efSearch=ef)
        return timed(q, lambda v: [i for i in index.search(v[None, :], 10, params=params)[1][0].tolist() if i >= 0])

    for ef in ([0] if flat else EFS):
        found, qps = search(ef)
        rows.append((name, "exact recall@10 / qps" if flat else f"ef={ef} recall@10 / qps", (recall(found, gt), qps)))
    ids = np.arange(len(data))
    for label, allowed, g in filt_gts:
        selector = faiss.IDSelectorBatch(ids[np.isin(ids % 100, list(allowed))].astype(np.int64))
        found, qps = search(args.filter_ef, selector)
        rows.append((name, f"filter {label} recall / qps", (recall(found, g), qps)))
    path = tempfile.mktemp(prefix="faiss-")
    faiss.write_index(index, path)
    rows.append((name, "disk_MB", os.path.getsize(path) / 1e6))
    os.remove(path)
    # faiss's HNSW cannot remove vectors (remove_ids is not implemented for it): no delete rows.


def main():
    import subprocess
    import sys

    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--filter-ef", type=int, default=80)
    p.add_argument("--datasets", default="clustered-l2:128,sphere-cosine:100")
    p.add_argument("--engines", default="cairn,hnswlib,usearch,faiss,faiss-flat")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    engines = args.engines.split(",")
    if len(engines) > 1:
        # One process per engine, so each reports its own peak RSS.
        for engine in engines:
            argv = [a for a in sys.argv[1:] if not a.startswith("--engines")] + [f"--engines={engine}"]
            subprocess.run([sys.executable, __file__] + argv, check=False)
        return
    for spec in args.datasets.split(","):
        kind, dim = spec.split(":")
        data, q, metric = dataset(kind, args.n, int(dim), args.queries, args.seed)
        gt = truth(data, q, metric, 10)
        ids = np.arange(len(data))
        filt_gts = []
        for label, f in (("50%", {"$lt": 50}), ("10%", {"$lt": 10}), ("1%", 0)):
            allowed = set(range(50)) if label == "50%" else set(range(10)) if label == "10%" else {0}
            filt_gts.append((label, f if label != "1%" else 0, truth(data, q, metric, 10, np.isin(ids % 100, list(allowed)))))
        print(f"== {kind} n={args.n} dim={dim} queries={args.queries} M={args.M} ef_construction={args.ef_construction}", flush=True)
        rows = []
        for engine in args.engines.split(","):
            fgts = filt_gts
            if engine != "cairn":
                # The peers filter by the allowed values of f = id % 100.
                fgts = [(label, set(range(50)) if label == "50%" else set(range(10)) if label == "10%" else {0}, g) for label, _, g in filt_gts]
            runners = {"cairn": run_cairn, "hnswlib": run_hnswlib, "usearch": run_usearch, "faiss": run_faiss,
                       "faiss-flat": lambda *a: run_faiss(*a, flat=True)}
            try:
                runners[engine](data, q, metric, args, gt, fgts, rows)
            except ImportError as e:
                print(f"{engine}: not installed ({e})")
        for engine, row, value in rows:
            text = f"{value[0]:.4f} / {value[1]:.0f}" if isinstance(value, tuple) else f"{value:.2f}"
            print(f"{engine:10} {row:45} {text}", flush=True)
    print(f"{args.engines:10} peak RSS of the process (data and ground truth included) MB: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", flush=True)


if __name__ == "__main__":
    main()
