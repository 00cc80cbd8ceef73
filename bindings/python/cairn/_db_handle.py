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

import datetime
from collections.abc import Iterable, Mapping
from collections.abc import Iterator as PyIterator
from ctypes import byref, c_char_p, c_int, c_int64, c_size_t, c_uint8, string_at
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import TTL, BytesLike, pack, take_buffer, to_bytes, ttl_to_ms, unpack
from ._ffi import Status, lib
from ._managed import Managed
from ._scratch import scratch as _scratch
from ._extended_json import dumps
from .collection import Collection, name_arg, optional_json, take_json
from .graph import Graph

if TYPE_CHECKING:
    from .database import Database
    from .transaction import Transaction

__all__ = ["Collections", "DbHandle"]

_put = lib.cairn_put
_get_into = lib.cairn_get_into
_delete = lib.cairn_delete
#: A thread's get buffer starts at 4 KiB and grows to fit values up to this
#: size; a larger value gets a buffer of its own for the one call.
_KEEP_BYTES = 1 << 20


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
        # The hot path: bytes go to the library as they are, and the
        # out-parameter for a message is the thread's own, made once.
        k = key if type(key) is bytes else to_bytes(key)
        v = value if type(value) is bytes else to_bytes(value, "value")
        ms = 0 if ttl is None and ttl_ms is None else ttl_to_ms(ttl, ttl_ms)
        ptr = self._ptr
        if ptr is None:
            errors.closed(self._kind)
        scratch = _scratch
        status = _put(ptr, k, len(k), v, len(v), ms, scratch.err_ref)
        if status:
            errors.raise_for_status(status, scratch.err)

    def get(self, key: BytesLike) -> bytes | None:
        """The value stored under `key`, or None if it is absent or expired."""
        k = key if type(key) is bytes else to_bytes(key)
        ptr = self._ptr
        if ptr is None:
            errors.closed(self._kind)
        # cairn_get_into copies the value into this thread's reusable buffer
        # and allocates nothing, not even a message for a miss.
        buf, cap, size_ref, err_ref, size, view = _scratch.get_args
        status = _get_into(ptr, k, len(k), buf, cap, size_ref, err_ref)
        if status == 0:
            n = size.value
            if n <= cap:
                return view[:n].tobytes()
            return self._get_large(ptr, k, n)
        if status == Status.NOT_FOUND:
            return None
        errors.raise_for_status(status, _scratch.err)
        return None  # not reached

    def _get_large(self, ptr: Any, k: bytes, n: int) -> bytes | None:
        """A value larger than the thread's buffer: a buffer of its size
        (kept for the next one, up to _KEEP_BYTES), asked again until the
        value (which may change meanwhile) fits."""
        scratch = _scratch
        while True:
            if n <= _KEEP_BYTES:
                scratch.grow(n)
                buf, cap = scratch.buf, scratch.cap
            else:
                cap = n
                buf = (c_uint8 * cap)()
            status = _get_into(ptr, k, len(k), buf, cap, scratch.size_ref, scratch.err_ref)
            if status == Status.NOT_FOUND:
                return None
            if status:
                errors.raise_for_status(status, scratch.err)
            n = scratch.size.value
            if n <= cap:
                return string_at(buf, n)

    def put_if_absent(
        self, key: BytesLike, value: BytesLike, *, ttl: TTL | None = None, ttl_ms: int | None = None
    ) -> bool:
        """Stores `value` under `key` only when the key is absent (or
        expired), atomically: of two callers racing on one key, exactly one
        stores. Returns whether it stored. ttl and ttl_ms as put()."""
        k, v = to_bytes(key), to_bytes(value, "value")
        ms = ttl_to_ms(ttl, ttl_ms)
        stored = c_int()
        errors.call(lib.cairn_put_if_absent, self._handle(), k, len(k), v, len(v), ms, byref(stored))
        return bool(stored.value)

    def ttl(self, key: BytesLike) -> datetime.timedelta | None:
        """How long `key` has left before it expires: a timedelta, or None
        for a key that never expires. KeyError when the key is absent or
        expired. ttl_ms() gives the milliseconds."""
        ms = self.ttl_ms(key)
        return None if ms == 0 else datetime.timedelta(milliseconds=ms)

    def ttl_ms(self, key: BytesLike) -> int:
        """The milliseconds `key` has left before it expires, 0 for a key
        that never expires; KeyError when it is absent or expired."""
        k = to_bytes(key)
        ms, err = c_int64(), c_char_p()
        status = lib.cairn_get_ttl(self._handle(), k, len(k), byref(ms), byref(err))
        if status == Status.NOT_FOUND:
            errors.take_message(err)
            raise KeyError(key)
        errors.raise_for_status(status, err)
        return ms.value

    def touch(self, key: BytesLike, *, ttl: TTL | None = None, ttl_ms: int | None = None) -> bool:
        """Gives `key` a new TTL counted from now (from the commit, in a
        transaction), without sending its value again: a sliding session's
        expiry. Without ttl or ttl_ms the key stops expiring. Returns False,
        writing nothing, when the key is absent or expired."""
        k = to_bytes(key)
        ms = ttl_to_ms(ttl, ttl_ms)
        err = c_char_p()
        status = lib.cairn_touch(self._handle(), k, len(k), ms, byref(err))
        if status == Status.NOT_FOUND:
            errors.take_message(err)
            return False
        errors.raise_for_status(status, err)
        return True

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
        k = key if type(key) is bytes else to_bytes(key)
        scratch = _scratch
        status = _delete(self._handle(), k, len(k), scratch.err_ref)
        if status:
            errors.raise_for_status(status, scratch.err)

    def get_many(self, keys: Iterable[BytesLike]) -> list[bytes | None]:
        """The values of `keys` at one point in time, in request order; None
        for an absent key. At least one key is required."""
        packed = pack(keys)
        values, values_len = _ffi.u8_p(), c_size_t()
        errors.call(
            lib.cairn_get_many, self._handle(), packed, len(packed), byref(values), byref(values_len)
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

    # -- Links between keys and documents -------------------------------------

    def link(self, key: BytesLike, collection: str, id: Any, metadata: Mapping[str, Any] | None = None) -> None:
        """Links `key` to the document of `collection` whose primary key is
        `id`, with `metadata` (a dict) kept on the link; linking again
        replaces it. Both must exist (NotFound). Deleting the document removes
        its links; deleting the key hides them until unlink_all(key)."""
        k = to_bytes(key)
        name = name_arg(collection)
        text = dumps(id, "id")
        meta, meta_len = optional_json(metadata, "metadata")
        errors.call(lib.cairn_link, self._handle(), k, len(k), name, len(name), text, len(text), meta, meta_len)

    def unlink(self, key: BytesLike, collection: str, id: Any) -> bool:
        """Removes one link; whether it existed."""
        k = to_bytes(key)
        name = name_arg(collection)
        text = dumps(id, "id")
        removed = c_int()
        errors.call(lib.cairn_unlink, self._handle(), k, len(k), name, len(name), text, len(text), byref(removed))
        return bool(removed.value)

    def unlink_all(self, key: BytesLike) -> int:
        """Removes every link of `key` (in a transaction, beside the key's
        delete); how many there were."""
        k = to_bytes(key)
        removed = c_size_t()
        errors.call(lib.cairn_unlink_all, self._handle(), k, len(k), byref(removed))
        return removed.value

    def links(self, key: BytesLike) -> list[dict[str, Any]]:
        """The documents `key` links to: dicts with "collection", "id" and
        "metadata" (None when the link has none)."""
        k = to_bytes(key)
        out, out_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_key_links, self._handle(), k, len(k), byref(out), byref(out_len))
        entries: list[dict[str, Any]] = take_json(out, out_len)
        return entries
    # -- Graphs ----------------------------------------------------------------

    def graph(self, name: str) -> Graph:
        """The graph `name` (cairn.graph.Graph): traverse, shortest_path,
        components, ... Nothing is checked until it is used."""
        return Graph(self, name)

    def create_graph(self, name: str, *, edges: str, vertices: str | Iterable[str] = (),
                     weight: str | None = None) -> Graph:
        """Declares graph `name` over the edge collection `edges` (documents
        with _from, _to, an optional label and weight) and the vertex
        collections, creating the edge collection's adjacency indexes.
        Database only."""
        raw = name_arg(name, "graph name")
        declaration: dict[str, Any] = {"edges": edges,
                                       "vertices": [vertices] if isinstance(vertices, str) else list(vertices)}
        if weight is not None:
            declaration["weight"] = weight
        text = dumps(declaration, "graph declaration")
        errors.call(lib.cairn_graph_create, self._handle(), raw, len(raw), text, len(text))
        return Graph(self, name)

    def drop_graph(self, name: str) -> None:
        """Removes the graph's declaration (and its adjacency indexes when no
        other graph uses its edges); the documents stay. NotFound when
        there is no such graph."""
        raw = name_arg(name, "graph name")
        errors.call(lib.cairn_graph_drop, self._handle(), raw, len(raw))

    def list_graphs(self) -> list[dict[str, Any]]:
        """The declared graphs: [{"name", "edges", "vertices", "weight"}]."""
        text, text_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_graph_list, self._handle(), byref(text), byref(text_len))
        graphs: list[dict[str, Any]] = take_json(text, text_len)
        return graphs

    def list_collections(self) -> list[str]:
        """The names of the collections, sorted."""
        text, text_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_collection_list, self._handle(), byref(text), byref(text_len))
        names: list[str] = take_json(text, text_len)
        return names
