"""Receiver: verify, parse and dispatch one request, and answer with an Outcome."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

import superoffice_webhooks as sow
from conftest import SECRET, example, example_json
from superoffice_webhooks import (
    AsyncReceiver,
    ConfigurationError,
    Dispatcher,
    Event,
    HandlerError,
    MissingSignatureError,
    Outcome,
    PayloadError,
    PayloadTooLargeError,
    Receiver,
    VerificationError,
)
from superoffice_webhooks._receiver import _token, header

#: Every test here runs with the standard library's JSON parser and with orjson.
pytestmark = pytest.mark.usefixtures("json_parser")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PERSON_EVENTS = {
    "person.created": sow.PersonCreated,
    "person.changed": sow.PersonChanged,
    "person.deleted": sow.PersonDeleted,
    "person.consented": sow.PersonConsented,
    "person.unconsented": sow.PersonUnconsented,
}
PERSONAL = "SECRET-PERSONAL-DATA"
OTHER = "another secret"
OLD, NEW = "old secret", "new secret"


def signed(body: bytes, secret: str = SECRET, **extra: str) -> dict[str, str]:
    """Headers carrying a valid signature of *body* (plus any *extra* headers)."""
    return {"X-SuperOffice-Signature": sign_of(body, secret), **extra}


def sign_of(body: bytes, secret: str = SECRET) -> str:
    return sow.sign(body, secret)


def body_with(name: str, **changes: object) -> bytes:
    """The example payload *name* re-encoded with top-level keys changed."""
    data = example_json(name)
    data.update(changes)
    return json.dumps(data).encode()


class Seen:
    """A dispatcher whose catch-all handler records every event it gets."""

    def __init__(self) -> None:
        self.dispatcher = Dispatcher()
        self.events: list[Event] = []

    def record(self, e: Event) -> None:
        self.events.append(e)


@pytest.fixture
def seen() -> Seen:
    s = Seen()
    s.dispatcher.on("*")(s.record)
    return s


@pytest.fixture
def receiver(seen: Seen) -> Receiver:
    return Receiver(secret=SECRET, dispatcher=seen.dispatcher)


# --- the happy path ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PERSON_EVENTS))
def test_signed_person_event_is_dispatched(name: str) -> None:
    """A validly signed person event answers 200 and runs its handler once with the typed event."""
    d = Dispatcher()
    got: list[Event] = []
    d.on(PERSON_EVENTS[name])(got.append)
    body = example(name)

    outcome = Receiver(secret=SECRET, dispatcher=d).receive(body, signed(body))

    assert outcome.status == 200
    assert outcome.ok
    assert outcome.error is None
    assert len(got) == 1
    assert type(got[0]) is PERSON_EVENTS[name]
    assert got[0].event == name
    assert outcome.event is got[0]
    assert outcome.dispatch is not None
    assert outcome.dispatch.handled
    assert got[0] == sow.parse(body)


@pytest.mark.parametrize(
    "header",
    [
        "X-SuperOffice-Signature",
        "x-superoffice-signature",
        "X-SUPEROFFICE-SIGNATURE",
        "X-Superoffice-Signature",
    ],
)
def test_signature_header_name_any_casing(header: str, receiver: Receiver, seen: Seen) -> None:
    """The signature header is found whatever its casing."""
    body = example("person.created")

    outcome = receiver.receive(body, {header: sign_of(body)})

    assert outcome.status == 200
    assert len(seen.events) == 1


def test_claim_tokens_are_128_random_bits_in_hex() -> None:
    """Each delivery's claim token: 32 lower-case hex digits, different every time."""
    tokens = {_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert len(token) == 32
        assert set(token) <= set("0123456789abcdef")


class LowerCaseOnly(dict[str, str]):
    """Header fields under lower-case names that must be found without reading them all."""

    def items(self) -> Any:
        raise AssertionError("a lower-case name is found by its first lookup")


def test_header_lookup_in_any_case() -> None:
    """A field is found by its lower-case name at once, in any other case by reading the keys."""
    assert header(LowerCaseOnly({"x-hook-test": "true"}), "x-hook-test") == "true"
    assert header({"X-Hook-Test": "true", "Accept": "*/*"}, "x-hook-test") == "true"
    assert header({"Accept": "*/*"}, "x-hook-test") is None


def test_realistic_headers(receiver: Receiver, seen: Seen) -> None:
    """Other SuperOffice headers next to the signature do not disturb the receiver."""
    body = example("person.consented")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "NetServer-Webhook/8.8.6684.1719",
        "X-Superoffice-Event": "person.consented",
        "X-Superoffice-Eventid": "576086e3-5261-426b-a84b-26ca7f5b65e8",
        "X-Superoffice-Signature": sign_of(body),
    }

    outcome = receiver.receive(body, headers)

    assert outcome.status == 200
    assert isinstance(outcome.event, sow.PersonConsented)


