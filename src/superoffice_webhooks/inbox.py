"""The inbox: received events kept durably, so that none is lost once it is verified.

A :class:`~superoffice_webhooks.Receiver` with an inbox *records* each verified event
before it answers SuperOffice, then owns it: the handlers run (in the request or in a
:class:`~superoffice_webhooks.Worker`), failures are retried on the library's own
schedule (:class:`RetryPolicy`), the work of a dead worker is taken over when its lease
runs out, and what finally fails is kept as ``dead`` until someone replays it. The life
of one entry::

    received --add--> PENDING --claim/take--> RUNNING --settle--> DONE
                         ^                      |  |
                         |  handler failed,     |  `--settle (no retries left)--> DEAD
                         +--retry due ----------+                                  |
                         |  lease ran out (its worker died)                        |
                         +--------------------------------------------- replay <---+

Inboxes here:

- :class:`MemoryInbox`: in this process's memory; for tests and a single process. Not
  durable: a restart loses what it holds.
- :class:`SQLiteInbox`: a file shared by the processes of one machine; survives restarts.
- ``superoffice_webhooks.contrib.redis.RedisInbox``: shared by every machine that reaches
  the Redis server.

An entry is keyed by the tenant (``ContextIdentifier``) and the ``EventId``; its
:attr:`Entry.id` is ``"<tenant>/<EventId>"``. A second delivery of an event that is
recorded is a duplicate, whatever its state: the handlers never run for it again.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import secrets
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ._sqlite import SQLiteFile, Synchronous
from .exceptions import ConfigurationError
from .idempotency import seconds

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Sequence

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RETRY",
    "Entry",
    "Inbox",
    "InboxStats",
    "MemoryInbox",
    "RetryPolicy",
    "SQLiteInbox",
    "Settlement",
    "State",
    "entry_id",
    "split_id",
]

#: How long a running attempt holds its entry without renewing the lease; a dead
#: worker's entry is taken over once it runs out. The owner renews it every third of it.
DEFAULT_LEASE = timedelta(seconds=30)


class State(enum.Enum):
    """Where an :class:`Entry` is in its life."""

    #: Recorded, waiting for its first attempt or for a retry that is due at ``next_attempt_at``.
    PENDING = "pending"
    #: A worker (or the request that recorded it) is running its handlers.
    RUNNING = "running"
    #: Its handlers succeeded.
    DONE = "done"
    #: Its handlers failed every attempt the retry policy allowed, or its body could not
    #: be read; kept with the last error until it is replayed or purged.
    DEAD = "dead"


@attrs.frozen(kw_only=True)
class Entry:
    """One received event in an inbox, as it is now."""

    #: The tenant: the event's ``ContextIdentifier``.
    tenant: str
    #: The event's ``EventId``.
    event_id: uuid.UUID
    #: The event name, e.g. ``"person.consented"`` (``""`` if the body could not be read).
    event: str
    #: The raw body as it was received and verified.
    body: bytes = attrs.field(repr=False)
    state: State
    #: How many attempts started (a worker that died counts).
    attempts: int = 0
    #: When it was recorded, seconds since the epoch.
    received_at: float
    #: When it is due (``PENDING``) or last changed state, seconds since the epoch.
    next_attempt_at: float
    #: Who runs it (``RUNNING`` only), e.g. ``"host:1234:9f2c"``.
    owner: str | None = None
    #: Until when the owner's lease holds (``RUNNING`` only), seconds since the epoch.
    lease_until: float | None = None
    #: The last failure as ``"ExceptionType: message"``; never the body.
    last_error: str | None = None

    @property
    def id(self) -> str:
        """``"<tenant>/<EventId>"``: what the command line and :meth:`Inbox.get` take."""
        return entry_id(self.tenant, self.event_id)

    @property
    def received(self) -> datetime:
        """:attr:`received_at` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.received_at, UTC)

    @property
    def next_attempt(self) -> datetime:
        """:attr:`next_attempt_at` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.next_attempt_at, UTC)


#: The names of :class:`Entry`'s fields in order; the columns of the inbox backends.
FIELDS = tuple(field.name for field in attrs.fields(Entry))


def entry_id(tenant: str, event_id: uuid.UUID) -> str:
    """The id of the entry for *tenant*'s event *event_id*: ``"<tenant>/<EventId>"``."""
    return f"{tenant}/{event_id}"


