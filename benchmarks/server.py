"""``python -m benchmarks --server``: requests/s through real servers on 127.0.0.1.

Each pair runs the same server three times: with our adapter (one no-op handler),
answering a constant 200 to the same request (the 1.5 KB signed body), and doing only
the floor's work (verify + ``json.loads``) before that constant 200. The load
comes from ``wrk`` when it is installed (``apt-get install wrk``), else from a bounded
Python client (a fixed number of requests over a few keep-alive connections, each answer
checked to be the constant text). Rounds rotate the order of the three servers, the
ratios to the constant server are taken within each round, and their medians are
reported. Every run is bounded in time and in requests and stops by itself.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from .payloads import ROOT, Payload

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

START_TIMEOUT = 30.0
#: Where the apps of :mod:`benchmarks.server_apps` answer.
PATH = "/superoffice/webhook"
#: What our adapter answers to the benchmark body, and so the constant apps too.
CONSTANT = b"handled by 1 handler(s)\n"
#: The ratio of our adapter's requests/s to the constant server's that the issue asks for.
TARGET = 0.90


@attrs.frozen
class Server:
    """How to start one server: ``python -m <args>``, ``{port}`` filled in."""

    name: str
    args: tuple[str, ...]


@attrs.frozen
class Pair:
    """Our adapter, the constant app and the floor app, on the same server."""

    label: str
    ours: Server
    constant: Server
    floor: Server


def uvicorn(app: str, module: str = "benchmarks.server_apps", *, factory: bool = False) -> Server:
    """uvicorn serving *module*'s *app* (made by calling it when *factory*)."""
    return Server(
        app,
        (
            "uvicorn",
            f"{module}:{app}",
            *(("--factory",) if factory else ()),
            "--host=127.0.0.1",
            "--port={port}",
            "--workers=1",
            "--lifespan=off",
            "--no-access-log",
            "--log-level=warning",
        ),
    )


def gunicorn(app: str, module: str = "benchmarks.server_apps", *, factory: bool = False) -> Server:
    """gunicorn (one sync worker) serving *module*'s *app* (made by calling it when *factory*)."""
    return Server(
        app,
        (
            "gunicorn",
            "--bind=127.0.0.1:{port}",
            "--workers=1",
            "--log-level=warning",
            f"{module}:{app}{'()' if factory else ''}",
        ),
    )


