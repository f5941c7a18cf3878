"""Celery hand-off: the receiver records and enqueues the entry id, real Celery workers run it."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import celery
import pytest
import redis

import superoffice_webhooks as sow
from celery_app import INBOX, LEASE, PAUSE, PREFIX, QUEUE, RETRY, URL, build
from conftest import free_port
from delivery_load import FAIL_EVERY, SECRET, RedisSink, deliver, deliveries
from superoffice_webhooks import _delivery
from superoffice_webhooks.contrib.celery import CeleryHandoff
from superoffice_webhooks.inbox import Entry, MemoryInbox, SQLiteInbox, State, entry_id
from superoffice_webhooks.testing import make_event

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conftest import Closer

TESTS = Path(__file__).parent.parent
EVENTS = 30  # 24 events, 6 duplicates
#: Events delivered while workers are killed, and how long each of their handlers runs: long
#: enough that the pool still has work when a killed process's replacement starts.
KILL_EVENTS = 20
KILL_PAUSE = "0.5"


@attrs.define
class Setup:
    """A hand-off as the web process builds it, and real workers that run its tasks."""

    handoff: CeleryHandoff
    sink: RedisSink
    env: dict[str, str]
    prefix: str
    workers: list[subprocess.Popen[bytes]] = attrs.Factory(list)

    @property
    def inbox(self) -> SQLiteInbox:
        return self.handoff.inbox  # type: ignore[return-value]  # build() makes an SQLiteInbox

    def start_worker(self, pool: str = "solo", concurrency: int = 1) -> subprocess.Popen[bytes]:
        """A real Celery worker on the test's queue, in a process group of its own with its pool."""
        command = [sys.executable, "-m", "celery", "-A", "celery_app", "worker", f"--pool={pool}"]
        command += [f"--concurrency={concurrency}", "--without-heartbeat", "--without-gossip"]
        command += ["--without-mingle", "-Q", self.env[QUEUE], "--loglevel=WARNING"]
        process = subprocess.Popen(command, cwd=TESTS, env=self.env, start_new_session=True)  # noqa: S603  # a fixed command line
        self.workers.append(process)
        return process

    def receiver(self) -> sow.Receiver:
        return sow.Receiver(secret=SECRET, handoff=self.handoff)

    def hold(self, processes: int = 1) -> None:
        """Make the first contact.created run of each of the next *processes* processes wait to be killed."""
        self.sink.client.set(f"{self.prefix}holds", processes)

    def starts(self) -> list[tuple[int, str]]:
        """``(process id, EventId)`` of each start of contact.created's handler, in order."""
        return self._runs("starts")

    def held(self) -> list[tuple[int, str]]:
        """``(process id, EventId)`` of each run that waited to be killed, in order."""
        return self._runs("held")

    def pids(self) -> list[int]:
        """The processes that started contact.created's handler, in order."""
        return [pid for pid, _ in self.starts()]

    def _runs(self, name: str) -> list[tuple[int, str]]:
        runs = (run.split() for run in self.sink.client.lrange(f"{self.prefix}{name}", 0, -1))
        return [(int(pid), str(event_id)) for pid, event_id in runs]


