"""The Inbox protocol, held by every bundled inbox: the same cases run against each."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import pytest

from superoffice_webhooks import _sqlite as sqlite_file
from superoffice_webhooks.exceptions import ConfigurationError
from superoffice_webhooks.inbox import (
    Entry,
    Inbox,
    MemoryInbox,
    Settlement,
    SQLiteInbox,
    State,
    entry_id,
    split_id,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


class Clock:
    """A clock the test moves by hand; seconds since the epoch."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class MakeInbox(Protocol):
    def __call__(self, clock: Callable[[], float]) -> Inbox: ...


def _memory(request: pytest.FixtureRequest) -> MakeInbox:
    return lambda clock: MemoryInbox(clock=clock)


def _sqlite(request: pytest.FixtureRequest) -> MakeInbox:
    path = request.getfixturevalue("tmp_path") / "inbox.sqlite3"
    return lambda clock: SQLiteInbox(path, clock=clock)


def _redis(request: pytest.FixtureRequest) -> MakeInbox:
    from superoffice_webhooks.contrib.redis import RedisInbox  # noqa: PLC0415  # needs the extra

    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    return lambda clock: RedisInbox.from_url(url, prefix=prefix, clock=clock)


#: Each bundled inbox, by name; each factory asks for the fixtures it needs.
FACTORIES: dict[str, Callable[[pytest.FixtureRequest], MakeInbox]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "redis": _redis,
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(FACTORIES))
def inbox(request: pytest.FixtureRequest, clock: Clock) -> Iterator[Inbox]:
    made = FACTORIES[request.param](request)(clock)
    yield made
    close = getattr(made, "close", None)
    if close is not None:
        close()


def entry(clock: Clock, tenant: str = "Cust1", **changes: object) -> Entry:
    """A new PENDING entry received now."""
    fields: dict[str, object] = {
        "tenant": tenant,
        "event_id": uuid.uuid4(),
        "event": "person.created",
        "body": b'{"x": 1}',
        "state": State.PENDING,
        "received_at": clock.now,
        "next_attempt_at": clock.now,
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]  # the fields above


def test_add_records_once_per_tenant_and_event(inbox: Inbox, clock: Clock) -> None:
    """An entry is added once; the same EventId of another tenant is another entry."""
    first = entry(clock)
    other_tenant = entry(clock, tenant="Cust2", event_id=first.event_id)

    assert inbox.add(first) is True
    assert inbox.add(entry(clock, event_id=first.event_id)) is False
    assert inbox.add(other_tenant) is True
    assert inbox.get(first.id) == first
    assert inbox.get(other_tenant.id) == other_tenant
    assert inbox.get(entry_id("Cust3", first.event_id)) is None


def test_claim_starts_an_attempt_on_a_pending_entry_only(inbox: Inbox, clock: Clock) -> None:
    """claim() makes a pending entry RUNNING for its owner, once; not a due-later one's peers."""
    later = entry(clock, next_attempt_at=clock.now + 60)
    inbox.add(later)

    running = inbox.claim(later.id, "owner-a", 10)

    assert running is not None
    assert (running.state, running.attempts, running.owner) == (State.RUNNING, 1, "owner-a")
    assert running.lease_until == clock.now + 10
    assert inbox.claim(later.id, "owner-b", 10) is None
    assert inbox.claim(entry_id("Cust1", uuid.uuid4()), "owner-b", 10) is None


def test_take_returns_due_entries_first_due_first(inbox: Inbox, clock: Clock) -> None:
    """take() gives due pending entries in the order they fell due, and nothing not yet due."""
    late, early, future = (
        entry(clock, next_attempt_at=clock.now - 1),
        entry(clock, next_attempt_at=clock.now - 5),
        entry(clock, next_attempt_at=clock.now + 5),
    )
    for e in (late, early, future):
        inbox.add(e)

    taken = [inbox.take("w", 10), inbox.take("w", 10), inbox.take("w", 10)]

    assert [t.id if t else None for t in taken] == [early.id, late.id, None]
    clock.now += 5
    again = inbox.take("w", 10)
    assert again is not None
    assert again.id == future.id


