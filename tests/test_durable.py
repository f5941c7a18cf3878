"""Durable delivery: a Receiver with an inbox, the retry policy, the lifecycle and the Worker."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import superoffice_webhooks as sow
from conftest import SECRET, example
from superoffice_webhooks import _delivery
from superoffice_webhooks._delivery import Delivery, describe, settlement
from superoffice_webhooks.exceptions import ConfigurationError, InboxError, PayloadError
from superoffice_webhooks.inbox import (
    Entry,
    Inbox,
    MemoryInbox,
    RetryPolicy,
    Settlement,
    SQLiteInbox,
    State,
    entry_id,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

FAST = RetryPolicy(first_delay=timedelta(milliseconds=1), max_delay=timedelta(milliseconds=1))


def signed(body: bytes) -> dict[str, str]:
    return {"X-SuperOffice-Signature": sow.sign(body, SECRET)}


def fresh(name: str) -> bytes:
    """The documented example *name* with an EventId of its own (the examples share one)."""
    data = json.loads(example(name))
    data["EventId"] = str(uuid.uuid4())
    return json.dumps(data).encode()


def body_with(name: str, **changes: object) -> bytes:
    data = json.loads(example(name))
    data.update(changes)
    return json.dumps(data).encode()


class Calls:
    """A dispatcher whose handler records each event and fails while *failing* is set."""

    def __init__(self) -> None:
        self.events: list[sow.Event] = []
        self.failing = False
        self.dispatcher = sow.Dispatcher()
        self.dispatcher.on_any(self.handle)

    def handle(self, event: sow.Event) -> None:
        self.events.append(event)
        if self.failing:
            msg = "the CRM's database is down"
            raise RuntimeError(msg)


class FlakyInbox(MemoryInbox):
    """A MemoryInbox whose chosen methods raise OSError the next *n* times they are called."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[str, int] = {}

    def _maybe_fail(self, method: str) -> None:
        left = self.failures.get(method, 0)
        if left:
            self.failures[method] = left - 1
            msg = f"{method}: no space left on device"
            raise OSError(msg)

    def add(self, entry: Entry) -> bool:
        self._maybe_fail("add")
        return super().add(entry)

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        self._maybe_fail("claim")
        return super().claim(entry_id, owner, lease)

    def take(self, owner: str, lease: float) -> Entry | None:
        self._maybe_fail("take")
        return super().take(owner, lease)

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        self._maybe_fail("renew")
        return super().renew(entry_id, owner, lease)

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        self._maybe_fail("settle")
        return super().settle(entry_id, owner, settlement)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture(params=["memory", "sqlite"])
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Inbox]:
    if request.param == "memory":
        yield MemoryInbox()
    else:
        sqlite = SQLiteInbox(tmp_path / "inbox.sqlite3")
        yield sqlite
        sqlite.close()


def only(inbox: Inbox) -> Entry:
    (entry,) = inbox.entries()
    return entry


# --- the retry policy ------------------------------------------------------------------


def test_retry_delays_grow_exponentially_with_full_jitter() -> None:
    """Retry n waits draw * min(max_delay, first_delay * 2**(n-1)) seconds."""
    policy = RetryPolicy()
    assert [policy.delay(n, 0, 1.0) for n in (1, 2, 3, 10, 11)] == [1, 2, 4, 512, 600]
    assert policy.delay(5, 0, 0.5) == 8
    assert policy.delay(3, 0, 0.0) == 0
    assert policy.delay(10_000, 0, 1.0) == 600  # no overflow however many attempts


def test_retries_stop_at_max_attempts_or_give_up_after() -> None:
    """No retry once max_attempts failed, or when it would fall after give_up_after."""
    policy = RetryPolicy(max_attempts=3, give_up_after=timedelta(hours=1))
    assert policy.delay(2, 0, 1.0) == 2
    assert policy.delay(3, 0, 1.0) is None
    assert policy.delay(1, 3599.5, 1.0) is None
    assert policy.delay(1, 3599.5, 0.5) == 0.5


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"first_delay": timedelta(0)}, "first_delay"),
        ({"max_delay": 5}, "max_delay"),
        ({"give_up_after": timedelta(seconds=-1)}, "give_up_after"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
    ],
)
def test_retry_policy_options_are_checked(options: dict[str, Any], match: str) -> None:
    """A wrong RetryPolicy option is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=match):
        RetryPolicy(**options)


def test_settlement_decides_done_retry_or_dead() -> None:
    """settlement() is DONE on success, PENDING with the policy's delay, DEAD when it gives up."""
    entry = Entry(
        tenant="t",
        event_id=sow.parse(example("person.created")).event_id,
        event="person.created",
        body=b"",
        state=State.RUNNING,
        attempts=2,
        received_at=100.0,
        next_attempt_at=100.0,
    )
    error = RuntimeError("boom")
    policy = RetryPolicy(max_attempts=3)

    assert settlement(entry, None, policy, 110.0, 0.5) == Settlement(state=State.DONE)
    assert settlement(entry, error, policy, 110.0, 0.5) == Settlement(
        state=State.PENDING, delay=1.0, error="RuntimeError: boom"
    )
    dead = settlement(attrs.evolve(entry, attempts=3), error, policy, 110, 0)
    assert dead == Settlement(state=State.DEAD, error="RuntimeError: boom")


