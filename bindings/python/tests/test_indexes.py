"""Secondary indexes: creating, listing, dropping, unique and sparse constraints."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn


@pytest.fixture
def users(db: cairn.Database) -> cairn.Collection:
    coll = db.collection("users")
    coll.insert_many(
        [
            {"_id": 1, "name": "ann", "age": 31, "email": "ann@x"},
            {"_id": 2, "name": "bob", "age": 25, "email": "bob@x"},
            {"_id": 3, "name": "cy", "age": 40},
        ]
    )
    return coll


def test_keys_may_be_a_field_a_dict_or_pairs_and_names_default_from_them(users: cairn.Collection) -> None:
    assert users.create_index("age") == "age_1"
    assert users.create_index({"name": -1}) == "name_-1"
    assert users.create_index([("age", 1), ("name", -1)]) == "age_1_name_-1"
    assert users.create_index("email", name="by_email", unique=True, sparse=True) == "by_email"
    indexes = {i["name"]: i for i in users.list_indexes()}
    assert indexes.keys() == {"age_1", "name_-1", "age_1_name_-1", "by_email"}
    assert indexes["age_1_name_-1"]["keys"] == {"age": 1, "name": -1}
    assert list(indexes["age_1_name_-1"]["keys"]) == ["age", "name"]  # in order
    assert (indexes["by_email"]["unique"], indexes["by_email"]["sparse"]) == (True, True)
    assert (indexes["age_1"]["unique"], indexes["age_1"]["sparse"]) == (False, False)


def test_creating_an_index_again(users: cairn.Collection) -> None:
    assert users.create_index("age") == "age_1"
    assert users.create_index("age") == "age_1"  # the same name and keys: nothing to do
    with pytest.raises(cairn.InvalidArgument):
        users.create_index("name", name="age_1")  # the same name, other keys
    assert [i["name"] for i in users.list_indexes()] == ["age_1"]


def test_bad_index_specs(users: cairn.Collection) -> None:
    with pytest.raises(cairn.InvalidArgument):
        users.create_index({"age": 2})
    with pytest.raises(cairn.InvalidArgument):
        users.create_index({})
    for bad in (1, b"age", [("age",)]):
        with pytest.raises(TypeError):
            users.create_index(bad)  # type: ignore[arg-type]
    assert users.list_indexes() == []


def test_drop_and_list(users: cairn.Collection) -> None:
    users.create_index("age")
    users.create_index("name")
    users.drop_index("age_1")
    assert [i["name"] for i in users.list_indexes()] == ["name_1"]
    with pytest.raises(cairn.NotFound):
        users.drop_index("age_1")
    assert users.database.collection("missing").list_indexes() == []


def test_an_index_on_a_missing_collection_creates_it(db: cairn.Database) -> None:
    assert db.collection("later").create_index("x") == "x_1"
    assert db.list_collections() == ["later"]


def test_queries_give_the_same_answers_with_an_index(users: cairn.Collection) -> None:
    queries = [
        ({"age": {"$gte": 30}}, {"age": 1}),
        ({"age": {"$in": [25, 40]}}, {"age": -1}),
        ({"age": 25, "name": "bob"}, None),
        ({}, {"age": -1}),
    ]
    before = [list(users.find(f, sort=s)) for f, s in queries]
    users.create_index([("age", 1), ("name", 1)])
    assert [list(users.find(f, sort=s)) for f, s in queries] == before
    assert users.explain({"age": {"$gte": 30}})["plan"] == "index_scan"


def test_multikey_index_finds_array_elements(db: cairn.Database) -> None:
    posts = db.collection("posts")
    posts.create_index("tags")
    posts.insert_many([{"_id": 1, "tags": ["a", "b"]}, {"_id": 2, "tags": ["b"]}, {"_id": 3, "tags": "c"}])
    assert [p["_id"] for p in posts.find({"tags": "b"})] == [1, 2]
    assert [p["_id"] for p in posts.find({"tags": "c"})] == [3]
    assert posts.explain({"tags": "b"})["index"] == "tags_1"
    posts.create_index([("tags", 1), ("more", 1)])
    with pytest.raises(cairn.InvalidArgument):  # two array fields in one compound index
        posts.insert_one({"_id": 4, "tags": ["x"], "more": ["y"]})
    assert posts.count() == 3


# -- unique indexes ------------------------------------------------------------------


def test_unique_index_refuses_duplicates_and_writes_nothing(users: cairn.Collection) -> None:
    users.create_index("email", unique=True, sparse=True)
    with pytest.raises(cairn.ConstraintViolation) as info:
        users.insert_one({"_id": 4, "name": "ann again", "email": "ann@x"})
    assert info.value.status == "CAIRN_CONSTRAINT"
    assert "email_1" in info.value.message  # names the index
    with pytest.raises(cairn.ConstraintViolation):
        users.update_one({"_id": 2}, {"$set": {"email": "ann@x"}})
    with pytest.raises(cairn.ConstraintViolation):
        users.insert_many([{"_id": 5, "email": "new@x"}, {"_id": 6, "email": "new@x"}])
    with pytest.raises(cairn.ConstraintViolation):
        users.find_one_and_update({"_id": 3}, {"$set": {"email": "bob@x"}})
    assert users.count() == 3
    assert users.find_by_id(2) == {"_id": 2, "name": "bob", "age": 25, "email": "bob@x"}
    assert users.find_by_id(3) == {"_id": 3, "name": "cy", "age": 40}
    # Freed values can be taken again.
    users.update_one({"_id": 1}, {"$set": {"email": "ann@y"}})
    users.insert_one({"_id": 7, "email": "ann@x"})
    assert users.distinct("email") == ["ann@x", "ann@y", "bob@x"]


def test_missing_fields_count_as_null_unless_the_index_is_sparse(db: cairn.Database) -> None:
    dense, sparse = db.collection("dense"), db.collection("sparse")
    dense.create_index("email", unique=True)
    sparse.create_index("email", unique=True, sparse=True)
    for coll in (dense, sparse):
        coll.insert_one({"_id": 1})
    sparse.insert_one({"_id": 2})  # no entry for a document without the field
    with pytest.raises(cairn.ConstraintViolation):
        dense.insert_one({"_id": 2})  # a second null
    with pytest.raises(cairn.ConstraintViolation):
        dense.insert_one({"_id": 3, "email": None})
    assert (dense.count(), sparse.count()) == (1, 2)


def test_a_unique_index_over_existing_duplicates_is_refused(users: cairn.Collection) -> None:
    users.insert_one({"_id": 4, "name": "ann"})
    with pytest.raises(cairn.ConstraintViolation):
        users.create_index("name", unique=True)
    assert users.list_indexes() == []
    users.insert_one({"_id": 5, "name": "ann"})  # nothing enforces it


def test_indexes_survive_reopen(db_path: Path) -> None:
    with cairn.open(db_path, sync="never") as db:
        users = db.collection("users")
        users.create_index("email", unique=True)
        users.insert_one({"_id": 1, "email": "a"})
    with cairn.open(db_path, sync="never") as db:
        users = db.collection("users")
        assert [i["name"] for i in users.list_indexes()] == ["email_1"]
        with pytest.raises(cairn.ConstraintViolation):
            users.insert_one({"_id": 2, "email": "a"})
        assert users.stats()["indexes"][0]["entries"] == 1
