"""The full-text search bench through Python (issue 14; `make bench-fts-python`,
see mk/bench.mk): Cairn's text index through its Python binding against
tantivy (PyPI `tantivy`, Rust) and bm25s (PyPI `bm25s`, NumPy), in one run,
on GCIDE's dictionary entries (Debian's dict-gcide, the corpus of
bench/fts_bench.c: one document per distinct entry, "title" = its
headwords, "body" = its text, "bucket" = 0..99).

Rows: the index build (documents per second, each engine from Python
objects: Cairn insert_many in batches of 1000 into a collection with the
text index, tantivy's writer with one thread, bm25s tokenizing and indexing
the concatenated fields), the index size on disk where there is one, and
top-10 query throughput and p50/p99 latency for the query kinds each
engine has (bm25s: bag-of-words only, no AND, phrase, prefix, fuzzy or
filter), with and without the filter bucket == 7 (1% of the documents).
Then the relevance check: the mean overlap of each peer's top 10 with
Cairn's for the same queries.

Analysis: English Snowball stemming, no stopwords, in all three (tantivy's
"en_stem" tokenizer; bm25s with PyStemmer's English stemmer when installed,
else unstemmed, said in the output). Cairn's hits are read through the
binding's Cursor as dicts (the projection {"_id": 1}); tantivy's as
(score, address) plus the stored id of each hit; bm25s's as NumPy arrays.

    python bench/fts_bench.py --docs=50000 --queries=100
    python bench/fts_bench.py --engines=cairn,tantivy

The bench asserts no speeds: it fails only when an engine fails. Cairn is
searched with Collection.search.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from typing import Any, Callable

GCIDE = "/usr/share/dictd"
BATCH = 1000
FILTER_BUCKET = 7
TOPK = 10
KINDS = ("one_high", "one_mid", "one_low", "or", "and", "phrase", "prefix", "fuzzy")
KIND_NAMES = {
    "one_high": "one term, frequent (1-20% of docs)",
    "one_mid": "one term, medium (0.05-0.5%)",
    "one_low": "one term, rare (3-30 docs)",
    "or": "two terms OR (frequent + medium)",
    "and": "two terms AND (frequent + medium)",
    "phrase": "phrase of two words",
    "prefix": "prefix (4 letters)*",
    "fuzzy": "fuzzy, one typo (word~1)",
}

# Snowball's English stopwords, plus the same few common words as
# fts_bench.c: never drawn as query words.
STOPWORDS = set(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing would should could ought a an the and but if or
    because as until while of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there when where why how all any both
    each few more most other some such no nor not only own same so than too very one every least less many now
    ever never say says said also get go goes just made make put see seen whether like well back even still way
    take since another however two three four five first second new old high long can will may must might shall
    upon yet per""".split()
)


def b64(s: str) -> int:
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    v = 0
    for ch in s:
        v = v * 64 + digits.index(ch)
    return v


