"""``python -m benchmarks --inbox``: what recording every event in an SQLite inbox costs.

**Through real servers** on 127.0.0.1, as ``--server`` does, for uvicorn + the ASGI
adapter and gunicorn + Flask (one worker each): the app with the receiver's in-memory
idempotency store running the handlers in the request, and the app recording each event
in a :class:`~superoffice_webhooks.inbox.SQLiteInbox` and answering at once
(``run_handlers="worker"``) while a :class:`~superoffice_webhooks.Worker` thread in the
same process runs the handlers (:mod:`benchmarks.inbox_apps`). Every request is a new
event with its own ``EventId`` and signature, signed before the round starts. ``wrk``
cannot sign each request, so the load comes from the bounded Python client: a few
keep-alive connections, a fixed number of requests per round, each request timed from
its sending to the end of its answer, and each answer checked (200, and the app's
text: "handled", or "recorded", never "duplicate"). Rounds rotate the two apps; the
ratio of the inbox app's requests/s to the memory app's is taken within each round;
requests/s and the 50th and 99th percentiles of latency are medians over the rounds.
After the rounds every event the inbox recorded must be done (the worker drained it).

**In-process**, in the paired rounds of :func:`benchmarks.timing.measure`: recording one
new event (``Delivery.record``, which builds the entry and calls ``inbox.add``) in a
``MemoryInbox``, in an ``SQLiteInbox`` (``synchronous="NORMAL"``, the default) and in one
with ``synchronous="FULL"`` (in rounds of its own: its disk syncs slow the writes
next to them), each beyond making the new event it records; and
``Receiver.receive`` of a new signed request with the memory store inline and with the
SQLite inbox in worker mode, beyond making the request. After the rounds, a
:class:`~superoffice_webhooks.Worker` runs every event that the last runner recorded
(an async no-op handler), and its time per event is reported.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

import superoffice_webhooks as sow
from superoffice_webhooks._delivery import Delivery
from superoffice_webhooks.inbox import Inbox, MemoryInbox, SQLiteInbox, State

from .cases import noop_dispatcher
from .inbox_apps import INBOX_ENV
from .payloads import SECRET, Payload, renewed
from .server import CONSTANT, Load, Request, Server, client_load, gunicorn, serve, uvicorn
from .server_apps import async_dispatcher
from .timing import measure, paired_difference

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from .timing import Runner, Timing

#: What the inbox apps answer to a new event.
RECORDED = b"recorded; a worker will run the handlers\n"
#: How long the worker may take to run every recorded event after the last round.
DRAIN_TIMEOUT = 60.0


@attrs.frozen
class Framework:
    """The memory app and the inbox app on one server."""

    label: str
    memory: Server
    inbox: Server


FRAMEWORKS = (
    Framework(
        "uvicorn + ASGI",
        uvicorn("asgi_memory", "benchmarks.inbox_apps", factory=True),
        uvicorn("asgi_inbox", "benchmarks.inbox_apps", factory=True),
    ),
    Framework(
        "gunicorn + Flask",
        gunicorn("flask_memory", "benchmarks.inbox_apps", factory=True),
        gunicorn("flask_inbox", "benchmarks.inbox_apps", factory=True),
    ),
)


def new_requests(p: Payload, count: int) -> list[Request]:
    """*count* requests of *p*, each a new event (its own ``EventId`` and signature)."""
    return [(q.body, q.headers) for q in (renewed(p, str(uuid.uuid4())) for _ in range(count))]


@attrs.frozen
class InboxResult:
    """One server's two apps over the rounds."""

    label: str
    #: Medians over the rounds.
    memory: Load
    inbox: Load
    #: The inbox app's requests/s over the memory app's, median of the rounds, and range.
    ratio: float
    ratio_min: float
    ratio_max: float
    #: How many events the inbox recorded, and the seconds from the last round's end
    #: until the worker had run them all.
    recorded: int
    drained_s: float


def _median(loads: Sequence[Load]) -> Load:
    return Load(
        statistics.median(x.requests_per_s for x in loads),
        statistics.median(x.p50 for x in loads),
        statistics.median(x.p99 for x in loads),
    )


def drain(path: Path, expected: int, timeout: float = DRAIN_TIMEOUT) -> float:
    """Seconds until the inbox at *path* holds *expected* done entries and nothing else.

    :raises AssertionError: not drained within *timeout*, or an entry failed.
    """
    start = time.monotonic()
    with contextlib.closing(SQLiteInbox(path)) as inbox:
        while True:
            counts = inbox.stats().counts
            if counts[State.DONE] == expected and sum(counts.values()) == expected:
                return time.monotonic() - start
            if counts[State.DEAD] or time.monotonic() - start > timeout:
                shown = {state.value: n for state, n in counts.items()}
                raise AssertionError(f"the inbox did not drain to {expected} done: {shown}")
            time.sleep(0.05)


