"""Paired, interleaved timing: every round runs every runner once, in a rotating order.

Absolute times drift on a shared machine (by up to 1.7x between minutes), so a
ratio is never taken between two separate measurements: each round times every
runner back to back over a few milliseconds, the ratio to the baseline is taken
within the round, and the median over the rounds is reported.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

Runner = Callable[[], object]


@attrs.frozen
class Timing:
    """One runner's result over all rounds."""

    #: Median time of one call, in nanoseconds.
    ns: float
    #: Median of the per-round ratios to the baseline, and the quartiles of those ratios.
    ratio: float
    ratio_q1: float
    ratio_q3: float
    #: The time of one call in each round, in nanoseconds, in the order of the rounds.
    samples: tuple[float, ...] = ()

    @property
    def per_second(self) -> float:
        return 1e9 / self.ns


class Pinned(Protocol):
    """A runner that needs a setting while it runs (``with runner.pinned(): ...``)."""

    def __call__(self) -> object: ...
    def pinned(self) -> AbstractContextManager[Runner]: ...


def _time(runner: Runner, n: int) -> int:
    pinned = getattr(runner, "pinned", None)
    if pinned is not None:
        with pinned() as inner:  # set once around the loop, not per call
            return _time(inner, n)
    start = time.perf_counter_ns()
    for _ in repeat(None, n):
        runner()
    return time.perf_counter_ns() - start


def calibrate(runner: Runner, budget_ns: int) -> int:
    """How many calls take about *budget_ns* (at least one)."""
    n = 1
    while True:
        elapsed = _time(runner, n)
        if elapsed >= budget_ns // 4 or n >= 1 << 20:
            return max(1, int(n * budget_ns / max(elapsed, 1)))
        n *= 2


def measure(
    runners: Mapping[str, Runner],
    baselines: Mapping[str, str],
    *,
    rounds: int,
    budget_ns: int,
) -> dict[str, Timing]:
    """Time every runner in *rounds* interleaved rounds of about *budget_ns* each.

    *baselines* maps a runner's name to the name of the runner its ratio is taken
    against (itself for a baseline).
    """
    names = list(runners)
    counts = {name: calibrate(runners[name], budget_ns) for name in names}
    per_call: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        order = names[shift:] + names[:shift]
        if index % 2:
            order.reverse()  # no runner always follows the same neighbour
        gc.collect()
        for name in order:
            per_call[name].append(_time(runners[name], counts[name]) / counts[name])
    result = {}
    for name in names:
        base = per_call[baselines[name]]
        ratios = [t / b for t, b in zip(per_call[name], base, strict=True)]
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios * 3)
        result[name] = Timing(
            ns=statistics.median(per_call[name]),
            ratio=statistics.median(ratios),
            ratio_q1=q1,
            ratio_q3=q3,
            samples=tuple(per_call[name]),
        )
    return result


def paired_difference(a: Timing, b: Timing) -> float:
    """The median over the rounds of *a*'s time minus *b*'s in the same round, in ns."""
    return statistics.median(x - y for x, y in zip(a.samples, b.samples, strict=True))
