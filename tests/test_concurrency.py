"""1,000 concurrent deliveries with 20% duplicates: every event handled exactly once, retries re-run."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

import superoffice_webhooks as sow
from delivery_load import (
    FAIL_EVERY,
    MemorySink,
    RedisSink,
    Sink,
    SQLiteSink,
    deliveries,
    receiver_for,
    run,
    run_processes,
)
from superoffice_webhooks.idempotency import IdempotencyStore, MemoryStore, SQLiteStore

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Closer


def check(sink: Sink, statuses: list[list[int]]) -> None:
    """Each EventId's handler succeeded once; failing ones failed once first; every delivery ended 200."""
    bodies = deliveries()
    events = {sow.parse(body) for body in bodies}
    successes, failures = sink.counts()

    assert len(bodies) == len(statuses) == 1000
    assert len(events) == 800  # 200 deliveries repeat another's EventId
    assert successes == dict.fromkeys((str(e.event_id) for e in events), 1)
    failing = {str(e.event_id) for e in events if e.primary_key % FAIL_EVERY == 0}
    # One failed attempt and one successful retry each: the handler ran exactly twice.
    assert failures == dict.fromkeys(failing, 2)
    assert [s for s in statuses if s[-1] != 200] == []
    assert {code for s in statuses for code in s} <= {200, 409, 500}
    assert sum(s.count(500) for s in statuses) == len(failing)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_threads(kind: str, tmp_path: Path, closing: Closer) -> None:
    """16 threads deliver 1,000 events (20% duplicates) to one receiver: each handled once."""
    store: IdempotencyStore
    sink: Sink
    if kind == "memory":
        store, sink = MemoryStore(), MemorySink()
    else:
        store = closing(SQLiteStore(tmp_path / "c.sqlite3"))
        sink = closing(SQLiteSink(tmp_path / "e.sqlite3"))

    statuses = run(receiver_for(store, sink), deliveries())

    check(sink, statuses)


def test_two_processes_sharing_sqlite(tmp_path: Path, closing: Closer) -> None:
    """Two processes with 16 threads each share one SQLite file: each event handled once."""
    sink = closing(
        SQLiteSink(tmp_path / "effects.sqlite3")
    )  # the children open the claims file at once

    statuses = run_processes("sqlite", tmp_path, 2, None, "unused")

    check(sink, statuses)


def test_two_processes_sharing_redis(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    """Two processes with 16 threads each share one Redis server: each event handled once."""
    statuses = run_processes("redis", tmp_path, 2, redis_url, redis_prefix)

    check(RedisSink(redis_url, redis_prefix), statuses)


def test_deliveries_are_the_same_in_every_process() -> None:
    """The load is deterministic, so both processes split the same 1,000 deliveries."""
    assert deliveries() == deliveries()
    assert len({uuid.UUID(sow.parse(b).event_id.hex) for b in deliveries()}) == 800
