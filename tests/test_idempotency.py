"""Idempotency stores: the claim / complete / release contract, expiry, bounds and restarts."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from superoffice_webhooks import ConfigurationError
from superoffice_webhooks.contrib.redis import AsyncRedisStore, RedisStore
from superoffice_webhooks.idempotency import (
    AsyncIdempotencyStore,
    AsyncSQLiteStore,
    ClaimState,
    IdempotencyStore,
    MemoryStore,
    SQLiteStore,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import Closer

CLAIMED, IN_FLIGHT, COMPLETED = ClaimState.CLAIMED, ClaimState.IN_FLIGHT, ClaimState.COMPLETED
#: The tenant (ContextIdentifier) of the events in tests about one tenant.
TENANT = "Cust1"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdempotencyStore]:
    """Each sync store, fresh."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        s = SQLiteStore(tmp_path / "claims.sqlite3")
        yield s
        s.close()
    else:
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
        r = RedisStore.from_url(url, prefix=prefix)
        yield r
        r.client.close()


def test_stores_satisfy_the_protocol(store: IdempotencyStore) -> None:
    """Every bundled sync store is an IdempotencyStore."""
    assert isinstance(store, IdempotencyStore)


def test_first_claim_wins(store: IdempotencyStore) -> None:
    """The first claim gets CLAIMED; a second one while it is held gets IN_FLIGHT."""
    event = uuid.uuid4()

    assert store.claim(TENANT, event, "a") is CLAIMED
    assert store.claim(TENANT, event, "b") is IN_FLIGHT
    assert store.claim(TENANT, uuid.uuid4(), "b") is CLAIMED


def test_tenants_claim_the_same_event_id_independently(store: IdempotencyStore) -> None:
    """One EventId under two tenants is two events: claims, completions and releases apart."""
    event = uuid.uuid4()

    assert store.claim("Cust1", event, "a") is CLAIMED
    assert store.claim("Cust2", event, "b") is CLAIMED
    assert store.complete("Cust1", event, "a") is True
    assert store.claim("Cust1", event, "c") is COMPLETED
    assert store.claim("Cust2", event, "c") is IN_FLIGHT  # not completed by Cust1's
    assert store.release("Cust1", event, "b") is False  # Cust2's token, Cust1's event
    assert store.release("Cust2", event, "b") is True
    assert store.claim("Cust2", event, "d") is CLAIMED
    assert store.claim("Cust1", event, "d") is COMPLETED


# Tenants whose text would run into the EventId if a store joined them naively.
AWKWARD_TENANTS = ["", ":", "Cust1", "Cust1:", ":Cust1", "Cust1:Cust2", "Kunde ø/1", "Cust1\n"]


def test_awkward_tenants_never_share_a_claim(store: IdempotencyStore) -> None:
    """Empty tenants and tenants with ':' or odd characters each hold their own claim."""
    event = uuid.uuid4()

    claimed = [store.claim(tenant, event, "a") for tenant in AWKWARD_TENANTS]
    completed = [store.complete(tenant, event, "a") for tenant in AWKWARD_TENANTS]

    assert claimed == [CLAIMED] * len(AWKWARD_TENANTS)
    assert completed == [True] * len(AWKWARD_TENANTS)
    assert store.claim("Cust", event, "b") is CLAIMED


def test_completed_event_is_reported_completed(store: IdempotencyStore) -> None:
    """After complete, every later claim gets COMPLETED."""
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")

    assert store.complete(TENANT, event, "a") is True
    assert store.claim(TENANT, event, "b") is COMPLETED
    assert store.claim(TENANT, event, "c") is COMPLETED


def test_release_lets_the_retry_claim(store: IdempotencyStore) -> None:
    """After release, the next claim (SuperOffice's retry) gets CLAIMED again."""
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")

    assert store.release(TENANT, event, "a") is True
    assert store.claim(TENANT, event, "b") is CLAIMED
    assert store.complete(TENANT, event, "b") is True
    assert store.claim(TENANT, event, "c") is COMPLETED