def measure_framework(
    framework: Framework, p: Payload, *, rounds: int, requests: int, connections: int
) -> InboxResult:
    """Rotate the two apps of *framework* for *rounds*; median loads and ratios."""
    count = requests - requests % connections
    with tempfile.TemporaryDirectory(prefix="superoffice-webhooks-bench-") as directory:
        path = Path(directory) / "inbox.sqlite3"
        with (
            serve(framework.memory) as memory_port,
            serve(framework.inbox, {INBOX_ENV: str(path)}) as inbox_port,
        ):
            apps: list[tuple[int, bytes, list[Load]]] = [
                (memory_port, CONSTANT, []),
                (inbox_port, RECORDED, []),
            ]
            loads: list[list[Load]] = [into for _, _, into in apps]
            sent = 0
            for index in range(rounds + 1):  # round 0 warms up: imports, caches, pools
                shift = index % len(apps)
                for port, answer, into in apps[shift:] + apps[:shift]:
                    load = client_load(
                        port, new_requests(p, count), connections=connections, answer=answer
                    )
                    sent += count if port == inbox_port else 0
                    if index:
                        into.append(load)
            drained = drain(path, sent)
    memory, inbox = loads
    ratios = [i.requests_per_s / m.requests_per_s for m, i in zip(memory, inbox, strict=True)]
    return InboxResult(
        framework.label,
        _median(memory),
        _median(inbox),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        sent,
        drained,
    )


def run_servers(
    p: Payload, *, quick: bool, log: Callable[[str], object] = print
) -> tuple[str, list[InboxResult]]:
    """Measure both servers; returns the load's description and the results."""
    connections = 4
    rounds = 2 if quick else 5
    requests = 400 if quick else 4000
    generator = (
        f"Python client, {connections} keep-alive connections, {requests} new events per round"
    )
    log(f"load: {generator}; {rounds} rounds per server after one to warm up, {p.label} body")
    results = []
    for framework in FRAMEWORKS:
        log(f"  {framework.label}...")
        results.append(
            measure_framework(
                framework, p, rounds=rounds, requests=requests, connections=connections
            )
        )
    return generator, results


# --- in-process ---------------------------------------------------------------------------


#: The runner with a disk sync per event.
FULL = "record, SQLiteInbox FULL"
#: The in-process runners: name -> (what it does, the runner it is measured beyond).
IN_PROCESS = {
    "new event": ("attrs.evolve of the parsed event with a new EventId", "new event"),
    "record, MemoryInbox": ("Delivery.record of a new event in a MemoryInbox", "new event"),
    "record, SQLiteInbox": (
        "Delivery.record of a new event in an SQLiteInbox (synchronous=NORMAL)",
        "new event",
    ),
    FULL: (
        "the same with synchronous=FULL (a disk sync per event)",
        "new event",
    ),
    "new request": ("a new EventId in the body, signed", "new request"),
    "receive, memory store inline": (
        "Receiver.receive of a new request: memory idempotency store, handler inline",
        "new request",
    ),
    "receive, SQLiteInbox worker": (
        'Receiver.receive of a new request: SQLiteInbox, run_handlers="worker"',
        "new request",
    ),
}


@attrs.frozen
class StepResult:
    """One in-process runner, in nanoseconds."""

    name: str
    description: str
    baseline: str
    #: Median time of one call.
    ns: float
    #: Median over the rounds of its time minus its baseline's in the same round.
    beyond_baseline: float


@contextlib.contextmanager
def _inboxes(directory: Path) -> Iterator[tuple[SQLiteInbox, SQLiteInbox, SQLiteInbox]]:
    files = [SQLiteInbox(directory / f"{name}.sqlite3") for name in ("normal", "receive")]
    full = SQLiteInbox(directory / "full.sqlite3", synchronous="FULL")
    try:
        yield files[0], full, files[1]
    finally:
        for inbox in (*files, full):
            inbox.close()


