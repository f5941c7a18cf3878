"""RedisInbox beyond the Inbox protocol (tests/test_inbox.py): its keys, bodies, processes, servers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import pytest
import redis

from conftest import SECRET, free_port, wait_for_redis
from superoffice_webhooks import AsyncReceiver, Dispatcher, Event, Receiver, Worker
from superoffice_webhooks.contrib.redis import DEFAULT_INBOX_PREFIX, RedisInbox
from superoffice_webhooks.exceptions import ConfigurationError, InboxError
from superoffice_webhooks.inbox import Entry, Settlement, SQLiteInbox, State
from superoffice_webhooks.testing import signed_request
from test_inbox import Clock, entry

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable, Iterator
    from pathlib import Path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def inbox(redis_url: str, redis_prefix: str, clock: Clock) -> Iterator[RedisInbox]:
    made = RedisInbox.from_url(redis_url, prefix=redis_prefix, clock=clock)
    yield made
    made.close()


# --- construction ---------------------------------------------------------------------------


def test_a_decoding_client_is_refused_with_what_to_do(redis_url: str) -> None:
    """A client with decode_responses=True is a ConfigurationError that names the fix."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ConfigurationError, match=r"decode_responses.*RedisInbox\.from_url"):
        RedisInbox(client)


@pytest.mark.parametrize(
    ("client", "options", "match"),
    [
        ("redis://localhost", {}, r"needs a redis\.Redis client, not str"),
        (redis.Redis(), {"prefix": b"x:"}, "prefix must be a str"),
    ],
)
def test_inbox_options_are_checked(client: object, options: dict[str, object], match: str) -> None:
    """A wrong client or prefix is a ConfigurationError saying what is expected."""
    with pytest.raises(ConfigurationError, match=match):
        RedisInbox(client, **options)  # type: ignore[arg-type]  # wrong on purpose


def test_default_prefix(redis_url: str) -> None:
    """Without a prefix, every key starts with DEFAULT_INBOX_PREFIX, apart from the stores' keys."""
    inbox = RedisInbox(redis.Redis.from_url(redis_url))
    assert inbox.prefix == DEFAULT_INBOX_PREFIX == "superoffice_webhooks:inbox:"
    inbox.close()


# --- what is kept, and where -----------------------------------------------------------------


def test_bodies_are_kept_byte_for_byte(inbox: RedisInbox, clock: Clock, redis_url: str) -> None:
    """Any bytes (not UTF-8, an empty event name) come back as they were, to another client too."""
    e = entry(clock, body=b"\x00\xff\xfe not UTF-8 \r\n", event="", last_error="E: \u00e9")
    inbox.add(e)
    other = RedisInbox.from_url(redis_url, prefix=inbox.prefix)
    try:
        assert other.get(e.id) == e
    finally:
        other.close()


def test_added_states_go_where_they_belong(inbox: RedisInbox, clock: Clock) -> None:
    """An entry added RUNNING is taken over once its lease ran out; without a lease, never."""
    expired = entry(clock, state=State.RUNNING, owner="gone", lease_until=clock.now - 1)
    unleased = entry(clock, state=State.RUNNING, owner="gone", next_attempt_at=clock.now - 99)
    dead = entry(clock, state=State.DEAD, last_error="PayloadError: x")
    for e in (expired, unleased, dead):
        assert inbox.add(e)

    taken = inbox.take("w", 10)

    assert taken is not None
    assert (taken.id, taken.owner, taken.attempts) == (expired.id, "w", 1)
    assert inbox.take("w", 10) is None
    assert inbox.get(unleased.id) == unleased
    assert [e.id for e in inbox.entries(State.DEAD)] == [dead.id]


def layout(inbox: RedisInbox) -> dict[str, dict[str, float]]:
    """Every sorted set of *inbox*, as {member: score}, and its entry keys."""
    client, prefix = inbox.client, inbox.prefix
    names = ["received", "due", "leases", "settled", *(f"received:{s.value}" for s in State)]
    found: dict[str, dict[str, float]] = {}
    for name in names:
        members = cast(
            "list[tuple[bytes, float]]", client.zrange(prefix + name, 0, -1, withscores=True)
        )
        found[name] = {member.decode(): score for member, score in members}
    keys = cast("Iterator[bytes]", client.scan_iter(match=f"{prefix}entry:*", count=1000))
    found["entry"] = {key.decode().removeprefix(f"{prefix}entry:"): 0.0 for key in keys}
    return found


def expected_layout(entries: list[Entry]) -> dict[str, dict[str, float]]:
    """Where each of *entries* must be, and with which score, in RedisInbox's keys."""
    index = {State.PENDING: "due", State.RUNNING: "leases", State.DONE: "settled"}
    index[State.DEAD] = "settled"
    found: dict[str, dict[str, float]] = {
        name: {} for name in ["received", "due", "leases", "settled", "entry"]
    }
    for state in State:
        found[f"received:{state.value}"] = {}
    for e in entries:
        found["received"][e.id] = found[f"received:{e.state.value}"][e.id] = e.received_at
        score = e.lease_until if e.state is State.RUNNING else e.next_attempt_at
        found[index[e.state]][e.id] = score  # type: ignore[assignment]  # set while running
        found["entry"][e.id] = 0.0
    return found