def test_describe_names_the_members_of_a_handler_error() -> None:
    """A HandlerError is described with its message and its first failures, never a body."""
    event = sow.parse(example("person.created"))
    group = sow.HandlerError(
        "2 of 2 handler(s) failed", [KeyError("x"), ValueError("y")], event=event
    )
    assert describe(group) == (
        "HandlerError: 2 of 2 handler(s) failed (KeyError: 'x'; ValueError: y)"
    )


# --- a Receiver with an inbox ----------------------------------------------------------


def test_inline_runs_the_handlers_once_and_records_them_done(inbox: Inbox, calls: Calls) -> None:
    """Inline: the event is recorded, its handlers run in the request, the entry is DONE."""
    receiver = sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox)
    body = example("person.consented")

    first = receiver.receive(body, signed(body))
    again = receiver.receive(body, signed(body))

    assert (first.status, first.reason) == (200, "handled by 1 handler(s)")
    assert (again.status, again.reason) == (200, "duplicate of an event already recorded")
    assert len(calls.events) == 1
    entry = only(inbox)
    assert (entry.state, entry.attempts, entry.event, entry.body) == (
        State.DONE,
        1,
        "person.consented",
        body,
    )
    assert entry.id == entry_id("Cust1234", sow.parse(body).event_id)


def test_inline_failure_answers_200_and_leaves_a_retry(inbox: Inbox, calls: Calls) -> None:
    """A failing handler does not walk the webhook towards TooManyErrors: 200, and a retry is due."""
    calls.failing = True
    failures: list[tuple[sow.Event, sow.HandlerError]] = []
    receiver = sow.Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        inbox=inbox,
        retry=FAST,
        on_failure=lambda e, exc: failures.append((e, exc)),
    )
    body = example("person.created")

    outcome = receiver.receive(body, signed(body))

    assert (outcome.status, outcome.reason) == (
        200,
        "handler failed; the event is recorded and will be retried",
    )
    assert isinstance(outcome.error, sow.HandlerError)
    entry = only(inbox)
    assert entry.state is State.PENDING
    assert entry.last_error is not None
    assert "RuntimeError: the CRM's database is down" in entry.last_error
    assert [e.event for e, _ in failures] == ["person.created"]

    calls.failing = False
    time.sleep(0.01)
    assert sow.Worker(inbox, calls.dispatcher, retry=FAST).run_once() == 1
    assert only(inbox).state is State.DONE
    assert len(calls.events) == 2


def test_worker_mode_answers_at_once_and_the_worker_runs_it(inbox: Inbox, calls: Calls) -> None:
    """run_handlers="worker": 200 once recorded, nothing runs until a Worker takes it."""
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, run_handlers="worker"
    )
    body = example("person.created")

    outcome = receiver.receive(body, signed(body))

    assert (outcome.status, outcome.reason) == (200, "recorded; a worker will run the handlers")
    assert calls.events == []
    assert only(inbox).state is State.PENDING
    worker = sow.Worker(inbox, calls.dispatcher)
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert [e.event for e in calls.events] == ["person.created"]
    assert only(inbox).state is State.DONE


def test_an_inbox_that_cannot_record_answers_503_and_runs_nothing(calls: Calls) -> None:
    """If the record cannot be written, the answer is 503 so SuperOffice retries; no handler runs."""
    inbox = FlakyInbox()
    inbox.failures["add"] = 1
    receiver = sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox)
    body = example("person.created")

    outcome = receiver.receive(body, signed(body))
    retried = receiver.receive(body, signed(body))

    assert outcome.status == 503
    assert isinstance(outcome.error, InboxError)
    assert isinstance(outcome.error.__cause__, OSError)
    assert "SuperOffice will send it again" in outcome.reason
    assert retried.status == 200
    assert len(calls.events) == 1


def test_a_failed_claim_after_recording_answers_200_and_leaves_it_to_a_worker(
    calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """Recorded but the attempt could not start: 200 (it is recorded), and a worker runs it."""
    inbox = FlakyInbox()
    inbox.failures["claim"] = 1
    receiver = sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox)
    body = example("person.created")

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        outcome = receiver.receive(body, signed(body))

    assert (outcome.status, outcome.reason) == (200, "recorded; a worker will run the handlers")
    assert any("could not start its attempt" in r.getMessage() for r in caplog.records)
    assert receiver.receive(body, signed(body)).reason == "duplicate of an event already recorded"
    assert sow.Worker(inbox, calls.dispatcher).run_once() == 1
    assert len(calls.events) == 1