def load_gcide(limit: int) -> list[tuple[str, str, int]]:
    """(title, body, bucket) per distinct entry, in file order: the same
    documents, in the same order, as fts_bench.c (its first `limit`)."""
    with gzip.open(os.path.join(GCIDE, "gcide.dict.dz"), "rb") as f:
        raw = f.read()
    # Invalid UTF-8 becomes '?' byte for byte, as in fts_bench.c.
    entries: dict[int, tuple[int, list[str]]] = {}
    with open(os.path.join(GCIDE, "gcide.index"), encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00-"):
                continue
            off, n = b64(parts[1]), b64(parts[2])
            if off + n > len(raw):
                continue
            entries.setdefault(off, (n, []))[1].append(parts[0])
    docs = []
    for i, off in enumerate(sorted(entries)):
        if limit and i >= limit:
            break
        n, heads = entries[off]
        body = raw[off : off + n].decode("utf-8", errors="replace").replace("\ufffd", "?")
        docs.append(("; ".join(heads), body, bucket_of(i)))
    return docs


def bucket_of(i: int) -> int:
    """fts_bench.c's bucket_of(): splitmix64 of i ^ 0x5bd1e995, mod 100."""
    m = (1 << 64) - 1
    z = ((i ^ 0x5BD1E995) + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return (z ^ (z >> 31)) % 100


TOKEN = re.compile(r"[a-z0-9\x80-\uffff]+")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def make_queries(docs: list[tuple[str, str, int]], q: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Q queries per kind, drawn as fts_bench.c draws them (the same
    frequency bands; Python's random, so not the same words)."""
    df: dict[str, int] = {}
    for title, body, _ in docs:
        for w in set(tokens(title)) | set(tokens(body)):
            if w.isalpha() and w.isascii() and 3 <= len(w) <= 20:
                df[w] = df.get(w, 0) + 1
    n = len(docs)
    words = sorted(w for w in df if w not in STOPWORDS)
    high = [w for w in words if n // 100 <= df[w] <= n // 5]
    mid = [w for w in words if n // 2000 <= df[w] < n // 200]
    low = [w for w in words if 3 <= df[w] <= 30]
    mid5 = [w for w in mid if len(w) >= 5]
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for _ in range(q):
        for kind, band in (("one_high", high), ("one_mid", mid), ("one_low", low)):
            out[kind].append({"terms": [rng.choice(band)]})
        a, b = rng.choice(high), rng.choice(mid)
        out["or"].append({"terms": [a, b]})
        out["and"].append({"terms": [a, b]})
        while True:
            title, body, _ = docs[rng.randrange(n)]
            pairs = []
            for text in (title, body):
                toks = tokens(text)
                for x, y in zip(toks, toks[1:]):
                    if all(t.isalpha() and t.isascii() and 3 <= len(t) <= 20 and t not in STOPWORDS for t in (x, y)):
                        pairs.append([x, y])
            if pairs:
                out["phrase"].append({"terms": rng.choice(pairs)})
                break
        out["prefix"].append({"terms": [rng.choice(mid)[:4]]})
        w = list(rng.choice(mid5))
        at = rng.randrange(1, len(w))
        was = w[at]
        while w[at] == was:
            w[at] = chr(ord("a") + rng.randrange(26))
        out["fuzzy"].append({"terms": ["".join(w)]})
    print(
        f"- vocabulary: {len(words)} words (letters only, 3-20, no stopwords); frequent {len(high)}, "
        f"medium {len(mid)}, rare {len(low)}"
    )
    return out


def cairn_query_text(kind: str, terms: list[str]) -> str:
    if kind == "and":
        return " ".join("+" + t for t in terms)
    if kind == "phrase":
        return '"' + " ".join(terms) + '"'
    if kind == "prefix":
        return terms[0] + "*"
    if kind == "fuzzy":
        return terms[0] + "~1"
    return " ".join(terms)


# -- the engines: each builds from `docs` in `path` and returns an object with
# search(kind, terms, filtered) -> [ids], and size() -> bytes or None. -------


def dir_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


class CairnEngine:
    name = "cairn"

    def __init__(self, path: str, docs: list[tuple[str, str, int]]) -> None:
        import cairn

        self.path = path
        self.db = cairn.open(path, sync="never")
        self.coll = self.db.collection("docs")
        self.coll.create_index("bucket")
        self.coll.create_index(
            [("title", cairn.TEXT), ("body", cairn.TEXT)],
            name="search",
            default_language="english",
            analyzer={"stemming": True, "stopwords": False},
        )
        start = time.perf_counter()
        for i in range(0, len(docs), BATCH):
            self.coll.insert_many(
                [{"_id": i + k, "title": t, "body": b, "bucket": bk} for k, (t, b, bk) in enumerate(docs[i : i + BATCH])]
            )
        self.build_seconds = time.perf_counter() - start
        self.db.flush()
        self.db.compact_range()

    def size(self) -> int | None:
        return dir_size(self.path)

    def search(self, kind: str, terms: list[str], filtered: bool) -> list[int]:
        text = cairn_query_text(kind, terms)
        options: dict[str, Any] = {"limit": TOPK, "projection": {"_id": 1}}
        if filtered:
            options["filter"] = {"bucket": FILTER_BUCKET}
        return [hit["document"]["_id"] for hit in self.coll.search(text, **options)]

    def close(self) -> None:
        self.db.close()


class TantivyEngine:
    name = "tantivy"

    def __init__(self, path: str, docs: list[tuple[str, str, int]]) -> None:
        import tantivy

        self.t = tantivy
        self.path = path
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("id", stored=True, indexed=True, fast=True)
        sb.add_text_field("title", stored=False, tokenizer_name="en_stem")
        sb.add_text_field("body", stored=False, tokenizer_name="en_stem")
        sb.add_integer_field("bucket", stored=False, indexed=True, fast=True)
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=path)
        start = time.perf_counter()
        writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        for i, (t, b, bk) in enumerate(docs):
            writer.add_document(tantivy.Document(id=i, title=t, body=b, bucket=bk))
        writer.commit()
        writer.wait_merging_threads()
        self.build_seconds = time.perf_counter() - start
        self.index.reload()
        self.searcher = self.index.searcher()
        self.bucket = tantivy.Query.const_score_query(tantivy.Query.term_query(self.schema, "bucket", FILTER_BUCKET), 0.0)

    def size(self) -> int | None:
        return dir_size(self.path)

    def query(self, kind: str, terms: list[str]) -> Any:
        t = self.t
        fields = ["title", "body"]
        if kind == "prefix":
            return t.Query.boolean_query(
                [(t.Occur.Should, t.Query.regex_query(self.schema, f, re.escape(terms[0]) + ".*")) for f in fields]
            )
        if kind == "fuzzy":
            return t.Query.boolean_query(
                [(t.Occur.Should, t.Query.fuzzy_term_query(self.schema, f, terms[0], 1, True, False)) for f in fields]
            )
        return self.index.parse_query(cairn_query_text(kind, terms), fields)

    def search(self, kind: str, terms: list[str], filtered: bool) -> list[int]:
        t = self.t
        q = self.query(kind, terms)
        if filtered:
            q = t.Query.boolean_query([(t.Occur.Must, q), (t.Occur.Must, self.bucket)])
        hits = self.searcher.search(q, TOPK).hits
        return [self.searcher.doc(address)["id"][0] for _, address in hits]

    def close(self) -> None:
        pass


class Bm25sEngine:
    name = "bm25s"
    kinds = ("one_high", "one_mid", "one_low", "or")

    def __init__(self, path: str, docs: list[tuple[str, str, int]]) -> None:
        import bm25s

        self.bm25s = bm25s
        try:
            import Stemmer  # PyStemmer

            self.stemmer: Any = Stemmer.Stemmer("english")
            self.stemming = "PyStemmer english"
        except ImportError:
            self.stemmer = None
            self.stemming = "none (PyStemmer missing)"
        start = time.perf_counter()
        corpus = [t + "\n" + b for t, b, _ in docs]
        tokenized = bm25s.tokenize(corpus, stopwords=None, stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokenized, show_progress=False)
        self.build_seconds = time.perf_counter() - start
        self.vocab = self.retriever.vocab_dict

    def size(self) -> int | None:
        return None

    def search(self, kind: str, terms: list[str], filtered: bool) -> list[int]:
        qt = self.bm25s.tokenize(" ".join(terms), stopwords=None, stemmer=self.stemmer, show_progress=False, return_ids=False)
        words = [w for w in qt[0] if w in self.vocab]
        if not words:
            return []
        docs, scores = self.retriever.retrieve([words], k=TOPK, show_progress=False, n_threads=1)
        return [int(d) for d, s in zip(docs[0], scores[0]) if s > 0]

    def close(self) -> None:
        pass


def percentile(sorted_values: list[float], p: float) -> float:
    i = max(0, min(len(sorted_values) - 1, int(-(-len(sorted_values) * p // 1)) - 1))
    return sorted_values[i]


def run_queries(engine: Any, queries: dict[str, list[dict[str, Any]]], filtered: bool) -> tuple[dict[str, Any], dict[str, list[list[int]]]]:
    rows: dict[str, Any] = {}
    hits: dict[str, list[list[int]]] = {}
    for kind in KINDS:
        if kind not in getattr(engine, "kinds", KINDS) or (filtered and engine.name == "bm25s"):
            continue
        qs = queries[kind]
        hits[kind] = [engine.search(kind, q["terms"], filtered) for q in qs]  # warm-up, and the hits
        lat = []
        total = 0
        gc.collect()
        gc.disable()
        try:
            for q in qs:
                t0 = time.perf_counter()
                total += len(engine.search(kind, q["terms"], filtered))
                lat.append(time.perf_counter() - t0)
        finally:
            gc.enable()
        lat.sort()
        rows[kind] = {"qps": len(qs) / sum(lat), "p50": percentile(lat, 0.5) * 1e3, "p99": percentile(lat, 0.99) * 1e3, "hits": total / len(qs)}
    return rows, hits


def overlap(a: list[list[int]], b: list[list[int]]) -> tuple[float, int]:
    total, empty = 0.0, 0
    for x, y in zip(a, b):
        m = max(len(x), len(y))
        if m == 0:
            total += 1
            empty += 1
        else:
            total += len(set(x) & set(y)) / m
    return total / len(a), empty


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=0, help="the first N GCIDE entries (0: all)")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind")
    parser.add_argument("--engines", default="cairn,tantivy,bm25s")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    t0 = time.perf_counter()
    docs = load_gcide(args.docs)
    print("# Full-text search through Python (bench/fts_bench.py)\n")
    print(f"- {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"- GCIDE: {len(docs):,} documents (loaded in {time.perf_counter() - t0:.1f} s); {args.queries} queries per kind, seed {args.seed}")
    queries = make_queries(docs, args.queries, args.seed)
    sys.stdout.flush()

    makers: dict[str, Callable[[str, list[tuple[str, str, int]]], Any]] = {
        "cairn": CairnEngine,
        "tantivy": TantivyEngine,
        "bm25s": Bm25sEngine,
    }
    results: dict[str, Any] = {}
    base = tempfile.mkdtemp(prefix="cairn-fts-py-")
    try:
        for name in args.engines.split(","):
            if name not in makers:
                print(f"unknown engine {name}", file=sys.stderr)
                return 2
            try:
                __import__({"cairn": "cairn", "tantivy": "tantivy", "bm25s": "bm25s"}[name])
            except ImportError as e:
                print(f"- {name}: not installed ({e}); skipped")
                continue
            path = os.path.join(base, name)
            os.makedirs(path)
            print(f"{name}: building", file=sys.stderr)
            engine = makers[name](path, docs)
            plain, hits = run_queries(engine, queries, False)
            filtered, _ = run_queries(engine, queries, True)
            results[name] = {
                "build": len(docs) / engine.build_seconds,
                "build_s": engine.build_seconds,
                "size": engine.size(),
                "plain": plain,
                "filtered": filtered,
                "hits": hits,
                "note": getattr(engine, "stemming", ""),
            }
            engine.close()
            print(f"{name}: done", file=sys.stderr)
            shutil.rmtree(path, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    names = list(results)
    peers = [n for n in names if n != "cairn"]
    if "bm25s" in results:
        print(f"- bm25s stemming: {results['bm25s']['note']}; title and body concatenated (one field)")
    print("\n| build | " + " | ".join(names) + " | " + " | ".join(f"Cairn/{p}" for p in peers) + " |")
    print("|---|" + "---:|" * (len(names) + len(peers)))
    c = results.get("cairn")

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a and b else "-"

    print(
        "| documents/s | "
        + " | ".join(f"{results[n]['build']:,.0f} ({results[n]['build_s']:.1f} s)" for n in names)
        + " | "
        + " | ".join(ratio(c and c["build"], results[p]["build"]) for p in peers)
        + " |"
    )
    print(
        "| size on disk, MiB (everything) | "
        + " | ".join(f"{results[n]['size'] / 1048576:.1f}" if results[n]["size"] else "in memory" for n in names)
        + " | "
        + " | ".join(ratio(c and c["size"], results[p]["size"]) for p in peers)
        + " |"
    )
    for key, label in (("plain", ""), ("filtered", f", filter bucket == {FILTER_BUCKET} (1%)")):
        print(f"\n| top-10 queries{label}, q/s (p50 / p99 ms) | " + " | ".join(names) + " | " + " | ".join(f"Cairn/{p}" for p in peers) + " |")
        print("|---|" + "---:|" * (len(names) + len(peers)))
        for kind in KINDS:
            cells = []
            for n in names:
                r = results[n][key].get(kind)
                cells.append(f"{r['qps']:,.0f} ({r['p50']:.2f} / {r['p99']:.2f})" if r else "-")
            rats = []
            for p in peers:
                a, b = (c or {}).get(key, {}).get(kind), results[p][key].get(kind)
                rats.append(ratio(a and a["qps"], b and b["qps"]))
            print(f"| {KIND_NAMES[kind]} | " + " | ".join(cells) + " | " + " | ".join(rats) + " |")
    if c:
        print("\n| relevance: top-10 overlap with Cairn | " + " | ".join(peers) + " |")
        print("|---|" + "---:|" * len(peers))
        for kind in KINDS:
            cells = []
            for p in peers:
                if kind in results[p]["hits"] and kind in c["hits"]:
                    ov, empty = overlap(c["hits"][kind], results[p]["hits"][kind])
                    cells.append(f"{ov:.2f}" + (f" ({empty} both empty)" if empty else ""))
                else:
                    cells.append("-")
            print(f"| {KIND_NAMES[kind]} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