def test_an_expired_lease_is_taken_over(inbox: Inbox, clock: Clock) -> None:
    """A running entry whose lease ran out goes to the next taker; the old owner lost it."""
    e = entry(clock)
    inbox.add(e)
    assert inbox.claim(e.id, "dead-worker", 3) is not None
    assert inbox.take("other", 3) is None  # the lease still holds

    clock.now += 3
    taken = inbox.take("other", 3)

    assert taken is not None
    assert (taken.owner, taken.attempts) == ("other", 2)
    assert inbox.renew(e.id, "dead-worker", 3) is False
    assert inbox.settle(e.id, "dead-worker", Settlement(state=State.DONE)) is False
    assert inbox.get(e.id).state is State.RUNNING  # type: ignore[union-attr]  # added above


def test_renew_keeps_the_entry_from_being_taken_over(inbox: Inbox, clock: Clock) -> None:
    """The owner's renew() extends the lease from now; a stranger's renew() does nothing."""
    e = entry(clock)
    inbox.add(e)
    inbox.claim(e.id, "owner", 3)
    clock.now += 2

    assert inbox.renew(e.id, "owner", 3) is True
    assert inbox.renew(e.id, "stranger", 3) is False
    clock.now += 2
    assert inbox.take("other", 3) is None
    assert inbox.get(e.id).lease_until == clock.now + 1  # type: ignore[union-attr]  # added above


def test_settle_records_done_retry_and_dead(inbox: Inbox, clock: Clock) -> None:
    """settle() ends the attempt: DONE, PENDING due after its delay with the error, or DEAD."""
    done, retried, dead = entry(clock), entry(clock), entry(clock)
    for e in (done, retried, dead):
        inbox.add(e)
        inbox.claim(e.id, "owner", 10)

    assert inbox.settle(done.id, "owner", Settlement(state=State.DONE))
    assert inbox.settle(
        retried.id, "owner", Settlement(state=State.PENDING, delay=30, error="E: one")
    )
    assert inbox.settle(dead.id, "owner", Settlement(state=State.DEAD, error="E: two"))

    got = {e.id: inbox.get(e.id) for e in (done, retried, dead)}
    assert got[done.id].state is State.DONE  # type: ignore[union-attr]  # added above
    pending = got[retried.id]
    assert pending is not None
    assert (pending.state, pending.next_attempt_at, pending.last_error) == (
        State.PENDING,
        clock.now + 30,
        "E: one",
    )
    assert (pending.owner, pending.lease_until) == (None, None)
    assert got[dead.id].last_error == "E: two"  # type: ignore[union-attr]  # added above
    assert inbox.take("w", 10) is None
    clock.now += 30
    retry = inbox.take("w", 10)
    assert retry is not None
    assert (retry.id, retry.attempts) == (retried.id, 2)
    assert inbox.settle(retry.id, "w", Settlement(state=State.DONE))
    assert inbox.get(retry.id).last_error == "E: one"  # type: ignore[union-attr]  # kept


def test_entries_lists_newest_first_by_state(inbox: Inbox, clock: Clock) -> None:
    """entries() gives the most recently received first, of one state or all, up to limit."""
    added = []
    for n in range(4):
        e = entry(clock, received_at=clock.now + n)
        inbox.add(e)
        added.append(e)
    inbox.claim(added[1].id, "o", 10)
    inbox.settle(added[1].id, "o", Settlement(state=State.DEAD, error="E: x"))

    assert [e.id for e in inbox.entries()] == [e.id for e in reversed(added)]
    assert [e.id for e in inbox.entries(limit=2)] == [added[3].id, added[2].id]
    assert [e.id for e in inbox.entries(State.DEAD)] == [added[1].id]
    assert inbox.entries(State.DONE) == []
    with pytest.raises(ConfigurationError, match="limit"):
        inbox.entries(limit=0)


