"""Memory: the retained size of a parsed event, and a long run through Receiver.receive."""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING

import attrs

import superoffice_webhooks as sow

from .payloads import SECRET, Payload, renewed

if TYPE_CHECKING:
    from collections.abc import Callable


@attrs.frozen
class Checkpoint:
    """Traced memory after *events* requests: now, and the peak since the last checkpoint."""

    events: int
    current: int
    peak: int
    seconds: float


def retained_size(p: Payload, n: int) -> float:
    """Bytes one parsed event keeps alive, averaged over *n* events held at once."""
    sow.parse(p.body)  # anything built on first use is not the event's
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        events = [sow.parse(p.body) for _ in range(n)]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before - sys.getsizeof(events)) / n


def _noop(_: sow.Event) -> None:
    return None


def steady_state(
    p: Payload,
    events: int,
    checkpoints: int = 10,
    log: Callable[[Checkpoint], object] = lambda _: None,
) -> list[Checkpoint]:
    """Send *events* distinct, signed requests through one Receiver; trace its memory.

    Every request has its own EventId, as real deliveries do, so that anything kept
    per event (an idempotency store) would show up as growth.
    """
    dispatcher = sow.Dispatcher()
    dispatcher.on("*")(_noop)
    receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher)
    step = max(1, events // checkpoints)
    result: list[Checkpoint] = []
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        for i in range(1, events + 1):
            request = renewed(p, f"{i:08x}-0000-4000-8000-000000000000")
            outcome = receiver.receive(request.body, request.headers)
            if outcome.status != 200:  # noqa: PLR2004  # handled
                raise AssertionError(outcome.reason)
            if i % step == 0 or i == events:
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                result.append(Checkpoint(i, current, peak, time.perf_counter() - start))
                log(result[-1])
    finally:
        tracemalloc.stop()
    return result
