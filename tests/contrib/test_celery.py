"""Celery hand-off: the receiver claims and enqueues, a real Celery worker runs the handlers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import superoffice_webhooks as sow
from celery_app import PREFIX, QUEUE, URL, build
from delivery_load import FAIL_EVERY, SECRET, RedisSink, deliver, deliveries
from superoffice_webhooks.contrib.celery import CeleryHandoff
from superoffice_webhooks.idempotency import AsyncSQLiteStore, ClaimState, MemoryStore, SQLiteStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import Closer

TESTS = Path(__file__).parent.parent
EVENTS = 100  # 80 events, 20 duplicates


@pytest.fixture
def worker(redis_url: str, redis_prefix: str) -> Iterator[tuple[str, str]]:
    """A real Celery worker process on its own queue; terminated afterwards."""
    queue = f"superoffice-webhooks-test-{uuid.uuid4().hex}"
    env = {**os.environ, URL: redis_url, PREFIX: redis_prefix, QUEUE: queue}
    # Celery configures Django when this is set (the Django adapter tests set it).
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "celery", "-A", "celery_app", "worker", "--pool=solo"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue]
    process = subprocess.Popen([*command, "--loglevel=WARNING"], cwd=TESTS, env=env)  # noqa: S603  # a fixed command line
    try:
        yield redis_prefix, queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def test_handoff_with_a_real_worker(redis_url: str, worker: tuple[str, str]) -> None:
    """The receiver answers 200 without running handlers; the worker runs each event once and completes it."""
    prefix, queue = worker
    handoff = build(redis_url, prefix, queue)
    receiver = sow.Receiver(secret=SECRET, handoff=handoff)
    bodies = deliveries(EVENTS)
    events = {sow.parse(b) for b in bodies}
    sink = RedisSink(redis_url, prefix)

    statuses = [deliver(receiver, body) for body in bodies]
    first_answers = [s[0] for s in statuses]
    deadline = time.monotonic() + 60
    while len(sink.counts()[0]) < len(events) and time.monotonic() < deadline:
        time.sleep(0.05)

    successes, failures = sink.counts()
    assert successes == dict.fromkeys((str(e.event_id) for e in events), 1)
    failing = {str(e.event_id) for e in events if e.primary_key % FAIL_EVERY == 0}
    assert failing
    assert failures == dict.fromkeys(failing, 2)  # failed once, then the task's retry succeeded
    assert set(first_answers) <= {200, 409}
    assert first_answers.count(200) >= len(events)
    assert all(s[-1] == 200 for s in statuses)
    for event in events:
        assert handoff.store.claim(event.event_id, "after") is ClaimState.COMPLETED
    again = bodies[0]
    outcome = receiver.receive(again, {"X-SuperOffice-Signature": sow.sign(again, SECRET)})
    assert outcome.reason == "duplicate of an event already handled"


def test_run_completes_and_releases(tmp_path: Path, closing: Closer) -> None:
    """CeleryHandoff.run (the task body) completes the claim on success and keeps it on failure."""
    import celery  # noqa: PLC0415  # the app under test

    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    told: list[sow.Event] = []
    dispatcher = sow.Dispatcher()
    broken = {"yes": True}

    @dispatcher.on("person.created")
    def handler(event: sow.Event) -> None:
        if broken["yes"]:
            msg = "still broken"
            raise RuntimeError(msg)

    handoff = CeleryHandoff(
        celery.Celery(set_as_current=False),
        store=store,
        dispatcher=dispatcher,
        on_failure=lambda event, exc: told.append(event),
    )
    body = deliveries(10)[0]
    event = sow.parse(body)
    assert store.claim(event.event_id, "token") is ClaimState.CLAIMED

    with pytest.raises(sow.HandlerError):
        handoff.run(event.to_json(), "token")
    assert told == [event]
    assert store.claim(event.event_id, "other") is ClaimState.IN_FLIGHT  # the task retries
    broken["yes"] = False
    assert handoff.run(event.to_json(), "token").handled
    assert store.claim(event.event_id, "other") is ClaimState.COMPLETED


def test_handoff_needs_a_shared_sync_store(tmp_path: Path, closing: Closer) -> None:
    """CeleryHandoff refuses the in-memory store and non-stores; takes AsyncSQLiteStore's sync side."""
    import celery  # noqa: PLC0415  # the app under test

    app = celery.Celery(set_as_current=False)
    with pytest.raises(sow.ConfigurationError, match="shared between processes"):
        CeleryHandoff(app, store=MemoryStore())
    with pytest.raises(sow.ConfigurationError, match="shared between processes"):
        CeleryHandoff(app, store="redis://localhost")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(sow.ConfigurationError, match=r"celery\.Celery"):
        CeleryHandoff(object(), store=closing(SQLiteStore(tmp_path / "a.sqlite3")))
    handoff = CeleryHandoff(
        app,
        store=closing(AsyncSQLiteStore(tmp_path / "b.sqlite3")),
        retry_delay=timedelta(seconds=1),
    )
    assert isinstance(handoff.store, SQLiteStore)


def test_receiver_uses_the_handoffs_store(tmp_path: Path, closing: Closer) -> None:
    """A receiver with a hand-off uses its store; another store alongside is refused."""
    import celery  # noqa: PLC0415  # the app under test

    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    handoff = CeleryHandoff(celery.Celery(set_as_current=False), store=store)

    assert sow.Receiver(secret=SECRET, handoff=handoff).store is store
    with pytest.raises(sow.ConfigurationError, match="hand-off's store"):
        sow.Receiver(secret=SECRET, handoff=handoff, idempotency=MemoryStore())
