"""The query planner never changes an answer: for random filters over
documents of mixed types (nulls, numbers of both kinds, strings, arrays,
nested objects, missing fields), a find that the planner serves from an
index returns exactly what a collection scan of the same filter returns.

Wrapping a filter as {"$or": [filter, {"zz": 1}]} keeps its meaning (no
document has "zz") but leaves the planner nothing to use, so it scans.
"""

from __future__ import annotations

import json
import random
from typing import Any

import cairn

VALUES: list[Any] = [None, True, False, 0, 1, -1, 2.5, -0.0, 1e300, "x", "", "ab", [], [1, 2], [[1]], {}, {"c": 1},
                     {"c": [1, "x"]}, 2**62, -(2**63)]
OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$size", "$all",
             "$elemMatch", "$mod", "$not"]
FIELDS = ["a", "b", "b.c", "t", "u", "_id", "a.0"]


def random_operand(rng: random.Random, depth: int) -> Any:
    if depth > 1 or rng.random() < 0.7:
        return rng.choice(VALUES)
    return [random_operand(rng, depth + 1) for _ in range(rng.randrange(3))]


def random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for _ in range(rng.randrange(1, 3)):
        if rng.random() < 0.2 and depth < 2:
            clauses = [random_filter(rng, depth + 1) for _ in range(rng.randrange(1, 3))]
            result[rng.choice(["$and", "$or", "$nor"])] = clauses
        elif rng.random() < 0.4:
            result[rng.choice(FIELDS)] = rng.choice(VALUES)
        else:
            result[rng.choice(FIELDS)] = {rng.choice(OPERATORS): random_operand(rng, depth)}
    return result


def test_index_plans_return_what_a_collection_scan_returns(db: cairn.Database) -> None:
    rng = random.Random(20261121)
    coll = db.collection("c")
    coll.create_index({"a": 1})
    coll.create_index([("b.c", -1), ("a", 1)])
    coll.create_index({"t": 1}, sparse=True)
    coll.create_index({"u": 1}, unique=True, sparse=True)
    documents = []
    for i in range(300):
        document: dict[str, Any] = {"_id": i}
        for field in ["a", "b", "t"]:
            if rng.random() < 0.8:
                document[field] = rng.choice(VALUES)
        if rng.random() < 0.5:
            document["u"] = i * 7
        documents.append(document)
    try:
        coll.insert_many(documents, ordered=False)
    except cairn.BulkWriteError as error:  # parallel arrays in the compound index
        assert all(e["status"] == "CAIRN_INVALID_ARGUMENT" for e in error.errors)
    db.flush()  # part of the entries in a table, part in the memtable
    coll.update_many({"a": 1}, {"$set": {"a": "moved"}})

    compared = through_index = 0
    for _ in range(600):
        query = random_filter(rng)
        try:
            planned = sorted(d["_id"] for d in coll.find(query, projection={"_id": 1}))
        except cairn.InvalidArgument:
            continue  # an operand that the operator refuses, such as $size: "x"
        scanned = sorted(d["_id"] for d in coll.find({"$or": [query, {"zz": 1}]}, projection={"_id": 1}))
        assert planned == scanned, json.dumps(query)
        compared += 1
        if coll.explain(query)["plan"] != "collection_scan":
            through_index += 1
    assert compared > 300 and through_index > 100, (compared, through_index)