def test_release_with_another_token_does_nothing(store: IdempotencyStore) -> None:
    """A token that does not hold the claim cannot release it."""
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")

    assert store.release(TENANT, event, "b") is False
    assert store.claim(TENANT, event, "c") is IN_FLIGHT


def test_release_after_complete_does_nothing(store: IdempotencyStore) -> None:
    """A completed event stays completed even if its token releases it."""
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")
    store.complete(TENANT, event, "a")

    assert store.release(TENANT, event, "a") is False
    assert store.claim(TENANT, event, "b") is COMPLETED


def test_complete_without_a_claim_still_records(store: IdempotencyStore) -> None:
    """complete() by a token that lost its claim says so, but records the event as handled."""
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")

    assert store.complete(TENANT, event, "b") is False
    assert store.claim(TENANT, event, "c") is COMPLETED


def test_redis_lease_expires(redis_url: str, redis_prefix: str) -> None:
    """In Redis a crashed delivery's claim expires after the lease; then a retry claims it."""
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, lease=timedelta(milliseconds=50))
    event = uuid.uuid4()
    assert store.claim(TENANT, event, "crashed") is CLAIMED
    key = f"{redis_prefix}{TENANT}:{event}"
    assert 0 < store.client.pttl(key) <= 50

    for _ in range(200):  # bounded: at most 2 s
        state = store.claim(TENANT, event, "retry")
        if state is CLAIMED:
            break
        assert state is IN_FLIGHT
        asyncio.run(asyncio.sleep(0.01))
    assert state is CLAIMED
    assert store.release(TENANT, event, "crashed") is False
    store.client.close()


def test_redis_ttl_is_set_on_completed_events(redis_url: str, redis_prefix: str) -> None:
    """A completed event's key carries the TTL, so Redis forgets it by itself."""
    store = RedisStore.from_url(redis_url, prefix=redis_prefix, ttl=timedelta(hours=2))
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")
    store.complete(TENANT, event, "a")

    ttl = store.client.pttl(f"{redis_prefix}{TENANT}:{event}")
    assert 7_000_000 < ttl <= 7_200_000
    store.client.close()


@pytest.mark.parametrize("decode", [False, True])
def test_redis_either_response_decoding(redis_url: str, redis_prefix: str, decode: bool) -> None:
    """RedisStore works with clients that decode responses and with ones that do not."""
    import redis  # noqa: PLC0415  # the client under test

    store = RedisStore(
        redis.Redis.from_url(redis_url, decode_responses=decode), prefix=redis_prefix
    )
    event = uuid.uuid4()

    assert store.claim(TENANT, event, "a") is CLAIMED
    assert store.claim(TENANT, event, "b") is IN_FLIGHT
    store.complete(TENANT, event, "a")
    assert store.claim(TENANT, event, "b") is COMPLETED
    store.client.close()


# --- expiry with a hand-moved clock ----------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def timed(
    request: pytest.FixtureRequest, tmp_path: Path, closing: Closer
) -> tuple[IdempotencyStore, Clock]:
    """A memory or SQLite store with a 60 s lease and a 1 h TTL on a hand-moved clock."""
    clock = Clock()
    options = {"ttl": timedelta(hours=1), "lease": timedelta(seconds=60), "clock": clock}
    if request.param == "memory":
        return MemoryStore(**options), clock  # type: ignore[arg-type]  # the options fit
    return closing(SQLiteStore(tmp_path / "claims.sqlite3", **options)), clock  # type: ignore[arg-type]  # the options fit


def test_lease_expires(timed: tuple[IdempotencyStore, Clock]) -> None:
    """A claim held longer than the lease (a crashed worker) can be taken over."""
    store, clock = timed
    event = uuid.uuid4()
    store.claim(TENANT, event, "crashed")

    clock.now += 59
    assert store.claim(TENANT, event, "early") is IN_FLIGHT
    clock.now += 2
    assert store.claim(TENANT, event, "late") is CLAIMED
    assert store.release(TENANT, event, "crashed") is False
    assert store.claim(TENANT, event, "third") is IN_FLIGHT


