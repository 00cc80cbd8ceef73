"""Full-text search: text indexes, search(), $text and $search, errors."""

from __future__ import annotations

import pytest

import cairn


@pytest.fixture
def posts(db: cairn.Database) -> cairn.Collection:
    coll = db.collection("posts")
    coll.insert_many(
        [
            {"_id": 1, "title": "Crash-safe storage", "body": "The log is synced before the table", "lang": "en"},
            {"_id": 2, "title": "Fast reads", "body": "Tables are mapped; storage is cached", "lang": "en"},
            {"_id": 3, "title": "Stockage", "body": "Les tables sont rangées", "lang": "fr"},
        ]
    )
    coll.create_index([("title", cairn.TEXT), ("body", cairn.TEXT)], weights={"title": 3}, name="text")
    return coll


def ids(hits: object) -> list[object]:
    return [hit["document"]["_id"] for hit in hits]  # type: ignore[attr-defined]


def test_search_ranks_by_bm25_with_weights(posts: cairn.Collection) -> None:
    hits = list(posts.search("storage"))
    assert ids(hits) == [1, 2]
    assert hits[0]["score"] > hits[1]["score"] > 0


def test_query_syntax(posts: cairn.Collection) -> None:
    assert set(ids(posts.search("+tables -fast"))) == {1, 3}
    assert ids(posts.search('"storage is cached"')) == [2]
    assert set(ids(posts.search("tab*"))) == {1, 2, 3}
    assert ids(posts.search("storag~1", fields=["title"])) == [1]
    assert ids(posts.search("title:reads")) == [2]


def test_options_filter_limit_highlight(posts: cairn.Collection) -> None:
    assert ids(posts.search("tables", filter={"lang": "fr"})) == [3]
    assert len(list(posts.search("tables", limit=1))) == 1
    (hit,) = posts.search("cached", highlight={"pre": "[", "post": "]"})
    assert hit["highlights"] == {"body": "Tables are mapped; storage is [cached]"}
    assert "[cached]" in hit["snippet"]
    (hit,) = posts.search("cached", projection={"title": 1, "_id": 0})
    assert hit["document"] == {"title": "Fast reads"}


def test_writes_show_at_once_and_in_transactions(db: cairn.Database, posts: cairn.Collection) -> None:
    posts.delete_one({"_id": 2})
    assert ids(posts.search("storage")) == [1]
    posts.update_one({"_id": 1}, {"$set": {"title": "Durable"}})
    assert ids(posts.search("durable")) == [1]
    with db.transaction() as txn:
        coll = txn.collection("posts")
        coll.insert_one({"_id": 9, "title": "zebra"})
        assert ids(coll.search("zebra")) == [9]
        assert ids(posts.search("zebra")) == []
    assert ids(posts.search("zebra")) == [9]


def test_text_filter_meta_and_search_stage(posts: cairn.Collection) -> None:
    found = list(posts.find({"$text": {"$search": "storage"}}, {"s": {"$meta": "textScore"}, "_id": 1}))
    assert [d["_id"] for d in found] == [1, 2] and found[0]["s"] > found[1]["s"]
    rows = list(
        posts.aggregate(
            [
                {"$search": {"index": "text", "text": {"query": "storage", "path": ["title", "body"]}}},
                {"$project": {"_id": 1, "score": {"$meta": "searchScore"}}},
            ]
        )
    )
    assert [r["_id"] for r in rows] == [1, 2]
    assert [i["name"] for i in posts.list_indexes()] == ["text"]
    assert posts.list_indexes()[0]["keys"] == {"title": "text", "body": "text"}


def test_errors(db: cairn.Database, posts: cairn.Collection) -> None:
    with pytest.raises(cairn.InvalidArgument, match="position 4"):
        list(posts.search('say "hi'))
    with pytest.raises(cairn.InvalidArgument):
        posts.search("x", limit=-1)
    with pytest.raises(TypeError):
        posts.search(b"x")  # type: ignore[arg-type]
    db.collection("plain").insert_one({"a": 1})
    with pytest.raises(cairn.NotFound, match="no text index"):
        db.collection("plain").search("x")
    with pytest.raises(cairn.InvalidArgument):
        posts.create_index([("body", cairn.TEXT)], default_language="klingon")