def operation(
    rng: random.Random, entries: list[Entry]
) -> Callable[[RedisInbox | SQLiteInbox], object]:
    """A random operation on an inbox holding *entries*, its arguments drawn from *rng* once.

    Claims mostly go to a pending entry, renewals and settlements to a running entry and
    its owner, replays to a settled entry; sometimes to any entry or owner instead (which
    must change nothing).
    """

    def pick(*states: State) -> Entry:
        fitting = [e for e in entries if e.state in states]
        return rng.choice(fitting if fitting and rng.random() < 0.8 else entries)

    pending, held, settled_entry = (
        pick(State.PENDING),
        pick(State.RUNNING),
        pick(State.DONE, State.DEAD),
    )
    owner = held.owner or rng.choice(["a", "b"])
    lease, delay = rng.uniform(1, 5), rng.uniform(0, 5)
    settled = Settlement(
        state=rng.choice([State.DONE, State.DEAD, State.PENDING]),
        delay=delay,
        error=rng.choice([None, f"E: {delay}"]),
    )
    state, limit = rng.choice([None, *State]), rng.randrange(1, 60)
    older_than = timedelta(seconds=rng.uniform(10, 300))
    operations: list[Callable[[RedisInbox | SQLiteInbox], object]] = [
        lambda inbox: inbox.claim(pending.id, owner, lease),
        lambda inbox: inbox.take(owner, lease),
        lambda inbox: inbox.renew(held.id, owner, lease),
        lambda inbox: inbox.settle(held.id, owner, settled),
        lambda inbox: inbox.replay(settled_entry.id),
        lambda inbox: inbox.replay_dead(),
        lambda inbox: inbox.purge(older_than),
        lambda inbox: inbox.stats(),
        lambda inbox: inbox.entries(state, limit=limit),
    ]
    return rng.choice(operations)


@pytest.mark.parametrize("seed", range(4))
def test_same_answers_as_the_sqlite_inbox(
    inbox: RedisInbox, clock: Clock, tmp_path: Path, seed: int
) -> None:
    """Random operations give the answers SQLiteInbox gives; the keys hold each entry once."""
    sqlite = SQLiteInbox(tmp_path / "inbox.sqlite3", clock=clock)
    rng = random.Random(seed)  # noqa: S311  # reproducible operations, not a secret
    reached: set[State] = set()
    for step in range(400):
        clock.now += rng.uniform(0.001, 1.5)  # no two changes at the same time: no ties
        known = sqlite.entries(limit=1000)
        if step % 4 == 0 or not known:
            e = entry(clock, body=step.to_bytes(2, "big"))
            assert inbox.add(e) is sqlite.add(e) is True
            continue
        run = operation(rng, known)
        assert run(inbox) == run(sqlite), step
        reached.update(state for state, count in sqlite.stats().counts.items() if count)
    everything = sqlite.entries(limit=1000)
    sqlite.close()
    assert inbox.entries(limit=1000) == everything
    assert reached == set(State)  # the operations took entries through every state
    assert layout(inbox) == expected_layout(everything)


def test_purge_deletes_in_batches_to_the_last(inbox: RedisInbox, clock: Clock) -> None:
    """More settled entries than one batch are all purged, keys and index entries alike."""
    pipe_count = 2500
    for _ in range(pipe_count):
        inbox.add(entry(clock, state=State.DONE, next_attempt_at=clock.now - 100))
    kept = entry(clock, state=State.DONE)
    inbox.add(kept)

    assert inbox.purge(timedelta(seconds=50)) == pipe_count
    assert layout(inbox) == expected_layout([kept])


# --- processes and servers -------------------------------------------------------------------

#: Takes entries until none is due and prints their ids: one process of several.
TAKER = """
import sys
from superoffice_webhooks.contrib.redis import RedisInbox

inbox = RedisInbox.from_url(sys.argv[1], prefix=sys.argv[2])
while (entry := inbox.take(sys.argv[3], 60)) is not None:
    print(entry.id)
"""


def test_processes_taking_from_one_inbox_never_share_an_entry(
    redis_url: str, redis_prefix: str
) -> None:
    """Three processes taking from one inbox take each of 600 entries exactly once."""
    inbox = RedisInbox.from_url(redis_url, prefix=redis_prefix)
    clock = Clock()
    ids = set()
    for _ in range(600):
        e = entry(clock)
        inbox.add(e)
        ids.add(e.id)
    inbox.close()
    takers = [
        subprocess.Popen(  # noqa: S603  # a fixed command line
            [sys.executable, "-c", TAKER, redis_url, redis_prefix, f"p{n}"],
            stdout=subprocess.PIPE,
        )
        for n in range(3)
    ]
    taken = [line for p in takers for line in p.communicate(timeout=120)[0].decode().split()]

    assert [p.returncode for p in takers] == [0, 0, 0]
    assert sorted(taken) == sorted(ids)