def test_stats_count_every_state(inbox: Inbox, clock: Clock) -> None:
    """stats() counts each state (zero included) and names the oldest pending entry."""
    empty = inbox.stats()
    assert empty.counts == dict.fromkeys(State, 0)
    assert empty.oldest_pending_at is None

    old, new, dead = (
        entry(clock, received_at=clock.now - 50),
        entry(clock, received_at=clock.now - 10),
        entry(clock, received_at=clock.now - 99),
    )
    for e in (old, new, dead):
        inbox.add(e)
    inbox.claim(dead.id, "o", 10)
    inbox.settle(dead.id, "o", Settlement(state=State.DEAD, error="E: x"))
    stats = inbox.stats()

    assert stats.counts == {State.PENDING: 2, State.RUNNING: 0, State.DONE: 0, State.DEAD: 1}
    assert stats.oldest_pending_at == old.received_at
    assert stats.dead == 1


def test_replay_makes_settled_entries_pending_now(inbox: Inbox, clock: Clock) -> None:
    """replay() and replay_dead() put DONE/DEAD entries back, due now; others are left alone."""
    dead1, dead2, done, pending = entry(clock), entry(clock), entry(clock), entry(clock)
    for e, state in ((dead1, State.DEAD), (dead2, State.DEAD), (done, State.DONE)):
        inbox.add(e)
        inbox.claim(e.id, "o", 10)
        inbox.settle(e.id, "o", Settlement(state=state, error="E: x"))
    inbox.add(pending)
    clock.now += 100

    assert inbox.replay(done.id) is True
    assert inbox.replay(pending.id) is False
    assert inbox.replay(entry_id("Nobody", uuid.uuid4())) is False
    assert inbox.replay_dead() == 2
    assert inbox.replay_dead() == 0
    for e in (dead1, dead2, done):
        got = inbox.get(e.id)
        assert got is not None
        assert (got.state, got.next_attempt_at, got.last_error, got.attempts) == (
            State.PENDING,
            clock.now,
            "E: x",
            0,
        )


def test_purge_deletes_only_old_settled_entries(inbox: Inbox, clock: Clock) -> None:
    """purge() drops DONE and DEAD entries settled before the cut-off, never pending ones."""
    old_done, old_dead, new_done, pending = entry(clock), entry(clock), entry(clock), entry(clock)
    for e, state in ((old_done, State.DONE), (old_dead, State.DEAD)):
        inbox.add(e)
        inbox.claim(e.id, "o", 10)
        inbox.settle(e.id, "o", Settlement(state=state))
    clock.now += 3600
    inbox.add(new_done)
    inbox.claim(new_done.id, "o", 10)
    inbox.settle(new_done.id, "o", Settlement(state=State.DONE))
    inbox.add(pending)
    clock.now += 60

    assert inbox.purge(timedelta(minutes=30)) == 2
    assert [inbox.get(e.id) is None for e in (old_done, old_dead, new_done, pending)] == [
        True,
        True,
        False,
        False,
    ]
    with pytest.raises(ConfigurationError, match="older_than"):
        inbox.purge(timedelta(0))