def test_a_store_error_while_settling_is_retried(calls: Calls) -> None:
    """settle() failing a few times is retried: the entry still ends DONE."""
    inbox = FlakyInbox()
    inbox.failures["settle"] = 3
    receiver = sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox)
    body = example("person.created")

    assert receiver.receive(body, signed(body)).status == 200
    assert only(inbox).state is State.DONE


def test_a_store_that_never_settles_leaves_the_entry_to_its_lease(
    calls: Calls, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If settle() keeps failing, it is retried for twice the lease; then the lease decides."""
    monkeypatch.setattr(_delivery, "_SETTLE_BUDGET", 0.0)  # two leases of 1 s, then give up
    inbox = FlakyInbox()
    inbox.failures["settle"] = 10**6
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, lease=timedelta(seconds=1)
    )
    body = example("person.created")

    with caplog.at_level(logging.ERROR, logger="superoffice_webhooks"):
        assert receiver.receive(body, signed(body)).status == 200
    assert only(inbox).state is State.RUNNING
    assert 6 < 10**6 - inbox.failures["settle"] < 20  # tries at most a sixth of a lease apart
    assert any(
        "it will run again once its lease runs out" in r.getMessage() for r in caplog.records
    )
    inbox.failures["settle"] = 0
    assert sow.Worker(inbox, calls.dispatcher).run_once() == 1
    assert only(inbox).state is State.DONE
    assert len(calls.events) == 2


def test_run_once_beside_a_running_worker_awaits_in_its_own_loop() -> None:
    """run_once() on another thread while the worker's thread awaits a handler runs its own."""
    inbox = MemoryInbox()
    dispatcher = sow.Dispatcher()
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    @dispatcher.on("person.created")
    async def slow(event: sow.PersonCreated) -> None:
        started.set()
        await asyncio.to_thread(release.wait, 10)
        ran.append(event.event)

    @dispatcher.on("person.deleted")
    async def quick(event: sow.PersonDeleted) -> None:
        ran.append(event.event)

    receiver = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, run_handlers="worker"
    )
    first, second = fresh("person.created"), fresh("person.deleted")
    receiver.receive(first, signed(first))
    worker = sow.Worker(inbox, dispatcher, poll_interval=timedelta(milliseconds=10)).start()
    try:
        assert started.wait(10)
        receiver.receive(second, signed(second))

        assert worker.run_once() == 1
        assert ran == ["person.deleted"]
    finally:
        release.set()
        worker.stop(10)
    assert ran == ["person.deleted", "person.created"]
    assert {e.state for e in inbox.entries()} == {State.DONE}


def test_areceive_records_and_runs_with_async_handlers(inbox: Inbox) -> None:
    """areceive with an inbox awaits async handlers; a failure answers 200 with a retry due."""
    dispatcher = sow.Dispatcher()
    ran: list[str] = []

    @dispatcher.on("person.created")
    async def created(event: sow.PersonCreated) -> None:
        ran.append(event.event)

    @dispatcher.on("person.deleted")
    async def deleted(event: sow.PersonDeleted) -> None:
        raise RuntimeError("async handler broke")

    receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=dispatcher, inbox=inbox, retry=FAST)
    ok, failing = example("person.created"), example("person.deleted")

    async def run() -> list[sow.Outcome]:
        return [
            await receiver.areceive(ok, signed(ok)),
            await receiver.areceive(ok, signed(ok)),
            await receiver.areceive(failing, signed(failing)),
        ]

    outcomes = asyncio.run(run())

    assert [(o.status, o.reason) for o in outcomes] == [
        (200, "handled by 1 handler(s)"),
        (200, "duplicate of an event already recorded"),
        (200, "handler failed; the event is recorded and will be retried"),
    ]
    assert ran == ["person.created"]
    states = {e.event: e.state for e in inbox.entries()}
    assert states == {"person.created": State.DONE, "person.deleted": State.PENDING}


