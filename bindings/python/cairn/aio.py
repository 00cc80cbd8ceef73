"""cairn.aio: the same API for asyncio, each call run in a thread pool.

ctypes releases the GIL around every library call, so a call running in a
worker thread does not hold up the event loop, and this module is only a
thin layer: each method awaits the synchronous method of the same name.

    import cairn.aio

    async def main() -> None:
        async with await cairn.aio.open("data", sync="never") as db:
            await db.put("user:1", "ann")
            users = db.collection("users")
            await users.insert_one({"name": "ann", "age": 31})
            async for user in users.find({"age": {"$gte": 18}}):
                print(user["name"])

The calls of one AsyncDatabase share a thread pool (by default the event
loop's); pass executor= to open() to choose one. The threading rules of the
synchronous API hold: a cursor or transaction is used by one task at a
time, which awaiting each call in turn gives.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from . import database as _database
from ._convert import BytesLike
from .bulk import BulkWriteResult, Request
from .collection import Collection, Update
from .cursor import Cursor
from .database import Database, OpenOptions
from .results import DeleteResult, InsertManyResult, UpdateResult
from .transaction import Transaction

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["AsyncCollection", "AsyncCursor", "AsyncDatabase", "open"]

P = ParamSpec("P")
T = TypeVar("T")


class _Runner:
    """Runs synchronous calls in the executor (None: the loop's default)."""

    def __init__(self, executor: Executor | None) -> None:
        self._executor = executor

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))


async def open(
    path: str | os.PathLike[str], *, executor: Executor | None = None, **options: Unpack[OpenOptions]
) -> AsyncDatabase:
    """cairn.open() in the thread pool; returns an AsyncDatabase."""
    runner = _Runner(executor)
    db = await runner.run(functools.partial(_database.open, path, **options))
    return AsyncDatabase(db, runner)


class AsyncCursor:
    """A Cursor read with `async for`; each document is fetched in the pool."""

    def __init__(self, cursor: Cursor, runner: _Runner) -> None:
        #: The synchronous cursor underneath.
        self.sync = cursor
        self._runner = runner

    def __aiter__(self) -> AsyncCursor:
        return self

    async def __anext__(self) -> dict[str, Any]:
        document = await self._runner.run(next, self.sync, None)
        if document is None:
            raise StopAsyncIteration
        return document

    def sort(self, key_or_list: Any, direction: int = 1) -> AsyncCursor:
        self.sync.sort(key_or_list, direction)
        return self

    def skip(self, count: int) -> AsyncCursor:
        self.sync.skip(count)
        return self

    def limit(self, count: int) -> AsyncCursor:
        self.sync.limit(count)
        return self

    async def to_list(self) -> list[dict[str, Any]]:
        """Every remaining document, fetched in one call in the pool."""
        return await self._runner.run(list, self.sync)

    async def close(self) -> None:
        await self._runner.run(self.sync.close)

    async def __aenter__(self) -> AsyncCursor:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AsyncCollection:
    """A Collection whose methods are awaited."""

    def __init__(self, collection: Collection, runner: _Runner) -> None:
        #: The synchronous collection underneath.
        self.sync = collection
        self._runner = runner
        self.name = collection.name

    async def insert_one(self, document: Mapping[str, Any], **options: Any) -> Any:
        return await self._runner.run(functools.partial(self.sync.insert_one, document, **options))

    async def insert_many(self, documents: Iterable[Mapping[str, Any]], **options: Any) -> InsertManyResult:
        return await self._runner.run(functools.partial(self.sync.insert_many, list(documents), **options))

    async def find_one(self, filter: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any] | None:
        return await self._runner.run(functools.partial(self.sync.find_one, filter, **options))

    async def find_by_id(self, id: Any) -> dict[str, Any] | None:
        return await self._runner.run(self.sync.find_by_id, id)

    def find(
        self, filter: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None, **options: Any
    ) -> AsyncCursor:
        """A cursor for `async for`. The query opens at once (in this thread:
        opening a cursor does not read documents); fetching runs in the pool."""
        return AsyncCursor(self.sync.find(filter, projection, **options), self._runner)

    async def aggregate(self, pipeline: Iterable[Mapping[str, Any]]) -> AsyncCursor:
        return AsyncCursor(await self._runner.run(self.sync.aggregate, pipeline), self._runner)

    async def count_documents(self, filter: Mapping[str, Any], **options: Any) -> int:
        return await self._runner.run(functools.partial(self.sync.count_documents, filter, **options))

    async def update_one(self, filter: Mapping[str, Any], update: Update, **options: Any) -> UpdateResult:
        return await self._runner.run(functools.partial(self.sync.update_one, filter, update, **options))

    async def update_many(self, filter: Mapping[str, Any], update: Update, **options: Any) -> UpdateResult:
        return await self._runner.run(functools.partial(self.sync.update_many, filter, update, **options))

    async def replace_one(
        self, filter: Mapping[str, Any], replacement: Mapping[str, Any], **options: Any
    ) -> UpdateResult:
        return await self._runner.run(functools.partial(self.sync.replace_one, filter, replacement, **options))

    async def delete_one(self, filter: Mapping[str, Any]) -> DeleteResult:
        return await self._runner.run(self.sync.delete_one, filter)

    async def delete_many(self, filter: Mapping[str, Any]) -> DeleteResult:
        return await self._runner.run(self.sync.delete_many, filter)

    async def create_index(self, keys: Any, **options: Any) -> str:
        return await self._runner.run(functools.partial(self.sync.create_index, keys, **options))

    async def distinct(self, field: str, filter: Mapping[str, Any] | None = None) -> list[Any]:
        return await self._runner.run(self.sync.distinct, field, filter)

    async def bulk_write(self, requests: Iterable[Request], *, ordered: bool = True) -> BulkWriteResult:
        return await self._runner.run(functools.partial(self.sync.bulk_write, list(requests), ordered=ordered))


