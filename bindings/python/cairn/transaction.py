"""Transaction: reads and writes at one snapshot, committed all at once (wraps
the transaction handle of cairn_txn_begin, which is a `cairn_db *`)."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import errors
from ._db_handle import DbHandle
from ._ffi import lib

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Transaction"]


def _rollback(ptr: Any) -> None:
    errors.raise_for_status(lib.cairn_txn_rollback(ptr))


class Transaction(DbHandle):
    """A snapshot of the whole database that sees its own writes; made by
    Database.transaction().

    It offers the calls include/cairn.h allows inside a transaction: put,
    get, delete, get_many, txn[key], `key in txn`, list_collections(),
    create_collection() and collection(name), whose Collection reads and
    writes inside the transaction (all its methods except drop(), rename()
    and stats(), which raise InvalidArgument there). Nothing it writes is
    visible to others until commit(), which writes everything at once.

    Isolation is snapshot isolation: commit() raises Conflict, and writes
    nothing, when another writer changed data this transaction also wrote
    after it began; run the whole transaction again.

    What `with` means: commit when the block ends normally, roll back when
    it raises (the exception goes on). A transaction already ended inside
    the block by commit() or rollback() is left as it is.

        with db.transaction() as txn:
            txn.put("counter", str(int(txn.get("counter") or b"0") + 1))

    commit() and rollback() end the transaction either way; any other use
    afterwards raises Closed, and so does every call once the database is
    closed (which rolls back its open transactions). One left open is
    rolled back when garbage-collected, as a backstop. Used by one thread at
    a time.
    """

    _kind = "transaction"

    def __init__(self, db: Database, ptr: Any, *, read_only: bool) -> None:
        super().__init__(ptr, _rollback)
        #: The database the transaction reads and writes.
        self.database = db  # also keeps the database object alive
        #: Whether writes are refused (CAIRN_TXN_READ_ONLY).
        self.read_only = read_only

    def __repr__(self) -> str:
        state = "ended" if self.closed else ("open, read-only" if self.read_only else "open")
        return f"<cairn.Transaction {state}>"

    @property
    def _database(self) -> Database:
        return self.database

    @property
    def _transaction(self) -> Transaction:
        return self

    def commit(self) -> None:
        """Writes everything the transaction wrote, atomically and durably
        (per the database's sync mode), and ends the transaction.

        Raises Conflict when a concurrent writer changed the same data after
        this transaction began (nothing is written); Closed when the
        transaction has already ended or its database was closed. The
        transaction is ended whatever happens.
        """
        ptr = self._detach()
        if ptr is None:
            errors.closed(self._kind)
        errors.call(lib.cairn_txn_commit, ptr)

    def rollback(self) -> None:
        """Discards everything the transaction wrote and ends it. Idempotent:
        rolling back an ended transaction does nothing."""
        self.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
