"""Celery hand-off: the receiver claims and enqueues, a real Celery worker runs the handlers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def handoff_for(store: SQLiteStore, dispatcher: sow.Dispatcher, **options: Any) -> CeleryHandoff:
    import celery  # noqa: PLC0415  # the app under test

    return CeleryHandoff(
        celery.Celery(set_as_current=False), store=store, dispatcher=dispatcher, **options
    )


def claimed(store: SQLiteStore) -> sow.Event:
    """person.created from the load-test bodies, with its claim held as "token"."""
    event = sow.parse(deliveries(10)[0])
    assert store.claim(event.event_id, "token") is ClaimState.CLAIMED
    return event


@pytest.mark.parametrize(
    ("option", "value"),
    [("dispatcher", "handlers.dispatcher"), ("max_retries", -1), ("max_retries", "3")],
)
def test_handoff_options_are_checked(
    option: str, value: object, tmp_path: Path, closing: Closer
) -> None:
    """A dispatcher that is not a Dispatcher, or a bad max_retries, is a ConfigurationError."""
    import celery  # noqa: PLC0415  # the app under test

    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    with pytest.raises(sow.ConfigurationError, match=option):
        CeleryHandoff(celery.Celery(set_as_current=False), store=store, **{option: value})  # type: ignore[arg-type]  # wrong on purpose


def test_run_awaits_async_handlers(tmp_path: Path, closing: Closer) -> None:
    """The worker runs async handlers in an event loop of its own, then completes the claim."""
    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    seen: list[sow.Event] = []
    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.created")
    async def handler(event: sow.Event) -> None:
        seen.append(event)

    event = claimed(store)
    result = handoff_for(store, dispatcher).run(event.to_json(), "token")

    assert result.handled
    assert seen == [event]
    assert store.claim(event.event_id, "other") is ClaimState.COMPLETED


def test_a_failing_hook_releases_the_claim(tmp_path: Path, closing: Closer) -> None:
    """When on_failure itself raises, its error propagates and the claim is released."""
    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    dispatcher = sow.Dispatcher()
    dispatcher.on("person.created")(lambda _event: 1 / 0)

    def hook(event: sow.Event, exc: sow.HandlerError) -> None:
        msg = "the failure log is down"
        raise OSError(msg)

    event = claimed(store)
    with pytest.raises(OSError, match="failure log"):
        handoff_for(store, dispatcher, on_failure=hook).run(event.to_json(), "token")
    assert store.claim(event.event_id, "retry") is ClaimState.CLAIMED


def test_an_interrupted_task_releases_the_claim(tmp_path: Path, closing: Closer) -> None:
    """A worker interrupted inside a handler (not a handler error) releases the claim."""
    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.created")
    def handler(event: sow.Event) -> None:
        raise KeyboardInterrupt

    event = claimed(store)
    with pytest.raises(KeyboardInterrupt):
        handoff_for(store, dispatcher).run(event.to_json(), "token")
    assert store.claim(event.event_id, "retry") is ClaimState.CLAIMED


def test_the_task_releases_the_claim_after_its_last_retry(tmp_path: Path, closing: Closer) -> None:
    """The task retries a failing handler max_retries times, then releases the claim and fails."""
    store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    told: list[sow.Event] = []
    dispatcher = sow.Dispatcher()
    dispatcher.on("person.created")(lambda _event: 1 / 0)
    handoff = handoff_for(
        store, dispatcher, max_retries=1, on_failure=lambda event, _exc: told.append(event)
    )

    event = claimed(store)
    result = handoff.task.apply(args=(event.to_json(), "token"))

    assert result.failed()
    assert "1 of 1 handler(s) failed" in str(result.result)  # Celery rebuilds the error
    assert told == [event, event]  # the first run and its one retry
    assert store.claim(event.event_id, "redelivery") is ClaimState.CLAIMED
