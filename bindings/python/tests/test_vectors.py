"""Vector indexes through the Python binding: the accepted vector types
(lists, array('f'), numpy when installed), the compact binary form,
filters, exact mode, index listing, $vectorSearch, hybrid search, and the
errors of malformed searches."""

from __future__ import annotations

import array
import base64
import struct
from ctypes import byref, c_char_p, c_size_t

import pytest

import cairn
from cairn import errors
from cairn._ffi import lib


def create_text_index(coll: cairn.Collection, field: str) -> None:
    text = ('{"keys": {"%s": "text"}}' % field).encode()
    out, out_len = c_char_p(), c_size_t()
    errors.call(lib.cairn_index_create, *coll._target(), text, len(text), byref(out), byref(out_len))
    lib.cairn_free(out)


@pytest.fixture
def points(db: cairn.Database) -> cairn.Collection:
    coll = db.collection("pts")
    assert coll.create_vector_index("v", 3, metric="l2", filter_fields=["odd"], M=8) == "v_vector"
    coll.insert_many([{"_id": i, "odd": i % 2 == 1, "v": [float(i), 0.5, -1.0]} for i in range(30)])
    return coll


def ids(cursor: cairn.Cursor) -> list[int]:
    return [doc["_id"] for doc in cursor]


def test_vector_helper_is_bson_float32_binary() -> None:
    value = cairn.vector([1.0, 2.0])
    assert value["$binary"]["subType"] == "09"
    assert base64.b64decode(value["$binary"]["base64"]) == b"\x27\x00" + struct.pack("<2f", 1.0, 2.0)
    assert cairn.vector_bytes(array.array("d", [1.0, 2.0])) == struct.pack("<2f", 1.0, 2.0)
    with pytest.raises(TypeError):
        cairn.vector(["a"])
    with pytest.raises(ValueError):
        cairn.vector([float("nan")])


def test_lists_arrays_and_numpy_query_alike(points: cairn.Collection) -> None:
    want = [7, 8, 6]
    assert ids(points.vector_search([7.2, 0.5, -1.0], 3)) == want
    assert ids(points.vector_search((7.2, 0.5, -1.0), 3)) == want
    assert ids(points.vector_search(array.array("f", [7.2, 0.5, -1.0]), 3)) == want
    numpy = pytest.importorskip("numpy")
    assert ids(points.vector_search(numpy.array([7.2, 0.5, -1.0], dtype=numpy.float64), 3)) == want
    # Documents may hold the compact form too; it reads back as the binary value.
    points.insert_one({"_id": 100, "v": cairn.vector(numpy.array([7.2, 0.5, -1.0], dtype=numpy.float32))})
    assert ids(points.vector_search([7.2, 0.5, -1.0], 1)) == [100]


def test_filters_exact_scores_and_listing(points: cairn.Collection) -> None:
    assert ids(points.vector_search([7.2, 0.5, -1.0], 2, filter={"odd": False})) == [8, 6]
    assert ids(points.vector_search([7.2, 0.5, -1.0], 2, filter={"odd": False}, exact=True)) == [8, 6]
    first = next(iter(points.vector_search([7.0, 0.5, -1.0], 1, include_scores=True)))
    assert first["_id"] == 7 and first["_distance"] == 0.0 and first["_score"] == 1.0
    [index] = points.list_indexes()
    assert index["keys"] == {"v": "vector"} and index["dimensions"] == 3 and index["metric"] == "l2"
    assert index["filter_fields"] == ["odd"] and index["on_invalid"] == "skip" and index["state"] == "ready"


def test_deletes_and_updates_move_vectors(points: cairn.Collection) -> None:
    points.delete_one({"_id": 7})
    points.update_one({"_id": 29}, {"$set": {"v": [7.1, 0.5, -1.0]}})
    assert ids(points.vector_search([7.2, 0.5, -1.0], 2)) == [29, 8]


def test_vector_search_aggregation_stage(points: cairn.Collection) -> None:
    rows = list(points.aggregate([
        {"$vectorSearch": {"index": "v_vector", "path": "v", "queryVector": [7.0, 0.5, -1.0], "numCandidates": 20, "limit": 2}},
        {"$project": {"_id": 1, "score": {"$meta": "vectorSearchScore"}}},
    ]))
    assert rows == [{"_id": 7, "score": 1.0}, {"_id": 6, "score": 0.5}] or rows == [{"_id": 7, "score": 1.0}, {"_id": 8, "score": 0.5}]


def test_hybrid_search_fuses_both_rankings(db: cairn.Database) -> None:
    coll = db.collection("h")
    create_text_index(coll, "t")
    coll.create_vector_index("v", 2, metric="l2")
    coll.insert_many([
        {"_id": 1, "t": "red shoes", "v": [0, 0]},
        {"_id": 2, "t": "red hat", "v": [5, 0]},
        {"_id": 3, "t": "green socks", "v": [0.5, 0]},
    ])
    hits = list(coll.hybrid_search("red shoes", [0, 0], 3))
    assert [hit["document"]["_id"] for hit in hits] == [1, 2, 3] or [hit["document"]["_id"] for hit in hits] == [1, 3, 2]
    assert hits[0]["score"] == pytest.approx(2 / 61)
    assert hits[0]["text_score"] > 0 and hits[0]["vector_score"] == 1.0
    sock = next(hit for hit in hits if hit["document"]["_id"] == 3)
    assert sock["text_score"] is None and sock["vector_score"] is not None
    weighted = list(coll.hybrid_search("red shoes", [0, 0], 3, fusion="weighted", weights={"text": 0, "vector": 1}))
    assert [hit["document"]["_id"] for hit in weighted] == [1, 3, 2]


@pytest.mark.parametrize(
    "vector, options",
    [
        ([1.0, 2.0], {}),
        ([1.0, 2.0, 3.0], {"ef": 0}),
        ([1.0, 2.0, 3.0], {"filter": {"v": 1}}),
        ([1.0, 2.0, 3.0], {"index": "nope"}),
    ],
)
def test_malformed_searches_fail(points: cairn.Collection, vector: list[float], options: dict) -> None:
    with pytest.raises((cairn.InvalidArgument, cairn.NotFound)):
        list(points.vector_search(vector, 3, **options))


def test_k_bounds(points: cairn.Collection) -> None:
    for k in (0, 10_001, 10**12):
        with pytest.raises(cairn.InvalidArgument):
            points.vector_search([1.0, 2.0, 3.0], k)


def test_ids_only_results_equal_document_reads(db: cairn.Database) -> None:
    # {"_id": 1} is answered from the index's node records; it must give
    # what reading the documents gives, 2.0 staying a float and 2 an int.
    coll = db.collection("ids")
    coll.create_vector_index("v", 2, metric="l2")
    keys = [2, 2.5, 3.0, "a", {"k": 1}, -7, 10**15 + 1]
    coll.insert_many([{"_id": key, "v": [float(i), 1.0]} for i, key in enumerate(keys)])
    for scores in (False, True):
        covered = list(coll.vector_search([0.0, 1.0], 7, projection={"_id": 1}, include_scores=scores))
        read = list(coll.vector_search([0.0, 1.0], 7, projection={"_id": 1, "absent": 1}, include_scores=scores))
        assert covered == read
        assert [repr(doc["_id"]) for doc in covered] == [repr(key) for key in keys]