def split_id(value: str) -> tuple[str, uuid.UUID]:
    """``(tenant, EventId)`` from an entry id, or a
    :class:`~superoffice_webhooks.ConfigurationError` saying why not."""
    tenant, _, event = str(value).rpartition("/")
    with contextlib.suppress(ValueError):
        if tenant:
            return tenant, uuid.UUID(event)
    msg = (
        f"{value!r} is not an inbox entry id: expected '<tenant>/<EventId>', "
        "e.g. 'Cust12345/576086e3-5261-426b-a84b-26ca7f5b65e8' (see `inbox list`)."
    )
    raise ConfigurationError(msg)


@attrs.frozen(kw_only=True)
class Settlement:
    """How an attempt ended, as :meth:`Inbox.settle` records it."""

    #: ``DONE``, ``DEAD``, or ``PENDING`` for a retry (or an attempt handed back).
    state: State
    #: For ``PENDING``: seconds from now until the retry is due.
    delay: float = 0.0
    #: The failure as ``"ExceptionType: message"``, or ``None`` when it succeeded.
    error: str | None = None


@attrs.frozen(kw_only=True)
class InboxStats:
    """What :meth:`Inbox.stats` counts."""

    #: The number of entries in each state (every state is present).
    counts: dict[State, int]
    #: When the longest-waiting ``PENDING`` entry was received, or ``None``.
    oldest_pending_at: float | None

    @property
    def dead(self) -> int:
        """The number of ``DEAD`` entries: each needs a person's look."""
        return self.counts[State.DEAD]


@runtime_checkable
class Inbox(Protocol):
    """Where received events are kept until their handlers succeed or a person gives up.

    Every method is atomic with respect to every other user of the same inbox, in this
    process and in others. *owner* names one attempt; *lease* is in seconds.
    """

    def add(self, entry: Entry) -> bool:
        """Record *entry* unless an entry with its id exists; ``True`` if it was added."""
        ...

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        """Start an attempt on this ``PENDING`` entry now, due or not; ``None`` if it is not pending."""
        ...

    def take(self, owner: str, lease: float) -> Entry | None:
        """Start an attempt on the entry due first: ``PENDING`` and due, or ``RUNNING`` with its lease run out."""
        ...

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        """Extend *owner*'s lease to *lease* seconds from now; ``False`` if it no longer holds the entry."""
        ...

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        """End *owner*'s attempt as *settlement* says; ``False`` (and no change) if it no longer holds the entry."""
        ...

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or ``None``."""
        ...

    def entries(self, state: State | None = None, *, limit: int = 100) -> list[Entry]:
        """Up to *limit* entries (of one *state*, or all), the most recently received first."""
        ...

    def stats(self) -> InboxStats:
        """Counts per state and the oldest pending entry."""
        ...

    def replay(self, entry_id: str) -> bool:
        """Make a ``DEAD`` or ``DONE`` entry ``PENDING`` and due now, with a fresh count of
        attempts; ``False`` if there is none such."""
        ...

    def replay_dead(self) -> int:
        """Make every ``DEAD`` entry ``PENDING`` and due now, as :meth:`replay` does; return how many."""
        ...

    def purge(self, older_than: timedelta) -> int:
        """Delete ``DONE`` and ``DEAD`` entries that settled more than *older_than* ago; return how many."""
        ...


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When the library runs a failed event's handlers again, and when it gives up.

    The delay before retry *n* is drawn uniformly between 0 and ``first_delay * 2**(n-1)``,
    capped at *max_delay* ("full jitter": retries of many events spread out instead of
    arriving together). The event is dead when *max_attempts* attempts have failed, or
    when the next retry would fall more than *give_up_after* after it was received.
    """

    #: The upper bound of the first delay.
    first_delay: timedelta = timedelta(seconds=1)
    #: The largest delay between two attempts.
    max_delay: timedelta = timedelta(minutes=10)
    #: How long after receiving an event the library keeps trying.
    give_up_after: timedelta = timedelta(hours=24)
    #: The most attempts, or ``None`` for as many as *give_up_after* allows.
    max_attempts: int | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("first_delay", "max_delay", "give_up_after"):
            seconds(getattr(self, name), name)
        if self.max_attempts is not None and (
            type(self.max_attempts) is not int or self.max_attempts < 1
        ):
            msg = "max_attempts must be a positive int, or None for no limit but give_up_after."
            raise ConfigurationError(msg)

    def gave_up(self, attempts: int, age: float) -> bool:
        """Whether an event must not be tried again after *attempts* started ones.

        For an attempt taken over from a worker that died: no retry was scheduled for it,
        so the age limit allows for the longest wait (*max_delay*) on top of *give_up_after*.
        """
        spent = self.max_attempts is not None and attempts >= self.max_attempts
        return spent or age > (self.give_up_after + self.max_delay).total_seconds()

    def delay(self, attempts: int, age: float, draw: float) -> float | None:
        """Seconds until the next attempt, or ``None`` when the event is dead.

        :param attempts: how many attempts have failed.
        :param age: seconds since the event was received.
        :param draw: a random number in [0, 1).
        """
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        ceiling = self.max_delay.total_seconds()
        exponent = min(attempts - 1, 64)  # beyond that the cap has long applied
        delay = draw * min(ceiling, self.first_delay.total_seconds() * 2.0**exponent)
        if age + delay > self.give_up_after.total_seconds():
            return None
        return delay