def test_outcome_ok() -> None:
    """Outcome.ok is True exactly for status 200."""
    assert Outcome(status=200, reason="fine").ok
    for status in (201, 204, 400, 401, 413, 500):
        assert not Outcome(status=status, reason="not fine").ok


# --- verification failures -------------------------------------------------------------


def test_tampered_body_is_rejected(receiver: Receiver, seen: Seen) -> None:
    """A body changed after signing answers 401 and runs no handler."""
    body = example("person.consented")
    headers = signed(body)
    tampered = body.replace(b'"PrimaryKey": 18', b'"PrimaryKey": 19')
    assert tampered != body

    outcome = receiver.receive(tampered, headers)

    assert outcome.status == 401
    assert not outcome.ok
    assert isinstance(outcome.error, sow.InvalidSignatureError)
    assert outcome.event is None
    assert seen.events == []


def test_wrong_secret_is_rejected(receiver: Receiver, seen: Seen) -> None:
    """A signature made with another secret answers 401."""
    body = example("person.created")

    outcome = receiver.receive(body, signed(body, OTHER))

    assert outcome.status == 401
    assert isinstance(outcome.error, VerificationError)
    assert seen.events == []


def test_unsigned_request_is_rejected(receiver: Receiver, seen: Seen) -> None:
    """A request without a signature header answers 401 with MissingSignatureError."""
    body = example("person.created")

    outcome = receiver.receive(body, {"Content-Type": "application/json"})

    assert outcome.status == 401
    assert isinstance(outcome.error, MissingSignatureError)
    assert seen.events == []


def test_empty_signature_is_missing(receiver: Receiver, seen: Seen) -> None:
    """An empty signature header counts as missing."""
    body = example("person.created")

    outcome = receiver.receive(body, {"X-SuperOffice-Signature": ""})

    assert outcome.status == 401
    assert isinstance(outcome.error, MissingSignatureError)
    assert seen.events == []


def test_secret_rotation(seen: Seen) -> None:
    """With a list of secrets, a signature under any of them is accepted."""
    receiver = Receiver(secret=[OLD, NEW], dispatcher=seen.dispatcher)
    # Two deliveries with their own EventIds: one EventId twice would be a duplicate.
    first = body_with("person.created", EventId="0d9b4bd6-4f3a-4a4e-9d60-1c6a3c1e0001")
    second = body_with("person.created", EventId="0d9b4bd6-4f3a-4a4e-9d60-1c6a3c1e0002")

    assert receiver.receive(first, signed(first, OLD)).status == 200
    assert receiver.receive(second, signed(second, NEW)).status == 200
    assert receiver.receive(second, signed(second, OTHER)).status == 401
    assert len(seen.events) == 2


def test_allow_unsigned(seen: Seen) -> None:
    """allow_unsigned=True accepts requests that carry no signature."""
    receiver = Receiver(allow_unsigned=True, dispatcher=seen.dispatcher)
    body = example("document.created")

    outcome = receiver.receive(body, {})

    assert outcome.status == 200
    assert [e.event for e in seen.events] == ["document.created"]


# --- payload failures -------------------------------------------------------------------


def test_malformed_json_is_kept_not_refused(receiver: Receiver, seen: Seen) -> None:
    """A validly signed body that is not JSON answers 200 (SuperOffice must not retry it) and runs no handler."""
    body = example("person.created")[:-20]

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert outcome.reason.startswith("verified payload could not be read (")
    assert outcome.reason.endswith(
        "not kept: give the Receiver an inbox or an on_invalid_payload hook"
    )
    assert isinstance(outcome.error, PayloadError)
    assert outcome.event is None
    assert seen.events == []