def test_completed_events_are_forgotten_after_the_ttl(
    timed: tuple[IdempotencyStore, Clock],
) -> None:
    """A completed event is a duplicate for the TTL, then it is claimable again."""
    store, clock = timed
    event = uuid.uuid4()
    store.claim(TENANT, event, "a")
    store.complete(TENANT, event, "a")

    clock.now += 3599
    assert store.claim(TENANT, event, "b") is COMPLETED
    clock.now += 2
    assert store.claim(TENANT, event, "c") is CLAIMED


def test_late_complete_reports_the_lost_claim(timed: tuple[IdempotencyStore, Clock]) -> None:
    """complete() after the lease ran out returns False (the receiver logs a warning)."""
    store, clock = timed
    event = uuid.uuid4()
    store.claim(TENANT, event, "slow")
    clock.now += 61

    assert store.complete(TENANT, event, "slow") is False
    assert store.claim(TENANT, event, "next") is COMPLETED


def test_memory_store_is_bounded() -> None:
    """A MemoryStore keeps at most max_entries events, forgetting the oldest first."""
    store = MemoryStore(max_entries=3)
    events = [uuid.uuid4() for _ in range(5)]
    for number, event in enumerate(events):
        store.claim(TENANT, event, str(number))
        store.complete(TENANT, event, str(number))

    assert len(store) == 3
    assert store.claim(TENANT, events[0], "again") is CLAIMED  # forgotten
    assert store.claim(TENANT, events[4], "again") is COMPLETED  # remembered


def test_sqlite_purge_deletes_only_expired_rows(tmp_path: Path, closing: Closer) -> None:
    """purge() removes expired claims and completions and keeps live ones."""
    clock = Clock()
    store = closing(SQLiteStore(tmp_path / "c.sqlite3", lease=timedelta(seconds=10), clock=clock))
    old, live = uuid.uuid4(), uuid.uuid4()
    store.claim(TENANT, old, "a")
    clock.now += 11
    store.claim(TENANT, live, "b")

    assert store.purge() == 1
    assert store.claim(TENANT, live, "c") is IN_FLIGHT


RESTART_SCRIPT = """
import sys, uuid
from superoffice_webhooks.idempotency import SQLiteStore
store = SQLiteStore(sys.argv[1])
event = uuid.UUID(sys.argv[2])
if sys.argv[3] == "handle":
    assert store.claim("Cust1", event, "first process").value == "claimed"
    assert store.complete("Cust1", event, "first process")
print(store.claim("Cust1", event, "second look").value)
"""