#: The retry policy a receiver or worker uses unless given another.
DEFAULT_RETRY = RetryPolicy()


def check_limit(limit: object) -> int:
    """*limit* of :meth:`Inbox.entries`, if it is a positive int; for inbox backends."""
    if type(limit) is not int or limit < 1:
        msg = "limit must be a positive int."
        raise ConfigurationError(msg)
    return limit


def entry_values(entry: Entry) -> dict[str, Any]:
    """*entry*'s fields in order, the EventId and the state as text; for inbox backends."""
    values = attrs.asdict(entry, recurse=False)
    return {**values, "event_id": str(entry.event_id), "state": entry.state.value}


def row_entry(row: Sequence[Any], text: Callable[[Any], str] = str) -> Entry:
    """The entry whose fields *row* holds in order, text read with *text*; for inbox backends."""
    tenant, event_id, event, body, state, attempts, received, due, owner, lease, error = row
    return Entry(
        tenant=text(tenant),
        event_id=uuid.UUID(text(event_id)),
        event=text(event),
        body=bytes(body),
        state=State(text(state)),
        attempts=int(attempts),
        received_at=float(received),
        next_attempt_at=float(due),
        owner=None if owner is None else text(owner),
        lease_until=None if lease is None else float(lease),
        last_error=None if error is None else text(error),
    )


def due_at(entry: Entry) -> float:
    """When *entry* is due, for the inbox backends' indexes: a running one when its lease
    ends (never, without a lease), any other at its ``next_attempt_at``."""
    if entry.state is State.RUNNING:
        return math.inf if entry.lease_until is None else entry.lease_until
    return entry.next_attempt_at


