"""Load: signed requests at concurrency 50 against the ASGI app under uvicorn and the Flask
app under gunicorn (4 worker processes) on 127.0.0.1.

Every request must be answered, none with a 5xx, and each EventId's handler must have run
exactly once although 10% of the requests repeat an earlier event (a duplicate that
arrives while the first is in flight gets 409 and is sent again, as SuperOffice does).
The count is SUPEROFFICE_WEBHOOKS_LOAD_REQUESTS (1,000 unless set; CI sends 10,000 on one
Python). The servers log everything at DEBUG, and the log is checked for the secret, the
signatures and the bodies' personal data.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from live_server import Server, serve

import superoffice_webhooks as sow
from conftest import SECRET
from superoffice_webhooks.testing import make_payload

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

REQUESTS = int(os.environ.get("SUPEROFFICE_WEBHOOKS_LOAD_REQUESTS", "1000"))
CONCURRENCY = 50
DUPLICATES = 0.10
MAX_ATTEMPTS = 100  # per request, for 409 answers; far more than SuperOffice's 3
CANARY = "Canary-Load-Personal-Data"
TIMEOUT = 30.0  # seconds for one request

SERVERS = {
    "uvicorn-asgi": ["uvicorn", "--host=127.0.0.1", "--port={port}", "load_app:asgi_app"],
    "gunicorn-flask": [
        "gunicorn",
        "--bind=127.0.0.1:{port}",
        "--workers=4",
        "--backlog=256",
        "load_app:flask_app",
    ],
}


def bodies(total: int, seed: int = 11) -> list[bytes]:
    """*total* person.created bodies, DUPLICATES of them repeating an earlier one; shuffled."""
    rng = random.Random(seed)  # noqa: S311  # test data
    unique = total - round(total * DUPLICATES)
    made = []
    for number in range(unique):
        payload = make_payload("person.created", seed=seed * 1_000_000 + number)
        payload["FieldValues"]["firstname"] = CANARY  # type: ignore[index]  # a dict
        made.append(json.dumps(payload).encode())
    made += [rng.choice(made[:unique]) for _ in range(total - unique)]
    rng.shuffle(made)
    return made


async def post(port: int, body: bytes) -> int:
    """One POST over a fresh connection; the answer's status code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-SuperOffice-Signature: {sow.sign(body, SECRET)}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(answer.split(b" ", 2)[1])


async def deliver(port: int, body: bytes, statuses: list[int]) -> None:
    """Send *body* until it is not 409 (bounded); record every status."""
    for _ in range(MAX_ATTEMPTS):
        status = await asyncio.wait_for(post(port, body), TIMEOUT)
        statuses.append(status)
        if status != 409:
            return
        await asyncio.sleep(0.01)


async def load(port: int, all_bodies: list[bytes]) -> list[list[int]]:
    """Every body delivered by CONCURRENCY workers; each body's statuses, in order."""
    results: list[list[int]] = [[] for _ in all_bodies]
    queue = iter(enumerate(all_bodies))

    async def worker() -> None:
        for index, body in queue:
            await deliver(port, body, results[index])

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return results


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with serve(
        SERVERS[request.param], tmp_path / "server.log", env={"LOAD_DIR": str(tmp_path)}
    ) as running:
        yield running


def test_load(server: Server, tmp_path: Path) -> None:
    """Every request answered without 5xx; each EventId handled exactly once; no leaks."""
    sent = bodies(REQUESTS)
    results = asyncio.run(load(server.port, sent))

    assert all(results), "every request was answered"
    finals = Counter(statuses[-1] for statuses in results)
    assert finals == Counter({200: REQUESTS}), finals
    assert not [s for statuses in results for s in statuses if s >= 500]
    assert {s for statuses in results for s in statuses} <= {200, 409}

    expected = {str(json.loads(body)["EventId"]) for body in sent}
    with sqlite3.connect(tmp_path / "effects.sqlite3") as sink:
        effects = Counter(row[0] for row in sink.execute("SELECT event_id FROM effects"))
    sink.close()
    assert set(effects) == expected
    assert set(effects.values()) == {1}, "a handler ran twice for one EventId"

    log = server.output()
    assert "person.created event" in log  # the library did log, at INFO
    for needle in (SECRET, CANARY, *(sow.sign(body, SECRET) for body in sent[:100])):
        assert needle not in log