def test_wrong_field_type_is_kept_not_refused(receiver: Receiver, seen: Seen) -> None:
    """A validly signed body with a field of the wrong type answers 200 with an error naming the field."""
    body = body_with("person.created", PrimaryKey="1467783")

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert isinstance(outcome.error, PayloadError)
    assert outcome.error.field == "PrimaryKey"
    assert "PrimaryKey" in outcome.reason
    assert seen.events == []


def test_missing_event_name_is_kept_not_refused(receiver: Receiver, seen: Seen) -> None:
    """A validly signed body without an Event name answers 200 with an error naming Event."""
    data = example_json("person.created")
    del data["Event"]
    body = json.dumps(data).encode()

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert isinstance(outcome.error, PayloadError)
    assert outcome.error.field == "Event"
    assert seen.events == []


def test_body_over_limit_is_rejected(seen: Seen) -> None:
    """A body larger than max_body_size answers 413 without running handlers."""
    body = example("person.created")
    receiver = Receiver(secret=SECRET, dispatcher=seen.dispatcher, max_body_size=len(body) - 1)

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 413
    assert isinstance(outcome.error, PayloadTooLargeError)
    assert seen.events == []


def test_body_exactly_at_limit_is_processed(seen: Seen) -> None:
    """A body of exactly max_body_size bytes is processed normally."""
    body = example("person.created")
    receiver = Receiver(secret=SECRET, dispatcher=seen.dispatcher, max_body_size=len(body))

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert len(seen.events) == 1


def test_default_max_body_size_is_applied(seen: Seen) -> None:
    """Without max_body_size a body over one MiB answers 413."""
    body = example("person.created")
    big = body[:-2] + b',"Padding": "' + b"x" * (1024 * 1024) + b'"}\n'

    outcome = Receiver(secret=SECRET, dispatcher=seen.dispatcher).receive(big, signed(big))

    assert outcome.status == 413
    assert seen.events == []


def test_size_limit_checked_before_signature(seen: Seen) -> None:
    """An oversized unsigned body answers 413, not 401."""
    receiver = Receiver(secret=SECRET, dispatcher=seen.dispatcher, max_body_size=10)

    outcome = receiver.receive(example("person.created"), {})

    assert outcome.status == 413


# --- handler failures --------------------------------------------------------------------


def failing_dispatcher() -> Dispatcher:
    d = Dispatcher()

    @d.on("person.created")
    def fail(e: Event) -> None:
        raise RuntimeError("handler broke")

    return d


def test_handler_failure_answers_500() -> None:
    """A failing handler answers 500 (so SuperOffice retries) with the HandlerError."""
    body = example("person.created")
    receiver = Receiver(secret=SECRET, dispatcher=failing_dispatcher())

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 500
    assert isinstance(outcome.error, HandlerError)
    assert [type(e) for e in outcome.error.exceptions] == [RuntimeError]
    assert isinstance(outcome.event, sow.PersonCreated)
    assert outcome.error.event is outcome.event
    assert outcome.dispatch is None


def test_handler_failure_acknowledged() -> None:
    """With on_handler_error="ack" a failing handler answers 200 but keeps the error."""
    body = example("person.created")
    receiver = Receiver(secret=SECRET, dispatcher=failing_dispatcher(), on_handler_error="ack")

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert outcome.ok
    assert isinstance(outcome.error, HandlerError)
    assert isinstance(outcome.event, sow.PersonCreated)


# --- test pings --------------------------------------------------------------------------


def test_signed_test_event_is_acknowledged_without_dispatch(receiver: Receiver, seen: Seen) -> None:
    """A signed test ping answers 200 and runs no handler, not even a catch-all one."""
    body = example("test")

    outcome = receiver.receive(body, signed(body, **{"X-Hook-Test": "true"}))

    assert outcome.status == 200
    assert isinstance(outcome.event, sow.TestEvent)
    assert seen.events == []


def test_signed_test_event_without_test_header(receiver: Receiver, seen: Seen) -> None:
    """A signed test event without X-Hook-Test is acknowledged without dispatch too."""
    body = example("test")

    outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    assert seen.events == []