class MemoryInbox(Inbox):
    """An :class:`Inbox` in this process's memory, for tests and a single process.

    **Not durable**: whatever it holds is gone when the process ends, so it protects
    against failing handlers but not against a crash or a restart. Use
    :class:`SQLiteInbox` or ``contrib.redis.RedisInbox`` in production.

    :param clock: seconds since the epoch; for tests.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        """The number of entries, in every state."""
        return len(self._entries)

    def add(self, entry: Entry) -> bool:
        with self._lock:
            if entry.id in self._entries:
                return False
            self._entries[entry.id] = entry
            return True

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None or entry.state is not State.PENDING:
                return None
            return self._start(entry, owner, lease)

    def take(self, owner: str, lease: float) -> Entry | None:
        now = self._clock()
        with self._lock:
            unsettled = (
                e for e in self._entries.values() if e.state in (State.PENDING, State.RUNNING)
            )
            first = min(unsettled, key=due_at, default=None)
            if first is None or due_at(first) > now:
                return None
            return self._start(first, owner, lease)

    def _start(self, entry: Entry, owner: str, lease: float) -> Entry:
        started = attrs.evolve(
            entry,
            state=State.RUNNING,
            attempts=entry.attempts + 1,
            owner=owner,
            lease_until=self._clock() + lease,
        )
        self._entries[entry.id] = started
        return started

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        return self._change_held(entry_id, owner, lease_until=self._clock() + lease)

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        state, due = settlement.state, self._clock() + settlement.delay
        error = {} if settlement.error is None else {"last_error": settlement.error}
        return self._change_held(
            entry_id, owner, state=state, next_attempt_at=due, owner=None, lease_until=None, **error
        )

    def _change_held(self, entry_id: str, owner: str, /, **changes: Any) -> bool:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None or entry.state is not State.RUNNING or entry.owner != owner:
                return False
            self._entries[entry_id] = attrs.evolve(entry, **changes)
            return True

    def get(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def entries(self, state: State | None = None, *, limit: int = 100) -> list[Entry]:
        limit = check_limit(limit)
        with self._lock:
            found = [e for e in self._entries.values() if state is None or e.state is state]
        found.sort(key=lambda e: e.received_at, reverse=True)
        return found[:limit]

    def stats(self) -> InboxStats:
        with self._lock:
            entries = list(self._entries.values())
        counts = dict.fromkeys(State, 0) | Counter(entry.state for entry in entries)
        pending = [entry.received_at for entry in entries if entry.state is State.PENDING]
        return InboxStats(counts=counts, oldest_pending_at=min(pending, default=None))

    def replay(self, entry_id: str) -> bool:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None or entry.state not in (State.DONE, State.DEAD):
                return False
            self._entries[entry_id] = attrs.evolve(
                entry, state=State.PENDING, attempts=0, next_attempt_at=self._clock()
            )
            return True

    def replay_dead(self) -> int:
        with self._lock:
            dead = [key for key, e in self._entries.items() if e.state is State.DEAD]
            return sum(self.replay(key) for key in dead)

    def purge(self, older_than: timedelta) -> int:
        before = self._clock() - seconds(older_than, "older_than")
        with self._lock:
            old = [
                key
                for key, e in self._entries.items()
                if e.state in (State.DONE, State.DEAD) and e.next_attempt_at <= before
            ]
            for key in old:
                del self._entries[key]
            return len(old)


_TABLE = "superoffice_webhooks_inbox"
# The entry due first: a running one whose owner's lease ran out, then a pending one.
_DUE_QUERIES = tuple(
    f"SELECT tenant, event_id FROM {_TABLE} WHERE state = '{state}' AND {due} <= ? "  # noqa: S608  # constant names
    f"ORDER BY {due} LIMIT 1"
    for state, due in (("running", "lease_until"), ("pending", "next_attempt_at"))
)
_COLUMNS = ", ".join(FIELDS)
_KEY = "tenant = ? AND event_id = ?"
_HELD = f"{_KEY} AND state = 'running' AND owner = ?"
_INSERT = f"INSERT OR IGNORE INTO {_TABLE} ({_COLUMNS}) VALUES ({', '.join(['?'] * len(FIELDS))})"  # noqa: S608  # constant names
_INBOX_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS {_TABLE} (
    tenant TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    received_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    owner TEXT,
    lease_until REAL,
    last_error TEXT,
    PRIMARY KEY (tenant, event_id)
) WITHOUT ROWID""",
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_due ON {_TABLE} (state, next_attempt_at)",
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_lease ON {_TABLE} (state, lease_until)",
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_received ON {_TABLE} (received_at)",
)


def _split(entry_id: str) -> tuple[str, str]:
    tenant, event_id = split_id(entry_id)
    return tenant, str(event_id)


def _replay(condition: str) -> str:
    """The statement that makes the entries *condition* selects pending again, due now (its
    first parameter, before those of *condition*)."""
    return f"UPDATE {_TABLE} SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE {condition}"  # noqa: S608  # constant names


