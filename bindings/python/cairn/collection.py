"""Collection: a named set of JSON documents in a database, and UpdateResult.

Filters, updates, projections and sorts are MongoDB's query language, passed
to the library as JSON; the library does all matching, updating and sorting.
Values cross as extended JSON (see _extended_json.py): datetime and bytes in
documents and filters come back as datetime (UTC) and bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ctypes import byref, c_char_p, c_size_t, c_uint64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import take_buffer
from ._extended_json import dumps, loads
from ._ffi import lib
from .cursor import Cursor

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Collection", "UpdateResult"]

#: A sort: {"field": 1 or -1, ...} or [("field", 1 or -1), ...], in priority order.
Sort = Mapping[str, int] | Iterable[tuple[str, int]]


@dataclass(frozen=True)
class UpdateResult:
    """What update_one(), update_many() and replace_one() did."""

    #: How many documents matched the filter.
    matched: int
    #: How many of them changed (a $set to the same value changes nothing).
    modified: int
    #: The _id of the document inserted by an upsert, else None.
    upserted_id: Any = None


def name_arg(name: str) -> bytes:
    """A collection name as UTF-8 for the library, which checks the rules."""
    if not isinstance(name, str):
        raise TypeError(f"a collection name must be a str, not {type(name).__name__}")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError as exc:
        errors.invalid(f"collection name {name!r} is not valid Unicode: {exc}")


def take_json(text: c_char_p, length: c_size_t) -> Any:
    """Decodes and frees a JSON buffer the library returned."""
    return loads(take_buffer(text, length.value))


def _document(value: Any, what: str) -> bytes:
    """A document, filter or update (a dict) as JSON text."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    return dumps(value, what)


def _optional(value: Any, what: str) -> tuple[bytes | None, int]:
    """An optional JSON object argument: (NULL, 0) stands for {} in cairn.h."""
    if value is None:
        return None, 0
    text = _document(value, what)
    return text, len(text)


def _sort(sort: Sort) -> dict[str, int]:
    if isinstance(sort, Mapping):
        return dict(sort)
    if not isinstance(sort, (str, bytes)):
        try:
            return dict(sort)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"sort must be a dict or a list of (field, direction) pairs, not {sort!r}")


