"""The lease heartbeat of durable delivery: one thread per Delivery renews every running attempt."""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import superoffice_webhooks as sow
from superoffice_webhooks import _delivery
from superoffice_webhooks._delivery import Delivery
from superoffice_webhooks.inbox import Entry, MemoryInbox, Settlement, State
from test_durable import fresh

if TYPE_CHECKING:
    from collections.abc import Callable

    Dispatch = Callable[[sow.Event], sow.DispatchResult]

LEASE = timedelta(seconds=1)
#: A third of LEASE: an attempt is renewed no sooner than this after it started or was renewed.
BEAT = 1 / 3
#: Room for the rounding of float seconds in the lower bounds below.
EPSILON = 1e-6


class Renewals(MemoryInbox):
    """A MemoryInbox that records every renew() as (entry id, owner, start, result).

    The result is ``None`` for a renewal that raised. A renewal of an entry in
    :attr:`gates` waits for its gate; :attr:`failing` renewals raise ``OSError`` first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, float, bool | None]] = []
        self.gates: dict[str, threading.Event] = {}
        self.renewing = threading.Event()
        self.failing = 0
        self.log: list[str] = []

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        started = time.monotonic()
        gate = self.gates.get(entry_id)
        if gate is not None:
            self.renewing.set()
            gate.wait(20)
        if self.failing:
            self.failing -= 1
            self.calls.append((entry_id, owner, started, None))
            msg = "renew: the database is restarting"
            raise OSError(msg)
        held = super().renew(entry_id, owner, lease)
        self.calls.append((entry_id, owner, started, held))
        self.log.append(f"renewed {entry_id}")
        return held

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        self.log.append(f"settled {entry_id}")
        return super().settle(entry_id, owner, settlement)

    def of(self, owner: str) -> list[tuple[float, bool | None]]:
        """The (start, result) of each renewal of *owner*'s attempt."""
        return [(started, held) for _, who, started, held in list(self.calls) if who == owner]


