"""What the write methods return, in pymongo's shape, without breaking the
values they returned before.

    pymongo                         cairn (and what it still is)
    InsertOneResult.inserted_id     insert_one(doc).inserted_id   (the _id itself)
    InsertManyResult.inserted_ids   insert_many(docs).inserted_ids (a list of the _ids)
    UpdateResult.matched_count      update_one(...).matched_count  (also .matched)
    UpdateResult.modified_count     update_one(...).modified_count (also .modified)
    UpdateResult.upserted_id        update_one(...).upserted_id
    DeleteResult.deleted_count      delete_one(...).deleted_count  (an int)

insert_one() has always returned the _id, and still does: the value is of
a subclass of the _id's own type (str, int, dict, ...) that also answers
.inserted_id and .acknowledged, so `uid = users.insert_one(doc)` and
`users.insert_one(doc).inserted_id` both work. An _id of a type that cannot
be subclassed (bool, None) is returned as it is, without the attributes.
insert_many() returns a list subclass, and delete_one()/delete_many() an
int subclass, in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DeleteResult", "InsertManyResult", "UpdateResult", "inserted_id_result"]


@dataclass(frozen=True)
class UpdateResult:
    """What update_one(), update_many() and replace_one() did."""

    #: How many documents matched the filter.
    matched: int
    #: How many of them changed (a $set to the same value changes nothing).
    modified: int
    #: The _id of the document inserted by an upsert, else None.
    upserted_id: Any = None

    @property
    def matched_count(self) -> int:
        """pymongo's name for `matched`."""
        return self.matched

    @property
    def modified_count(self) -> int:
        """pymongo's name for `modified`."""
        return self.modified

    @property
    def acknowledged(self) -> bool:
        """Always True: every write is acknowledged."""
        return True


class DeleteResult(int):
    """How many documents delete_one() or delete_many() deleted: an int,
    with pymongo's .deleted_count."""

    @property
    def deleted_count(self) -> int:
        return int(self)

    @property
    def acknowledged(self) -> bool:
        return True


class InsertManyResult(list[Any]):
    """The _ids insert_many() inserted, in order: a list, with pymongo's
    .inserted_ids."""

    @property
    def inserted_ids(self) -> list[Any]:
        return list(self)

    @property
    def acknowledged(self) -> bool:
        return True


_id_classes: dict[type, type] = {}


def inserted_id_result(inserted_id: Any) -> Any:
    """`inserted_id` as an instance of a subclass of its type that also has
    .inserted_id and .acknowledged (pymongo's InsertOneResult), or as it is
    when its type cannot be subclassed."""
    base = type(inserted_id)
    cls = _id_classes.get(base)
    if cls is None:
        try:
            cls = type(
                base.__name__,
                (base,),
                {
                    "__slots__": (),
                    "inserted_id": property(lambda self: base(self) if base is not dict else dict(self)),
                    "acknowledged": property(lambda self: True),
                    "__doc__": f"An inserted _id ({base.__name__}), with pymongo's .inserted_id.",
                },
            )
        except TypeError:  # bool, NoneType: not subclassable
            return inserted_id
        _id_classes[base] = cls
    try:
        return cls(inserted_id)
    except TypeError:
        return inserted_id