@pytest.mark.parametrize("hook_raises", [False, True], ids=["hook returns", "hook raises"])
def test_an_async_receiver_awaits_its_hook_after_recording_a_failure(
    hook_raises: bool,  # a parameter
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With an inbox, AsyncReceiver awaits on_failure once the failure is recorded; a raising hook is logged."""
    dispatcher = sow.Dispatcher()
    inbox = MemoryInbox()
    told: list[tuple[State, str]] = []

    @dispatcher.on("person.deleted")
    async def deleted(event: sow.PersonDeleted) -> None:
        raise RuntimeError("handler broke")

    async def hook(event: sow.Event, error: sow.HandlerError) -> None:
        told.append((only(inbox).state, type(error.exceptions[0]).__name__))
        if hook_raises:
            raise LookupError("hook broke")

    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, retry=FAST, on_failure=hook
    )
    body = example("person.deleted")

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert (outcome.status, type(outcome.error)) == (200, sow.HandlerError)
    assert told == [(State.PENDING, "RuntimeError")]
    assert only(inbox).attempts == 1
    raised = [r for r in caplog.records if "on_failure hook raised" in r.getMessage()]
    assert len(raised) == (1 if hook_raises else 0)


def test_areceive_answers_503_when_the_inbox_fails() -> None:
    """areceive gives 503 too when the inbox cannot record the event."""
    inbox = FlakyInbox()
    inbox.failures["add"] = 1
    receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=sow.Dispatcher(), inbox=inbox)
    body = example("person.created")

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert (outcome.status, type(outcome.error)) == (503, InboxError)


def test_areceive_in_worker_mode_records_only(tmp_path: Path) -> None:
    """areceive with run_handlers="worker" records the event in a thread and answers at once."""
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3")
    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=sow.Dispatcher(), inbox=inbox, run_handlers="worker"
    )
    body = example("person.created")

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert outcome.reason == "recorded; a worker will run the handlers"
    assert only(inbox).state is State.PENDING
    inbox.close()


def test_an_interrupted_attempt_is_handed_back(inbox: Inbox) -> None:
    """KeyboardInterrupt in a handler puts the entry back to PENDING, due now, and propagates."""
    dispatcher = sow.Dispatcher()

    @dispatcher.on_any
    def interrupted(event: sow.Event) -> None:
        raise KeyboardInterrupt

    receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher, inbox=inbox)
    async_receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=dispatcher, inbox=inbox)
    body = example("person.created")

    with pytest.raises(KeyboardInterrupt):
        receiver.receive(body, signed(body))
    changed = fresh("person.changed")
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(async_receiver.areceive(changed, signed(changed)))

    assert {e.state for e in inbox.entries()} == {State.PENDING}
    assert all(e.next_attempt_at <= time.time() for e in inbox.entries())


def test_the_on_failure_hook_raising_loses_nothing(
    calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """An on_failure hook that raises is logged; the entry is still recorded for a retry."""
    calls.failing = True

    def hook(event: sow.Event, error: sow.HandlerError) -> None:
        msg = "the hook broke too"
        raise ValueError(msg)

    inbox = MemoryInbox()
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, on_failure=hook
    )
    body = example("person.created")

    with caplog.at_level(logging.ERROR, logger="superoffice_webhooks"):
        assert receiver.receive(body, signed(body)).status == 200
    assert only(inbox).state is State.PENDING
    assert any("on_failure hook raised" in r.getMessage() for r in caplog.records)


def test_the_last_retry_makes_the_event_dead_and_logs_an_error(
    calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """When the policy gives up, the entry is DEAD with its error, logged at ERROR with how to replay."""
    calls.failing = True
    inbox = MemoryInbox()
    receiver = sow.Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        inbox=inbox,
        retry=RetryPolicy(max_attempts=2, first_delay=timedelta(milliseconds=1)),
    )
    body = example("person.created")

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        receiver.receive(body, signed(body))
        time.sleep(0.01)
        sow.Worker(inbox, calls.dispatcher, retry=receiver.delivery.retry).run_once()  # type: ignore[union-attr]  # an inbox was given

    entry = only(inbox)
    assert (entry.state, entry.attempts) == (State.DEAD, 2)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(
        "is dead after 2 attempt(s)" in r.getMessage()
        and f"inbox replay {entry.id}" in r.getMessage()
        and r.exc_info is not None
        for r in errors
    )
    assert inbox.replay(entry.id)
    calls.failing = False
    assert sow.Worker(inbox, calls.dispatcher).run_once() == 1
    assert only(inbox).state is State.DONE


# --- verified bodies that parse() refuses -----------------------------------------------


def test_an_unreadable_verified_body_is_kept_dead_in_the_inbox(inbox: Inbox, calls: Calls) -> None:
    """A signed body with a wrong type is answered 200 and kept DEAD with the field, not the value."""
    body = body_with("person.created", PrimaryKey="12")
    receiver = sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox)

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert outcome.reason.endswith("recorded as dead in the inbox")
    assert isinstance(outcome.error, PayloadError)
    entry = only(inbox)
    assert (entry.state, entry.event, entry.tenant, entry.body) == (
        State.DEAD,
        "person.created",
        "Cust1234",
        body,
    )
    assert entry.last_error is not None
    assert "PrimaryKey" in entry.last_error
    assert '"12"' not in entry.last_error
    assert calls.events == []


def test_an_unreadable_body_replayed_is_dead_again_with_its_error(calls: Calls) -> None:
    """Replaying a body that still cannot be parsed settles it DEAD again, with the same error."""
    inbox = MemoryInbox()
    body = body_with("person.created", PrimaryKey="12")
    sow.Receiver(secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox).receive(
        body, signed(body)
    )
    entry = only(inbox)
    assert inbox.replay(entry.id)

    assert sow.Worker(inbox, calls.dispatcher).run_once() == 1

    again = only(inbox)
    assert (again.state, again.attempts, again.last_error) == (State.DEAD, 1, entry.last_error)
    assert calls.events == []


@pytest.mark.parametrize(
    ("body", "tenant", "event"),
    [
        (b"{not json", "unknown", ""),
        (json.dumps({"ContextIdentifier": "Cust7", "EventId": "nope"}).encode(), "Cust7", ""),
        (json.dumps({"ContextIdentifier": "", "Event": 4}).encode(), "unknown", ""),
    ],
    ids=["not JSON", "no GUID", "wrong types"],
)
def test_an_unreadable_body_without_an_event_id_is_keyed_by_its_content(
    body: bytes, tenant: str, event: str
) -> None:
    """Without a readable EventId the entry's id comes from the body: the same body is one entry."""
    inbox = MemoryInbox()
    receiver = sow.Receiver(secret=SECRET, dispatcher=sow.Dispatcher(), inbox=inbox)

    assert receiver.receive(body, signed(body)).status == 200
    assert receiver.receive(body, signed(body)).status == 200

    entry = only(inbox)
    assert (entry.tenant, entry.event, entry.state) == (tenant, event, State.DEAD)


def test_an_unreadable_body_goes_to_the_hook_without_an_inbox() -> None:
    """Without an inbox, on_invalid_payload=callable is given the verified body and the error."""
    kept: list[tuple[bytes, PayloadError]] = []
    receiver = sow.Receiver(
        secret=SECRET,
        dispatcher=sow.Dispatcher(),
        on_invalid_payload=lambda b, e: kept.append((b, e)),
    )
    body = body_with("person.created", PrimaryKey=None)

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert outcome.reason.endswith("given to on_invalid_payload")
    assert [(b, e.field) for b, e in kept] == [(body, "PrimaryKey")]


def test_an_async_hook_is_awaited_by_an_async_receiver_and_refused_by_a_receiver() -> None:
    """An AsyncReceiver awaits an async on_invalid_payload hook; a Receiver says to use one."""
    kept: list[bytes] = []

    async def keep(body: bytes, error: PayloadError) -> None:
        kept.append(body)

    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=sow.Dispatcher(), on_invalid_payload=keep
    )
    sync_receiver = sow.Receiver(
        secret=SECRET,
        dispatcher=sow.Dispatcher(),
        on_invalid_payload=keep,  # type: ignore[arg-type]  # the misuse under test
    )
    body = body_with("person.created", PrimaryKey=None)

    assert asyncio.run(receiver.areceive(body, signed(body))).status == 200
    assert asyncio.run(receiver.aaccept(body, signed(body))).status == 200  # type: ignore[union-attr]  # an Outcome
    assert kept == [body, body]
    with pytest.raises(ConfigurationError, match="Use an AsyncReceiver"):
        sync_receiver.receive(body, signed(body))


