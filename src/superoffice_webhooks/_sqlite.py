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
        with self.transaction() as db:
            for statement in schema:
                db.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        """This process's connection; a forked child opens its own."""
        if self._pid != os.getpid():
            db = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._wal(db)
                db.execute(f"PRAGMA synchronous={self._synchronous}")
            except BaseException:
                db.close()  # not left for the garbage collector (a ResourceWarning)
                raise
            self._db, self._pid, self._lock = db, os.getpid(), threading.Lock()
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

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for a read that needs no write lock (WAL readers never wait)."""
        db = self._connection()
        with self._lock:
            yield db

    def close(self) -> None:
        """Close this process's connection; the next call opens a new one."""
        if self._pid == os.getpid():
            self._db.close()
            self._pid = 0