def _runners(
    p: Payload, normal: SQLiteInbox, full: SQLiteInbox, receiving: SQLiteInbox
) -> dict[str, Runner]:
    dispatcher = noop_dispatcher()
    event = sow.parse(p.body)
    raw = p.body
    evolve, uuid4 = attrs.evolve, uuid.uuid4

    def new_event() -> Any:
        return evolve(event, event_id=uuid4())

    def recording(inbox: Inbox) -> Runner:
        delivery = Delivery(inbox, dispatcher)
        return lambda: delivery.record(new_event(), raw)

    def new_request() -> Payload:
        return renewed(p, str(uuid4()))

    def receiving_with(receiver: sow.Receiver) -> Runner:
        def run() -> object:
            request = new_request()
            return receiver.receive(request.body, request.headers)

        return run

    memory = sow.Receiver(secret=SECRET, dispatcher=dispatcher)
    inbox = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, inbox=receiving, run_handlers="worker"
    )
    return {
        "new event": new_event,
        "record, MemoryInbox": recording(MemoryInbox()),
        "record, SQLiteInbox": recording(normal),
        FULL: recording(full),
        "new request": new_request,
        "receive, memory store inline": receiving_with(memory),
        "receive, SQLiteInbox worker": receiving_with(inbox),
    }


def run_in_process(p: Payload, *, rounds: int, budget_ns: int) -> list[StepResult]:
    """Time recording and receiving new events in-process, in paired rounds."""
    with (
        tempfile.TemporaryDirectory(prefix="superoffice-webhooks-bench-") as directory,
        _inboxes(Path(directory)) as (normal, full, receiving),
    ):
        runners = _runners(p, normal, full, receiving)
        _check_runners(runners)
        # A disk sync per event slows the writes of whatever runs next to it, so the
        # FULL inbox is timed in rounds of its own, with its own baseline.
        apart = {"new event", FULL}
        timed = [
            {name: runners[name] for name in runners if name != FULL},
            {name: runners[name] for name in apart},
        ]
        results: dict[str, tuple[Timing, Timing]] = {}
        for group in timed:
            baselines = {name: IN_PROCESS[name][1] for name in group}
            timings = measure(group, baselines, rounds=rounds, budget_ns=budget_ns)
            for name in group.keys() - results.keys():
                results[name] = (timings[name], timings[baselines[name]])
        steps = [
            StepResult(
                name,
                description,
                baseline,
                results[name][0].ns,
                paired_difference(*results[name]),
            )
            for name, (description, baseline) in IN_PROCESS.items()
        ]
        per_event = _worker_per_event(receiving)
        return [*steps, StepResult(WORKER, WORKER_DESCRIPTION, WORKER, per_event, 0.0)]


#: The worker's pass over what the receive runner recorded, timed once after the rounds.
WORKER = "worker, per event"
WORKER_DESCRIPTION = (
    "Worker.run_once over the events the SQLiteInbox receive runner recorded: take, "
    "run an async no-op handler, settle"
)


def _worker_per_event(inbox: SQLiteInbox) -> float:
    """Nanoseconds per event for a Worker to run every pending entry of *inbox*."""
    pending = inbox.stats().counts[State.PENDING]
    worker = sow.Worker(inbox, async_dispatcher)
    start = time.perf_counter_ns()
    ran = worker.run_once()
    elapsed = time.perf_counter_ns() - start
    if ran != pending or inbox.stats().counts[State.DONE] != pending:
        raise AssertionError(f"the worker ran {ran} of {pending} pending events")
    return elapsed / ran


def _check_runners(runners: dict[str, Runner]) -> None:
    """Every recording runner records a new event; every receiving one is answered 200."""
    for name, runner in runners.items():
        result = runner()
        if name.startswith("record") and result is not True:
            raise AssertionError(f"{name} did not record a new event")
        if isinstance(result, sow.Outcome) and (
            not result.ok or result.reason.startswith("duplicate")
        ):
            raise AssertionError(f"{name} answered {result.status} {result.reason}")


def print_results(results: Sequence[InboxResult], steps: Sequence[StepResult]) -> None:
    print(
        f"\n  {'server':<17} {'app':<24} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'inbox / memory (min-max)':>25}"
    )
    for r in results:
        for name, load in (("memory store, inline", r.memory), ("SQLite inbox, worker", r.inbox)):
            print(
                f"  {r.label:<17} {name:<24} {load.requests_per_s:>7,.0f}"
                f" {load.p50 * 1e3:>7.2f} {load.p99 * 1e3:>7.2f}",
                end="",
            )
            if load is r.inbox:
                spread = f"({r.ratio_min:.0%}-{r.ratio_max:.0%})"
                print(f" {r.ratio:>12.0%} {spread:>12}")
            else:
                print()
        print(
            f"  {'':<17} the worker ran all {r.recorded:,} recorded events within {r.drained_s:.1f} s"
        )
    print(f"\n  {'in-process':<30} {'µs/call':>8} {'beyond':>8}  baseline")
    for s in steps:
        beyond = "" if s.name == s.baseline else f"{s.beyond_baseline / 1e3:>8.1f}"
        print(f"  {s.name:<30} {s.ns / 1e3:>8.1f} {beyond:>8}  {s.baseline}")