def test_a_sync_hook_is_refused_by_an_async_receiver() -> None:
    """An AsyncReceiver refuses a sync on_invalid_payload hook, saying to make it async."""
    kept: list[bytes] = []
    receiver = sow.AsyncReceiver(
        secret=SECRET,
        dispatcher=sow.Dispatcher(),
        on_invalid_payload=lambda body, _error: kept.append(body),  # type: ignore[arg-type,return-value]  # the misuse under test
    )
    body = body_with("person.created", PrimaryKey=None)

    with pytest.raises(ConfigurationError, match="on_invalid_payload hook of an AsyncReceiver"):
        asyncio.run(receiver.areceive(body, signed(body)))


@pytest.mark.parametrize("use_async", [False, True], ids=["receive", "areceive"])
def test_keeping_that_fails_answers_503(use_async: bool) -> None:  # a parameter
    """If the hook (or inbox) cannot keep the body, the answer is 503 so SuperOffice sends it again."""

    def broken(body: bytes, error: PayloadError) -> None:
        msg = "disk full"
        raise OSError(msg)

    async def abroken(body: bytes, error: PayloadError) -> None:
        broken(body, error)

    inbox = FlakyInbox()
    inbox.failures["add"] = 1
    body = body_with("person.created", PrimaryKey=None)
    options: list[dict[str, Any]] = [
        {"on_invalid_payload": abroken if use_async else broken},
        {"inbox": inbox},
    ]
    for option in options:
        outcome = (
            asyncio.run(
                sow.AsyncReceiver(secret=SECRET, dispatcher=sow.Dispatcher(), **option).areceive(
                    body, signed(body)
                )
            )
            if use_async
            else sow.Receiver(secret=SECRET, dispatcher=sow.Dispatcher(), **option).receive(
                body, signed(body)
            )
        )
        assert (outcome.status, type(outcome.error)) == (503, InboxError)
        assert "keeping it failed" in outcome.reason


