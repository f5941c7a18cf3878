"""A small SuperOffice: it delivers signed events as SuperOffice does and counts the answers.

Each event is sent in SuperOffice's cycle: now, 1 s after a failed attempt, 4 s after the
second; any answer but 200 and any connection error is a failure. After a failed cycle
the event goes to the back of the queue for another cycle; 9 failed attempts in a row
would disable the webhook, so a sender gives up after 3 cycles (SPEC section 7).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import attrs

import superoffice_webhooks as sow
from superoffice_webhooks.testing import make_payload

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

#: Seconds before each attempt of a cycle.
CYCLE = (0.0, 1.0, 4.0)
CYCLES = 3
TIMEOUT = 30.0  # seconds for one answer
#: How long every scenario gives its events to be handled.
HANDLED_WITHIN = 60.0


@attrs.define
class Delivery:
    """One event's attempts: each answer's status, ``None`` for a connection error."""

    body: bytes
    statuses: list[int | None] = attrs.field(factory=list)

    @property
    def delivered(self) -> bool:
        """Whether SuperOffice got a 200 in the end."""
        return bool(self.statuses) and self.statuses[-1] == 200

    @property
    def failures(self) -> int:
        """The answers that count towards disabling the webhook (every non-200)."""
        return sum(status != 200 for status in self.statuses)


def post(port: int, body: bytes, secret: str) -> int | None:
    """One signed POST over a new connection; the status, or ``None`` if the connection failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    headers = {
        "Content-Type": "application/json",
        "X-SuperOffice-Signature": sow.sign(body, secret),
    }
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return response.status


def deliver(ports: Callable[[], int], delivery: Delivery, secret: str) -> Delivery:
    """Send *delivery*'s body in up to CYCLES cycles, to the port *ports* picks for each attempt."""
    for _ in range(CYCLES):
        for pause in CYCLE:
            time.sleep(pause)
            delivery.statuses.append(post(ports(), delivery.body, secret))
            if delivery.delivered:
                return delivery
    return delivery


class SuperOffice:
    """Delivers events to servers on 127.0.0.1, *concurrency* at a time, alternating ports.

    Several ports stand for one webhook URL behind a load balancer, which sends each
    request to the next server in turn.
    """

    def __init__(self, ports: Sequence[int], secret: str, concurrency: int = 8) -> None:
        self._ports = list(ports)
        self._secret = secret
        self._turn = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(concurrency)
        self.deliveries: list[Delivery] = []

    def _port(self) -> int:
        with self._lock:
            self._turn += 1
            return self._ports[self._turn % len(self._ports)]

    def remove(self, port: int) -> None:
        """Stop sending to *port*, as a load balancer takes a server that is gone out of rotation."""
        with self._lock:
            self._ports.remove(port)

    def send(self, bodies: Sequence[bytes]) -> None:
        """Start delivering *bodies* in the background."""
        for body in bodies:
            delivery = Delivery(body)
            self.deliveries.append(delivery)
            self._pool.submit(deliver, self._port, delivery, self._secret)

    def finish(self) -> list[Delivery]:
        """Wait until every delivery has ended (bounded by the cycles); all deliveries."""
        self._pool.shutdown(wait=True)
        return self.deliveries

    def close(self) -> None:
        """Stop sending what has not started."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def answers(self) -> Counter[int | None]:
        """How many answers of each status SuperOffice got."""
        return Counter(status for d in self.deliveries for status in d.statuses)


def bodies(count: int, seed: int) -> list[bytes]:
    """*count* distinct person.created bodies."""
    return [
        json.dumps(make_payload("person.created", seed=seed * 100_000 + n)).encode()
        for n in range(count)
    ]


def event_id(body: bytes) -> str:
    """The EventId of a body."""
    value: str = json.loads(body)["EventId"]
    return value


def lines(path: Path) -> list[list[str]]:
    """The lines of *path* split into words; none if it does not exist yet."""
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines()]


def handled(directory: Path) -> Counter[str]:
    """How many times the handler finished for each EventId."""
    return Counter(words[0] for words in lines(directory / "handled"))


def started(directory: Path) -> list[tuple[int, str]]:
    """``(pid, EventId)`` for each handler run that started, in order."""
    return [(int(words[0]), words[1]) for words in lines(directory / "started")]


def wait_for(predicate: Callable[[], bool], timeout: float = HANDLED_WITHIN) -> bool:
    """Poll *predicate* every 50 ms until it holds or *timeout* seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@attrs.frozen
class Figures:
    """What a scenario measured."""

    events: int
    lost: int
    twice: int
    non_200: int

    @classmethod
    def of(cls, sent: Sequence[bytes], directory: Path, superoffice: SuperOffice) -> Figures:
        counts = handled(directory)
        expected = {event_id(body) for body in sent}
        return cls(
            events=len(expected),
            lost=len(expected - set(counts)),
            twice=sum(1 for n in counts.values() if n > 1),
            non_200=sum(d.failures for d in superoffice.deliveries),
        )


def all_handled(sent: Sequence[bytes], directory: Path) -> Callable[[], bool]:
    """A predicate: every event of *sent* has been handled at least once."""
    expected = {event_id(body) for body in sent}
    return lambda: expected <= set(handled(directory))