@pytest.mark.parametrize(
    "signature",
    [None, "", "not a signature", "X1FmmRIXuzH8o0MDanva1lnuNZXoix6M0US1S64s+e8="],
)
def test_unverified_test_ping_is_acknowledged(
    signature: str | None, receiver: Receiver, seen: Seen
) -> None:
    """A test ping with X-Hook-Test: true but a bad or missing signature answers 200."""
    body = example("test")
    headers = {"X-Hook-Test": "true"}
    if signature is not None:
        headers["X-SuperOffice-Signature"] = signature

    outcome = receiver.receive(body, headers)

    assert outcome.status == 200
    assert isinstance(outcome.event, sow.TestEvent)
    assert outcome.dispatch is None
    assert seen.events == []


def test_unverified_test_ping_refused_when_disabled(seen: Seen) -> None:
    """With ack_unverified_test=False an unverifiable test ping answers 401."""
    receiver = Receiver(secret=SECRET, dispatcher=seen.dispatcher, ack_unverified_test=False)
    body = example("test")

    assert receiver.receive(body, {"X-Hook-Test": "true"}).status == 401
    bad = {"X-Hook-Test": "true", **signed(body, OTHER)}
    assert receiver.receive(body, bad).status == 401
    assert receiver.receive(body, signed(body, **{"X-Hook-Test": "true"})).status == 200
    assert seen.events == []


@pytest.mark.parametrize("signature", [None, "X1FmmRIXuzH8o0MDanva1lnuNZXoix6M0US1S64s+e8="])
def test_test_header_does_not_excuse_other_events(
    signature: str | None, receiver: Receiver, seen: Seen
) -> None:
    """X-Hook-Test: true on a non-test body with a bad or missing signature answers 401."""
    body = example("person.created")
    headers = {"X-Hook-Test": "true"}
    if signature is not None:
        headers["X-SuperOffice-Signature"] = signature

    outcome = receiver.receive(body, headers)

    assert outcome.status == 401
    assert isinstance(outcome.error, VerificationError)
    assert seen.events == []


# --- routing -------------------------------------------------------------------------------


def test_unknown_event_name_answers_200_no_handler() -> None:
    """An event nobody handles answers 200 with a reason saying no handler ran."""
    d = Dispatcher()
    d.on("person.*")(lambda _: None)
    body = example("contact.created")

    outcome = Receiver(secret=SECRET, dispatcher=d).receive(body, signed(body))

    assert outcome.status == 200
    assert "no handler" in outcome.reason
    assert outcome.dispatch is not None
    assert not outcome.dispatch.handled
    assert outcome.event is not None
    assert outcome.event.event == "contact.created"


def test_routing_uses_the_signed_body_not_the_event_header() -> None:
    """The X-SuperOffice-Event header is ignored; the body's Event decides the handler."""
    d = Dispatcher()
    created: list[Event] = []
    deleted: list[Event] = []
    d.on("person.created")(created.append)
    d.on("person.deleted")(deleted.append)
    body = example("person.created")

    outcome = Receiver(secret=SECRET, dispatcher=d).receive(
        body, signed(body, **{"X-SuperOffice-Event": "person.deleted"})
    )

    assert outcome.status == 200
    assert len(created) == 1
    assert deleted == []


# --- configuration ---------------------------------------------------------------------------


def test_receiver_requires_a_secret() -> None:
    """Receiver() without a secret (and without allow_unsigned) is a configuration error."""
    with pytest.raises(ConfigurationError):
        Receiver()


def test_secret_and_allow_unsigned_conflict() -> None:
    """A secret together with allow_unsigned=True is a configuration error."""
    with pytest.raises(ConfigurationError):
        Receiver(secret=SECRET, allow_unsigned=True)


@pytest.mark.parametrize("secret", ["", b"", [], [SECRET, ""]])
def test_empty_secrets_are_rejected(secret: Any) -> None:
    """An empty secret or list of secrets is a configuration error."""
    with pytest.raises(ConfigurationError):
        Receiver(secret=secret)


