"""Concurrent deliveries against a Receiver with an idempotency store; a test helper and a benchmark.

SuperOffice delivers each event in cycles of up to three attempts; this module plays
that part with threads (and, run as a script, in several processes at once): it sends
1,000 signed events of which 20% are duplicates of others, and a handler that fails on
the first attempt of every tenth event. Handlers record their effects in a *sink* that
the test reads afterwards: memory (one process), an SQLite file or a Redis hash.

As a benchmark (events/s for each store), from the repository root::

    .venv/bin/python tests/delivery_load.py --store memory
    .venv/bin/python tests/delivery_load.py --store sqlite --processes 2
    .venv/bin/python tests/delivery_load.py --store redis --processes 2 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import superoffice_webhooks as sow
from superoffice_webhooks.idempotency import IdempotencyStore, MemoryStore, SQLiteStore

if TYPE_CHECKING:
    from collections.abc import Sequence

SECRET = "load test secret"  # noqa: S105  # a test secret
TEMPLATE = json.loads((Path(__file__).parent / "data" / "person.created.json").read_bytes())
FAIL_EVERY = 10  # events whose PrimaryKey is a multiple of this fail on their first attempt
# More patient than SuperOffice's 3 attempts (up to about 5 s in all), so that every 409 ends
# in a 200 even while another process waits for SQLite's write lock.
MAX_ATTEMPTS = 120


def deliveries(total: int = 1000, duplicates: float = 0.2, seed: int = 5) -> list[bytes]:
    """*total* signed-ready bodies, *duplicates* of them repeating another's EventId; shuffled."""
    rng = random.Random(seed)  # noqa: S311  # test data, the same list in every process
    unique = total - round(total * duplicates)
    bodies = []
    for number in range(1, unique + 1):
        data = {**TEMPLATE, "EventId": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
        data["PrimaryKey"] = number
        bodies.append(json.dumps(data).encode())
    bodies += [rng.choice(bodies[:unique]) for _ in range(total - unique)]
    rng.shuffle(bodies)
    return bodies


class Sink(Protocol):
    """Where handlers record what they did, readable by the test afterwards."""

    def first_failure(self, key: str) -> bool: ...
    def succeeded(self, key: str) -> None: ...
    def counts(self) -> tuple[Counter[str], Counter[str]]: ...


class MemorySink:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.successes: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def first_failure(self, key: str) -> bool:
        with self._lock:
            self.failures[key] += 1
            return self.failures[key] == 1

    def succeeded(self, key: str) -> None:
        with self._lock:
            self.successes[key] += 1

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        return Counter(self.successes), Counter(self.failures)


class SQLiteSink:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        # The effects file is created before the worker processes start, so no WAL race here.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS effects (kind TEXT, event_id TEXT)")

    def first_failure(self, key: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (seen,) = self._db.execute(
                    "SELECT COUNT(*) FROM effects WHERE kind = 'failure' AND event_id = ?", (key,)
                ).fetchone()
                self._db.execute("INSERT INTO effects VALUES ('failure', ?)", (key,))
            finally:
                self._db.execute("COMMIT")
        return bool(seen == 0)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO effects VALUES ('success', ?)", (key,))

    def close(self) -> None:
        self._db.close()

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        with self._lock:
            rows = self._db.execute("SELECT kind, event_id FROM effects").fetchall()
        return (
            Counter(e for kind, e in rows if kind == "success"),
            Counter(e for kind, e in rows if kind == "failure"),
        )


class RedisSink:
    def __init__(self, url: str, prefix: str) -> None:
        import redis  # noqa: PLC0415  # only when Redis is asked for

        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix

    def first_failure(self, key: str) -> bool:
        return int(self.client.hincrby(f"{self.prefix}failures", key, 1)) == 1

    def succeeded(self, key: str) -> None:
        self.client.hincrby(f"{self.prefix}successes", key, 1)

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        successes = self.client.hgetall(f"{self.prefix}successes")
        failures = self.client.hgetall(f"{self.prefix}failures")
        return (
            Counter({str(k): int(v) for k, v in successes.items()}),
            Counter({str(k): int(v) for k, v in failures.items()}),
        )


def receiver_for(store: IdempotencyStore, sink: Sink) -> sow.Receiver:
    """A receiver with :func:`dispatcher_for` *sink* and *store*."""
    return sow.Receiver(secret=SECRET, dispatcher=dispatcher_for(sink), idempotency=store)


def dispatcher_for(sink: Sink) -> sow.Dispatcher:
    """One handler that records into *sink* and fails the first attempt of every FAIL_EVERY-th event."""
    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.created")
    def handle(event: sow.PersonCreated) -> None:
        key = str(event.event_id)
        if event.primary_key % FAIL_EVERY == 0 and sink.first_failure(key):
            msg = "the first attempt of this event fails"
            raise RuntimeError(msg)
        sink.succeeded(key)

    return dispatcher


def deliver(receiver: sow.Receiver, body: bytes) -> list[int]:
    """One delivery as SuperOffice makes it: attempts until a 200 (bounded); the statuses."""
    headers = {"X-SuperOffice-Signature": sow.sign(body, SECRET)}
    statuses: list[int] = []
    for attempt in range(MAX_ATTEMPTS):
        status = receiver.receive(body, headers).status
        statuses.append(status)
        if status == 200:  # SuperOffice's one success
            break
        time.sleep(min(0.001 * 2**attempt, 0.05))  # SuperOffice waits 1 s, then 4 s
    return statuses


def run(receiver: sow.Receiver, bodies: Sequence[bytes], threads: int = 16) -> list[list[int]]:
    """Deliver every body from *threads* threads at once; each delivery's statuses."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda body: deliver(receiver, body), bodies))


def store_and_sink(
    kind: str, directory: Path, redis_url: str | None, prefix: str
) -> tuple[IdempotencyStore, Sink]:
    if kind == "memory":
        return MemoryStore(), MemorySink()
    if kind == "sqlite":
        return SQLiteStore(directory / "claims.sqlite3"), SQLiteSink(directory / "effects.sqlite3")
    if kind == "redis" and redis_url:
        from superoffice_webhooks.contrib.redis import RedisStore  # noqa: PLC0415  # optional

        return RedisStore.from_url(redis_url, prefix=f"{prefix}event:"), RedisSink(
            redis_url, prefix
        )
    msg = f"unknown store {kind!r} (or --redis-url missing)"
    raise SystemExit(msg)


def worker_command(
    kind: str, directory: Path, *, part: int, parts: int, redis_url: str | None, prefix: str
) -> list[str]:
    """The command line of one worker process delivering every *parts*-th body."""
    command = [sys.executable, __file__, "--store", kind, "--directory", str(directory)]
    command += ["--part", str(part), "--parts", str(parts), "--prefix", prefix]
    return command + (["--redis-url", redis_url] if redis_url else [])


def run_processes(
    kind: str, directory: Path, processes: int, redis_url: str | None, prefix: str
) -> list[list[int]]:
    """Start *processes* workers at once, sharing the store; all their deliveries' statuses."""
    children = [
        subprocess.Popen(  # noqa: S603  # our own script
            worker_command(
                kind, directory, part=part, parts=processes, redis_url=redis_url, prefix=prefix
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        for part in range(processes)
    ]
    statuses: list[list[int]] = []
    try:
        for child in children:
            out, _ = child.communicate(timeout=120)
            if child.returncode != 0:
                msg = f"a delivery worker exited with status {child.returncode}"
                raise RuntimeError(msg)
            statuses += json.loads(out)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
    return statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=["memory", "sqlite", "redis"], default="memory")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--directory", type=Path)
    parser.add_argument("--redis-url")
    parser.add_argument("--prefix", default=f"superoffice-webhooks-load:{uuid.uuid4().hex}:")
    parser.add_argument("--part", type=int)
    parser.add_argument("--parts", type=int)
    args = parser.parse_args(argv)
    if args.part is not None:  # a worker: deliver our share, print the statuses
        store, sink = store_and_sink(args.store, args.directory, args.redis_url, args.prefix)
        bodies = deliveries()[args.part :: args.parts]
        print(json.dumps(run(receiver_for(store, sink), bodies)))  # noqa: T201  # read by the parent
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.directory or Path(tmp)
        store, sink = store_and_sink(args.store, directory, args.redis_url, args.prefix)
        start = time.perf_counter()
        if args.processes == 1:
            statuses = run(receiver_for(store, sink), deliveries())
        else:
            statuses = run_processes(
                args.store, directory, args.processes, args.redis_url, args.prefix
            )
        elapsed = time.perf_counter() - start
        successes, failures = sink.counts()
    requests = sum(len(s) for s in statuses)
    once = all(n == 1 for n in successes.values())
    print(  # noqa: T201  # the benchmark's report
        f"{args.store} x{args.processes} process(es): {len(statuses)} deliveries, {requests} "
        f"requests, {len(successes)} events handled (exactly once: {once}), "
        f"{len(failures)} failed a first attempt, {elapsed:.2f} s, "
        f"{len(statuses) / elapsed:.0f} deliveries/s"
    )
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