def test_areceive_keeps_an_unreadable_body_in_the_inbox(tmp_path: Path) -> None:
    """areceive records an unreadable verified body in the inbox too (in a thread for SQLite)."""
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3")
    receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=sow.Dispatcher(), inbox=inbox)
    body = body_with("person.created", PrimaryKey=None)

    assert asyncio.run(receiver.areceive(body, signed(body))).status == 200
    assert only(inbox).state is State.DEAD
    inbox.close()


def test_reject_and_unsigned_receivers_answer_400() -> None:
    """on_invalid_payload="reject", and any allow_unsigned receiver, answer 400 as before."""
    body = body_with("person.created", PrimaryKey=None)
    rejecting = sow.Receiver(secret=SECRET, on_invalid_payload="reject")
    unsigned = sow.Receiver(allow_unsigned=True)

    assert rejecting.receive(body, signed(body)).status == 400
    assert unsigned.receive(body, {}).status == 400


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"run_handlers": "later"}, "run_handlers must be"),
        ({"run_handlers": "worker"}, "needs an inbox"),
        ({"inbox": MemoryInbox(), "idempotency": None}, "leave out idempotency"),
        ({"on_invalid_payload": "ignore"}, "on_invalid_payload must be"),
        ({"inbox": "sqlite:///x"}, "inbox must be an Inbox"),
        ({"inbox": MemoryInbox(), "retry": {"max_attempts": 3}}, "retry must be a RetryPolicy"),
        ({"inbox": MemoryInbox(), "lease": timedelta(milliseconds=10)}, "lease must be"),
        ({"inbox": MemoryInbox(), "dispatcher": "handlers"}, "dispatcher must be a Dispatcher"),
    ],
)
def test_inbox_options_are_checked(options: dict[str, Any], match: str) -> None:
    """Wrong inbox options are ConfigurationErrors saying what is expected."""
    with pytest.raises(ConfigurationError, match=match):
        sow.Receiver(secret=SECRET, **options)


def test_delivery_checks_its_dispatcher() -> None:
    """Delivery refuses a dispatcher that is not a Dispatcher."""
    with pytest.raises(ConfigurationError, match="dispatcher must be a Dispatcher"):
        Delivery(MemoryInbox(), "handlers")  # type: ignore[arg-type]  # wrong on purpose


# --- the Worker ------------------------------------------------------------------------------


def test_a_worker_thread_runs_due_events_until_stopped(calls: Calls) -> None:
    """start() runs a worker in a daemon thread that handles events as they are recorded."""
    inbox = MemoryInbox()
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, run_handlers="worker"
    )
    worker = sow.Worker(inbox, calls.dispatcher, poll_interval=timedelta(milliseconds=10)).start()
    try:
        with pytest.raises(ConfigurationError, match="running already"):
            worker.start()
        for name in ("person.created", "person.changed"):
            body = fresh(name)
            receiver.receive(body, signed(body))
        deadline = time.monotonic() + 10
        while len(calls.events) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop(timeout=10)
    assert sorted(e.event for e in calls.events) == ["person.changed", "person.created"]
    assert {e.state for e in inbox.entries()} == {State.DONE}


def test_a_worker_keeps_going_when_the_inbox_fails(
    calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """An inbox error while taking is logged and the worker tries again on its next pass."""
    inbox = FlakyInbox()
    inbox.failures["take"] = 1
    sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, run_handlers="worker"
    ).receive(example("person.created"), signed(example("person.created")))
    worker = sow.Worker(inbox, calls.dispatcher, poll_interval=timedelta(milliseconds=10))

    with caplog.at_level(logging.ERROR, logger="superoffice_webhooks"):
        worker.start()
        deadline = time.monotonic() + 10
        while not calls.events and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.stop(timeout=10)

    assert len(calls.events) == 1
    assert any("could not read the inbox" in r.getMessage() for r in caplog.records)


def test_a_worker_runs_sync_and_async_handlers_on_one_loop() -> None:
    """The worker awaits async handlers and runs sync ones, keeping one event loop for its life."""
    loops: list[asyncio.AbstractEventLoop] = []
    sync_threads: list[int] = []
    dispatcher = sow.Dispatcher()

    @dispatcher.on_any
    async def remember_loop(event: sow.Event) -> None:
        loops.append(asyncio.get_running_loop())

    @dispatcher.on_any
    def plain(event: sow.Event) -> None:
        sync_threads.append(threading.get_ident())

    inbox = MemoryInbox()
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, run_handlers="worker"
    )
    for name in ("person.created", "person.changed", "person.deleted"):
        body = fresh(name)
        receiver.receive(body, signed(body))
    worker = sow.Worker(inbox, dispatcher, poll_interval=timedelta(milliseconds=10))

    worker.start()
    deadline = time.monotonic() + 10
    while len(loops) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop(timeout=10)

    assert len(loops) == 3
    assert len(set(map(id, loops))) == 1
    assert len(sync_threads) == 3


