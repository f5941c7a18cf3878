"""Idempotency stores: run each event's handlers once, even when SuperOffice sends it again.

A :class:`~superoffice_webhooks.Receiver` *claims* an event before its handlers run,
*completes* the claim when they succeed and *releases* it when they fail, so that
SuperOffice's retry (same ``EventId``) runs them again. An event is known by its tenant
(its ``ContextIdentifier``) and its ``EventId`` together: one store can serve many
tenants, and one tenant's event never makes another tenant's a duplicate. The life of
one claim::

    (absent) --claim--> IN_FLIGHT --complete--> COMPLETED --ttl passes--> (absent)
                            |  \\
                            |   `--release (handler failed)--> (absent)
                            `--lease passes (worker crashed)--> (absent)

A store answers :meth:`IdempotencyStore.claim` with a :class:`ClaimState`. Stores here:

- :class:`MemoryStore` / :class:`AsyncMemoryStore`: in one process (the receivers'
  default); bounded, thread-safe.
- :class:`SQLiteStore` / :class:`AsyncSQLiteStore`: a file shared by the processes of one
  machine; survives restarts.
- ``superoffice_webhooks.contrib.redis.RedisStore`` / ``AsyncRedisStore``: shared by every
  machine that reaches the Redis server.
"""

from __future__ import annotations

import enum
import inspect
import threading
import time
from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from typing_extensions import TypeIs

from ._sqlite import SQLiteFile
from ._threads import to_thread
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from uuid import UUID

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_TTL",
    "AsyncIdempotencyStore",
    "AsyncMemoryStore",
    "AsyncSQLiteStore",
    "ClaimState",
    "IdempotencyStore",
    "MemoryStore",
    "SQLiteStore",
]

#: How long a completed event is remembered: duplicates within this time are not handled again.
DEFAULT_TTL = timedelta(days=1)
#: How long a claim may stay in flight before another delivery may take it over.
DEFAULT_LEASE = timedelta(minutes=5)
#: How many events a :class:`MemoryStore` remembers at most.
DEFAULT_MAX_ENTRIES = 100_000


class ClaimState(enum.Enum):
    """What :meth:`IdempotencyStore.claim` found."""

    #: Nobody had the event: the caller now holds the claim and runs the handlers.
    CLAIMED = "claimed"
    #: Another delivery holds an unexpired claim: its handlers are running right now.
    IN_FLIGHT = "in_flight"
    #: The event's handlers already succeeded: nothing to do.
    COMPLETED = "completed"


# Read once here rather than from the enum class on every request, which is a lookup
# through the enum machinery each time.
CLAIMED, IN_FLIGHT, COMPLETED = ClaimState.CLAIMED, ClaimState.IN_FLIGHT, ClaimState.COMPLETED


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where a :class:`~superoffice_webhooks.Receiver` records which events it handled.

    An event is known by *tenant* (the event's ``ContextIdentifier``, any text, perhaps
    empty) and *event_id* together: the same ``EventId`` under two tenants is two events.
    *token* identifies one delivery's claim, so that a delivery whose lease ran out cannot
    release the claim another delivery has taken over since. Every method must be atomic
    with respect to every other user of the same store.
    """

    def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        """Claim the event for *token* unless it is in flight or completed; say which."""
        ...

    def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        """Remember the event as handled; ``False`` if *token* no longer held the claim."""
        ...

    def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        """Forget *token*'s claim so a retry runs the handlers; ``False`` if it was not held."""
        ...