class SQLiteInbox(Inbox):
    """An :class:`Inbox` in an SQLite file, shared by the processes of one machine.

    The file survives restarts and crashes; each change is one ``BEGIN IMMEDIATE``
    transaction in WAL mode. With ``synchronous="NORMAL"`` (the default, SQLite's advice
    for WAL) a committed event survives the death of any process, but the last
    transactions may be lost if the machine itself loses power; ``"FULL"`` syncs the disk
    on every commit and survives that too, at the cost of one disk sync per event. Do not
    put the file on a network file system; across machines use ``contrib.redis.RedisInbox``.

    :param path: the database file; created with its table if missing.
    :param timeout: how long to wait for another process's write lock.
    :param synchronous: ``"NORMAL"`` or ``"FULL"``, as above.
    :param clock: seconds since the epoch (shared by all processes); for tests.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: timedelta = timedelta(seconds=30),
        synchronous: Synchronous = "NORMAL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._file = SQLiteFile(
            path,
            schema=_INBOX_SCHEMA,
            timeout=seconds(timeout, "timeout"),
            synchronous=synchronous,
            what="SQLiteInbox",
        )
        #: The database file.
        self.path = self._file.path
        self._clock = clock

    def add(self, entry: Entry) -> bool:
        return self._file.change(_INSERT, *entry_values(entry).values()) == 1

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        key = _split(entry_id)
        with self._file.transaction() as db:
            return self._start(db, key, owner, lease, "state = 'pending'")

    def take(self, owner: str, lease: float) -> Entry | None:
        now = self._clock()
        with self._file.transaction() as db:
            for query in _DUE_QUERIES:
                row = db.execute(query, (now,)).fetchone()
                if row is not None:
                    return self._start(db, row, owner, lease, "1")
            return None

    def _start(
        self, db: sqlite3.Connection, key: Sequence[str], owner: str, lease: float, condition: str
    ) -> Entry | None:
        row = db.execute(
            f"UPDATE {_TABLE} SET state = 'running', attempts = attempts + 1, owner = ?, "  # noqa: S608  # constant names
            f"lease_until = ? WHERE {_KEY} AND {condition} RETURNING {_COLUMNS}",
            (owner, self._clock() + lease, *key),
        ).fetchone()
        return None if row is None else row_entry(row)

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        sql = f"UPDATE {_TABLE} SET lease_until = ? WHERE {_HELD}"  # noqa: S608  # constant names
        return self._file.change(sql, self._clock() + lease, *_split(entry_id), owner) == 1

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        sql = (
            f"UPDATE {_TABLE} SET state = ?, next_attempt_at = ?, owner = NULL, "  # noqa: S608  # constant names
            f"lease_until = NULL, last_error = coalesce(?, last_error) WHERE {_HELD}"
        )
        state, due = settlement.state.value, self._clock() + settlement.delay
        return self._file.change(sql, state, due, settlement.error, *_split(entry_id), owner) == 1

    def get(self, entry_id: str) -> Entry | None:
        sql, key = f"SELECT {_COLUMNS} FROM {_TABLE} WHERE {_KEY}", _split(entry_id)  # noqa: S608  # constant names
        with self._file.reading() as db:
            row = db.execute(sql, key).fetchone()
        return None if row is None else row_entry(row)

    def entries(self, state: State | None = None, *, limit: int = 100) -> list[Entry]:
        limit = check_limit(limit)
        where, args = ("", ()) if state is None else ("WHERE state = ?", (state.value,))
        sql = f"SELECT {_COLUMNS} FROM {_TABLE} {where} ORDER BY received_at DESC LIMIT ?"  # noqa: S608  # constant names
        with self._file.reading() as db:
            rows = db.execute(sql, (*args, limit)).fetchall()
        return [row_entry(row) for row in rows]

    def stats(self) -> InboxStats:
        with self._file.reading() as db:
            rows = db.execute(f"SELECT state, count(*) FROM {_TABLE} GROUP BY state").fetchall()  # noqa: S608  # constant names
            (oldest,) = db.execute(
                f"SELECT min(received_at) FROM {_TABLE} WHERE state = 'pending'"  # noqa: S608  # constant names
            ).fetchone()
        counts = dict.fromkeys(State, 0)
        counts.update({State(state): count for state, count in rows})
        return InboxStats(counts=counts, oldest_pending_at=oldest)

    def replay(self, entry_id: str) -> bool:
        condition = f"{_KEY} AND state IN ('done', 'dead')"
        return self._file.change(_replay(condition), self._clock(), *_split(entry_id)) == 1

    def replay_dead(self) -> int:
        return self._file.change(_replay("state = 'dead'"), self._clock())

    def purge(self, older_than: timedelta) -> int:
        before = self._clock() - seconds(older_than, "older_than")
        sql = f"DELETE FROM {_TABLE} WHERE state IN ('done', 'dead') AND next_attempt_at <= ?"  # noqa: S608  # constant names
        return self._file.change(sql, before)

    def close(self) -> None:
        """Close this process's connection; the next call opens a new one."""
        self._file.close()


def new_owner() -> str:
    """A name for one attempt: this host and process, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
