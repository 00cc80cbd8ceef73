"""Collection: a named set of JSON documents in a database, and UpdateResult.

Filters, updates, projections, sorts, index keys and aggregation pipelines
are MongoDB's language, passed to the library as JSON; the library does all
matching, updating, sorting, indexing and aggregating. Values cross as
extended JSON (see _extended_json.py): datetime and bytes in documents and
filters come back as datetime (UTC) and bytes.

A Collection calls the library with the handle of whatever made it: the
database's, or a transaction's (both are a `cairn_db *`; see _db_handle.py).
"""

from __future__ import annotations

import base64

from collections.abc import Iterable, Mapping, Sequence
from ctypes import byref, c_char_p, c_size_t, c_uint64
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import TTL, take_buffer, ttl_to_ms
from ._extended_json import dumps, loads
from ._ffi import Status, lib
from ._scratch import scratch
from .bulk import BulkWriteResult, Request, _Request
from .cursor import Cursor
from .vector import vector_json
from .results import DeleteResult, InsertManyResult, UpdateResult, inserted_id_result

if TYPE_CHECKING:
    from .change_stream import ChangeStream
    from ._db_handle import DbHandle
    from .database import Database
    from .transaction import Transaction

__all__ = ["Collection", "UpdateResult"]

#: A sort: {"field": 1 or -1, ...} or [("field", 1 or -1), ...], in priority order.
Sort = Mapping[str, int] | Iterable[tuple[str, int]]

#: Index keys: as a Sort, or one field name (ascending).
IndexKeys = str | Mapping[str, int | str] | Iterable[tuple[str, int | str]]

#: An update: a dict of update operators ({"$set": {...}, ...}), or an
#: aggregation pipeline, a list of stages ([{"$set": {...}}, ...]).
Update = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def name_arg(name: str, what: str = "collection name") -> bytes:
    """A name (of a collection, index or field) as UTF-8 for the library,
    which checks the rules."""
    if not isinstance(name, str):
        raise TypeError(f"a {what} must be a str, not {type(name).__name__}")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError as exc:
        errors.invalid(f"{what} {name!r} is not valid Unicode: {exc}")


def take_json(text: c_char_p, length: c_size_t) -> Any:
    """Decodes and frees a JSON buffer the library returned. JSON text holds
    no NUL byte (a string escapes it) and the library ends it with one, so
    the pointer's own value is the whole text: no string_at() call."""
    raw = text.value
    if raw is None:
        return loads(b"")
    try:
        if len(raw) != length.value:
            raise errors.error_for(Status.INTERNAL, "the library returned JSON whose length is not its NUL's place")
        return loads(raw)
    finally:
        lib.cairn_free(text)


def _document(value: Any, what: str) -> bytes:
    """A document, filter or update (a dict) as JSON text."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    return dumps(value, what)


def _update_document(value: Any) -> bytes:
    """An update as JSON text: a dict of operators, or a pipeline (a list
    of stage dicts) passed on as a JSON array. The library checks the
    operators and stages."""
    if isinstance(value, (list, tuple)):
        return dumps(_stages(value, "update"), "update")
    if not isinstance(value, Mapping):
        raise TypeError(f"update must be a dict or a list of stages, not {type(value).__name__}")
    return dumps(value, "update")


def _stages(value: Iterable[Any], what: str) -> list[Any]:
    """A list of dicts (pipeline stages, array filters): TypeError otherwise."""
    if isinstance(value, (Mapping, str, bytes)):
        raise TypeError(f"{what} must be a list of dicts, not {type(value).__name__}")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"{what}[{i}] must be a dict, not {type(item).__name__}")
    return items


def _update_options(upsert: bool, array_filters: Iterable[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """The options_json of cairn_update_one and cairn_update_many, or None
    for none."""
    options: dict[str, Any] = {}
    if upsert:
        options["upsert"] = True
    if array_filters is not None:
        options["array_filters"] = _stages(array_filters, "array_filters")
    return options or None


def _find_and_modify_options(sort: Sort | None, projection: Mapping[str, Any] | None, **given: Any) -> bytes:
    """The options_json of cairn_find_one_and_update, _replace and _delete:
    sort and projection when given, then the other options (those that are
    None left out)."""
    options: dict[str, Any] = {}
    if sort is not None:
        options["sort"] = _sort(sort)
    if projection is not None:
        options["projection"] = projection
    options.update((name, value) for name, value in given.items() if value is not None)
    return dumps(options, "options")


def optional_json(value: Any, what: str) -> tuple[bytes | None, int]:
    """An optional JSON object argument: (NULL, 0) stands for {} in cairn.h."""
    if value is None:
        return None, 0
    text = _document(value, what)
    return text, len(text)


def _sort(sort: Sort | IndexKeys, what: str = "sort") -> dict[str, Any]:
    if isinstance(sort, Mapping):
        return dict(sort)
    if not isinstance(sort, (str, bytes)):
        try:
            return dict(sort)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{what} must be a dict or a list of (field, direction) pairs, not {sort!r}")


def _find_options(
    sort: Sort | None, skip: int | None, limit: int | None, projection: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The options_json of cairn_find(), cairn_find_one() and cairn_explain():
    the arguments given, or None for none."""
    options: dict[str, Any] = {}
    if sort is not None:
        options["sort"] = _sort(sort)
    if skip is not None:
        options["skip"] = skip
    if limit is not None:
        options["limit"] = limit
    if projection is not None:
        options["projection"] = projection
    return options or None