PAIRS = (
    Pair("uvicorn + ASGI", uvicorn("asgi"), uvicorn("asgi_constant"), uvicorn("asgi_floor")),
    Pair(
        "gunicorn + Flask",
        gunicorn("flask_app"),
        gunicorn("flask_constant"),
        gunicorn("flask_floor"),
    ),
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(server: Server, env: Mapping[str, str] | None = None) -> Iterator[int]:
    """Run *server* on a free port until the block ends; yields the port.

    *env* adds to the server's environment.
    """
    port = free_port()
    command = [sys.executable, "-m", *(a.format(port=port) for a in server.args)]
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603  # our own command line
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_listening(server, process, port, log)
            yield port
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate *process*, killing it if it has not ended after 10 seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_listening(
    server: Server, process: subprocess.Popen[bytes], port: int, log: IO[bytes]
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"{server.name} exited on start:\n{output[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not listen within {START_TIMEOUT:.0f} s")
        time.sleep(0.05)


def check(port: int, p: Payload) -> None:
    """One request: the server must answer 200 with the expected body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", PATH, body=p.body, headers=p.headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200 or body != CONSTANT:  # noqa: PLR2004  # delivered
        raise AssertionError(f"expected 200 {CONSTANT!r}, got {response.status} {body!r}")


# --- load generators ------------------------------------------------------------------


def _lua_string(value: str) -> str:
    level = "=" * 4
    if f"]{level}]" in value:
        raise ValueError(value)
    return f"[{level}[{value}]{level}]"


def wrk_load(port: int, p: Payload, *, seconds: float, connections: int) -> float:
    """requests/s from ``wrk`` over *seconds*; every answer must be a 2xx."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(p.body.decode('utf-8'))}"]
    lines += [
        f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}"
        for k, v in p.headers.items()
        if k.lower() != "content-length"  # wrk sends its own
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(  # noqa: S603  # wrk, found on PATH by shutil.which
            [
                str(shutil.which("wrk")),
                "--threads=1",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                f"--script={script.name}",
                f"http://127.0.0.1:{port}{PATH}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        Path(script.name).unlink()
    if "Non-2xx" in out or "Socket errors" in out:
        raise AssertionError(f"wrk saw failed requests:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise AssertionError(f"no Requests/sec in wrk's output:\n{out}")
    return float(match.group(1))


Request = tuple[bytes, dict[str, str]]


@attrs.frozen
class Load:
    """One round of load on one app."""

    requests_per_s: float
    #: Latency percentiles, in seconds.
    p50: float
    p99: float


def client_load(port: int, requests: Sequence[Request], *, connections: int, answer: bytes) -> Load:
    """Send *requests* over *connections* keep-alive connections; each must get *answer*."""
    per_connection = len(requests) // connections
    failures: list[str] = []
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def client(batch: Sequence[Request], into: list[float]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        clock = time.perf_counter
        try:
            for body, headers in batch:
                start = clock()
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                got = response.read()
                into.append(clock() - start)
                if response.status != 200 or got != answer:  # noqa: PLR2004  # delivered
                    failures.append(f"{response.status} {got[:80]!r}")
                    return
        except OSError as exc:
            failures.append(repr(exc))
        finally:
            conn.close()

    threads = [
        threading.Thread(
            target=client,
            args=(requests[i * per_connection : (i + 1) * per_connection], latencies[i]),
        )
        for i in range(connections)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise AssertionError(f"failed requests: {failures[:5]}")
    every = [t for one in latencies for t in one]
    cuts = statistics.quantiles(every, n=100, method="inclusive")
    return Load(len(every) / elapsed, cuts[49], cuts[98])


def python_load(port: int, p: Payload, *, requests: int, connections: int) -> float:
    """requests/s of *requests* POSTs of *p* over *connections* keep-alive connections."""
    load = client_load(
        port, [(p.body, p.headers)] * requests, connections=connections, answer=CONSTANT
    )
    return load.requests_per_s


# --- the run ----------------------------------------------------------------------------


@attrs.frozen
class PairResult:
    label: str
    ours: float
    constant: float
    ratio: float
    ratio_min: float
    ratio_max: float
    #: The floor app's requests/s, and its median ratio to the constant app's.
    floor: float
    floor_ratio: float


def measure_pair(pair: Pair, p: Payload, load: Callable[[int], float], rounds: int) -> PairResult:
    """Rotate the three servers for *rounds*; median ratios of the rounds to the constant."""
    ours: list[float] = []
    constant: list[float] = []
    floor: list[float] = []
    with (
        serve(pair.ours) as ours_port,
        serve(pair.constant) as constant_port,
        serve(pair.floor) as floor_port,
    ):
        for port in (ours_port, constant_port, floor_port):
            check(port, p)
            load(port)  # warm-up: imports, caches, connection pools
        order = [(ours_port, ours), (constant_port, constant), (floor_port, floor)]
        for index in range(rounds):
            shift = index % len(order)
            for port, into in order[shift:] + order[:shift]:
                into.append(load(port))
        check(ours_port, p)  # still handled, not answered as a duplicate
    ratios = [o / c for o, c in zip(ours, constant, strict=True)]
    return PairResult(
        pair.label,
        statistics.median(ours),
        statistics.median(constant),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        statistics.median(floor),
        statistics.median(f / c for f, c in zip(floor, constant, strict=True)),
    )


def run(
    p: Payload,
    *,
    quick: bool,
    use_wrk: bool | None = None,
    log: Callable[[str], object] = print,
) -> tuple[str, list[PairResult]]:
    """Measure every pair; returns the load generator's description and the results."""
    if use_wrk is None:
        use_wrk = shutil.which("wrk") is not None
    connections = 4
    rounds = 2 if quick else 5
    load: Callable[[int], float]
    if use_wrk:
        seconds = 1.0 if quick else 3.0
        generator = f"wrk, 1 thread, {connections} connections, {seconds:.0f} s per round"
        load = lambda port: wrk_load(port, p, seconds=seconds, connections=connections)  # noqa: E731  # a one-line closure
    else:
        requests = 400 if quick else 4000
        generator = (
            f"Python client, {connections} keep-alive connections, {requests} requests per round"
        )
        load = lambda port: python_load(port, p, requests=requests, connections=connections)  # noqa: E731  # as above
    log(f"load: {generator}; {rounds} rounds per pair, {p.label} body")
    results = []
    for pair in PAIRS:
        log(f"  {pair.label}...")
        results.append(measure_pair(pair, p, load, rounds))
    return generator, results


def print_results(results: Sequence[PairResult]) -> None:
    print(
        f"\n  {'server':<18} {'ours req/s':>11} {'constant req/s':>15} {'ratio':>7} {'(min-max)':>11}"
        f" {'floor req/s':>12} {'floor ratio':>12}"
    )
    for r in results:
        spread = f"{r.ratio_min:.2f}-{r.ratio_max:.2f}"
        met = "met" if r.ratio >= TARGET else "NOT MET"
        print(
            f"  {r.label:<18} {r.ours:>11,.0f} {r.constant:>15,.0f} {r.ratio:>6.0%} {spread:>11}"
            f" {r.floor:>12,.0f} {r.floor_ratio:>11.0%}  >= {TARGET:.0%} {met}"
        )
