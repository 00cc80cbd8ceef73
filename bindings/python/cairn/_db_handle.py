"""DbHandle: what a Database and a Transaction share.

To the library both are a `cairn_db *`: cairn_txn_begin() returns a handle
of that type, which cairn_put, cairn_get, cairn_delete, cairn_get_many and
the document functions accept in place of the database's (include/cairn.h,
"Transactions"). So the methods those functions back are written once,
here, against self._handle(), and a Collection calls the document functions
with the handle of whichever of the two made it. Calls the header does not
allow inside a transaction are methods of Database only; the library itself
answers InvalidArgument if one is reached with a transaction handle anyway
(Collection.drop(), rename() and stats() inside a transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Iterator as PyIterator
from ctypes import byref, c_char_p, c_size_t
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import TTL, BytesLike, pack, take_buffer, to_bytes, ttl_to_ms, unpack
from ._ffi import Status, bytes_ptr, lib
from ._managed import Managed
from .collection import Collection, name_arg, optional_json, take_json

if TYPE_CHECKING:
    from .database import Database
    from .transaction import Transaction

__all__ = ["Collections", "DbHandle"]


class Collections(Mapping[str, Collection]):
    """The collections of a database or transaction, by name (see
    DbHandle.collections). Indexing never raises: a missing collection reads
    as empty and the first insert creates it, as in pymongo."""

    def __init__(self, owner: DbHandle) -> None:
        self._owner = owner

    def __getitem__(self, name: str) -> Collection:
        return self._owner.collection(name)

    def __iter__(self) -> PyIterator[str]:
        return iter(self._owner.list_collections())

    def __len__(self) -> int:
        return len(self._owner.list_collections())

    def __contains__(self, name: object) -> bool:
        return name in self._owner.list_collections()


class DbHandle(Managed[Any]):
    """The key-value and collection methods of a `cairn_db *` handle."""

    @property
    def _database(self) -> Database:
        """The Database this handle is, or belongs to."""
        raise NotImplementedError

    @property
    def _transaction(self) -> Transaction | None:
        """The Transaction this handle is, or None for a Database."""
        raise NotImplementedError

    # -- Key-value ------------------------------------------------------------

    def put(self, key: BytesLike, value: BytesLike, *, ttl: TTL | None = None, ttl_ms: int | None = None) -> None:
        """Stores `value` under `key`, replacing any previous value.

        ttl: a duration string ("500ms", "30s", "5m", "1h", "2d", "1w") or a
        timedelta after which the key reads as absent; ttl_ms: the same in
        milliseconds (0 means no expiry). Without either the key never expires.
        """
        k, v = to_bytes(key), to_bytes(value, "value")
        ms = ttl_to_ms(ttl, ttl_ms)
        errors.call(lib.cairn_put, self._handle(), bytes_ptr(k), len(k), bytes_ptr(v), len(v), ms)

    def get(self, key: BytesLike) -> bytes | None:
        """The value stored under `key`, or None if it is absent or expired."""
        k = to_bytes(key)
        value, value_len, err = _ffi.u8_p(), c_size_t(), c_char_p()
        status = lib.cairn_get(self._handle(), bytes_ptr(k), len(k), byref(value), byref(value_len), byref(err))
        if status == Status.NOT_FOUND:
            errors.take_message(err)
            return None
        errors.raise_for_status(status, err)
        return take_buffer(value, value_len.value)

    def __getitem__(self, key: BytesLike) -> bytes:
        """db[key]: the value, or KeyError when absent."""
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: BytesLike, value: BytesLike) -> None:
        """db[key] = value: put() without a TTL."""
        self.put(key, value)

    def __contains__(self, key: BytesLike) -> bool:
        """`key in db`: whether the key is present (and not expired)."""
        return self.get(key) is not None

    def __delitem__(self, key: BytesLike) -> None:
        """del db[key]: deletes the key, or KeyError when it is absent (as a
        dict does; delete() does not mind)."""
        if key not in self:
            raise KeyError(key)
        self.delete(key)

    def __bool__(self) -> bool:
        """A handle is always true, even over an empty database (a Database
        has __len__, which would otherwise make an empty one false)."""
        return True

    def delete(self, key: BytesLike) -> None:
        """Deletes `key`; deleting an absent key is not an error."""
        k = to_bytes(key)
        errors.call(lib.cairn_delete, self._handle(), bytes_ptr(k), len(k))

    def get_many(self, keys: Iterable[BytesLike]) -> list[bytes | None]:
        """The values of `keys` at one point in time, in request order; None
        for an absent key. At least one key is required."""
        packed = pack(keys)
        values, values_len = _ffi.u8_p(), c_size_t()
        errors.call(
            lib.cairn_get_many, self._handle(), bytes_ptr(packed), len(packed), byref(values), byref(values_len)
        )
        return unpack(take_buffer(values, values_len.value))

    # -- Documents ------------------------------------------------------------

    @property
    def collections(self) -> Collections:
        """The collections as a mapping, pymongo's db["users"]:
        `db.collections["users"]` is db.collection("users"), `"users" in
        db.collections` and `len()` and iteration follow list_collections().
        (`db[key]` itself is the key-value store's, so it cannot also be
        the collection's.)"""
        return Collections(self)

    def collection(self, name: str) -> Collection:
        """The collection `name`, whether or not it exists yet: inserting
        creates it. Nothing is checked until the collection is used.

            users = db.collection("users")
            users.insert_one({"name": "ann"})
        """
        return Collection(self, name)

    def create_collection(
        self,
        name: str,
        *,
        schema: Mapping[str, Any] | None = None,
        primary_key: str | None = None,
        change_stream_pre_and_post_images: bool = False,
    ) -> Collection:
        """Creates the empty collection `name` and returns it.

        schema: a JSON Schema (a dict, in the subset include/cairn.h lists)
        that every document must satisfy; a write that breaks it raises
        SchemaViolation naming the failing path and writes nothing.
        primary_key: the field that identifies a document instead of "_id";
        every document must carry it, it never changes, and find_by_id()
        looks it up (no _id is generated).
        change_stream_pre_and_post_images: the change feed records each
        update's document before and after, and each replaced or deleted
        document before (watch()'s full_document options).

        InvalidArgument when the collection exists, the name is not allowed
        (empty, longer than 255 bytes, containing NUL or starting with '$')
        or the schema is malformed. Only needed for these options: inserting
        into a missing collection creates it without them.
        """
        raw = name_arg(name)
        options: dict[str, Any] = {}
        if schema is not None:
            options["schema"] = schema
        if primary_key is not None:
            options["primary_key"] = primary_key
        if change_stream_pre_and_post_images:
            options["changeStreamPreAndPostImages"] = {"enabled": True}
        text, text_len = optional_json(options or None, "options")
        errors.call(lib.cairn_collection_create, self._handle(), raw, len(raw), text, text_len)
        return Collection(self, name)

    def list_collections(self) -> list[str]:
        """The names of the collections, sorted."""
        text, text_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_collection_list, self._handle(), byref(text), byref(text_len))
        names: list[str] = take_json(text, text_len)
        return names