class AsyncDatabase:
    """A Database whose methods are awaited; from `await cairn.aio.open()`.
    `async with` closes it on exit."""

    def __init__(self, db: Database, runner: _Runner) -> None:
        #: The synchronous database underneath.
        self.sync = db
        self._runner = runner

    async def put(self, key: BytesLike, value: BytesLike, **options: Any) -> None:
        await self._runner.run(functools.partial(self.sync.put, key, value, **options))

    async def get(self, key: BytesLike) -> bytes | None:
        return await self._runner.run(self.sync.get, key)

    async def delete(self, key: BytesLike) -> None:
        await self._runner.run(self.sync.delete, key)

    async def get_many(self, keys: Iterable[BytesLike]) -> list[bytes | None]:
        return await self._runner.run(self.sync.get_many, list(keys))

    async def put_if_absent(self, key: BytesLike, value: BytesLike, **options: Any) -> bool:
        return await self._runner.run(functools.partial(self.sync.put_if_absent, key, value, **options))

    async def ttl_ms(self, key: BytesLike) -> int:
        return await self._runner.run(self.sync.ttl_ms, key)

    async def touch(self, key: BytesLike, **options: Any) -> bool:
        return await self._runner.run(functools.partial(self.sync.touch, key, **options))

    async def keys(self, prefix: BytesLike | None = None, **options: Any) -> list[bytes]:
        return await self._runner.run(functools.partial(self.sync.keys, prefix, **options))

    async def items(self, prefix: BytesLike | None = None, **options: Any) -> list[tuple[bytes, bytes]]:
        return await self._runner.run(functools.partial(self.sync.items, prefix, **options))

    def collection(self, name: str) -> AsyncCollection:
        return AsyncCollection(self.sync.collection(name), self._runner)

    async def run_transaction(self, fn: Callable[[Transaction], T], **options: Any) -> T:
        """Database.run_transaction() in the pool: fn runs there, synchronously."""
        return await self._runner.run(functools.partial(self.sync.run_transaction, fn, **options))

    async def close(self) -> None:
        await self._runner.run(self.sync.close)

    async def __aenter__(self) -> AsyncDatabase:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """`async for key in db`: the keys, fetched in the pool in one scan."""
        for key in await self._runner.run(self.sync.keys):
            yield key