@contextlib.contextmanager
def redis_server(
    tmp_path: Path, *options: str, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(url, process)`` of a redis-server of this test's own, answering; stopped afterwards."""
    binary = shutil.which("redis-server")
    assert binary is not None, "the Redis tests need redis-server"
    port = free_port() if port is None else port
    process = subprocess.Popen(  # noqa: S603  # a fixed command line
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(tmp_path), *options],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_for_redis(url, process)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_killed_server_with_the_append_only_file_keeps_the_inbox(
    tmp_path: Path, clock: Clock
) -> None:
    """After kill -9 of a server with appendfsync always, every acknowledged change is there."""
    aof = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")
    port = free_port()
    entries = [entry(clock) for _ in range(20)]
    with redis_server(tmp_path, *aof, port=port) as (url, first):
        inbox = RedisInbox.from_url(url, clock=clock)
        for e in entries:
            inbox.add(e)
        running = inbox.claim(entries[0].id, "worker", 5)
        first.kill()
        first.wait()
    with redis_server(tmp_path, *aof, port=port):
        assert inbox.get(entries[0].id) == running
        assert inbox.stats().counts[State.PENDING] == 19
        clock.now += 5
        taken = inbox.take("another", 5)  # the server has forgotten the scripts: loaded again
        assert taken is not None
        assert (taken.id, taken.attempts) == (entries[0].id, 2)
        inbox.close()


# --- a Receiver with a RedisInbox ---------------------------------------------------------


class Handled:
    """A dispatcher whose person.created handler records the EventIds it saw."""

    def __init__(self) -> None:
        self.dispatcher = Dispatcher()
        self.seen: list[uuid.UUID] = []
        self.dispatcher.on("person.created")(self.handle)

    def handle(self, event: Event) -> None:
        self.seen.append(event.event_id)


def test_receiver_inline_records_runs_and_ignores_duplicates(inbox: RedisInbox) -> None:
    """Inline: recorded, run once in the request, DONE; a second delivery runs nothing."""
    handled = Handled()
    receiver = Receiver(secret=SECRET, dispatcher=handled.dispatcher, inbox=inbox)
    body, headers = signed_request("person.created", SECRET)

    first, again = receiver.receive(body, headers), receiver.receive(body, headers)

    assert (first.status, again.status) == (200, 200)
    assert first.event is not None
    assert handled.seen == [first.event.event_id]
    (recorded,) = inbox.entries()
    assert (recorded.state, recorded.body, recorded.attempts) == (State.DONE, body, 1)


def test_areceive_inline_with_a_redis_inbox(inbox: RedisInbox) -> None:
    """areceive records in Redis and runs the handlers; the entry is DONE."""
    handled = Handled()
    receiver = AsyncReceiver(secret=SECRET, dispatcher=handled.dispatcher, inbox=inbox)
    outcome = asyncio.run(receiver.areceive(*signed_request("person.created", SECRET)))

    assert outcome.status == 200
    assert len(handled.seen) == 1
    assert inbox.stats().counts[State.DONE] == 1


def test_receiver_worker_mode_with_a_worker(inbox: RedisInbox, redis_url: str) -> None:
    """Worker mode: answered 200 with the entry PENDING; a Worker on another client runs it."""
    handled = Handled()
    receiver = Receiver(
        secret=SECRET, dispatcher=handled.dispatcher, inbox=inbox, run_handlers="worker"
    )
    requests = [signed_request("person.created", SECRET) for _ in range(3)]

    statuses = [receiver.receive(*request).status for request in requests]

    assert statuses == [200, 200, 200]
    assert handled.seen == []
    assert inbox.stats().counts[State.PENDING] == 3
    elsewhere = RedisInbox.from_url(redis_url, prefix=inbox.prefix)
    assert Worker(elsewhere, handled.dispatcher).run_once() == 3
    elsewhere.close()
    assert len(set(handled.seen)) == 3
    assert inbox.stats().counts[State.DONE] == 3


def test_redis_down_answers_503(tmp_path: Path) -> None:
    """With its Redis server stopped, the receiver answers 503 with an InboxError and runs nothing."""
    handled = Handled()
    with redis_server(tmp_path, "--save", "", "--appendonly", "no") as (url, _):
        inbox = RedisInbox.from_url(url)
        receiver = Receiver(secret=SECRET, dispatcher=handled.dispatcher, inbox=inbox)
        assert receiver.receive(*signed_request("person.created", SECRET)).status == 200
    outcome = receiver.receive(*signed_request("person.created", SECRET))

    assert outcome.status == 503
    assert isinstance(outcome.error, InboxError)
    assert isinstance(outcome.error.__cause__, redis.ConnectionError)
    assert len(handled.seen) == 1
    inbox.close()