@pytest.fixture
def setup(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[Setup]:
    """The hand-off, its SQLite inbox and queue; workers started by the test end afterwards."""
    queue = f"superoffice-webhooks-test-{uuid.uuid4().hex}"
    path = tmp_path / "inbox.sqlite3"
    env = {**os.environ, URL: redis_url, PREFIX: redis_prefix, QUEUE: queue, INBOX: str(path)}
    # Celery configures Django when this is set (the Django adapter tests set it).
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    handoff = build(redis_url, redis_prefix, queue, path)
    done = Setup(handoff, RedisSink(redis_url, redis_prefix), env, redis_prefix)
    try:
        yield done
    finally:
        for process in done.workers:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover  # only when a worker hangs
                process.kill()
                process.wait(timeout=30)
        handoff.close()
        done.inbox.close()
        done.sink.client.close()
        redis.Redis.from_url(redis_url).delete(queue)


def wait_for(what: str, done: Callable[[], object], timeout: float = 60) -> None:
    """Poll *done* until it is true; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} seconds")
        time.sleep(0.05)


def body_of(name: str) -> bytes:
    """A body of the event *name* with an EventId of its own."""
    return make_event(name, event_id=uuid.uuid4()).to_json().encode()


def settled(inbox: SQLiteInbox, key: str) -> Callable[[], bool]:
    """Whether the entry *key* is done or dead."""

    def check() -> bool:
        entry = inbox.get(key)
        return entry is not None and entry.state in (State.DONE, State.DEAD)

    return check


def key_of(body: bytes) -> str:
    event = sow.parse(body)
    return entry_id(event.context_identifier, event.event_id)


def all_done(inbox: SQLiteInbox, keys: list[str]) -> Callable[[], bool]:
    """Whether every entry of *keys* is done."""

    def check() -> bool:
        entries = [inbox.get(key) for key in keys]
        return all(entry is not None and entry.state is State.DONE for entry in entries)

    return check


def test_events_are_recorded_then_run_by_a_real_worker(setup: Setup) -> None:
    """Every delivery is answered 200 at once; the worker runs each event once, a failing one again."""
    setup.start_worker()
    receiver = setup.receiver()
    bodies = deliveries(EVENTS)
    events = {sow.parse(b) for b in bodies}

    outcomes = [
        receiver.receive(b, {"X-SuperOffice-Signature": sow.sign(b, SECRET)}) for b in bodies
    ]
    for event in events:
        key = entry_id(event.context_identifier, event.event_id)
        wait_for("the event's handling", settled(setup.inbox, key))

    assert {o.status for o in outcomes} == {200}
    reasons = [o.reason for o in outcomes]
    assert reasons.count("recorded; a worker will run the handlers") == len(events)
    assert reasons.count("duplicate of an event already recorded") == len(bodies) - len(events)
    successes, failures = setup.sink.counts()
    assert successes == dict.fromkeys((str(e.event_id) for e in events), 1)
    failing = {str(e.event_id) for e in events if e.primary_key % FAIL_EVERY == 0}
    assert failing
    assert failures == dict.fromkeys(failing, 2)  # counted on both attempts: the first failed
    for event in events:
        entry = setup.inbox.get(entry_id(event.context_identifier, event.event_id))
        assert entry is not None
        assert entry.state is State.DONE
        assert entry.attempts == (2 if str(event.event_id) in failing else 1)


def test_an_event_that_always_fails_is_dead_after_max_attempts(setup: Setup) -> None:
    """The task sends itself again for each retry the policy allows, then the entry is dead."""
    setup.start_worker()
    body = body_of("person.changed")
    key = key_of(body)

    assert deliver(setup.receiver(), body) == [200]
    wait_for("the event's death", settled(setup.inbox, key))

    entry = setup.inbox.get(key)
    assert entry is not None
    assert entry.state is State.DEAD
    assert entry.attempts == RETRY.max_attempts
    assert entry.last_error == (
        "HandlerError: 1 of 1 handler(s) failed for person.changed event "
        "(RuntimeError: this handler always fails)"
    )
    _, failures = setup.sink.counts()
    assert failures == {str(sow.parse(body).event_id): RETRY.max_attempts}


def test_a_killed_worker_process_gets_its_task_again(setup: Setup) -> None:
    """kill -9 of the process running a handler: the task comes back and the event is handled once."""
    setup.hold()
    setup.start_worker(pool="prefork")
    body = body_of("contact.created")
    key = key_of(body)

    assert deliver(setup.receiver(), body) == [200]
    wait_for("the handler's start", setup.pids)
    os.kill(setup.pids()[0], signal.SIGKILL)  # the pool's child process, not the worker
    wait_for("the event's handling", settled(setup.inbox, key))

    entry = setup.inbox.get(key)
    assert entry is not None
    assert entry.state is State.DONE
    assert entry.attempts == 2  # taken over once the dead attempt's lease ran out
    assert len(setup.pids()) == 2
    assert setup.sink.counts()[0] == {str(sow.parse(body).event_id): 1}


def test_the_sweep_takes_over_the_entry_of_a_killed_worker(setup: Setup) -> None:
    """kill -9 of a whole worker: once its lease ran out, the sweep task runs the event, once."""
    setup.hold()
    worker = setup.start_worker()
    body = body_of("contact.created")
    key = key_of(body)

    assert deliver(setup.receiver(), body) == [200]
    wait_for("the handler's start", setup.pids)
    assert setup.pids() == [worker.pid]
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)

    def lease_ran_out() -> bool:
        entry = setup.inbox.get(key)
        assert entry is not None
        assert entry.state is State.RUNNING
        return entry.lease_until is not None and entry.lease_until < time.time()

    wait_for("the end of the dead worker's lease", lease_ran_out)
    setup.start_worker()
    setup.handoff.sweep.delay()
    wait_for("the event's handling", settled(setup.inbox, key))

    entry = setup.inbox.get(key)
    assert entry is not None
    assert entry.state is State.DONE
    assert entry.attempts == 2
    assert setup.sink.counts()[0] == {str(sow.parse(body).event_id): 1}


def deliver_events_to_be_killed(setup: Setup) -> tuple[list[bytes], list[list[int]]]:
    """KILL_EVENTS contact.created bodies delivered to the hand-off's receiver; their statuses."""
    receiver = setup.receiver()
    bodies = [body_of("contact.created") for _ in range(KILL_EVENTS)]
    return bodies, [deliver(receiver, body) for body in bodies]


def kill(pid: int, *, group: bool = False) -> float:
    """``kill -9`` the process *pid* (with *group*: its process group); the time it was killed."""
    if group:
        os.killpg(pid, signal.SIGKILL)
    else:
        os.kill(pid, signal.SIGKILL)
    return time.time()


def check_each_handled_once(
    setup: Setup,
    bodies: list[bytes],
    statuses: list[list[int]],
    kills: list[tuple[str, float]],
    report: dict[str, object],
) -> None:
    """Answered 200 at once; each event handled once; each killed run ``(EventId, when)`` taken over."""
    keys = [key_of(body) for body in bodies]
    wait_for("the handling of every event", all_done(setup.inbox, keys))
    event_ids = [str(sow.parse(body).event_id) for body in bodies]
    successes, _ = setup.sink.counts()
    entries = {str(entry.event_id): entry for entry in map(setup.inbox.get, keys) if entry}
    report.update(
        events=len(bodies),
        lost=sum(successes[e] == 0 for e in event_ids),
        twice=sum(successes[e] > 1 for e in event_ids),
        non_200=sum(status != 200 for answers in statuses for status in answers),
        killed_runs=len(kills),
        recovered_after_s=[
            round(entries[e].next_attempt_at - killed_at, 1) for e, killed_at in kills
        ],
    )

    assert statuses == [[200]] * len(bodies)
    assert successes == dict.fromkeys(event_ids, 1)  # lost 0, handled twice 0
    killed = Counter(event_id for event_id, _ in kills)
    runs = {e: 1 + killed[e] for e in event_ids}  # every killed run, then the one that finished
    assert Counter(event_id for _, event_id in setup.starts()) == runs
    assert {e: entry.attempts for e, entry in entries.items()} == runs


@pytest.mark.faults
def test_pool_processes_killed_mid_handler_among_20_events(
    setup: Setup, report: dict[str, object]
) -> None:
    """kill -9 of a pool process mid-handler, then of its replacement: each event handled once."""
    setup.env[PAUSE] = KILL_PAUSE
    setup.hold()
    setup.start_worker(pool="prefork", concurrency=2)
    bodies, statuses = deliver_events_to_be_killed(setup)

    wait_for("a handler waiting to be killed", setup.held)
    [(first, first_event)] = setup.held()
    wait_for("a handler in the other pool process", lambda: set(setup.pids()) - {first})
    pool = set(setup.pids())
    setup.hold()  # the first run of the process that replaces *first* waits too
    kills = [(first_event, kill(first))]
    wait_for("a handler of the new pool process waiting", lambda: len(setup.held()) == 2)
    second, second_event = setup.held()[1]  # may be *first_event* again, taken over
    kills.append((second_event, kill(second)))

    check_each_handled_once(setup, bodies, statuses, kills, report)
    assert len(pool) == 2
    assert second not in pool


@pytest.mark.faults
def test_a_whole_worker_killed_among_20_events_is_taken_over_by_the_sweep(
    setup: Setup, report: dict[str, object]
) -> None:
    """kill -9 of a worker and its pool mid-handler: a new worker and the sweep handle each once."""
    setup.env[PAUSE] = KILL_PAUSE
    setup.hold(2)  # the first run of each of the two pool processes waits to be killed
    worker = setup.start_worker(pool="prefork", concurrency=2)
    bodies, statuses = deliver_events_to_be_killed(setup)

    wait_for("both pool processes waiting to be killed", lambda: len(setup.held()) == 2)
    killed_at = kill(worker.pid, group=True)
    worker.wait(timeout=30)
    kills = [(event_id, killed_at) for _, event_id in setup.held()]
    keys = [key_of(body) for body in bodies if str(sow.parse(body).event_id) in dict(kills)]

    def leases_ran_out() -> bool:
        leases = [getattr(setup.inbox.get(key), "lease_until", None) for key in keys]
        return all(lease is not None and lease < time.time() for lease in leases)

    wait_for("the end of the dead worker's leases", leases_ran_out)
    setup.start_worker(pool="prefork", concurrency=2)
    setup.handoff.sweep.delay()

    check_each_handled_once(setup, bodies, statuses, kills, report)
    assert len(dict(kills)) == 2  # two events, one in each pool process


def test_an_event_the_broker_refused_is_recorded_and_run_by_a_sweep(
    tmp_path: Path, closing: Closer, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker that refuses the task: the event is still recorded and answered 200; a sweep runs it."""
    app = celery.Celery(broker=f"redis://127.0.0.1:{free_port()}/0", set_as_current=False)
    app.conf.task_publish_retry = False  # refused at once, not after retries
    app.conf.broker_transport_options = {"max_retries": 0}
    seen: list[sow.Event] = []
    dispatcher = sow.Dispatcher()
    dispatcher.on("person.created")(seen.append)
    inbox = closing(SQLiteInbox(tmp_path / "inbox.sqlite3"))
    handoff = closing(CeleryHandoff(app, inbox=inbox, dispatcher=dispatcher))
    body = deliveries(1, duplicates=0)[0]

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        statuses = deliver(sow.Receiver(secret=SECRET, handoff=handoff), body)
    pending = inbox.get(key_of(body))
    ran = handoff.sweep_once()

    assert statuses == [200]
    assert pending is not None
    assert pending.state is State.PENDING
    (record,) = caplog.records
    assert "could not hand it off; it stays pending" in record.getMessage()
    assert body.decode() not in caplog.text
    assert ran == 1
    assert seen == [sow.parse(body)]
    done = inbox.get(key_of(body))
    assert done is not None
    assert done.state is State.DONE


# --- the task's body, without a worker: what it runs and which tasks it sends ---


def sent(handoff: CeleryHandoff, url: str) -> list[tuple[list[Any], bool]]:
    """``(args, has an ETA)`` of each task message waiting in the hand-off's queue; taken off it."""
    client = redis.Redis.from_url(url)
    try:
        queue = str(handoff.queue)
        raw = client.lrange(queue, 0, -1)
        client.delete(queue)
    finally:
        client.close()
    found = []
    for item in reversed(raw):  # kombu pushes on the left
        message = json.loads(item)
        args = json.loads(base64.b64decode(message["body"]))[0]
        found.append((args, message["headers"]["eta"] is not None))
    return found


@pytest.fixture
def local(
    redis_url: str, tmp_path: Path, closing: Closer
) -> Iterator[tuple[CeleryHandoff, list[sow.Event]]]:
    """A hand-off sending to its own queue on the real Redis; its handler records, and fails on request."""
    app = celery.Celery(broker=redis_url, set_as_current=False)
    seen: list[sow.Event] = []
    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.created")
    async def handler(event: sow.Event) -> None:
        seen.append(event)
        if getattr(event, "primary_key", 0) < 0:
            msg = "negative keys fail"
            raise ValueError(msg)

    handoff = CeleryHandoff(
        app,
        inbox=closing(SQLiteInbox(tmp_path / "inbox.sqlite3")),
        dispatcher=dispatcher,
        retry=RETRY,
        lease=LEASE,
        queue=f"superoffice-webhooks-test-{uuid.uuid4().hex}",
    )
    yield closing(handoff), seen
    sent(handoff, redis_url)


def recorded(handoff: CeleryHandoff, primary_key: int = 1) -> Entry:
    """A pending person.created entry in the hand-off's inbox."""
    event = make_event("person.created", event_id=uuid.uuid4(), primary_key=primary_key)
    now = time.time()
    entry = Entry(
        tenant=event.context_identifier,
        event_id=event.event_id,
        event=event.event,
        body=event.to_json().encode(),
        state=State.PENDING,
        received_at=now,
        next_attempt_at=now,
    )
    assert handoff.inbox.add(entry)
    return entry


def test_the_receiver_sends_only_the_entry_id(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str
) -> None:
    """The receiver records the event in the hand-off's inbox and sends a task with its id, due now."""
    handoff, seen = local
    body = deliveries(1, duplicates=0)[0]

    assert deliver(sow.Receiver(secret=SECRET, handoff=handoff), body) == [200]

    assert sent(handoff, redis_url) == [([key_of(body)], False)]
    assert seen == []


def test_areceive_sends_the_entry_id_too(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str
) -> None:
    """areceive records the event and sends its id as well (the inbox and broker in a thread)."""
    handoff, seen = local
    body = deliveries(1, duplicates=0)[0]
    receiver = sow.AsyncReceiver(secret=SECRET, handoff=handoff)

    outcome = asyncio.run(
        receiver.areceive(body, {"X-SuperOffice-Signature": sow.sign(body, SECRET)})
    )

    assert outcome.status == 200
    assert sent(handoff, redis_url) == [([key_of(body)], False)]
    assert seen == []


def test_a_failed_attempt_sends_the_task_again_for_its_retry(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure leaves the entry pending and sends the task with an ETA; success sends nothing."""
    # Full jitter may draw a delay near 0, which is sent due now, without an ETA: draw the
    # longest delay instead.
    monkeypatch.setattr(_delivery, "_jitter", lambda: 1.0)
    handoff, seen = local
    failing, fine = recorded(handoff, primary_key=-1), recorded(handoff)

    handoff.run(failing.id)
    handoff.run(fine.id)

    assert sent(handoff, redis_url) == [([failing.id], True)]
    retry = handoff.inbox.get(failing.id)
    assert retry is not None
    assert retry.state is State.PENDING
    assert retry.last_error == (
        "HandlerError: 1 of 1 handler(s) failed for person.created event "
        "(ValueError: negative keys fail)"
    )
    assert [e.event_id for e in seen] == [failing.event_id, fine.event_id]
    done = handoff.inbox.get(fine.id)
    assert done is not None
    assert done.state is State.DONE


def test_a_second_message_for_a_settled_or_unknown_entry_does_nothing(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str
) -> None:
    """A done entry, or an id the inbox does not hold, runs no handler and sends no task."""
    handoff, seen = local
    entry = recorded(handoff)
    handoff.run(entry.id)

    handoff.run(entry.id)
    handoff.run(entry_id("Cust1", uuid.uuid4()))

    assert len(seen) == 1
    assert sent(handoff, redis_url) == []


def test_an_entry_held_by_a_live_attempt_is_looked_at_when_its_lease_ends(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str
) -> None:
    """While another attempt's lease holds, the task runs nothing and sends itself for later."""
    handoff, seen = local
    entry = recorded(handoff)
    assert handoff.inbox.claim(entry.id, "another worker", 60) is not None

    handoff.run(entry.id)

    assert sent(handoff, redis_url) == [([entry.id], True)]
    assert seen == []
    held = handoff.inbox.get(entry.id)
    assert held is not None
    assert held.owner == "another worker"


def test_an_entry_whose_lease_ran_out_is_taken_over(
    local: tuple[CeleryHandoff, list[sow.Event]], redis_url: str
) -> None:
    """Once a dead attempt's lease ran out, the task takes the entry over, with whatever else is due."""
    handoff, seen = local
    mine, other = recorded(handoff), recorded(handoff)
    assert handoff.inbox.claim(mine.id, "a dead worker", 0) is not None

    handoff.run(mine.id)

    assert {e.event_id for e in seen} == {mine.event_id, other.event_id}
    for entry in (mine, other):
        after = handoff.inbox.get(entry.id)
        assert after is not None
        assert after.state is State.DONE
    assert sent(handoff, redis_url) == []


def test_close_ends_the_event_loop_of_async_handlers(
    local: tuple[CeleryHandoff, list[sow.Event]],
) -> None:
    """close() ends this thread's event loop; the next event gets a new one, and closing twice is fine."""
    handoff, seen = local
    handoff.close()  # nothing ran yet
    handoff.run(recorded(handoff).id)
    handoff.close()
    handoff.run(recorded(handoff).id)
    handoff.close()

    assert len(seen) == 2


def test_the_receiver_records_in_the_handoffs_inbox(
    local: tuple[CeleryHandoff, list[sow.Event]], tmp_path: Path, closing: Closer
) -> None:
    """A receiver with the hand-off uses its inbox and runs no handler; another inbox is refused."""
    handoff, _ = local

    receiver = sow.Receiver(secret=SECRET, handoff=handoff, inbox=handoff.inbox)

    assert receiver.handoff is handoff
    assert receiver.store is None
    assert receiver.run_handlers == "worker"
    assert receiver.delivery is not None
    assert receiver.delivery.inbox is handoff.inbox
    other = closing(SQLiteInbox(tmp_path / "other.sqlite3"))
    with pytest.raises(sow.ConfigurationError, match="hand-off's inbox"):
        sow.Receiver(secret=SECRET, handoff=handoff, inbox=other)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"inbox": MemoryInbox()}, "shared between processes"),
        ({"inbox": "sqlite:///inbox.sqlite3"}, "inbox must be an Inbox"),
        ({"dispatcher": "handlers.dispatcher"}, "dispatcher must be a Dispatcher"),
        ({"retry": 3}, "retry must be a RetryPolicy"),
    ],
)
def test_handoff_options_are_checked(
    options: dict[str, object], message: str, tmp_path: Path, closing: Closer
) -> None:
    """An inbox that is not shared, or a wrong option, is a ConfigurationError saying so."""
    given = {"inbox": closing(SQLiteInbox(tmp_path / "inbox.sqlite3")), **options}
    with pytest.raises(sow.ConfigurationError, match=message):
        CeleryHandoff(celery.Celery(set_as_current=False), **given)  # type: ignore[arg-type]  # wrong on purpose


def test_handoff_needs_a_celery_app(tmp_path: Path, closing: Closer) -> None:
    """Anything but a celery.Celery app is a ConfigurationError."""
    with pytest.raises(sow.ConfigurationError, match=r"celery\.Celery"):
        CeleryHandoff(object(), inbox=closing(SQLiteInbox(tmp_path / "inbox.sqlite3")))