@pytest.mark.parametrize(
    "options",
    [
        {"on_handler_error": "ignore"},
        {"on_handler_error": None},
        {"max_body_size": 0},
        {"max_body_size": -1},
        {"max_body_size": 1.5},
        {"max_body_size": "1024"},
        {"max_body_size": True},
        {"dispatcher": object()},
        {"dispatcher": sow.on},
    ],
)
def test_invalid_options(options: dict[str, Any]) -> None:
    """Invalid on_handler_error, max_body_size or dispatcher values are configuration errors."""
    with pytest.raises(ConfigurationError):
        Receiver(secret=SECRET, **options)


def test_str_body_is_rejected(receiver: Receiver, seen: Seen) -> None:
    """receive() takes bytes; a str body is a configuration error."""
    text: Any = example("person.created").decode()

    with pytest.raises(ConfigurationError):
        receiver.receive(text, signed(example("person.created")))
    assert seen.events == []


@pytest.fixture
def on_default() -> Iterator[list[Callable[..., object]]]:
    """Handlers put here are removed from the default dispatcher after the test."""
    handlers: list[Callable[..., object]] = []
    yield handlers
    for handler in handlers:
        sow.default_dispatcher.remove(handler)


def test_default_dispatcher_is_used(on_default: list[Callable[..., object]]) -> None:
    """Without dispatcher=..., handlers registered with sow.on run."""
    got: list[Event] = []

    @sow.on("person.changed")
    def record(e: sow.PersonChanged) -> None:
        got.append(e)

    on_default.append(record)
    receiver = Receiver(secret=SECRET)
    body = example("person.changed")

    outcome = receiver.receive(body, signed(body))

    assert receiver.dispatcher is sow.default_dispatcher
    assert outcome.status == 200
    assert len(got) == 1
    assert got[0] is outcome.event


# --- async ----------------------------------------------------------------------------------


def test_areceive_runs_async_handlers() -> None:
    """areceive awaits async handlers and answers like receive."""
    d = Dispatcher()
    got: list[Event] = []

    @d.on("person.created")
    async def record(e: sow.PersonCreated) -> None:
        await asyncio.sleep(0)
        got.append(e)

    body = example("person.created")
    receiver = AsyncReceiver(secret=SECRET, dispatcher=d)

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert outcome.status == 200
    assert len(got) == 1
    assert outcome.event is got[0]


def test_areceive_statuses() -> None:
    """areceive gives the same statuses as receive for each kind of request."""
    d = Dispatcher()

    @d.on("person.deleted")
    async def fail(e: Event) -> None:
        raise RuntimeError("async handler broke")

    receiver = AsyncReceiver(secret=SECRET, dispatcher=d, max_body_size=4000)
    ok = example("person.created")
    bad_json = ok[:-20]
    deleted = example("person.deleted")
    huge = ok + b" " * 4000
    ping = example("test")

    async def run() -> list[Outcome]:
        return [
            await receiver.areceive(ok, signed(ok)),
            await receiver.areceive(ok, {}),
            await receiver.areceive(ok, signed(ok, OTHER)),
            await receiver.areceive(bad_json, signed(bad_json)),
            await receiver.areceive(huge, signed(huge)),
            await receiver.areceive(deleted, signed(deleted)),
            await receiver.areceive(ping, {"X-Hook-Test": "true"}),
        ]

    outcomes = asyncio.run(run())

    assert [o.status for o in outcomes] == [200, 401, 401, 200, 413, 500, 200]
    assert isinstance(outcomes[3].error, PayloadError)
    assert isinstance(outcomes[1].error, MissingSignatureError)
    assert isinstance(outcomes[5].error, HandlerError)


def test_areceive_with_ack() -> None:
    """areceive honours on_handler_error="ack"."""
    d = Dispatcher()

    @d.on("*")
    async def fail(e: Event) -> None:
        raise RuntimeError("async handler broke")

    body = example("person.created")
    receiver = AsyncReceiver(secret=SECRET, dispatcher=d, on_handler_error="ack")

    outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert outcome.status == 200
    assert isinstance(outcome.error, HandlerError)


# --- logging ---------------------------------------------------------------------------------


