"""``python -m benchmarks [--quick] [--memory] [--server] [--adapters] [--inbox] [--import]``: measure, print, write JSON and a chart."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import adapters, imports, inbox, memory, report, server
from .cases import CASES, Case, Runner, UnavailableError
from .payloads import ROOT, Payload, payloads
from .timing import Timing, measure

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

RESULTS = ROOT / "benchmarks" / "results"


def runners_for(cases: Sequence[Case], p: Payload, skipped: dict[str, str]) -> dict[str, Runner]:
    """Build and check every case's runner for *p*; unavailable ones go to *skipped*.

    :raises AssertionError: a runner does not produce the library's result.
    """
    runners = {}
    for case in cases:
        try:
            runner = case.build(p)
        except UnavailableError as exc:
            skipped[case.name] = str(exc)
            continue
        if not case.agrees(runner(), p):
            msg = f"{case.name} does not produce the expected result for the {p.label} body"
            raise AssertionError(msg)
        runners[case.name] = runner
    return runners


def benchmark(
    cases: Sequence[Case],
    bodies: Sequence[Payload],
    *,
    rounds: int,
    budget_ns: int,
    log: Callable[[str], object] = print,
) -> tuple[dict[str, dict[str, Timing]], dict[str, str]]:
    """Time *cases* on every body; returns timings per body label, and skipped cases."""
    skipped: dict[str, str] = {}
    results = {}
    for p in bodies:
        # Built per body, just before timing: some peers sign with a timestamp that
        # they refuse after five minutes.
        runners = runners_for(cases, p, skipped)
        baselines = {c.name: c.baseline for c in cases if c.name in runners}
        log(f"timing {len(runners)} pipelines on the {p.label} body ({p.size} bytes)...")
        results[p.label] = measure(runners, baselines, rounds=rounds, budget_ns=budget_ns)
    return results, skipped


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few short rounds (< 30 s)")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="measure memory instead of speed: retained event size and --events requests",
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="requests/s through uvicorn and gunicorn on 127.0.0.1 (wrk if installed)",
    )
    parser.add_argument(
        "--adapters",
        action="store_true",
        help="time the --server apps in-process: what our adapters add per request beyond Receiver.receive",
    )
    parser.add_argument(
        "--inbox",
        action="store_true",
        help="requests/s and latency with the SQLite inbox (worker) vs the memory store "
        "(inline) through uvicorn and gunicorn, and the in-process cost of recording an event",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="store_true",
        help="time `import superoffice_webhooks` against `import attrs, cattrs`, fresh each time",
    )
    parser.add_argument(
        "--python-client",
        action="store_true",
        help="with --server: load with the bounded Python client even if wrk is installed",
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="requests in the --memory run (1000000)"
    )
    parser.add_argument(
        "--retained", type=int, default=2_000, help="events held to measure retained size (2000)"
    )
    parser.add_argument("--rounds", type=int, help="paired rounds (150; 15 with --quick)")
    parser.add_argument(
        "--budget-ms", type=float, help="time per pipeline per round (4 ms; 1 ms with --quick)"
    )
    parser.add_argument("--only", help="comma-separated case names to run (the floors always run)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--no-chart", action="store_true", help="do not draw the PNG chart")
    return parser


def _selected(only: str | None) -> list[Case]:
    if only is None:
        return list(CASES)
    wanted = {name.strip() for name in only.split(",")}
    unknown = wanted - {c.name for c in CASES}
    if unknown:
        names = ", ".join(c.name for c in CASES)
        raise SystemExit(f"unknown case(s) {', '.join(sorted(unknown))}; known: {names}")
    return [
        c for c in CASES if c.name in wanted or (c.group == "floor" and c.name != "floor-orjson")
    ]


def _memory(args: argparse.Namespace, bodies: Sequence[Payload]) -> int:
    retained = {p.label: memory.retained_size(p, args.retained) for p in bodies}
    medium = next(p for p in bodies if p.label == "1.5 KB")
    print(f"sending {args.events:,} distinct {medium.label} requests through Receiver.receive...")
    checkpoints = memory.steady_state(
        medium, args.events, log=lambda c: print(f"  {c.events:>10,} events, {c.seconds:.0f} s")
    )
    report.print_memory(retained, checkpoints)
    report.write_json(
        args.output / "memory.json",
        {
            "environment": report.environment(),
            "retained_bytes_per_event": {k: round(v) for k, v in retained.items()},
            "receive": {
                "body": medium.label,
                "events": args.events,
                "checkpoints": [
                    {
                        "events": c.events,
                        "current": c.current,
                        "peak": c.peak,
                        "seconds": round(c.seconds, 2),
                    }
                    for c in checkpoints
                ],
            },
        },
    )
    print(f"\nwrote {args.output / 'memory.json'}")
    return 0


def _server(args: argparse.Namespace, bodies: Sequence[Payload]) -> int:
    medium = next(p for p in bodies if p.label == "1.5 KB")
    use_wrk = False if args.python_client else None
    generator, results = server.run(medium, quick=args.quick, use_wrk=use_wrk)
    server.print_results(results)
    report.write_json(
        args.output / "server.json",
        {
            "environment": report.environment(),
            "mode": "quick" if args.quick else "full",
            "body": medium.label,
            "load": generator,
            "target_ratio": server.TARGET,
            "results": [
                {
                    "server": r.label,
                    "ours_requests_per_s": round(r.ours),
                    "constant_requests_per_s": round(r.constant),
                    "ratio": round(r.ratio, 3),
                    "ratio_min": round(r.ratio_min, 3),
                    "ratio_max": round(r.ratio_max, 3),
                    "met": r.ratio >= server.TARGET,
                    "floor_requests_per_s": round(r.floor),
                    "floor_ratio": round(r.floor_ratio, 3),
                }
                for r in results
            ],
        },
    )
    print(f"\nwrote {args.output / 'server.json'}")
    return 0


def _adapters(args: argparse.Namespace, bodies: Sequence[Payload]) -> int:
    medium = next(p for p in bodies if p.label == "1.5 KB")
    rounds = args.rounds or (15 if args.quick else 150)
    budget_ns = int((args.budget_ms or (1.0 if args.quick else 4.0)) * 1e6)
    print(f"{rounds} interleaved rounds per framework, {medium.label} body")
    results = adapters.run(medium, rounds=rounds, budget_ns=budget_ns)
    adapters.print_results(results)
    report.write_json(
        args.output / "adapters.json",
        {
            "environment": report.environment(),
            "mode": "quick" if args.quick else "full",
            "rounds": rounds,
            "body": medium.label,
            "adapter_target_us": adapters.ADAPTER_TARGET_US,
            "results": [
                {
                    "app": r.label,
                    "constant_us": round(r.constant / 1e3, 2),
                    "ours_us": round(r.ours / 1e3, 2),
                    "floor_us": round(r.floor / 1e3, 2),
                    "receive_us": round(r.receive / 1e3, 2),
                    "constant_receive_us": round(r.constant_receive / 1e3, 2),
                    "ours_extra_us": round(r.ours_extra / 1e3, 2),
                    "floor_extra_us": round(r.floor_extra / 1e3, 2),
                    "adapter_us": round(r.adapter / 1e3, 2),
                    "adapter_met": r.adapter <= adapters.ADAPTER_TARGET_US * 1e3,
                }
                for r in results
            ],
        },
    )
    print(f"\nwrote {args.output / 'adapters.json'}")
    return 0


def _inbox(args: argparse.Namespace, bodies: Sequence[Payload]) -> int:
    medium = next(p for p in bodies if p.label == "1.5 KB")
    rounds = args.rounds or (15 if args.quick else 150)
    budget_ns = int((args.budget_ms or (1.0 if args.quick else 4.0)) * 1e6)
    generator, results = inbox.run_servers(medium, quick=args.quick)
    print(f"in-process: {rounds} paired rounds")
    steps = inbox.run_in_process(medium, rounds=rounds, budget_ns=budget_ns)
    inbox.print_results(results, steps)

    def load(x: server.Load) -> dict[str, float]:
        return {
            "requests_per_s": round(x.requests_per_s),
            "p50_ms": round(x.p50 * 1e3, 3),
            "p99_ms": round(x.p99 * 1e3, 3),
        }

    report.write_json(
        args.output / "inbox.json",
        {
            "environment": report.environment(),
            "mode": "quick" if args.quick else "full",
            "body": medium.label,
            "load": generator,
            "servers": [
                {
                    "server": r.label,
                    "memory_inline": load(r.memory),
                    "sqlite_inbox_worker": load(r.inbox),
                    "ratio": round(r.ratio, 3),
                    "ratio_min": round(r.ratio_min, 3),
                    "ratio_max": round(r.ratio_max, 3),
                    "recorded": r.recorded,
                    "drained_s": round(r.drained_s, 2),
                }
                for r in results
            ],
            "in_process": {
                "rounds": rounds,
                "budget_ms": budget_ns / 1e6,
                "results": [
                    {
                        "name": s.name,
                        "description": s.description,
                        "baseline": s.baseline,
                        "us": round(s.ns / 1e3, 2),
                        "beyond_baseline_us": round(s.beyond_baseline / 1e3, 2),
                    }
                    for s in steps
                ],
            },
        },
    )
    print(f"\nwrote {args.output / 'inbox.json'}")
    return 0


def _imports(args: argparse.Namespace) -> int:
    rounds = args.rounds or (5 if args.quick else 30)
    print(f"{rounds} fresh imports of each, taking turns")
    result = imports.run(rounds)
    imports.print_results(result)
    report.write_json(
        args.output / "imports.json",
        {
            "environment": report.environment(),
            "rounds": rounds,
            "median_ms": {label: round(result.median(label) / 1e3, 1) for label in result.times},
            "ratio": round(result.ratio, 2),
            "target_ratio": imports.TARGET,
            "met": result.ratio <= imports.TARGET,
        },
    )
    print(f"\nwrote {args.output / 'imports.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.imports:
        return _imports(args)
    bodies = payloads()
    if args.memory:
        return _memory(args, bodies)
    if args.server:
        return _server(args, bodies)
    if args.adapters:
        return _adapters(args, bodies)
    if args.inbox:
        return _inbox(args, bodies)
    rounds = args.rounds or (15 if args.quick else 150)
    budget_ns = int((args.budget_ms or (1.0 if args.quick else 4.0)) * 1e6)
    cases = _selected(args.only)
    env = report.environment()
    print(f"Python {env['python']} on {env['machine']}; {rounds} paired rounds per body")
    start = time.perf_counter()
    results, skipped = benchmark(cases, bodies, rounds=rounds, budget_ns=budget_ns)
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    sizes = {p.label: p.size for p in bodies}
    table = report.rows(results, sizes)
    checks = report.targets(table)
    report.print_table(table, {c.name: c.description for c in cases if c.name not in skipped})
    report.print_targets(checks)
    data = {
        "environment": env,
        "mode": "quick" if args.quick else "full",
        "rounds": rounds,
        "budget_ms": budget_ns / 1e6,
        "seconds": round(time.perf_counter() - start, 1),
        "cases": {c.name: c.description for c in cases},
        "skipped": skipped,
        "results": table,
        "targets": checks,
    }
    report.write_json(args.output / "latest.json", data)
    print(f"\nwrote {args.output / 'latest.json'}")
    if not args.no_chart:
        title = f"superoffice-webhooks vs the floor and peers (Python {env['python']}, median of {rounds} paired rounds)"
        if report.write_chart(args.output / "latest.png", table, title):
            print(f"wrote {args.output / 'latest.png'}")
    return 0
