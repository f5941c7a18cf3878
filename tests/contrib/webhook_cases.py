"""The requests every adapter must answer alike, and a dispatcher that records its events."""

from __future__ import annotations

import io
import json
import threading
import uuid
from typing import TYPE_CHECKING, Any

import attrs

import superoffice_webhooks as sow
from conftest import SECRET, example, example_json

if TYPE_CHECKING:
    import logging

#: The body size limit of the adapters under test.
LIMIT = 4096
#: The PrimaryKey whose person events make the recording handler raise.
FAILING_KEY = 666

PERSON_EVENTS: dict[str, type[sow.Event]] = {
    "person.created": sow.PersonCreated,
    "person.changed": sow.PersonChanged,
    "person.deleted": sow.PersonDeleted,
    "person.consented": sow.PersonConsented,
    "person.unconsented": sow.PersonUnconsented,
}
SIGNATURE_CASINGS = (
    "X-SuperOffice-Signature",
    "x-superoffice-signature",
    "X-SUPEROFFICE-SIGNATURE",
    "X-Superoffice-Signature",
)


def fresh(body: bytes) -> bytes:
    """*body* with an EventId of its own.

    The documented examples share placeholder EventIds, and a receiver handles each
    EventId once, so every request here carries a new one, as SuperOffice's do.
    """
    old = str(json.loads(body)["EventId"]).encode()
    return body.replace(old, str(uuid.uuid4()).encode(), 1)


def signed(body: bytes, header: str = "X-SuperOffice-Signature") -> dict[str, str]:
    """Request headers with a valid signature of *body*."""
    return {"Content-Type": "application/json; charset=utf-8", header: sow.sign(body, SECRET)}


def failing_body() -> bytes:
    """A person.created body whose handler raises."""
    data = example_json("person.created")
    data["PrimaryKey"] = FAILING_KEY
    return fresh(json.dumps(data).encode())


class Recorder:
    """A dispatcher whose person handler records events (and raises for FAILING_KEY)."""

    def __init__(self) -> None:
        self.dispatcher = sow.Dispatcher()
        self.events: list[sow.Event] = []
        self.dispatcher.on("person.*")(self.record)

    def record(self, event: sow.PersonEvent | sow.UnknownEvent) -> None:
        self.events.append(event)
        if event.primary_key == FAILING_KEY:
            msg = "the handler failed"
            raise RuntimeError(msg)


@attrs.frozen
class Case:
    """A request, the status it must get, and the events the handler must record."""

    id: str
    body: bytes
    headers: dict[str, str]
    status: int
    recorded: tuple[type[sow.Event], ...] = ()


def _cases() -> list[Case]:
    cases = [
        Case(f"signed {name}", body, signed(body), 200, (cls,))
        for name, cls in PERSON_EVENTS.items()
        for body in [fresh(example(name))]
    ]
    body = fresh(example("person.consented"))
    tampered = body.replace(b'"PrimaryKey": 18', b'"PrimaryKey": 19')
    malformed = b'{"Event": "person.created", '
    too_big = b"[" * (LIMIT + 1)
    failing = failing_body()
    cases += [
        Case("tampered body", tampered, signed(body), 401),
        Case("unsigned", body, {"Content-Type": "application/json"}, 401),
        Case("wrong secret", body, {"X-SuperOffice-Signature": sow.sign(body, "other")}, 401),
        Case("malformed JSON, signed (kept, not refused)", malformed, signed(malformed), 200),
        Case("oversize", too_big, signed(too_big), 413),
        Case("test event, signed", example("test"), signed(example("test")), 200),
        Case("test event, unverified", example("test"), {"X-Hook-Test": "true"}, 200),
        Case("unknown event", example("contact.created"), signed(example("contact.created")), 200),
        Case("handler raises", failing, signed(failing), 500, (sow.PersonCreated,)),
    ]
    cases += [
        Case(f"header {header}", body, signed(body, header), 200, (sow.PersonConsented,))
        for header in SIGNATURE_CASINGS
        for body in [fresh(example("person.consented"))]
    ]
    return cases


#: Every request, for ``pytest.mark.parametrize("case", CASES, ids=...)``.
CASES = _cases()
CASE_IDS = [case.id for case in CASES]


def check(case: Case, status: int, answer: bytes, recorder: Recorder) -> None:
    """The adapter answered *case* as the Receiver would, and ran the handler as expected."""
    assert status == case.status, answer
    assert answer.strip(), "an answer says why"
    assert case.body not in answer, "an answer never echoes the request"
    assert tuple(type(e) for e in recorder.events) == case.recorded
    for event in recorder.events:
        assert event == sow.parse(case.body)


CONSENT_LOGGED = "Person 18 consented at 2018-04-24T08:01:15.850693+00:00"


def logged(records: list[logging.LogRecord], logger: str) -> list[str]:
    """The messages *logger* logged."""
    return [r.getMessage() for r in records if r.name == logger]


class Unreadable(io.RawIOBase):
    """A request body stream that fails the test if anything reads it."""

    def readinto(self, buffer: object, /) -> int:  # noqa: ARG002  # never reads
        msg = "the body was read"
        raise AssertionError(msg)


class ThreadRecorder:
    """A dispatcher whose sync and async ``person.created`` handlers record their threads.

    The app under test serves ``GET /loop`` from an async endpoint that calls
    :meth:`record_loop`, so that :meth:`check` knows the event loop's thread.
    """

    def __init__(self) -> None:
        self.threads: dict[str, int] = {}
        self.dispatcher = sow.Dispatcher()
        self.dispatcher.on("person.created")(self.sync_handler)
        self.dispatcher.on("person.created")(self.async_handler)

    def sync_handler(self, _: sow.Event) -> None:
        self.threads["sync handler"] = threading.get_ident()

    async def async_handler(self, _: sow.Event) -> None:
        self.threads["async handler"] = threading.get_ident()

    def record_loop(self) -> None:
        self.threads["loop"] = threading.get_ident()

    def check(self, client: Any, url: str) -> None:
        """Through one test *client*: the sync handler ran off the loop, the async one on it."""
        body = example("person.created")
        client.get("/loop")
        response = client.post(url, content=body, headers=signed(body))
        assert response.status_code == 200
        assert self.threads["async handler"] == self.threads["loop"]
        assert self.threads["sync handler"] != self.threads["loop"]