def test_logs_never_contain_secret_signature_or_body(caplog: pytest.LogCaptureFixture) -> None:
    """Across 200/401/413/500 outcomes, kept bodies included, no log record carries the secret, a signature or body data."""
    d = Dispatcher()

    @d.on("person.deleted")
    def fail(e: Event) -> None:
        raise RuntimeError("handler broke")

    receiver = Receiver(secret=SECRET, dispatcher=d, max_body_size=4000)
    ok = body_with("person.created", WebhookName=PERSONAL, Properties={"note": PERSONAL})
    wrong_type = body_with("person.created", PrimaryKey=PERSONAL)
    not_json = b'{"Event": "person.created", "Note": "' + PERSONAL.encode() + b'"'
    failing = body_with("person.deleted", WebhookName=PERSONAL)
    huge = ok + b" " * 4000
    forged = sign_of(ok, OTHER)
    requests = [
        (ok, signed(ok), 200),
        (wrong_type, signed(wrong_type), 200),
        (not_json, signed(not_json), 200),
        (ok, {"X-SuperOffice-Signature": forged}, 401),
        (ok, {}, 401),
        (huge, signed(huge), 413),
        (failing, signed(failing), 500),
    ]
    secrets = [
        SECRET,
        OTHER,
        PERSONAL,
        forged,
        *(headers.get("X-SuperOffice-Signature") for _, headers, _ in requests),
    ]

    with caplog.at_level(logging.DEBUG, logger="superoffice_webhooks"):
        statuses = [receiver.receive(body, headers).status for body, headers, _ in requests]

    assert statuses == [status for _, _, status in requests]
    records = [r for r in caplog.records if r.name.startswith("superoffice_webhooks")]
    assert records, "the receiver logs its outcomes"
    for record in records:
        texts = [record.getMessage(), *(str(arg) for arg in (record.args or ()))]
        for text in texts:
            for value in secrets:
                if value:
                    assert value not in text


def test_success_log_names_event_id_and_name(caplog: pytest.LogCaptureFixture) -> None:
    """A 200 outcome is logged with the event's id and name."""
    body = example("person.consented")
    parsed = sow.parse(body)
    receiver = Receiver(secret=SECRET, dispatcher=Dispatcher())

    with caplog.at_level(logging.DEBUG, logger="superoffice_webhooks"):
        outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "superoffice_webhooks"]
    assert any(str(parsed.event_id) in m and "person.consented" in m for m in messages)


def test_error_reasons_do_not_leak_body(receiver: Receiver) -> None:
    """Outcome reasons for unreadable bodies never repeat body values or the signature."""
    wrong_type = body_with("person.created", ContextIdentifier=[PERSONAL])
    headers = signed(wrong_type)

    outcome = receiver.receive(wrong_type, headers)

    assert (outcome.status, type(outcome.error)) == (200, PayloadError)
    assert PERSONAL not in outcome.reason
    assert headers["X-SuperOffice-Signature"] not in outcome.reason
    assert SECRET not in outcome.reason


# --- accept: verify and parse without dispatching --------------------------------------


def test_accept_returns_the_event_without_dispatching(receiver: Receiver, seen: Seen) -> None:
    """accept() gives back the verified, parsed event and runs no handler."""
    body = example("person.consented")

    accepted = receiver.accept(body, signed(body))

    assert accepted == sow.parse(body)
    assert isinstance(accepted, sow.PersonConsented)
    assert seen.events == []


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (example("person.created"), {}, 401),
        (b"[]", signed(b"[]"), 200),
        (b" " * (2 * 1024 * 1024), {}, 413),
        (example("test"), signed(example("test")), 200),
    ],
    ids=["unsigned", "not an object (kept)", "too large", "test ping"],
)
def test_accept_returns_the_outcome_when_nothing_is_to_be_handled(
    receiver: Receiver, seen: Seen, body: bytes, headers: dict[str, str], status: int
) -> None:
    """accept() answers as receive() would when the request is refused, kept or a test ping."""
    accepted = receiver.accept(body, headers)

    assert isinstance(accepted, Outcome)
    assert accepted.status == status
    received = receiver.receive(body, headers)
    assert (accepted.status, accepted.reason) == (received.status, received.reason)
    assert type(accepted.error) is type(received.error)
    assert seen.events == []