class Collection:
    """The documents of one named collection; from db.collection(name).

    Making one calls nothing in the library: inserting into a missing
    collection creates it, and reading one finds nothing. A Collection is as
    thread-safe as its Database, and fails with Closed once it is closed.

        users = db.collection("users")
        uid = users.insert_one({"name": "ann", "age": 31})
        users.update_one({"_id": uid}, {"$inc": {"age": 1}})
        for user in users.find({"age": {"$gte": 18}}, sort=[("age", -1)], limit=10):
            print(user["name"], user["age"])

    Every method raises InvalidArgument naming the offending path (such as
    "filter.age.$gtx") for a malformed filter, update or option, and
    TypeError for a value no document can hold.
    """

    def __init__(self, db: Database, name: str) -> None:
        self._name = name_arg(name)
        #: The database holding the collection.
        self.database = db
        #: The collection's name.
        self.name = name

    def __repr__(self) -> str:
        return f"<cairn.Collection {self.name!r}>"

    def _target(self) -> tuple[Any, bytes, int]:
        """The first three arguments of every document call."""
        return self.database._handle(), self._name, len(self._name)

    # -- Writes ---------------------------------------------------------------

    def insert_one(self, document: Mapping[str, Any]) -> Any:
        """Inserts `document` and returns its _id: the document's own, or a
        generated 24-hex-digit string (ordered by creation time) when it has
        none. ConstraintViolation when a document with that _id exists."""
        text = _document(document, "document")
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_insert_one, *self._target(), text, len(text), byref(out), byref(out_len))
        return take_json(out, out_len)

    def insert_many(self, documents: Iterable[Mapping[str, Any]]) -> list[Any]:
        """Inserts `documents` all or nothing, and returns their _ids in order.
        ConstraintViolation (and nothing inserted) on any duplicate _id."""
        if isinstance(documents, Mapping):
            raise TypeError("insert_many() takes a list of documents; use insert_one() for one")
        docs = list(documents)
        for i, doc in enumerate(docs):
            if not isinstance(doc, Mapping):
                raise TypeError(f"documents[{i}] must be a dict, not {type(doc).__name__}")
        text = dumps(docs, "documents")
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_insert_many, *self._target(), text, len(text), byref(out), byref(out_len))
        ids: list[Any] = take_json(out, out_len)
        return ids

    def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False) -> UpdateResult:
        """Applies the update operators in `update` ({"$set": {...}}, ...) to
        the first document (in _id order) matching `filter`. With upsert and
        no match, inserts a document built from the filter and the update.
        Changes nothing when the update fails on the document."""
        return self._update(lib.cairn_update_one, filter, update, "update", upsert)

    def update_many(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateResult:
        """As update_one(), for every matching document, all or nothing."""
        return self._update(lib.cairn_update_many, filter, update, "update", upsert)

    def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateResult:
        """Replaces the first document matching `filter` with `replacement`
        (no operators), keeping its _id; a different _id is InvalidArgument."""
        return self._update(lib.cairn_replace_one, filter, replacement, "replacement", upsert)

    def _update(self, fn: Any, filter: Any, update: Any, what: str, upsert: bool) -> UpdateResult:
        filter_text, update_text = _document(filter, "filter"), _document(update, what)
        options, options_len = _optional({"upsert": True} if upsert else None, "options")
        out, out_len = c_char_p(), c_size_t()
        errors.call(
            fn,
            *self._target(),
            filter_text,
            len(filter_text),
            update_text,
            len(update_text),
            options,
            options_len,
            byref(out),
            byref(out_len),
        )
        result = take_json(out, out_len)
        return UpdateResult(result["matched"], result["modified"], result["upserted_id"])

    def delete_one(self, filter: Mapping[str, Any]) -> int:
        """Deletes the first document (in _id order) matching `filter`;
        returns how many were deleted (0 or 1)."""
        return self._delete(lib.cairn_delete_one, filter)

    def delete_many(self, filter: Mapping[str, Any]) -> int:
        """Deletes every document matching `filter` ({} for all); returns how many."""
        return self._delete(lib.cairn_delete_many, filter)

    def _delete(self, fn: Any, filter: Any) -> int:
        text = _document(filter, "filter")
        deleted = c_uint64()
        errors.call(fn, *self._target(), text, len(text), byref(deleted))
        return deleted.value

    def drop(self) -> None:
        """Drops the collection and every document in it (no error if missing)."""
        self.database.drop_collection(self.name)

    # -- Reads ----------------------------------------------------------------

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sort | None = None,
        skip: int | None = None,
        limit: int | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> Cursor:
        """A Cursor over the documents matching `filter` (None: all), read at
        one snapshot, in _id order unless sorted.

        sort: {"field": 1 or -1} or [("field", 1), ("other", -1)], dotted
        paths allowed; skip: documents to skip; limit: most to return (0: no
        limit); projection: {"field": 1, ...} keeps fields (and _id unless
        "_id": 0), {"field": 0, ...} drops them.
        """
        options: dict[str, Any] = {}
        if sort is not None:
            options["sort"] = _sort(sort)
        if skip is not None:
            options["skip"] = skip
        if limit is not None:
            options["limit"] = limit
        if projection is not None:
            options["projection"] = projection
        filter_text, filter_len = _optional(filter, "filter")
        options_text, options_len = _optional(options or None, "options")
        out = _ffi.cursor_p()
        errors.call(
            lib.cairn_find, *self._target(), filter_text, filter_len, options_text, options_len, byref(out)
        )
        return Cursor(self.database, out)

    def find_one(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sort | None = None,
        skip: int | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The first document find() would return with these arguments, or None."""
        with self.find(filter, sort=sort, skip=skip, limit=1, projection=projection) as cursor:
            return next(cursor, None)

    def count(self, filter: Mapping[str, Any] | None = None) -> int:
        """How many documents match `filter` (None: all of them)."""
        text, text_len = _optional(filter, "filter")
        count = c_uint64()
        errors.call(lib.cairn_count, *self._target(), text, text_len, byref(count))
        return count.value