def test_a_slow_handler_keeps_its_lease_and_is_not_run_twice(calls: Calls) -> None:
    """The heartbeat renews a running entry's lease: a second worker does not take it over."""
    started = threading.Event()
    release = threading.Event()
    dispatcher = sow.Dispatcher()
    runs: list[str] = []

    @dispatcher.on_any
    def slow(event: sow.Event) -> None:
        runs.append(event.event)
        started.set()
        release.wait(10)

    inbox = MemoryInbox()
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, run_handlers="worker"
    )
    receiver.receive(example("person.created"), signed(example("person.created")))
    first = sow.Worker(inbox, dispatcher, lease=timedelta(seconds=1))
    second = sow.Worker(inbox, dispatcher, lease=timedelta(seconds=1))
    thread = threading.Thread(target=first.run_once)
    thread.start()
    try:
        assert started.wait(10)
        lease_before = only(inbox).lease_until
        for _ in range(15):  # 1.5 s: the unrenewed lease would have run out
            assert second.run_once() == 0
            time.sleep(0.1)
        assert only(inbox).lease_until != lease_before
    finally:
        release.set()
        thread.join(10)
    assert runs == ["person.created"]
    assert only(inbox).state is State.DONE


def test_a_lost_lease_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """If another worker took the entry over, the heartbeat says so and stops; renew errors are logged."""
    inbox = FlakyInbox()
    inbox.failures["renew"] = 1
    dispatcher = sow.Dispatcher()
    done = threading.Event()

    @dispatcher.on_any
    def slow(event: sow.Event) -> None:
        # The first renewal (at 1/3 s) fails; then the entry is taken by someone else.
        time.sleep(0.5)
        entry = only(inbox)
        inbox.settle(entry.id, entry.owner or "", Settlement(state=State.PENDING))
        inbox.claim(entry.id, "intruder", 60)
        time.sleep(0.5)
        done.set()

    sow.Receiver(secret=SECRET, dispatcher=dispatcher, inbox=inbox, run_handlers="worker").receive(
        example("person.created"), signed(example("person.created"))
    )
    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        sow.Worker(inbox, dispatcher, lease=timedelta(seconds=1)).run_once()

    messages = [r.getMessage() for r in caplog.records]
    assert done.is_set()
    assert any("Could not renew the lease" in m for m in messages)
    assert any("Lost the lease" in m for m in messages)
    assert any("was taken over before its result" in m for m in messages)
    assert only(inbox).owner == "intruder"


def test_worker_options_are_checked() -> None:
    """A Worker's poll_interval must be a positive timedelta."""
    with pytest.raises(
        ConfigurationError,
        match=r"poll_interval must be a positive datetime.timedelta, e.g. timedelta\(seconds=1\)",
    ):
        sow.Worker(MemoryInbox(), poll_interval=timedelta(0))


def test_stop_before_start_is_harmless() -> None:
    """stop() on a worker that never started returns at once."""
    sow.Worker(MemoryInbox()).stop()


def test_stop_finishes_the_running_event_and_leaves_the_rest() -> None:
    """stop() during a pass lets the running event finish; the entries still due stay pending."""
    inbox = MemoryInbox()
    dispatcher = sow.Dispatcher()
    worker = sow.Worker(inbox, dispatcher)
    ran: list[str] = []

    @dispatcher.on_any
    def stop_after_this(event: sow.Event) -> None:
        ran.append(event.event)
        worker.stop()

    receiver = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, run_handlers="worker"
    )
    for name in ("person.created", "person.changed"):
        body = fresh(name)
        receiver.receive(body, signed(body))

    assert worker.run_once() == 1
    assert len(ran) == 1
    assert sorted(e.state.value for e in inbox.entries()) == ["done", "pending"]