def _json_out(fn: Any, *args: Any, not_found_is_none: bool = False) -> Any:
    """Calls `fn` with `args`, then the out-parameters (char **json, size_t
    *json_len, char **errmsg), and returns the JSON it filled in, decoded.
    With not_found_is_none, CAIRN_NOT_FOUND returns None instead of raising."""
    s = scratch
    status = fn(*args, s.text_ref, s.text_len_ref, s.err_ref)
    if status:
        if not_found_is_none and status == Status.NOT_FOUND:
            errors.take_message(s.err)
            take_buffer(s.text, s.text_len.value)
            return None
        errors.raise_for_status(status, s.err)
    return take_json(s.text, s.text_len)


class Collection:
    """The documents of one named collection; from db.collection(name), or
    txn.collection(name) to read and write inside a Transaction.

    Making one calls nothing in the library: inserting into a missing
    collection creates it, and reading one finds nothing. A Collection is as
    thread-safe as its Database (or its Transaction, used by one thread at a
    time), and fails with Closed once that is closed or ended.

        users = db.collection("users")
        uid = users.insert_one({"name": "ann", "age": 31})
        users.update_one({"_id": uid}, {"$inc": {"age": 1}})
        for user in users.find({"age": {"$gte": 18}}, sort=[("age", -1)], limit=10):
            print(user["name"], user["age"])

    Every method raises InvalidArgument naming the offending path (such as
    "filter.age.$gtx") for a malformed filter, update or option, and
    TypeError for a value no document can hold. A write that breaks the
    collection's schema raises SchemaViolation, and one that breaks a unique
    index (or repeats an _id) ConstraintViolation; neither writes anything
    (except insert_many() with ordered= or atomic=, which keeps the documents
    that went in and raises a BulkWriteError).
    """

    def __init__(self, owner: DbHandle, name: str) -> None:
        self._name = name_arg(name)
        self._owner = owner  # the Database or Transaction whose handle the calls use
        #: The database holding the collection.
        self.database: Database = owner._database
        #: The transaction this collection reads and writes in, or None.
        self.transaction: Transaction | None = owner._transaction
        #: The collection's name.
        self.name = name

    def __repr__(self) -> str:
        where = "" if self.transaction is None else " in a transaction"
        return f"<cairn.Collection {self.name!r}{where}>"

    def _target(self) -> tuple[Any, bytes, int]:
        """The first three arguments of every document call."""
        return self._owner._handle(), self._name, len(self._name)

    # -- Writes ---------------------------------------------------------------

    def insert_one(self, document: Mapping[str, Any], *, ttl: TTL | None = None, ttl_ms: int | None = None) -> Any:
        """Inserts `document` and returns its _id (its primary key): the
        document's own, or a generated 24-hex-digit string (ordered by
        creation time) when it has none. ConstraintViolation when a document
        with that _id exists. The _id returned also has pymongo's
        .inserted_id (see results.py).

        ttl ("1h", a timedelta) or ttl_ms: the document expires that long
        from now. It is stored with "_expiresAt" set to that instant, which
        the collection's TTL index on "_expiresAt" governs (created by the
        first such insert outside a transaction; see cairn.h, "Documents that
        expire"). Expired documents are never returned."""
        text = _document(document, "document")
        out, out_len = c_char_p(), c_size_t()
        if ttl is None and ttl_ms is None:
            errors.call(lib.cairn_insert_one, *self._target(), text, len(text), byref(out), byref(out_len))
        else:
            ms = ttl_to_ms(ttl, ttl_ms)
            errors.call(lib.cairn_insert_one_with_ttl, *self._target(), text, len(text), ms, byref(out), byref(out_len))
        return inserted_id_result(take_json(out, out_len))

    def insert_many(
        self,
        documents: Iterable[Mapping[str, Any]],
        *,
        ordered: bool | None = None,
        atomic: bool | None = None,
        ttl: TTL | None = None,
        ttl_ms: int | None = None,
    ) -> InsertManyResult:
        """Inserts `documents` and returns the _ids of those inserted, in order
        (a list with pymongo's .inserted_ids).

        Without ordered or atomic: all or nothing (cairn_insert_many). Any
        failure (a duplicate _id raises ConstraintViolation, a document
        against the schema SchemaViolation) inserts nothing.

        With either (cairn_insert_many_with_options), as MongoDB's
        insertMany: ordered=True (the default) inserts in order and stops at
        the first document that fails, keeping those before it;
        ordered=False inserts every document that can be and skips the
        others; atomic=True is all or nothing again. Documents that fail
        raise a BulkWriteError that is also the class of the first failure
        (ConstraintViolation, ...), carrying .inserted_ids and .errors (see
        BulkWriteError). Bad options raise InvalidArgument.

        ttl or ttl_ms: every document expires that long from now, as with
        insert_one(); without ordered or atomic it stays all or nothing.
        """
        if isinstance(documents, Mapping):
            raise TypeError("insert_many() takes a list of documents; use insert_one() for one")
        docs = list(documents)
        for i, doc in enumerate(docs):
            if not isinstance(doc, Mapping):
                raise TypeError(f"documents[{i}] must be a dict, not {type(doc).__name__}")
        text = dumps(docs, "documents")
        out, out_len = c_char_p(), c_size_t()
        expiry = None if ttl is None and ttl_ms is None else ttl_to_ms(ttl, ttl_ms)
        if ordered is None and atomic is None:
            if expiry is None:
                errors.call(lib.cairn_insert_many, *self._target(), text, len(text), byref(out), byref(out_len))
                return InsertManyResult(take_json(out, out_len))
            atomic = True
        given = {"ordered": ordered, "atomic": atomic, "ttl": expiry}
        options = dumps({name: value for name, value in given.items() if value is not None}, "options")
        err = c_char_p()
        status = lib.cairn_insert_many_with_options(
            *self._target(), text, len(text), options, len(options), byref(out), byref(out_len), byref(err)
        )
        # *result_json is set whatever the status: NULL for a call refused as a whole.
        result = take_json(out, out_len) if out else None
        if status != Status.OK and result is not None:
            message = errors.take_message(err)
            raise errors.bulk_write_error(status, message, result["inserted_ids"], result["errors"])
        errors.raise_for_status(status, err)
        if result is None:
            raise errors.error_for(Status.INTERNAL, "the library returned CAIRN_OK and no result")
        return InsertManyResult(result["inserted_ids"])

    def bulk_write(self, requests: Iterable[Request], *, ordered: bool = True) -> BulkWriteResult:
        """Runs InsertOne, UpdateOne, UpdateMany, ReplaceOne, DeleteOne and
        DeleteMany requests in order, as pymongo's bulk_write does
        (cairn_bulk_write), and returns a BulkWriteResult.

        Each request is atomic by itself; the list is not. ordered=True
        stops at the first request that fails, keeping those before it;
        ordered=False tries every request. Failures raise a BulkWriteError
        that is also the class of the first failure (ConstraintViolation,
        ...), with .errors (index, status, message of each) and .result (the
        BulkWriteResult of what was done). A request that is not one of
        those classes raises TypeError, and a malformed one InvalidArgument
        before anything is written.
        """
        if isinstance(requests, (Mapping, _Request)):
            raise TypeError("bulk_write() takes a list of requests such as [cairn.InsertOne({...})]")
        operations = []
        for i, request in enumerate(requests):
            if not isinstance(request, _Request):
                raise TypeError(
                    f"requests[{i}] must be InsertOne, UpdateOne, UpdateMany, ReplaceOne, DeleteOne or "
                    f"DeleteMany, not {type(request).__name__}"
                )
            operations.append(request._operation())
        if not operations:
            errors.invalid("bulk_write() needs at least one request")
        text = dumps(operations, "requests")
        options = b'{"ordered": true}' if ordered else b'{"ordered": false}'
        out, out_len, err = c_char_p(), c_size_t(), c_char_p()
        status = lib.cairn_bulk_write(
            *self._target(), text, len(text), options, len(options), byref(out), byref(out_len), byref(err)
        )
        raw = take_json(out, out_len) if out else None
        if status != Status.OK and raw is not None:
            message = errors.take_message(err)
            result = BulkWriteResult._from_library(raw)
            error = errors.bulk_write_error(status, message, list(result.inserted_ids.values()), raw["errors"])
            error.result = result
            raise error
        errors.raise_for_status(status, err)
        if raw is None:
            raise errors.error_for(Status.INTERNAL, "the library returned CAIRN_OK and no result")
        return BulkWriteResult._from_library(raw)

    def update_one(
        self,
        filter: Mapping[str, Any],
        update: Update,
        *,
        upsert: bool = False,
        array_filters: Iterable[Mapping[str, Any]] | None = None,
    ) -> UpdateResult:
        """Applies `update` to the first document (in _id order) matching
        `filter`. With upsert and no match, inserts a document built from
        the filter and the update. Changes nothing when the update fails on
        the document.

        update: update operators ({"$set": {...}, "$inc": {...}}), or an
        aggregation pipeline, a list of stages ([{"$set": {"total": {"$add":
        ["$a", "$b"]}}}]) whose expressions may read the document's fields.
        array_filters: a list of filters, one per identifier that the update
        uses in "$[<identifier>]" (MongoDB's arrayFilters):

            posts.update_one({"_id": 1}, {"$set": {"comments.$[c].hidden": True}},
                             array_filters=[{"c.votes": {"$lt": 0}}])
        """
        filter_text, update_text = _document(filter, "filter"), _update_document(update)
        return self._update(lib.cairn_update_one, filter_text, update_text, _update_options(upsert, array_filters))

    def update_many(
        self,
        filter: Mapping[str, Any],
        update: Update,
        *,
        upsert: bool = False,
        array_filters: Iterable[Mapping[str, Any]] | None = None,
    ) -> UpdateResult:
        """As update_one(), for every matching document, all or nothing."""
        filter_text, update_text = _document(filter, "filter"), _update_document(update)
        return self._update(lib.cairn_update_many, filter_text, update_text, _update_options(upsert, array_filters))

    def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateResult:
        """Replaces the first document matching `filter` with `replacement`
        (no operators), keeping its _id; a different _id is InvalidArgument."""
        filter_text, replacement_text = _document(filter, "filter"), _document(replacement, "replacement")
        return self._update(lib.cairn_replace_one, filter_text, replacement_text, _update_options(upsert, None))

    def _update(self, fn: Any, filter_text: bytes, update_text: bytes, options: dict[str, Any] | None) -> UpdateResult:
        options_text, options_len = optional_json(options, "options")
        out, out_len = c_char_p(), c_size_t()
        errors.call(
            fn,
            *self._target(),
            filter_text,
            len(filter_text),
            update_text,
            len(update_text),
            options_text,
            options_len,
            byref(out),
            byref(out_len),
        )
        result = take_json(out, out_len)
        return UpdateResult(result["matched"], result["modified"], result["upserted_id"])

    def delete_one(self, filter: Mapping[str, Any]) -> DeleteResult:
        """Deletes the first document (in _id order) matching `filter`;
        returns how many were deleted (0 or 1), an int with pymongo's
        .deleted_count."""
        return self._delete(lib.cairn_delete_one, filter)

    def delete_many(self, filter: Mapping[str, Any]) -> DeleteResult:
        """Deletes every document matching `filter` ({} for all); returns how
        many, an int with pymongo's .deleted_count."""
        return self._delete(lib.cairn_delete_many, filter)

    def _delete(self, fn: Any, filter: Any) -> DeleteResult:
        text = _document(filter, "filter")
        deleted = c_uint64()
        errors.call(fn, *self._target(), text, len(text), byref(deleted))
        return DeleteResult(deleted.value)

    def find_one_and_update(
        self,
        filter: Mapping[str, Any],
        update: Update,
        *,
        sort: Sort | None = None,
        projection: Mapping[str, Any] | None = None,
        upsert: bool = False,
        return_document: str = "before",
        array_filters: Iterable[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """Atomically finds the first document matching `filter` (in `sort`
        order, else by primary key), applies `update` (operators or a
        pipeline, with `array_filters`, as update_one() takes them), and
        returns the document as it was "before" (the default) or is "after"
        the update, projected by `projection`.

        None when nothing matched (and nothing was upserted), and also after
        an upsert with return_document="before".

            job = jobs.find_one_and_update({"state": "queued"}, {"$set": {"state": "running"}},
                                           sort={"priority": -1}, return_document="after")
        """
        filter_text, update_text = _document(filter, "filter"), _update_document(update)
        options_text = _find_and_modify_options(
            sort,
            projection,
            upsert=True if upsert else None,
            return_document=return_document,
            array_filters=None if array_filters is None else _stages(array_filters, "array_filters"),
        )
        document: dict[str, Any] | None = _json_out(
            lib.cairn_find_one_and_update,
            *self._target(),
            filter_text,
            len(filter_text),
            update_text,
            len(update_text),
            options_text,
            len(options_text),
            not_found_is_none=True,
        )
        return document

    def find_one_and_replace(
        self,
        filter: Mapping[str, Any],
        replacement: Mapping[str, Any],
        *,
        sort: Sort | None = None,
        projection: Mapping[str, Any] | None = None,
        upsert: bool = False,
        return_document: str = "before",
    ) -> dict[str, Any] | None:
        """Atomically finds the first document matching `filter` (in `sort`
        order, else by primary key), replaces it with `replacement` (a
        document without operators; the _id is kept, and a different one
        raises InvalidArgument), and returns the document as it was
        "before" (the default) or is "after", projected by `projection`.

        With upsert and no match, inserts `replacement` (taking the filter's
        _id when it has none). None when nothing matched (and nothing was
        upserted), and also after an upsert with return_document="before".

            old = settings.find_one_and_replace({"_id": "theme"}, {"name": "dark"}, upsert=True)
        """
        filter_text, replacement_text = _document(filter, "filter"), _document(replacement, "replacement")
        options_text = _find_and_modify_options(
            sort, projection, upsert=True if upsert else None, return_document=return_document
        )
        document: dict[str, Any] | None = _json_out(
            lib.cairn_find_one_and_replace,
            *self._target(),
            filter_text,
            len(filter_text),
            replacement_text,
            len(replacement_text),
            options_text,
            len(options_text),
            not_found_is_none=True,
        )
        return document

    def find_one_and_delete(
        self,
        filter: Mapping[str, Any],
        *,
        sort: Sort | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Atomically finds the first document matching `filter` (in `sort`
        order, else by primary key), deletes it and returns it, projected
        by `projection`; None (and nothing deleted) when none matched.

            job = jobs.find_one_and_delete({"state": "done"}, sort={"finished": 1})
        """
        filter_text = _document(filter, "filter")
        options_text = _find_and_modify_options(sort, projection)
        document: dict[str, Any] | None = _json_out(
            lib.cairn_find_one_and_delete,
            *self._target(),
            filter_text,
            len(filter_text),
            options_text,
            len(options_text),
            not_found_is_none=True,
        )
        return document

    # -- The collection itself --------------------------------------------------

    def drop(self) -> None:
        """Drops the collection and every document in it (no error if missing)."""
        errors.call(lib.cairn_collection_drop, *self._target())

    def watch(self, **options: Any) -> ChangeStream:
        """Watches this collection's changes: Database.watch(name, **options)
        (of the database, also for a collection of a transaction)."""
        return self.database.watch(self.name, **options)

    def rename(self, new_name: str) -> Collection:
        """Renames the collection to `new_name`; its documents and indexes
        follow. Returns the Collection of the new name (this one keeps
        naming the old, now missing, one). NotFound when the collection does
        not exist, InvalidArgument when `new_name` is not allowed or exists."""
        raw = name_arg(new_name)
        errors.call(lib.cairn_collection_rename, *self._target(), raw, len(raw))
        return Collection(self._owner, new_name)

    def stats(self) -> dict[str, Any]:
        """A description of the collection: {"name", "documents": count,
        "bytes": stored bytes of the documents, "primary_key", "schema" (or
        None), "indexes": [{"name", "keys", "unique", "sparse", "entries"}]}.
        Reads the whole collection. NotFound when it does not exist."""
        stats: dict[str, Any] = _json_out(lib.cairn_collection_stats, *self._target())
        return stats

    # -- Indexes --------------------------------------------------------------

    def create_index(
        self,
        keys: IndexKeys,
        *,
        name: str | None = None,
        unique: bool = False,
        sparse: bool = False,
        **options: Any,
    ) -> str:
        """Creates a secondary index and returns its name; existing documents
        are indexed before it returns.

        keys: a field name ("age"), a dict {"age": 1, "name": -1} or a list
        of (field, 1 or -1) pairs, dotted paths allowed, in order. name:
        default the fields and directions joined by "_" ("age_1_name_-1").
        unique: no two documents may have the same values for the keys (a
        missing field counts as null); a write that would break it raises
        ConstraintViolation naming the index, and so does creating the index
        over documents that already break it. sparse: documents missing
        every key field get no entry.

        Creating an index that exists with the same keys does nothing; the
        same name with other keys raises InvalidArgument.

        A text index takes cairn.TEXT ("text") for each field, and its
        options as keywords (weights, default_language, analyzer, k1, b;
        see include/cairn.h, "Full-text search"):

            users.create_index("email", unique=True)       # "email_1"
            users.create_index([("age", 1), ("name", -1)])  # "age_1_name_-1"
            posts.create_index([("title", cairn.TEXT), ("body", cairn.TEXT)], weights={"title": 3})
        """
        spec: dict[str, Any] = {
            "keys": {keys: 1} if isinstance(keys, str) else _sort(keys, "index keys"),
            "unique": unique,
            "sparse": sparse,
            **options,
        }
        if name is not None:
            spec["name"] = name
        text = dumps(spec, "index spec")
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_index_create, *self._target(), text, len(text), byref(out), byref(out_len))
        return take_buffer(out, out_len.value).decode("utf-8")

    def create_vector_index(
        self,
        field: str,
        dimensions: int,
        *,
        metric: str = "cosine",
        M: int = 16,
        ef_construction: int = 200,
        ef: int | None = None,
        filter_fields: Sequence[str] = (),
        on_invalid: str = "skip",
        name: str | None = None,
    ) -> str:
        """Creates an HNSW vector index on `field` and returns its name
        (default "<field>_vector"); metric: "cosine", "l2" or "dot";
        filter_fields: the fields vector_search() may filter on;
        on_invalid: "skip" or "reject" documents whose field is not a
        vector of `dimensions` numbers.

            products.create_vector_index("embedding", 384, filter_fields=["category"])
        """
        spec: dict[str, Any] = {
            "keys": {field: "vector"},
            "dimensions": dimensions,
            "metric": metric,
            "M": M,
            "ef_construction": ef_construction,
            "filter_fields": list(filter_fields),
            "on_invalid": on_invalid,
        }
        if ef is not None:
            spec["ef"] = ef
        if name is not None:
            spec["name"] = name
        text = dumps(spec, "index spec")
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_index_create, *self._target(), text, len(text), byref(out), byref(out_len))
        return take_buffer(out, out_len.value).decode("utf-8")

    def drop_index(self, name: str) -> None:
        """Drops the index `name`; NotFound when there is none."""
        raw = name_arg(name, "index name")
        errors.call(lib.cairn_index_drop, *self._target(), raw, len(raw))

    def list_indexes(self) -> list[dict[str, Any]]:
        """The collection's indexes: [{"name", "keys": {"field": 1, ...},
        "unique", "sparse", "state"}]; [] for a missing collection. "state"
        is "building" (queries ignore the index; "documents_indexed" tells
        how far a running build got) or "ready". A build a crash or close()
        interrupted is finished by the next open(), in the background."""
        indexes: list[dict[str, Any]] = _json_out(lib.cairn_index_list, *self._target())
        return indexes

    # -- Reads ----------------------------------------------------------------

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
        *,
        sort: Sort | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Cursor:
        """A Cursor over the documents matching `filter` (None: all), read at
        one snapshot, in _id order unless sorted.

        projection (also the second positional argument, as in pymongo):
        {"field": 1, ...} keeps fields (and _id unless "_id": 0),
        {"field": 0, ...} drops them; sort: {"field": 1 or -1} or
        [("field", 1), ("other", -1)], dotted paths allowed; skip: documents
        to skip; limit: most to return (0: no limit). The cursor's sort(),
        skip() and limit() set the same before iteration:

            for user in users.find({"age": {"$gte": 18}}, {"name": 1}).sort("age", -1).skip(10).limit(10):
                ...
        """
        filter_text, filter_len = optional_json(filter, "filter")

        def open_cursor(sort: Sort | None, skip: int | None, limit: int | None) -> Any:
            options_text, options_len = optional_json(_find_options(sort, skip, limit, projection), "options")
            out = _ffi.cursor_p()
            errors.call(
                lib.cairn_find, *self._target(), filter_text, filter_len, options_text, options_len, byref(out)
            )
            return out

        return Cursor(self._owner, open_cursor(sort, skip, limit), reopen=open_cursor, options=(sort, skip, limit))

    def find_one(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sort | None = None,
        skip: int | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The first document find() would return with these arguments, or None."""
        filter_text, filter_len = optional_json(filter, "filter")
        options_text, options_len = optional_json(_find_options(sort, skip, None, projection), "options")
        document: dict[str, Any] | None = _json_out(
            lib.cairn_find_one,
            *self._target(),
            filter_text,
            filter_len,
            options_text,
            options_len,
            not_found_is_none=True,
        )
        return document

    def linked_keys(self, id: Any) -> list[tuple[bytes, dict[str, Any] | None]]:
        """The keys linked to the document whose primary key is `id`, with
        each link's metadata, in key order (Database.link). Keys that no
        longer exist are left out."""
        text = dumps(id, "id")
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_document_links, *self._target(), text, len(text), byref(out), byref(out_len))
        entries: list[dict[str, Any]] = take_json(out, out_len)
        return [(base64.b64decode(entry["key_base64"]), entry["metadata"]) for entry in entries]

    def find_by_id(self, id: Any) -> dict[str, Any] | None:
        """The document whose primary key (normally _id) equals `id`, or None.
        One point read."""
        text = dumps(id, "id")
        document: dict[str, Any] | None = _json_out(
            lib.cairn_find_by_id, *self._target(), text, len(text), not_found_is_none=True
        )
        return document

    def distinct(self, field: str, filter: Mapping[str, Any] | None = None) -> list[Any]:
        """The distinct values of `field` (a dotted path) among the documents
        matching `filter` (None: all), in MongoDB's sort order. An array
        field contributes each of its elements; documents without the field
        contribute nothing."""
        raw = name_arg(field, "field")
        filter_text, filter_len = optional_json(filter, "filter")
        values: list[Any] = _json_out(lib.cairn_distinct, *self._target(), raw, len(raw), filter_text, filter_len)
        return values

    def count(self, filter: Mapping[str, Any] | None = None) -> int:
        """How many documents match `filter` (None: all of them). The same
        as count_documents(filter)."""
        text, text_len = optional_json(filter, "filter")
        count = c_uint64()
        errors.call(lib.cairn_count, *self._target(), text, text_len, byref(count))
        return count.value

    def count_documents(self, filter: Mapping[str, Any] | None = None, *, skip: int = 0, limit: int = 0) -> int:
        """How many documents match `filter` (None: all of them), as
        pymongo's count_documents(): the matches after the first `skip`,
        at most `limit` of them (0: no limit). A negative skip or limit
        raises InvalidArgument.

            users.count_documents({"age": {"$gte": 18}}, limit=100)  # at most 100
        """
        text, text_len = optional_json(filter, "filter")
        options = dumps({"skip": skip, "limit": limit}, "options")
        count = c_uint64()
        errors.call(
            lib.cairn_count_with_options, *self._target(), text, text_len, options, len(options), byref(count)
        )
        return count.value

    def search(
        self,
        query: str,
        *,
        index: str | None = None,
        fields: Iterable[str] | None = None,
        weights: Mapping[str, float] | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        skip: int | None = None,
        min_score: float | None = None,
        highlight: bool | Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> Cursor:
        """A Cursor over the hits of a full-text search, best first: dicts
        {"document": {...}, "score": 1.23} (with highlight, also
        "highlights" and "snippet"). The query syntax: words (OR-ed),
        +must, -must_not, "a phrase", pre*, fuzzy~1, field:word; scores are
        Lucene's BM25 (include/cairn.h, "Full-text search").

            posts.create_index([("title", cairn.TEXT), ("body", cairn.TEXT)])
            for hit in posts.search("+database -sql", filter={"lang": "en"}, limit=5):
                print(hit["score"], hit["document"]["title"])
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, not {type(query).__name__}")
        options: dict[str, Any] = {}
        for key, value in (
            ("index", index),
            ("weights", weights),
            ("filter", filter),
            ("limit", limit),
            ("skip", skip),
            ("min_score", min_score),
            ("highlight", highlight),
            ("projection", projection),
        ):
            if value is not None:
                options[key] = value
        if fields is not None:
            if isinstance(fields, str):
                raise TypeError("fields must be a list of field names, not a str")
            options["fields"] = list(fields)
        raw = query.encode("utf-8")
        options_text, options_len = optional_json(options or None, "options")
        out = _ffi.cursor_p()
        errors.call(lib.cairn_search, *self._target(), raw, len(raw), options_text, options_len, byref(out))
        return Cursor(self._owner, out)

    def aggregate(self, pipeline: Iterable[Mapping[str, Any]]) -> Cursor:
        """A Cursor over the results of an aggregation pipeline: a list of
        stages ({"$match": ...}, {"$group": ...}, {"$sort": ...}, ...; the
        stages, accumulators and expressions are those include/cairn.h
        lists for cairn_aggregate). A leading $match (and a $sort right
        after it) uses indexes as find() does.

            for row in orders.aggregate([
                {"$match": {"state": "paid"}},
                {"$group": {"_id": "$customer", "total": {"$sum": "$amount"}}},
                {"$sort": {"total": -1}},
            ]):
                print(row["_id"], row["total"])
        """
        if isinstance(pipeline, (Mapping, str, bytes)):
            raise TypeError(f"aggregate() takes a list of stages, not {type(pipeline).__name__}")
        stages = list(pipeline)
        for i, stage in enumerate(stages):
            if not isinstance(stage, Mapping):
                raise TypeError(f"pipeline[{i}] must be a dict, not {type(stage).__name__}")
        text = dumps(stages, "pipeline")
        out = _ffi.cursor_p()
        errors.call(lib.cairn_aggregate, *self._target(), text, len(text), byref(out))
        return Cursor(self._owner, out)

    def vector_search(
        self,
        vector: Any,
        k: int = 10,
        *,
        ef: int | None = None,
        filter: Mapping[str, Any] | None = None,
        exact: bool = False,
        include_scores: bool = False,
        index: str | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> Cursor:
        """A Cursor over the k documents nearest to `vector` (a list of
        numbers, an array('f') or a numpy array) in the collection's vector
        index, nearest first. ef: the walk's breadth; filter: a filter on
        the index's filter_fields; exact: compare with every vector;
        include_scores: add "_distance" and "_score" to each document;
        index: the vector index's name when there are several;
        projection: the fields to keep, as find's ({"_id": 1} for ids
        only, without the stored vectors).

            for doc in products.vector_search(query, k=5, filter={"in_stock": True}):
                ...
        """
        options: dict[str, Any] = {"k": k}
        if ef is not None:
            options["ef"] = ef
        if filter is not None:
            options["filter"] = filter
        if exact:
            options["exact"] = True
        if include_scores:
            options["include_scores"] = True
        if index is not None:
            options["index"] = index
        if projection is not None:
            options["projection"] = projection
        # The vector's text is spliced in ahead of the other options (which
        # always hold "k"), as vector_json explains.
        text = b'{"vector":' + vector_json(vector) + b"," + dumps(options, "options")[1:]
        out = _ffi.cursor_p()
        errors.call(lib.cairn_vector_search, *self._target(), text, len(text), byref(out))
        return Cursor(self._owner, out)

    def hybrid_search(
        self,
        query: str,
        vector: Any,
        limit: int = 10,
        *,
        fusion: str = "rrf",
        rrf_k: float | None = None,
        weights: Mapping[str, float] | None = None,
        candidates: int | None = None,
        text_options: Mapping[str, Any] | None = None,
        vector_options: Mapping[str, Any] | None = None,
    ) -> Cursor:
        """A Cursor over the fusion of a text search for `query` and a
        vector search for `vector`, best first: dicts {"document", "score"
        (fused), "text_score", "vector_score"} (None where a document is
        missing from one ranking). fusion: "rrf" (Reciprocal Rank Fusion,
        rrf_k default 60) or "weighted" (scores scaled to [0, 1], weighted
        by weights={"text": w, "vector": w}); text_options: search()'s
        options (index, fields, weights, filter); vector_options:
        vector_search()'s (ef, filter, exact, index).

            for hit in products.hybrid_search("red shoes", query_vector, 5):
                print(hit["score"], hit["document"]["name"])
        """
        from .vector import vector as _vector

        options: dict[str, Any] = {
            "text": {"query": query, **dict(text_options or {})},
            "vector": _vector(vector),
            "limit": limit,
            "fusion": fusion,
        }
        if rrf_k is not None:
            options["rrf_k"] = rrf_k
        if weights is not None:
            options["weights"] = dict(weights)
        if candidates is not None:
            options["candidates"] = candidates
        if vector_options is not None:
            options["vector_options"] = dict(vector_options)
        text = dumps(options, "options")
        out = _ffi.cursor_p()
        errors.call(lib.cairn_hybrid_search, *self._target(), text, len(text), byref(out))
        return Cursor(self._owner, out)

    def explain(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sort | None = None,
        skip: int | None = None,
        limit: int | None = None,
        projection: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Runs the query find() would run with these arguments and describes
        how: {"plan": "collection_scan", "index_scan" or "primary_key",
        "index": name or None, "bounds", "sort_from_index",
        "keys_examined", "documents_examined", "returned"}."""
        filter_text, filter_len = optional_json(filter, "filter")
        options_text, options_len = optional_json(_find_options(sort, skip, limit, projection), "options")
        plan: dict[str, Any] = _json_out(
            lib.cairn_explain, *self._target(), filter_text, filter_len, options_text, options_len
        )
        return plan