def test_sqlite_store_survives_a_restart(tmp_path: Path, closing: Closer) -> None:
    """An event completed by one process is still a duplicate for a process started later."""
    path, event = tmp_path / "claims.sqlite3", str(uuid.uuid4())

    def run(action: str) -> str:
        result = subprocess.run(  # noqa: S603  # our own script
            [sys.executable, "-c", RESTART_SCRIPT, str(path), event, action],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout.strip()

    assert run("handle") == "completed"
    assert run("look") == "completed"
    here = closing(SQLiteStore(path))
    assert here.claim(TENANT, uuid.UUID(event), "here") is COMPLETED
    assert here.claim(TENANT, uuid.uuid4(), "here") is CLAIMED


FORK_SCRIPT = """
import os, sys, uuid
from superoffice_webhooks.idempotency import SQLiteStore
store = SQLiteStore(sys.argv[1])
event = uuid.uuid4()
store.claim("Cust1", event, "parent")
pid = os.fork()
if pid == 0:  # the child uses the store the parent opened
    os._exit(0 if store.claim("Cust1", event, "child").value == "in_flight" else 1)
_, status = os.waitpid(pid, 0)
store.complete("Cust1", event, "parent")
print(os.waitstatus_to_exitcode(status), store.claim("Cust1", event, "parent again").value)
"""


def test_sqlite_store_in_a_forked_child(tmp_path: Path) -> None:
    """A store opened before a fork (gunicorn --preload, Celery prefork) works in the child."""
    result = subprocess.run(  # noqa: S603  # our own script
        [sys.executable, "-c", FORK_SCRIPT, str(tmp_path / "claims.sqlite3")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.split() == ["0", "completed"]


@pytest.mark.parametrize(
    ("option", "value"),
    [("ttl", timedelta(0)), ("lease", timedelta(seconds=-1)), ("ttl", 60), ("max_entries", 0)],
)
def test_memory_store_options_are_checked(option: str, value: object) -> None:
    """Non-positive or non-timedelta options raise ConfigurationError."""
    with pytest.raises(ConfigurationError, match=option):
        MemoryStore(**{option: value})  # type: ignore[arg-type]  # wrong on purpose


def test_sqlite_store_needs_a_path() -> None:
    """SQLiteStore without a usable path raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="path"):
        SQLiteStore("")


def test_redis_store_needs_a_redis_client() -> None:
    """RedisStore and AsyncRedisStore refuse other objects (and each other's clients)."""
    import redis  # noqa: PLC0415  # the client under test

    with pytest.raises(ConfigurationError, match=r"redis\.Redis"):
        RedisStore("redis://localhost")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio\.Redis"):
        AsyncRedisStore(redis.Redis())  # type: ignore[arg-type]  # wrong on purpose


# --- async stores ------------------------------------------------------------------------------


def test_async_sqlite_store(tmp_path: Path, closing: Closer) -> None:
    """AsyncSQLiteStore keeps the contract, on the same file as its sync store."""
    store = closing(AsyncSQLiteStore(tmp_path / "claims.sqlite3"))
    event = uuid.uuid4()
    assert isinstance(store, AsyncIdempotencyStore)

    async def scenario() -> list[object]:
        return [
            await store.claim(TENANT, event, "a"),
            await store.claim(TENANT, event, "b"),
            await store.release(TENANT, event, "a"),
            await store.claim(TENANT, event, "b"),
            await store.complete(TENANT, event, "b"),
            await store.claim(TENANT, event, "c"),
        ]

    assert asyncio.run(scenario()) == [CLAIMED, IN_FLIGHT, True, CLAIMED, True, COMPLETED]
    assert store.sync.claim(TENANT, event, "d") is COMPLETED


def test_async_redis_store(redis_url: str, redis_prefix: str) -> None:
    """AsyncRedisStore keeps the contract and shares claims with a sync RedisStore."""
    event = uuid.uuid4()
    sync = RedisStore.from_url(redis_url, prefix=redis_prefix)

    async def scenario() -> list[object]:
        store = AsyncRedisStore.from_url(redis_url, prefix=redis_prefix)
        assert isinstance(store, AsyncIdempotencyStore)
        try:
            return [
                await store.claim(TENANT, event, "a"),
                sync.claim(TENANT, event, "b"),
                await store.release(TENANT, event, "a"),
                await store.claim(TENANT, event, "b"),
                await store.complete(TENANT, event, "b"),
                await store.claim(TENANT, event, "c"),
            ]
        finally:
            await store.client.aclose()

    assert asyncio.run(scenario()) == [CLAIMED, IN_FLIGHT, True, CLAIMED, True, COMPLETED]
    assert sync.claim(TENANT, event, "d") is COMPLETED
    sync.client.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_async_stores_keep_tenants_apart(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, closing: Closer
) -> None:
    """The async stores key claims by tenant and EventId too."""
    event = uuid.uuid4()

    async def scenario() -> list[object]:
        store: AsyncIdempotencyStore
        if backend == "sqlite":
            store = closing(AsyncSQLiteStore(tmp_path / "claims.sqlite3"))
        else:
            url = request.getfixturevalue("redis_url")
            store = AsyncRedisStore.from_url(url, prefix=request.getfixturevalue("redis_prefix"))
        states = [
            await store.claim("Cust1", event, "a"),
            await store.claim("Cust2", event, "b"),
            await store.complete("Cust1", event, "a"),
            await store.claim("Cust2", event, "c"),
            await store.release("Cust2", event, "b"),
            await store.claim("Cust2", event, "c"),
            await store.claim("Cust1", event, "c"),
        ]
        if isinstance(store, AsyncRedisStore):
            await store.client.aclose()
        return states

    assert asyncio.run(scenario()) == [CLAIMED, CLAIMED, True, IN_FLIGHT, True, CLAIMED, COMPLETED]


# The table as earlier versions created it: claims by EventId alone.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS superoffice_webhooks_events (
    event_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""


def test_sqlite_store_opens_a_file_of_an_earlier_version(tmp_path: Path, closing: Closer) -> None:
    """A file with the old EventId-only table opens; the old table is dropped, claims work."""
    path = tmp_path / "claims.sqlite3"
    event = uuid.uuid4()
    old = sqlite3.connect(path)
    with old:
        old.execute("PRAGMA journal_mode=WAL")
        old.execute(OLD_SCHEMA)
        old.execute(
            "INSERT INTO superoffice_webhooks_events VALUES (?, 'completed', 'old', ?)",
            (str(event), 4_000_000_000.0),
        )
    old.close()

    store = closing(SQLiteStore(path))

    assert store.claim(TENANT, event, "new") is CLAIMED  # the old row is not read
    assert store.complete(TENANT, event, "new") is True
    assert store.claim(TENANT, event, "again") is COMPLETED
    reopened = sqlite3.connect(path)
    tables = {row[0] for row in reopened.execute("SELECT name FROM sqlite_master")}
    reopened.close()
    assert "superoffice_webhooks_events" not in tables
    assert "superoffice_webhooks_claims" in tables


def test_sqlite_store_rolls_back_a_failed_transaction(tmp_path: Path, closing: Closer) -> None:
    """An error inside a claim rolls its transaction back: the store stays usable."""
    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    event_id = uuid.uuid4()

    with pytest.raises(sqlite3.ProgrammingError):
        store.claim(TENANT, event_id, object())  # type: ignore[arg-type]  # a token SQLite cannot store

    assert store.claim(TENANT, event_id, "token") is ClaimState.CLAIMED
    assert store.complete(TENANT, event_id, "token") is True


def test_sqlite_store_close_twice_is_harmless(tmp_path: Path) -> None:
    """close() of a closed store does nothing; the next call opens a new connection."""
    store = SQLiteStore(tmp_path / "claims.sqlite3")
    store.close()
    store.close()

    assert store.claim(TENANT, uuid.uuid4(), "token") is ClaimState.CLAIMED
    store.close()


def _locked_database(path: Path) -> sqlite3.Connection:
    """A connection holding the write lock of a (rollback-journal) database at *path*."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE IF NOT EXISTS other (x)")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_sqlite_store_waits_for_a_lock_while_switching_to_wal(tmp_path: Path) -> None:
    """Opening the store while another connection holds the lock waits for it, then works."""
    path = tmp_path / "claims.sqlite3"
    holder = _locked_database(path)
    release = threading.Timer(0.2, holder.rollback)
    release.start()
    try:
        store = SQLiteStore(path, timeout=timedelta(seconds=30))
    finally:
        release.join()
        holder.close()

    assert store.claim(TENANT, uuid.uuid4(), "token") is ClaimState.CLAIMED
    store.close()


def test_sqlite_store_gives_up_on_a_lock_after_its_timeout(tmp_path: Path) -> None:
    """A lock held past the timeout is SQLite's "database is locked" error."""
    path = tmp_path / "claims.sqlite3"
    holder = _locked_database(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            SQLiteStore(path, timeout=timedelta(milliseconds=50))
    finally:
        holder.close()


def test_redis_store_prefix_must_be_a_string() -> None:
    """A prefix other than a str is a ConfigurationError, for both Redis stores."""
    import redis  # noqa: PLC0415  # the client under test
    import redis.asyncio  # noqa: PLC0415  # as above

    with pytest.raises(ConfigurationError, match="prefix"):
        RedisStore(redis.Redis(), prefix=b"webhooks:")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ConfigurationError, match="prefix"):
        AsyncRedisStore(redis.asyncio.Redis(), prefix=1)  # type: ignore[arg-type]  # wrong on purpose