def test_concurrent_takers_never_share_an_entry(inbox: Inbox, clock: Clock) -> None:
    """Four threads taking from one inbox take each entry exactly once."""
    ids = set()
    for _ in range(200):
        e = entry(clock)
        inbox.add(e)
        ids.add(e.id)
    taken: list[str] = []
    lock = threading.Lock()

    def take_all(name: str) -> None:
        while (got := inbox.take(name, 60)) is not None:
            with lock:
                taken.append(got.id)

    threads = [threading.Thread(target=take_all, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == sorted(ids)


def test_entry_ids_round_trip() -> None:
    """entry_id() and split_id() are inverse; the tenant may contain a slash."""
    event_id = uuid.uuid4()
    assert split_id(entry_id("Cust/1", event_id)) == ("Cust/1", event_id)


@pytest.mark.parametrize("bad", ["", "Cust1", "/" + str(uuid.uuid4()), "Cust1/not-a-guid"])
def test_a_malformed_id_says_what_an_id_looks_like(bad: str) -> None:
    """A malformed entry id is a ConfigurationError showing the expected form."""
    with pytest.raises(ConfigurationError, match="expected '<tenant>/<EventId>'"):
        split_id(bad)


def test_memory_inbox_counts_its_entries(clock: Clock) -> None:
    """len() of a MemoryInbox is the number of entries it holds."""
    memory = MemoryInbox(clock=clock)
    memory.add(entry(clock))
    assert len(memory) == 1


def test_sqlite_inbox_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    """Entries are in the file: a new SQLiteInbox on the same path sees them with their bodies."""
    first = SQLiteInbox(tmp_path / "inbox.sqlite3", clock=clock)
    e = entry(clock, body=b"\x00\xff raw bytes")
    first.add(e)
    first.close()

    second = SQLiteInbox(tmp_path / "inbox.sqlite3", synchronous="FULL", clock=clock)
    try:
        assert second.get(e.id) == e
    finally:
        second.close()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"path": ""}, "path of its database file"),
        ({"synchronous": "OFF"}, "synchronous must be"),
        ({"timeout": timedelta(0)}, "timeout must be"),
    ],
)
def test_sqlite_inbox_options_are_checked(
    tmp_path: Path, options: dict[str, object], match: str
) -> None:
    """Wrong SQLiteInbox options are ConfigurationErrors that say what is expected."""
    arguments: dict[str, object] = {"path": tmp_path / "inbox.sqlite3", **options}
    with pytest.raises(ConfigurationError, match=match):
        SQLiteInbox(**arguments)  # type: ignore[arg-type]  # wrong on purpose


def test_entry_times_as_datetimes(clock: Clock) -> None:
    """Entry.received and next_attempt are aware UTC datetimes of the float times."""
    e = entry(clock, next_attempt_at=clock.now + 60)
    assert e.received.timestamp() == clock.now
    assert (e.next_attempt - e.received).total_seconds() == 60
    assert e.received.utcoffset() == timedelta(0)


def test_a_forked_child_opens_its_own_connection_and_keeps_the_inherited_one(
    tmp_path: Path, clock: Clock
) -> None:
    """In another process the inbox opens a new connection; the inherited one is kept, not closed."""
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3", clock=clock)
    try:
        inbox.add(entry(clock))
        parents = inbox._file._db
        inbox._file._pid = -1  # as a forked child sees it: another process's connection

        assert len(inbox.entries()) == 1

        assert inbox._file._db is not parents
        assert inbox._file._inherited == [parents]
        parents.execute("SELECT 1")  # still open
    finally:
        inbox.close()
        for db in inbox._file._inherited:
            db.close()


def test_threads_arriving_together_open_one_connection(tmp_path: Path, clock: Clock) -> None:
    """Threads that find no connection for this process open one between them."""
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3", clock=clock)
    inbox.close()
    got: list[object] = []
    with sqlite_file._OPENING:  # both threads wait here, then the first opens for both
        threads = [
            threading.Thread(target=lambda: got.append(inbox._file._connection())) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_waiting(t) for t in threads):
            time.sleep(0.01)
    for thread in threads:
        thread.join(10)
    try:
        assert len(got) == 2
        assert got[0] is got[1]
    finally:
        inbox.close()


def _waiting(thread: threading.Thread) -> bool:
    """Whether *thread* is blocked (here: on the opening lock)."""
    frame = sys._current_frames().get(thread.ident or 0)
    return frame is not None and frame.f_code.co_name == "_connection"


def test_close_waits_for_a_transaction_of_another_thread(tmp_path: Path, clock: Clock) -> None:
    """close() while another thread is inside a transaction lets it commit, then closes."""
    inbox = SQLiteInbox(tmp_path / "inbox.sqlite3", clock=clock)
    inside = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with inbox._file.transaction() as db:
                db.execute("SELECT count(*) FROM superoffice_webhooks_inbox")
                inside.set()
                time.sleep(0.2)  # close() is called meanwhile
        except BaseException as exc:  # noqa: BLE001  # the assertion below reports it
            errors.append(exc)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(10)
    inbox.close()
    thread.join(10)

    assert errors == []
    assert inbox.add(entry(clock)) is True  # the next call opens a new connection
    inbox.close()
