"""One SQLite database file shared by the threads and processes of one machine."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterator

Synchronous = Literal["NORMAL", "FULL"]

#: Held while a process opens its connection to a file; a new lock in a forked child, since
#: a thread of the parent may have held it at the fork.
_OPENING = threading.Lock()


def _new_opening_lock() -> None:
    global _OPENING  # noqa: PLW0603  # replaced in the child after a fork
    _OPENING = threading.Lock()


os.register_at_fork(after_in_child=_new_opening_lock)


class SQLiteFile:
    """A database file in WAL mode with one connection per process.

    Writes are ``BEGIN IMMEDIATE`` transactions taken one thread of this process at a
    time; other processes wait in SQLite's busy handler up to *timeout* seconds. A forked
    child opens its own connection (a connection must not cross a fork).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        schema: tuple[str, ...],
        timeout: float,
        synchronous: Synchronous = "NORMAL",
        what: str,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            msg = f"{what} needs the path of its database file."
            raise ConfigurationError(msg)
        if synchronous not in ("NORMAL", "FULL"):
            msg = f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}."
            raise ConfigurationError(msg)
        self.path = Path(path)
        self._timeout = timeout
        self._synchronous = synchronous
        self._pid = 0
        self._db: sqlite3.Connection
        self._lock = threading.Lock()
        self._inherited: list[sqlite3.Connection] = []
        with self.transaction() as db:
            for statement in schema:
                db.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        """This process's connection; a forked child opens its own.

        Threads that arrive together open one connection between them. The connection a
        child inherited from its parent is kept, never used nor closed: SQLite must not
        touch a connection across a fork, and closing it could disturb the parent's.
        """
        pid = os.getpid()
        if self._pid != pid:
            with _OPENING:
                if self._pid != pid:
                    if self._pid:
                        self._inherited.append(self._db)
                    db = sqlite3.connect(
                        self.path,
                        timeout=self._timeout,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                    try:
                        self._wal(db)
                        db.execute(f"PRAGMA synchronous={self._synchronous}")
                    except BaseException:
                        db.close()  # not left for the garbage collector (a ResourceWarning)
                        raise
                    # The pid last: a thread that sees it sees the connection and lock too.
                    self._db, self._lock = db, threading.Lock()
                    self._pid = pid
        return self._db

    def _wal(self, db: sqlite3.Connection) -> None:
        """Switch to WAL; SQLite does not wait for a lock here, so retry until *timeout*."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)  # pragma: no cover  # only when processes race to create the file
            else:
                return

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, one thread of this process at a time.

        Threads queue on a lock rather than on SQLite's busy handler, which sleeps; only
        other processes wait in SQLite.
        """
        db = self._connection()
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def change(self, sql: str, *args: object) -> int:
        """Run one statement in a transaction; how many rows it changed."""
        with self.transaction() as db:
            return db.execute(sql, args).rowcount

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for a read that needs no write lock (WAL readers never wait)."""
        db = self._connection()
        with self._lock:
            yield db

    def close(self) -> None:
        """Close this process's connection; the next call opens a new one.

        A transaction of another thread finishes first: SQLite must not close a
        connection while a call on it is running.
        """
        with self._lock:
            if self._pid == os.getpid():
                self._db.close()
                self._pid = 0
