"""The handler of the fault-injection apps, and an SQLite inbox that counts its failures.

The handler writes a line to ``started`` when it begins and to ``handled`` when it has
finished, each in one ``write`` on a file opened with ``O_APPEND``, so that lines of
several processes never mix and the test can count the runs of every event.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import superoffice_webhooks as sow
from superoffice_webhooks.inbox import Settlement, SQLiteInbox

if TYPE_CHECKING:
    from pathlib import Path


class DependencyDownError(Exception):
    """The handler's dependency is down (the test's ``down`` flag file exists)."""


def append(path: Path, line: str) -> None:
    """Append *line* to *path* in one ``write`` on an ``O_APPEND`` descriptor."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)


def handlers(directory: Path, sleep: float) -> sow.Dispatcher:
    """A dispatcher whose one handler writes ``started``, sleeps, checks the flags, writes ``handled``."""
    dispatcher = sow.Dispatcher()

    @dispatcher.on_any
    def handle(event: sow.Event) -> None:
        append(directory / "started", f"{os.getpid()} {event.event_id}\n")
        time.sleep(sleep)
        if (directory / "down").exists():
            raise DependencyDownError("the dependency is down")
        if (directory / "refuse").exists():
            raise ValueError("the handler does not accept this event yet")
        append(directory / "handled", f"{event.event_id} {os.getpid()}\n")

    return dispatcher


class CountingSQLiteInbox(SQLiteInbox):
    """An SQLiteInbox that writes a line to ``store-errors`` for each failed settle."""

    def __init__(self, path: str, directory: Path) -> None:
        super().__init__(path)
        self.directory = directory

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        """See :meth:`Inbox.settle`; a failure is counted, then raised."""
        try:
            return super().settle(entry_id, owner, settlement)
        except Exception as exc:
            append(self.directory / "store-errors", f"{type(exc).__name__}: {exc}\n")
            raise