def test_run_sync_runs_the_inbox_calls_of_areceive(tmp_path: Path) -> None:
    """AsyncReceiver(run_sync=...) runs the inbox's blocking calls as well as sync handlers."""
    ran: list[str] = []

    async def run_sync(function: Callable[[], object]) -> object:
        ran.append(getattr(function, "func", function).__name__)
        return await asyncio.to_thread(function)

    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3")
    calls = Calls()
    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, run_sync=run_sync
    )
    body = fresh("person.created")

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert outcome.reason == "handled by 1 handler(s)"
    assert ran == ["record", "claim", "handle", "_settle"]
    assert only(inbox).state is State.DONE
    inbox.close()


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("max_attempts", "state"), [(3, State.DEAD), (4, State.DONE)])
def test_an_event_whose_worker_keeps_dying_ends_dead(
    max_attempts: int, state: State, calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    """Attempts whose workers died count: past max_attempts the entry is dead, its handlers not run."""
    clock = Clock()
    inbox = MemoryInbox(clock=clock)
    receiver = sow.Receiver(
        secret=SECRET, dispatcher=calls.dispatcher, inbox=inbox, run_handlers="worker"
    )
    body = fresh("person.created")
    receiver.receive(body, signed(body))
    clock.now = time.time() + 1  # the entry is due
    for n in range(3):  # three workers take it and die (nothing settles their attempts)
        assert inbox.take(f"dead-worker-{n}", 1) is not None
        clock.now += 1

    with caplog.at_level(logging.ERROR, logger="superoffice_webhooks"):
        ran = sow.Worker(inbox, calls.dispatcher, retry=RetryPolicy(max_attempts=max_attempts))
        assert ran.run_once() == 1

    entry = only(inbox)
    assert entry.state is state
    assert len(calls.events) == (state is State.DONE)
    if state is State.DEAD:
        assert entry.last_error is not None
        assert "3 attempt(s) started and the last one's worker died" in entry.last_error
        assert any("is dead after 4 attempt(s)" in r.getMessage() for r in caplog.records)


def test_taken_over_attempts_give_up_after_the_longest_wait() -> None:
    """A taken-over attempt is given up past give_up_after plus max_delay, or at max_attempts."""
    policy = RetryPolicy(give_up_after=timedelta(hours=1), max_delay=timedelta(minutes=10))
    assert policy.gave_up(100, 3600 + 600) is False
    assert policy.gave_up(1, 3600 + 601) is True
    assert RetryPolicy(max_attempts=2).gave_up(2, 0) is True


def test_a_worker_stopped_right_after_starting_stops() -> None:
    """stop() just after start() is never lost: the thread ends; run() after stop() returns at once."""
    for _ in range(50):
        worker = sow.Worker(MemoryInbox(), poll_interval=timedelta(seconds=30)).start()
        worker.stop(timeout=10)
        assert worker._thread is not None
        assert not worker._thread.is_alive()
    worker.run()  # stopped: returns at once


def test_stopping_on_signals_finishes_and_restores_the_handlers() -> None:
    """Within stopping_on_signals, SIGTERM stops run(); the previous handler is back afterwards."""
    worker = sow.Worker(MemoryInbox(), poll_interval=timedelta(milliseconds=10))
    announced: list[str] = []
    before = signal.getsignal(signal.SIGTERM)

    with worker.stopping_on_signals(announced.append):
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGTERM)).start()
        worker.run()

    assert announced == ["SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_configuration_mistakes_are_raised_and_the_event_handed_to_a_worker() -> None:
    """An async handler reached through receive() raises; the event waits for a worker, which runs it."""
    dispatcher = sow.Dispatcher()
    ran: list[str] = []

    @dispatcher.on_any
    async def handle(event: sow.Event) -> None:
        ran.append(event.event)

    inbox = MemoryInbox()
    receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher, inbox=inbox)
    body = fresh("person.created")

    with pytest.raises(ConfigurationError, match="async"):
        receiver.receive(body, signed(body))

    assert only(inbox).state is State.PENDING
    assert sow.Worker(inbox, dispatcher).run_once() == 1
    assert (ran, only(inbox).state) == (["person.created"], State.DONE)


def test_an_async_hook_mistake_is_raised_not_answered() -> None:
    """A ConfigurationError from an on_invalid_payload hook is raised by areceive too, not a 503."""

    async def hook(body: bytes, error: PayloadError) -> None:
        msg = "misconfigured"
        raise ConfigurationError(msg)

    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=sow.Dispatcher(), on_invalid_payload=hook
    )
    body = body_with("person.created", PrimaryKey=None)

    with pytest.raises(ConfigurationError, match="misconfigured"):
        asyncio.run(receiver.areceive(body, signed(body)))


class GatedRenewInbox(MemoryInbox):
    """A MemoryInbox whose renew() waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.renewing = threading.Event()
        self.gate = threading.Event()

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        self.renewing.set()
        self.gate.wait(10)
        return super().renew(entry_id, owner, lease)


def test_an_event_loop_does_not_wait_for_a_renewal_in_flight(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """areceive settles while a renewal hangs; the late renewal finds the attempt over and says nothing."""
    inbox = GatedRenewInbox()
    dispatcher = sow.Dispatcher()

    @dispatcher.on_any
    async def slow(event: sow.Event) -> None:
        # Until the heartbeat is inside renew(): waited for in a thread, off the loop.
        await asyncio.to_thread(inbox.renewing.wait, 10)

    receiver = sow.AsyncReceiver(
        secret=SECRET, dispatcher=dispatcher, inbox=inbox, lease=timedelta(seconds=1)
    )
    body = fresh("person.created")
    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        outcome = asyncio.run(receiver.areceive(body, signed(body)))
        assert only(inbox).state is State.DONE  # settled while the renewal still hangs
        inbox.gate.set()
        time.sleep(0.1)

    assert outcome.reason == "handled by 1 handler(s)"
    assert not any("Lost the lease" in r.getMessage() for r in caplog.records)