@runtime_checkable
class AsyncIdempotencyStore(Protocol):
    """The async twin of :class:`IdempotencyStore`, for an :class:`~superoffice_webhooks.AsyncReceiver`."""

    async def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        """See :meth:`IdempotencyStore.claim <superoffice_webhooks.idempotency.IdempotencyStore.claim>`."""
        ...

    async def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.complete <superoffice_webhooks.idempotency.IdempotencyStore.complete>`."""
        ...

    async def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.release <superoffice_webhooks.idempotency.IdempotencyStore.release>`."""
        ...


def is_async_store(store: object) -> TypeIs[AsyncIdempotencyStore]:
    """Whether *store* is an async one (its methods must be awaited)."""
    return inspect.iscoroutinefunction(getattr(store, "claim", None))


def seconds(value: object, name: str, example: str = "timedelta(minutes=5)") -> float:
    """A positive :class:`~datetime.timedelta` option as seconds, else a ConfigurationError."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        msg = f"{name} must be a positive datetime.timedelta, e.g. {example}."
        raise ConfigurationError(msg)
    return value.total_seconds()


class MemoryStore(IdempotencyStore):
    """An :class:`IdempotencyStore` in this process's memory; a Receiver's default.

    Thread-safe and bounded: it remembers at most *max_entries* events and forgets the
    oldest first. It cannot see other processes: with several worker processes or
    machines, use :class:`SQLiteStore` or ``contrib.redis.RedisStore``.

    :param ttl: how long a completed event is remembered.
    :param lease: how long a claim stays in flight at most (a crashed handler's claim
        expires after it).
    :param max_entries: the most events remembered at once.
    :param clock: seconds on a monotonic clock; for tests.
    """

    def __init__(
        self,
        *,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = seconds(ttl, "ttl")
        self._lease = seconds(lease, "lease")
        if type(max_entries) is not int or max_entries <= 0:
            msg = "max_entries must be a positive int."
            raise ConfigurationError(msg)
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # (tenant, event id as its 128-bit number: hashing a UUID is a Python call) ->
        # (state, token, expires at); oldest first.
        self._entries: OrderedDict[tuple[str, int], tuple[ClaimState, str, float]] = OrderedDict()

    def __len__(self) -> int:
        """The number of events remembered, expired ones included until they are pruned."""
        return len(self._entries)

    def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        now = self._clock()
        key = (tenant, event_id.int)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[2] > now:
                return entry[0]
            self._put(key, (IN_FLIGHT, token, now + self._lease))
            return CLAIMED

    def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        now = self._clock()
        key = (tenant, event_id.int)
        with self._lock:
            entry = self._entries.get(key)
            held = entry is not None and entry[:2] == (IN_FLIGHT, token) and entry[2] > now
            self._put(key, (COMPLETED, token, now + self._ttl))
            return held

    def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        key = (tenant, event_id.int)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[:2] != (IN_FLIGHT, token):
                return False
            del self._entries[key]
            return True

    def _put(self, key: tuple[str, int], entry: tuple[ClaimState, str, float]) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


_TABLE = "superoffice_webhooks_claims"
_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {_TABLE} (
        tenant TEXT NOT NULL,
        event_id TEXT NOT NULL,
        state TEXT NOT NULL,
        token TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (tenant, event_id)
    ) WITHOUT ROWID""",
    # The table of earlier versions, dropped rather than migrated (see SQLiteStore).
    "DROP TABLE IF EXISTS superoffice_webhooks_events",
)
_FIND = f"SELECT state, token FROM {_TABLE} WHERE tenant = ? AND event_id = ? AND expires_at > ?"  # noqa: S608  # a constant
_PUT = f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?)"  # noqa: S608  # a constant
_PURGE_EVERY = 1000


class AsyncMemoryStore(AsyncIdempotencyStore):
    """An :class:`AsyncIdempotencyStore` in this process's memory; an AsyncReceiver's default.

    It calls a :class:`MemoryStore` (*sync*, or a new one with the default options)
    directly: its calls never wait, so they need no thread.
    """

    def __init__(self, sync: MemoryStore | None = None) -> None:
        #: The underlying sync store.
        self.sync = MemoryStore() if sync is None else sync

    async def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        return self.sync.claim(tenant, event_id, token)

    async def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        return self.sync.complete(tenant, event_id, token)

    async def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        return self.sync.release(tenant, event_id, token)


class SQLiteStore(IdempotencyStore):
    """An :class:`IdempotencyStore` in an SQLite file, shared by the processes of one machine.

    The file survives restarts, so a duplicate that arrives after a deploy is still
    recognised. It uses WAL mode and one connection per process; claims are atomic
    ``BEGIN IMMEDIATE`` transactions. Expired rows are purged now and then (and by
    :meth:`purge`). Do not put the file on a network file system: SQLite's locking is
    only safe on a local disk; across machines use ``contrib.redis.RedisStore``.

    Claims are rows of the table ``superoffice_webhooks_claims``, keyed by tenant and
    ``EventId``. A file written by an earlier version, which kept them by ``EventId``
    alone in ``superoffice_webhooks_events``, opens too: that table is dropped (claims
    are short-lived, so at worst a duplicate of an event handled before the upgrade runs
    its handlers once more).

    :param path: the database file; created with its table if missing.
    :param ttl: how long a completed event is remembered.
    :param lease: how long a claim stays in flight at most.
    :param timeout: how long to wait for another process's write lock.
    :param clock: seconds since the epoch (shared by all processes); for tests.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
        timeout: timedelta = timedelta(seconds=30),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = seconds(ttl, "ttl")
        self._lease = seconds(lease, "lease")
        self._clock = clock
        self._claims = 0
        self._file = SQLiteFile(
            path, schema=_SCHEMA, timeout=seconds(timeout, "timeout"), what="SQLiteStore"
        )
        #: The database file.
        self.path = self._file.path

    def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        key, now = str(event_id), self._clock()
        self._claims += 1
        if self._claims % _PURGE_EVERY == 0:
            self.purge()
        with self._file.transaction() as db:
            row = db.execute(_FIND, (tenant, key, now)).fetchone()
            if row is not None:
                return COMPLETED if row[0] == COMPLETED.value else IN_FLIGHT
            db.execute(_PUT, (tenant, key, IN_FLIGHT.value, token, now + self._lease))
            return CLAIMED

    def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        key, now = str(event_id), self._clock()
        with self._file.transaction() as db:
            row = db.execute(_FIND, (tenant, key, now)).fetchone()
            db.execute(_PUT, (tenant, key, COMPLETED.value, token, now + self._ttl))
            return bool(row == (IN_FLIGHT.value, token))

    def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        sql = f"DELETE FROM {_TABLE} WHERE tenant = ? AND event_id = ? AND state = ? AND token = ?"  # noqa: S608  # a constant
        return self._file.change(sql, tenant, str(event_id), IN_FLIGHT.value, token) == 1

    def purge(self) -> int:
        """Delete expired rows now; return how many."""
        return self._file.change(f"DELETE FROM {_TABLE} WHERE expires_at <= ?", self._clock())  # noqa: S608  # a constant

    def close(self) -> None:
        """Close this process's connection; the next call opens a new one."""
        self._file.close()


class AsyncSQLiteStore(AsyncIdempotencyStore):
    """An :class:`AsyncIdempotencyStore` running a :class:`SQLiteStore` in worker threads.

    Takes the same arguments as :class:`SQLiteStore`; its ``sync`` attribute is the
    :class:`SQLiteStore` itself, for code (such as a Celery worker) that needs the sync
    interface on the same file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
        timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        #: The underlying sync store.
        self.sync = SQLiteStore(path, ttl=ttl, lease=lease, timeout=timeout)

    async def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        return await to_thread(self.sync.claim, tenant, event_id, token)

    async def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        return await to_thread(self.sync.complete, tenant, event_id, token)

    async def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        return await to_thread(self.sync.release, tenant, event_id, token)

    def close(self) -> None:
        """Close the database connection; see :meth:`SQLiteStore.close`."""
        self.sync.close()