def until(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    """Wait until *condition* holds; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def attempt(delivery: Delivery) -> tuple[Entry, str]:
    """Record a new event and start an attempt on it."""
    body = fresh("person.created")
    event = sow.parse(body)
    delivery.record(event, body)
    taken = delivery.claim(event)
    assert taken is not None
    return taken


def ending_when(condition: Callable[[], object], what: str) -> Dispatch:
    """A dispatch whose handler waits until *condition* holds."""
    dispatcher = sow.Dispatcher()
    dispatcher.on_any(lambda _event: until(condition, what))
    return dispatcher.dispatch


@pytest.fixture
def inbox() -> Renewals:
    return Renewals()


@pytest.fixture
def delivery(inbox: Renewals) -> Delivery:
    return Delivery(inbox, lease=LEASE)


def lease_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "superoffice-webhooks-lease"}


def in_thread(function: Callable[..., object], *args: object) -> threading.Thread:
    thread = threading.Thread(target=function, args=args)
    thread.start()
    return thread


def test_one_thread_renews_many_attempts_each_on_its_own_schedule(
    inbox: Renewals, delivery: Delivery
) -> None:
    """Concurrent attempts share one lease thread; each is renewed a third of the lease after its last renewal."""
    release = threading.Event()
    dispatch = ending_when(release.is_set, "the end of the test")
    before = lease_threads()
    started: dict[str, float] = {}
    threads = []
    for _ in range(6):
        entry, owner = attempt(delivery)
        started[owner] = time.monotonic()
        threads.append(in_thread(delivery.run, entry, owner, dispatch))
        time.sleep(0.05)  # the attempts start at different times

    try:
        until(lambda: all(len(inbox.of(o)) >= 3 for o in started), "three renewals of each")
        assert len(lease_threads() - before) == 1
    finally:
        release.set()
        for thread in threads:
            thread.join(20)

    for owner, start in started.items():
        renewals = inbox.of(owner)
        assert all(held for _, held in renewals)
        times = [start] + [at for at, _ in renewals]
        assert all(b - a >= BEAT - EPSILON for a, b in itertools.pairwise(times))
    assert all(e.state is State.DONE for e in inbox.entries())


def test_nothing_renews_an_attempt_after_it_ended(inbox: Renewals, delivery: Delivery) -> None:
    """Once run() returned, its attempt is never renewed again, though the thread lives on."""
    entry, owner = attempt(delivery)

    delivery.run(entry, owner, ending_when(lambda: len(inbox.of(owner)) >= 2, "two renewals"))
    count = len(inbox.calls)
    time.sleep(4 * BEAT)  # beats that would renew it, were it still running

    assert len(inbox.calls) == count
    assert delivery._heartbeat._thread is not None
    assert delivery._heartbeat._thread.is_alive()


def test_run_returns_only_after_its_renewal_in_flight_finished(
    inbox: Renewals, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    """A renewal of the attempt in flight when the handlers end is finished before the result is recorded."""
    entry, owner = attempt(delivery)
    inbox.gates[entry.id] = gate = threading.Event()
    returned = threading.Event()
    dispatch = ending_when(inbox.renewing.is_set, "a renewal in flight")

    def run() -> None:
        delivery.run(entry, owner, dispatch)
        returned.set()

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        thread = in_thread(run)
        until(inbox.renewing.is_set, "a renewal in flight")
        try:
            assert not returned.wait(0.5)  # waits for the renewal, which waits for the gate
        finally:
            gate.set()
            thread.join(20)

    assert returned.is_set()
    assert inbox.log == [f"renewed {entry.id}", f"settled {entry.id}"]
    assert caplog.records == []


def test_run_does_not_wait_for_another_attempts_renewal(
    inbox: Renewals, delivery: Delivery
) -> None:
    """An attempt that ends while another attempt's renewal hangs returns at once."""
    first, first_owner = attempt(delivery)
    second, second_owner = attempt(delivery)
    inbox.gates[second.id] = gate = threading.Event()
    release = threading.Event()
    slow = in_thread(delivery.run, second, second_owner, ending_when(release.is_set, "release"))
    try:
        until(inbox.renewing.is_set, "the second attempt's renewal in flight")
        delivery.run(first, first_owner, sow.Dispatcher().dispatch)
        assert inbox.get(first.id).state is State.DONE  # type: ignore[union-attr]  # recorded
        assert not gate.is_set()
    finally:
        gate.set()
        release.set()
        slow.join(20)
    assert inbox.get(second.id).state is State.DONE  # type: ignore[union-attr]  # recorded


def test_a_lost_lease_is_logged_once_and_renewed_no_more(
    inbox: Renewals, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    """An attempt whose entry was taken over is reported once, then left alone; others go on."""
    entry, owner = attempt(delivery)
    other, other_owner = attempt(delivery)
    release = threading.Event()
    bystander = in_thread(delivery.run, other, other_owner, ending_when(release.is_set, "release"))
    dispatch = sow.Dispatcher().dispatch

    def taken_over(event: sow.Event) -> sow.DispatchResult:
        until(lambda: len(inbox.of(owner)) >= 1, "a renewal")
        inbox.settle(entry.id, owner, Settlement(state=State.PENDING))
        inbox.claim(entry.id, "intruder", 60)
        until(lambda: any(held is False for _, held in inbox.of(owner)), "the lost lease")
        lost = len(inbox.of(other_owner))
        until(lambda: len(inbox.of(other_owner)) >= lost + 3, "the other attempt's renewals")
        return dispatch(event)

    try:
        with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
            delivery.run(entry, owner, taken_over)
    finally:
        release.set()
        bystander.join(20)

    lost = [r for r in caplog.records if r.getMessage().startswith("Lost the lease")]
    assert len(lost) == 1
    assert entry.id in lost[0].getMessage()
    assert [held for _, held in inbox.of(owner)][-1] is False  # none after the lost one
    assert inbox.get(entry.id).owner == "intruder"  # type: ignore[union-attr]  # added above


def test_a_renewal_error_is_logged_and_tried_at_the_next_beat(
    inbox: Renewals, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    """A renewal that raises is logged at WARNING and tried again a beat later."""
    inbox.failing = 2
    entry, owner = attempt(delivery)
    dispatch = ending_when(lambda: any(held for _, held in inbox.of(owner)), "a renewal that holds")

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        delivery.run(entry, owner, dispatch)

    assert [held for _, held in inbox.of(owner)] == [None, None, True]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"Could not renew the lease on inbox entry {entry.id}; trying again."
    ] * 2
    assert all(r.exc_info is not None for r in warnings)
    times = [at for at, _ in inbox.of(owner)]
    assert all(b - a >= BEAT - EPSILON for a, b in itertools.pairwise(times))


def test_an_idle_lease_thread_ends_and_the_next_attempt_starts_one(
    inbox: Renewals, delivery: Delivery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no attempt for a while the thread ends (nothing left behind); a new attempt starts another."""
    monkeypatch.setattr(_delivery, "_IDLE", 0.1)
    delivery.run(*attempt(delivery), sow.Dispatcher().dispatch)
    first = delivery._heartbeat._thread
    assert first is not None

    until(lambda: not first.is_alive(), "the idle thread to end")
    assert delivery._heartbeat._thread is None

    entry, owner = attempt(delivery)

    delivery.run(entry, owner, ending_when(lambda: inbox.of(owner), "a renewal"))
    assert delivery._heartbeat._thread not in (None, first)


FORK_SCRIPT = """
import os, signal, threading
from datetime import timedelta

from superoffice_webhooks._delivery import Delivery
from test_heartbeat import Renewals, attempt, ending_when, lease_threads, until

inbox = Renewals()
delivery = Delivery(inbox, lease=timedelta(seconds=1))
entry, owner = attempt(delivery)
release = threading.Event()
parents = threading.Thread(
    target=delivery.run, args=(entry, owner, ending_when(release.is_set, "release"))
)
parents.start()
until(lambda: inbox.of(owner), "a renewal in the parent")

# Another thread holds the heartbeat's lock, between renewals, while this one forks.
heartbeat, held, forked = delivery._heartbeat, threading.Event(), threading.Event()

def hold():
    while True:
        with heartbeat._changed:
            if heartbeat._renewing is None:
                held.set()
                forked.wait(20)
                return

threading.Thread(target=hold).start()
held.wait(20)
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a child that hangs on the parent's lock dies
    child_entry, child_owner = attempt(delivery)
    renewals = len(inbox.of(owner))
    dispatch = ending_when(lambda: inbox.of(child_owner), "a renewal in the child")
    delivery.run(child_entry, child_owner, dispatch)
    ok = (
        inbox.get(child_entry.id).state.value == "done"
        and len(inbox.of(owner)) == renewals  # the parent's attempt is not the child's
        and len(lease_threads()) == 1
    )
    os._exit(0 if ok else 1)
forked.set()
_, status = os.waitpid(pid, 0)
renewals = len(inbox.of(owner))
until(lambda: len(inbox.of(owner)) > renewals, "a renewal in the parent after the fork")
release.set()
parents.join(20)
print(os.waitstatus_to_exitcode(status), inbox.get(entry.id).state.value)
"""


def test_a_forked_child_renews_its_own_attempts_with_its_own_thread() -> None:
    """After a fork (gunicorn's workers), the child starts its own lease thread, even if the lock was held."""
    result = subprocess.run(  # noqa: S603  # our own script
        [sys.executable, "-c", FORK_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=90,
        cwd=Path(__file__).parent,
    )

    assert result.stdout.split() == ["0", "done"]
