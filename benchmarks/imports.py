"""Import time: ``import superoffice_webhooks`` against ``import attrs, cattrs`` alone.

Each import runs in a fresh interpreter and is timed there, without the interpreter's own
start-up; the two take turns so that a busy machine slows both alike. The target: the package costs at most 1.5x its two
dependencies.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

import attrs

#: What is imported, by label.
MODULES = {"superoffice_webhooks": ("superoffice_webhooks",), "attrs + cattrs": ("attrs", "cattrs")}
#: The package's import time may be at most this many times that of attrs and cattrs.
TARGET = 1.5


@attrs.frozen
class ImportTimes:
    """Microseconds per fresh import of each statement, in the order measured."""

    times: dict[str, list[float]]

    def median(self, label: str) -> float:
        return statistics.median(self.times[label])

    @property
    def ratio(self) -> float:
        """The median over rounds of the package's time over that of attrs and cattrs."""
        ours, theirs = self.times["superoffice_webhooks"], self.times["attrs + cattrs"]
        return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def import_time(modules: tuple[str, ...]) -> float:
    """Microseconds *modules* took to import, with all they import, in a fresh interpreter."""
    code = (
        "import time; start = time.perf_counter()\n"
        f"import {', '.join(modules)}\n"
        "print((time.perf_counter() - start) * 1e6)"
    )
    result = subprocess.run(  # noqa: S603  # our own interpreter, our own statement
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(result.stdout)


def run(rounds: int) -> ImportTimes:
    """*rounds* fresh imports of each set of modules, taking turns."""
    times: dict[str, list[float]] = {label: [] for label in MODULES}
    for _ in range(rounds):
        for label, modules in MODULES.items():
            times[label].append(import_time(modules))
    return ImportTimes(times)


def print_results(result: ImportTimes) -> None:
    for label in MODULES:
        values = result.times[label]
        q1, _, q3 = statistics.quantiles(values, n=4)
        print(
            f"  {label:<24}{result.median(label) / 1e3:8.1f} ms   (q1-q3 {q1 / 1e3:.1f}-{q3 / 1e3:.1f})"
        )
    met = "met" if result.ratio <= TARGET else "NOT MET"
    print(f"  ratio {result.ratio:.2f}x <= {TARGET}x attrs + cattrs   {met}")
