"""Collection.bulk_write()'s requests and result, in pymongo's shape.

Each request class only records its arguments and says how it crosses as
one element of cairn_bulk_write()'s operations array; the library runs
them (include/cairn.h):

    users.bulk_write([
        cairn.InsertOne({"_id": 1, "name": "ann"}),
        cairn.UpdateOne({"_id": 1}, {"$set": {"age": 31}}),
        cairn.DeleteMany({"age": {"$lt": 18}}),
    ], ordered=False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BulkWriteResult", "DeleteMany", "DeleteOne", "InsertOne", "ReplaceOne", "UpdateMany", "UpdateOne"]


class _Request:
    """A bulk write request: the operation's name and its fields."""

    _name = ""

    def _operation(self) -> dict[str, Any]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Request) and type(self) is type(other) and self._operation() == other._operation()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._operation()[self._name].items())
        return f"{type(self).__name__}({fields})"


class InsertOne(_Request):
    """Inserts `document` (pymongo's InsertOne)."""

    _name = "insert_one"

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def _operation(self) -> dict[str, Any]:
        return {self._name: {"document": self.document}}


class _Update(_Request):
    def __init__(
        self,
        filter: Mapping[str, Any],
        update: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        upsert: bool = False,
        array_filters: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        self.filter, self.update, self.upsert = filter, update, upsert
        self.array_filters = None if array_filters is None else list(array_filters)

    def _operation(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"filter": self.filter, "update": self.update}
        if self.upsert:
            spec["upsert"] = True
        if self.array_filters is not None:
            spec["array_filters"] = self.array_filters
        return {self._name: spec}


class UpdateOne(_Update):
    """Applies `update` (operators, or a pipeline) to the first match
    (pymongo's UpdateOne)."""

    _name = "update_one"


class UpdateMany(_Update):
    """Applies `update` to every match (pymongo's UpdateMany)."""

    _name = "update_many"


class ReplaceOne(_Request):
    """Replaces the first match with `replacement` (pymongo's ReplaceOne)."""

    _name = "replace_one"

    def __init__(self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False) -> None:
        self.filter, self.replacement, self.upsert = filter, replacement, upsert

    def _operation(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"filter": self.filter, "replacement": self.replacement}
        if self.upsert:
            spec["upsert"] = True
        return {self._name: spec}


class DeleteOne(_Request):
    """Deletes the first match (pymongo's DeleteOne)."""

    _name = "delete_one"

    def __init__(self, filter: Mapping[str, Any]) -> None:
        self.filter = filter

    def _operation(self) -> dict[str, Any]:
        return {self._name: {"filter": self.filter}}


class DeleteMany(DeleteOne):
    """Deletes every match (pymongo's DeleteMany)."""

    _name = "delete_many"


@dataclass(frozen=True)
class BulkWriteResult:
    """What bulk_write() did (pymongo's BulkWriteResult)."""

    inserted_count: int
    matched_count: int
    modified_count: int
    deleted_count: int
    upserted_count: int
    #: The _ids of the documents upserted, by the index of their request.
    upserted_ids: dict[int, Any] = field(default_factory=dict)
    #: The _ids of the documents inserted, by the index of their request.
    inserted_ids: dict[int, Any] = field(default_factory=dict)
    acknowledged: bool = True

    @classmethod
    def _from_library(cls, result: Mapping[str, Any]) -> BulkWriteResult:
        return cls(
            inserted_count=result["inserted_count"],
            matched_count=result["matched_count"],
            modified_count=result["modified_count"],
            deleted_count=result["deleted_count"],
            upserted_count=result["upserted_count"],
            upserted_ids={int(index): id for index, id in result["upserted_ids"].items()},
            inserted_ids={int(index): id for index, id in result["inserted_ids"].items()},
        )

    @property
    def bulk_api_result(self) -> dict[str, Any]:
        """pymongo's raw form: nInserted, nMatched, nModified, nRemoved,
        nUpserted and upserted ([{"index", "_id"}])."""
        return {
            "nInserted": self.inserted_count,
            "nMatched": self.matched_count,
            "nModified": self.modified_count,
            "nRemoved": self.deleted_count,
            "nUpserted": self.upserted_count,
            "upserted": [{"index": index, "_id": id} for index, id in sorted(self.upserted_ids.items())],
        }


Request = _Request
