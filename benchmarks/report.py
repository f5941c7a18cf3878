"""The table, the targets, the JSON file and the chart."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

import attrs

from .cases import CASES, FLOOR, FLOOR_HMAC

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from .memory import Checkpoint
    from .timing import Timing

PACKAGES = (
    "superoffice-webhooks",
    "attrs",
    "cattrs",
    "orjson",
    "standardwebhooks",
    "svix",
    "stripe",
    "githubkit",
    "pydantic",
)


@attrs.frozen
class Target:
    """A ratio the issue asks for: *case* at *size* within *limit* times its baseline."""

    case: str
    size: str
    limit: float


TARGETS = (
    *(Target("verify", size, 1.10) for size in ("0.4 KB", "1.5 KB", "64 KB")),
    Target("verify_and_parse+dispatch", "0.4 KB", 1.60),
    Target("verify_and_parse+dispatch", "1.5 KB", 1.30),
    Target("verify_and_parse+dispatch", "64 KB", 1.30),
    *(Target("receive", size, 1.45) for size in ("0.4 KB", "1.5 KB", "64 KB")),
    *(Target("verify_and_parse+dispatch[fast]", s, 0.80) for s in ("0.4 KB", "1.5 KB", "64 KB")),
)


def environment() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "system": platform.system(),
        "packages": versions,
    }


def rows(results: dict[str, dict[str, Timing]], sizes: dict[str, int]) -> list[dict[str, Any]]:
    baselines = {c.name: c.baseline for c in CASES}
    out = []
    for size, timings in results.items():
        for name, t in timings.items():
            out.append(
                {
                    "case": name,
                    "size": size,
                    "bytes": sizes[size],
                    "ns_per_event": round(t.ns, 1),
                    "events_per_s": round(t.per_second),
                    "baseline": baselines[name],
                    "ratio": round(t.ratio, 3),
                    "ratio_q1": round(t.ratio_q1, 3),
                    "ratio_q3": round(t.ratio_q3, 3),
                }
            )
    return out


def targets(table: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    found = {(r["case"], r["size"]): r for r in table}
    out = []
    for t in TARGETS:
        row = found.get((t.case, t.size))
        if row is None:
            continue
        out.append(
            {
                "case": t.case,
                "size": t.size,
                "baseline": row["baseline"],
                "limit": t.limit,
                "ratio": row["ratio"],
                "met": row["ratio"] <= t.limit,
            }
        )
    return out


def print_table(table: Sequence[dict[str, Any]], descriptions: dict[str, str]) -> None:
    for size in dict.fromkeys(r["size"] for r in table):
        these = [r for r in table if r["size"] == size]
        print(f"\n{size} body ({these[0]['bytes']} bytes)")
        print(f"  {'case':<33} {'ns/event':>10} {'events/s':>10} {'ratio':>7} {'(q1-q3)':>13}  vs")
        for r in these:
            spread = f"{r['ratio_q1']:.2f}-{r['ratio_q3']:.2f}"
            print(
                f"  {r['case']:<33} {r['ns_per_event']:>10,.0f} {r['events_per_s']:>10,}"
                f" {r['ratio']:>6.2f}x {spread:>13}  {r['baseline']}"
            )
    print("\nCases:")
    for name, text in descriptions.items():
        print(f"  {name:<33} {text}")


def print_targets(checks: Sequence[dict[str, Any]]) -> None:
    if not checks:
        return
    print("\nTargets (ratio to the baseline, median of paired rounds):")
    for c in checks:
        verdict = "met" if c["met"] else "NOT MET"
        print(
            f"  {c['case']:<27} {c['size']:>7}  {c['ratio']:.2f}x <= {c['limit']:.2f}x"
            f" {c['baseline']:<11} {verdict}"
        )


def print_memory(retained: dict[str, float], checkpoints: Sequence[Checkpoint]) -> None:
    print("\nRetained size of one parsed event (tracemalloc):")
    for size, value in retained.items():
        print(f"  {size:>7} body: {value:,.0f} bytes")
    if not checkpoints:
        return
    print("\nReceiver.receive, traced memory at checkpoints:")
    print(f"  {'events':>10} {'current':>12} {'peak':>12} {'seconds':>8}")
    for c in checkpoints:
        print(f"  {c.events:>10,} {c.current:>12,} {c.peak:>12,} {c.seconds:>8.1f}")
    growth = checkpoints[-1].current - checkpoints[0].current
    print(f"  growth from the first to the last checkpoint: {growth:+,} bytes")


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def write_chart(path: Path, table: Sequence[dict[str, Any]], title: str) -> bool:
    """A bar chart of the ratios to the floor; False (with a note) without matplotlib."""
    try:
        import matplotlib as mpl  # noqa: PLC0415  # optional: only in the bench group

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415  # after choosing the backend
    except ImportError:
        print(
            f"\nNo chart: matplotlib is not installed (pip install -e . --group bench); {path} not written."
        )
        return False
    shown = [r for r in table if r["case"] != FLOOR_HMAC and r["baseline"] == FLOOR]
    cases = list(dict.fromkeys(r["case"] for r in shown))
    sizes = list(dict.fromkeys(r["size"] for r in shown))
    ratio = {(r["case"], r["size"]): r["ratio"] for r in shown}
    height = 0.8 / len(sizes)
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(cases) + 1.6), dpi=110)
    for i, size in enumerate(sizes):
        ys = [k + (i - (len(sizes) - 1) / 2) * height for k in range(len(cases))]
        values = [ratio.get((c, size), 0.0) for c in cases]
        bars = ax.barh(ys, values, height=height, label=size)
        ax.bar_label(bars, labels=[f"{v:.2f}" if v else "" for v in values], padding=2, fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ticks = [t for t in (0.25, 0.5, 1, 2, 5, 10, 20, 50) if t <= max(ratio.values()) * 1.5]
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    ax.set_xlim(min(0.9, *ratio.values()) * 0.8, max(ratio.values()) * 1.6)
    ax.set_yticks(range(len(cases)), cases)
    ax.invert_yaxis()
    ax.set_xlabel(
        "time per event / the floor (HMAC + base64 + compare_digest + json.loads), log scale"
    )
    ax.set_title(title, fontsize=10)
    ax.legend(title="body", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True
