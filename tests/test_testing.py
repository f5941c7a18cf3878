"""superoffice_webhooks.testing: factories, signed requests, the recorder and the client."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs
import pytest
from fastapi import FastAPI, Request  # FastAPI reads the routes' annotations
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

import superoffice_webhooks as sow
from superoffice_webhooks import testing
from superoffice_webhooks.testing import (
    EventRecorder,
    WebhookClient,
    make_event,
    make_field_values,
    make_payload,
    signed_request,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

SECRET = "factory secret"  # noqa: S105  # a test secret
NAMES = sorted(sow.EVENT_CLASSES)


# --- make_event / make_payload ---------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_known_event_is_made_valid(name: str) -> None:
    """make_event(name) gives the class EVENT_CLASSES names, and it survives to_json/parse."""
    event = make_event(name)

    assert type(event) is sow.EVENT_CLASSES[name]
    assert event.event == name
    assert sow.parse(event.to_json()) == event
    assert event.timestamp.tzinfo is UTC


@given(name=st.sampled_from(NAMES), seed=st.integers(min_value=0, max_value=2**64))
def test_any_seed_gives_a_round_tripping_event(name: str, seed: int) -> None:
    """Whatever the seed, the made-up event parses back equal from its JSON and its dict."""
    event = make_event(name, seed=seed)

    assert sow.parse(event.to_json()) == event
    assert sow.parse(make_payload(name, seed=seed)) == event


@pytest.mark.parametrize("name", NAMES)
def test_a_seed_makes_events_reproducible(name: str) -> None:
    """The same seed gives the same event; another seed another event id."""
    assert make_event(name, seed=7) == make_event(name, seed=7)
    assert make_event(name, seed=7).event_id != make_event(name, seed=8).event_id


def test_without_a_seed_ids_are_random_and_the_timestamp_is_now() -> None:
    """Unseeded events get fresh ids, and a timestamp of about now."""
    before = datetime.now(UTC)
    first, second = make_event("person.created"), make_event("person.created")

    assert first.event_id != second.event_id
    assert before <= first.timestamp <= datetime.now(UTC)


def test_typed_field_values_are_filled_in() -> None:
    """Person events get PersonFieldValues with every field set, of its declared type."""
    event = make_event("person.consented", seed=3)

    assert isinstance(event, sow.PersonConsented)
    values = event.field_values
    assert isinstance(values, sow.PersonFieldValues)
    for field in attrs.fields(sow.PersonFieldValues):
        if field.name == "extra" or field.name.startswith("_"):
            continue
        value = getattr(values, field.name)
        assert value is not None, field.name
        expected = datetime if "datetime" in str(field.type) else int
        assert type(value) is expected, field.name
    assert values.person_id == event.person_id == event.primary_key


def test_overrides_set_fields_by_attribute_name() -> None:
    """Keyword overrides replace the made-up values; the row's own id follows primary_key."""
    timestamp = datetime(2025, 5, 14, 12, 43, 4, 383290, tzinfo=UTC)
    event = make_event(
        sow.PersonChanged,
        primary_key=18,
        context_identifier="Cust999",
        timestamp=timestamp,
        changes=("firstname",),
    )

    assert event.person_id == 18
    assert event.field_values is not None
    assert event.field_values.person_id == 18
    assert event.context_identifier == "Cust999"
    assert event.timestamp == timestamp
    assert event.changes == ("firstname",)


def test_a_dict_of_field_values_overrides_only_those_fields() -> None:
    """field_values={...} changes the named fields and keeps the made-up rest."""
    plain = make_event(sow.PersonCreated, seed=5)
    changed = make_event(sow.PersonCreated, seed=5, field_values={"contact_id": 7179})

    assert changed.field_values is not None
    assert plain.field_values is not None
    assert changed.contact_id == 7179
    assert changed.field_values.country_id == plain.field_values.country_id


def test_field_values_can_be_none_or_an_object() -> None:
    """field_values=None leaves them out; a FieldValues object is used as it is."""
    values = make_field_values(sow.PersonFieldValues, seed=1, contact_id=3)

    assert make_event("person.created", field_values=None).field_values is None
    assert make_event("person.created", field_values=values).field_values == values


def test_delete_events_carry_the_deleted_ids() -> None:
    """A *.deleted event has Values with the row's id, as SuperOffice sends them."""
    event = make_event("person.deleted", primary_key=42)

    assert event.values == {"person_id": 42}


def test_the_test_event_looks_like_the_ping() -> None:
    """The test event has primary key 0 and no field values."""
    event = make_event("test")

    assert isinstance(event, sow.TestEvent)
    assert event.primary_key == 0
    assert event.field_values is None


def test_an_event_class_can_be_passed() -> None:
    """make_event(PersonCreated) is make_event("person.created"), typed as the class."""
    event = make_event(sow.PersonCreated, seed=1)

    assert event == make_event("person.created", seed=1)


def test_unknown_events_need_a_name() -> None:
    """UnknownEvent takes the name as event=...; without one it is a ConfigurationError."""
    event = make_event(sow.UnknownEvent, event="custom.happened", seed=2)

    assert isinstance(event, sow.UnknownEvent)
    assert event.event == "custom.happened"
    assert sow.parse(event.to_json()) == event
    with pytest.raises(sow.ConfigurationError, match="event="):
        make_event(sow.UnknownEvent)


def test_a_known_name_for_an_unknown_event_is_refused() -> None:
    """UnknownEvent with a name that has its own class would not parse back as itself."""
    with pytest.raises(sow.ConfigurationError, match="PersonCreated"):
        make_event(sow.UnknownEvent, event="person.created")


def test_a_misspelt_name_suggests_the_right_one() -> None:
    """An unknown name is a ConfigurationError that suggests close names."""
    with pytest.raises(sow.ConfigurationError, match=r"'person\.created'"):
        make_event("person.craeted")


@pytest.mark.parametrize("target", [42, str, sow.Outcome])
def test_other_targets_are_refused(target: Any) -> None:
    """Anything but a name or an Event class is a ConfigurationError."""
    with pytest.raises(sow.ConfigurationError, match="event name or an Event class"):
        make_event(target)


def test_an_unknown_field_lists_the_fields() -> None:
    """An override that names no field is a ConfigurationError listing the real ones."""
    with pytest.raises(sow.ConfigurationError, match="primary_key"):
        make_event("person.created", primry_key=1)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"primary_key": "18"}, "PrimaryKey"),
        ({"event_id": "not a uuid"}, "EventId"),
        ({"timestamp": datetime(2024, 1, 1)}, "Timestamp"),  # noqa: DTZ001  # naive on purpose
        ({"field_values": {"contact_id": "7"}}, "FieldValues.contact_id"),
    ],
)
def test_invalid_overrides_are_refused(override: dict[str, Any], field: str) -> None:
    """An override that would not survive JSON is a ConfigurationError naming the problem."""
    with pytest.raises(sow.ConfigurationError, match=field):
        make_event("person.created", **override)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen(kw_only=True)
class ManyTypes(sow.FieldValues):
    number: int
    maybe_number: int | None = None
    text: str | None = None
    flag: bool | None = None
    ratio: float | None = None
    when: datetime | None = None
    ident: uuid.UUID | None = None
    colour: Colour | None = None
    mode: Literal["a", "b"] | None = None
    nested: sow.PersonFieldValues | None = None
    unfillable: list[int] | None = None


def test_field_values_are_filled_from_the_declared_types() -> None:
    """Each declared type gets a value of that type; an unknown optional type stays None."""
    values = make_field_values(ManyTypes, seed=4)

    assert type(values.number) is int
    assert type(values.maybe_number) is int
    assert type(values.text) is str
    assert type(values.flag) is bool
    assert type(values.ratio) is float
    assert type(values.when) is datetime
    assert values.when.tzinfo is None
    assert type(values.ident) is uuid.UUID
    assert isinstance(values.colour, Colour)
    assert values.mode in ("a", "b")
    assert isinstance(values.nested, sow.PersonFieldValues)
    assert values.unfillable is None
    assert make_field_values(ManyTypes, seed=4) == values


def test_a_required_field_of_an_unknown_type_must_be_given() -> None:
    """A required field of a type with no made-up value is a ConfigurationError naming it."""

    @attrs.frozen(kw_only=True)
    class Odd(sow.FieldValues):
        items: list[int]

    with pytest.raises(sow.ConfigurationError, match="items"):
        make_field_values(Odd)
    assert make_field_values(Odd, items=[1]).items == [1]


def test_make_field_values_needs_a_field_values_class() -> None:
    """make_field_values(Event) is a ConfigurationError."""
    with pytest.raises(sow.ConfigurationError, match="FieldValues class"):
        make_field_values(sow.Event)  # type: ignore[type-var]  # the mistake under test


# --- signed_request ----------------------------------------------------------------


def test_sign_is_the_package_sign() -> None:
    """testing.sign is superoffice_webhooks.sign."""
    assert testing.sign is sow.sign


def test_signed_request_verifies_and_parses() -> None:
    """The body verifies under the secret and the headers are SuperOffice's."""
    body, headers = signed_request("person.consented", SECRET, seed=1, primary_key=18)

    event = sow.verify_and_parse(body, headers["X-SuperOffice-Signature"], SECRET)
    assert isinstance(event, sow.PersonConsented)
    assert event.person_id == 18
    assert headers["X-SuperOffice-Event"] == "person.consented"
    assert headers["X-SuperOffice-EventId"] == str(event.event_id)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("NetServer-Webhook/")
    assert "X-Hook-Test" not in headers


def test_the_test_event_gets_the_test_header() -> None:
    """A test event is sent with X-Hook-Test: true, as SuperOffice does."""
    _, headers = signed_request("test", SECRET)

    assert headers["X-Hook-Test"] == "true"


def test_signed_request_takes_events_payloads_and_bodies() -> None:
    """An Event, a wire dict and raw bytes are signed as given."""
    event = make_event("person.created", seed=2)
    raw = b'{"not": "an event"}\n'

    for given_ in (event, event.to_dict()):
        body, headers = signed_request(given_, SECRET)
        assert sow.parse(body) == event
        sow.verify(body, headers["X-SuperOffice-Signature"], SECRET)
    body, headers = signed_request(raw, SECRET)
    assert body == raw
    assert headers["X-SuperOffice-Signature"] == sow.sign(raw, SECRET)
    assert "X-SuperOffice-Event" not in headers


def test_overrides_apply_to_events_too() -> None:
    """Overrides on an Event evolve it; on a ready body they are refused."""
    event = make_event("person.created", seed=2)

    body, _ = signed_request(event, SECRET, primary_key=5)
    assert sow.parse(body).primary_key == 5
    with pytest.raises(sow.ConfigurationError, match="overrides"):
        signed_request(b"{}", SECRET, primary_key=5)


def test_extra_headers_are_added() -> None:
    """headers= adds headers and replaces ones of the same name."""
    _, headers = signed_request("test", SECRET, headers={"X-Custom": "1", "X-Hook-Test": "no"})

    assert headers["X-Custom"] == "1"
    assert headers["X-Hook-Test"] == "no"


def test_a_receiver_accepts_signed_requests() -> None:
    """A Receiver with the same secret answers 200 and dispatches the made-up event."""
    dispatcher = sow.Dispatcher()
    receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher)
    with EventRecorder(dispatcher) as events:
        outcome = receiver.receive(*signed_request("person.unconsented", SECRET))

    assert outcome.status == 200
    assert events.names == ["person.unconsented"]
    assert events[0] == outcome.event


def test_an_empty_secret_is_refused() -> None:
    """Signing with an empty secret is a ConfigurationError, as everywhere."""
    with pytest.raises(sow.ConfigurationError):
        signed_request("test", "")


# --- EventRecorder -------------------------------------------------------------------


def test_the_recorder_records_while_attached() -> None:
    """Events dispatched inside the with block are recorded; afterwards nothing is."""
    dispatcher = sow.Dispatcher()
    created, changed = make_event("person.created"), make_event("person.changed")
    with EventRecorder(dispatcher) as events:
        dispatcher.dispatch(created)
        dispatcher.dispatch(changed)
    dispatcher.dispatch(make_event("person.deleted"))

    assert list(events) == [created, changed]
    assert len(events) == 2
    assert events.names == ["person.created", "person.changed"]
    assert events.of("person.changed") == [changed]
    assert events.of(sow.PersonCreated) == [created]
    assert events[-1] is changed
    assert list(events[:1]) == [created]
    assert dispatcher.patterns() == ()
    assert "person.created" in repr(events)
    events.clear()
    assert len(events) == 0


def test_the_recorder_records_even_when_a_handler_fails() -> None:
    """A failing handler does not stop the recorder: it is a catch-all that runs anyway."""
    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.created")
    def broken(event: sow.PersonCreated) -> None:
        raise RuntimeError(event.event)

    with EventRecorder(dispatcher) as events, pytest.raises(sow.HandlerError):
        dispatcher.dispatch(make_event("person.created"))

    assert events.names == ["person.created"]


def test_the_recorder_uses_the_default_dispatcher_by_default() -> None:
    """EventRecorder() attaches to default_dispatcher, and detaches cleanly."""
    before = sow.default_dispatcher.patterns()
    recorder = EventRecorder()
    recorder.attach()
    try:
        sow.dispatch(make_event("test"))
    finally:
        recorder.detach()

    assert recorder.names == ["test"]
    assert sow.default_dispatcher.patterns() == before


# --- WebhookClient -----------------------------------------------------------------------


def receiving_wsgi_app(options: Mapping[str, Any]) -> Callable[..., Any]:
    """A bare WSGI app: raw body and headers from the environ, into a Receiver of *options*."""
    receiver = sow.Receiver(**options)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        assert environ["REQUEST_METHOD"] == "POST"
        assert environ["PATH_INFO"] == "/hooks/superoffice"
        assert environ["QUERY_STRING"] == "tenant=1"
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        headers = {
            key[5:].replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ["CONTENT_TYPE"]
        outcome = receiver.receive(body, headers)
        start_response(f"{outcome.status} X", [("Content-Type", "text/plain")])
        return [outcome.reason.encode()]

    return app


def receiving_asgi_app(options: Mapping[str, Any]) -> Callable[..., Any]:
    """A bare ASGI app: the whole body from receive(), into an AsyncReceiver of *options*."""
    receiver = sow.AsyncReceiver(**options)

    async def app(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        assert scope["type"] == "http"
        assert scope["method"] == "POST"
        assert scope["path"] == "/hooks/superoffice"
        assert scope["query_string"] == b"tenant=1"
        message = await receive()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        outcome = await receiver.areceive(message["body"], headers)
        await send(
            {
                "type": "http.response.start",
                "status": outcome.status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": outcome.reason.encode()})

    return app


APPS: Mapping[str, Callable[[Mapping[str, Any]], Callable[..., Any]]] = {
    "wsgi": receiving_wsgi_app,
    "asgi": receiving_asgi_app,
}


@pytest.mark.parametrize("kind", sorted(APPS))
def test_the_client_posts_signed_events_through_an_app(kind: str) -> None:
    """send() reaches the app's receiver signed: 200, and the handler sees the event."""
    dispatcher = sow.Dispatcher()
    app = APPS[kind]({"secret": SECRET, "dispatcher": dispatcher})
    with (
        WebhookClient(app, secret=SECRET, path="/hooks/superoffice?tenant=1") as client,
        EventRecorder(dispatcher) as events,
    ):
        response = client.send("person.consented", primary_key=18)

    assert client.kind == kind
    assert response.status == 200
    assert response.text == "handled by 1 handler(s)"
    assert response.headers["content-type" if kind == "asgi" else "Content-Type"] == "text/plain"
    assert [e.primary_key for e in events] == [18]


@pytest.mark.parametrize("kind", sorted(APPS))
def test_send_raw_posts_exactly_what_it_is_given(kind: str) -> None:
    """send_raw() adds no signature: a wrong one gets 401, a tampered body too."""
    app = APPS[kind]({"secret": SECRET, "dispatcher": sow.Dispatcher()})
    body, headers = signed_request("person.created", SECRET)

    with WebhookClient(app, secret=SECRET, path="/hooks/superoffice?tenant=1") as client:
        assert client.send_raw(body, headers).status == 200
        assert client.send_raw(body + b" ", headers).status == 401
        unsigned = {k: v for k, v in headers.items() if k != "X-SuperOffice-Signature"}
        assert client.send_raw(body, unsigned).status == 401
        kept = client.send(b"not json", path="/hooks/superoffice?tenant=1")  # signed, unreadable
    assert (kept.status, kept.text.startswith("verified payload could not be read")) == (200, True)


def test_the_asgi_client_works_inside_a_running_event_loop() -> None:
    """Called from async code, send() runs the ASGI app on its own loop and returns."""
    app = receiving_asgi_app({"secret": SECRET, "dispatcher": sow.Dispatcher()})

    async def from_async_code() -> int:
        with WebhookClient(app, secret=SECRET, path="/hooks/superoffice?tenant=1") as client:
            return client.send("test").status

    assert asyncio.run(from_async_code()) == 200


def test_app_errors_reach_the_caller() -> None:
    """An exception in the app propagates out of send(), from a worker thread too."""

    async def broken(scope: object, receive: object, send: object) -> None:
        raise LookupError(scope)

    async def from_async_code(client: WebhookClient) -> None:
        client.send("test")

    with WebhookClient(broken, secret=SECRET) as client:
        with pytest.raises(LookupError):
            client.send("test")
        with pytest.raises(LookupError):
            asyncio.run(from_async_code(client))


def test_the_kind_can_be_forced_and_is_checked() -> None:
    """kind= overrides the guess; an unknown kind or a non-callable app is refused."""
    app = receiving_wsgi_app({"secret": SECRET})

    assert WebhookClient(app, secret=SECRET, kind="wsgi").kind == "wsgi"
    with pytest.raises(sow.ConfigurationError, match="kind"):
        WebhookClient(app, secret=SECRET, kind="cgi")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(sow.ConfigurationError, match="WSGI or ASGI"):
        WebhookClient(object(), secret=SECRET)


def test_an_asgi_app_object_is_recognised() -> None:
    """An object whose __call__ is async is an ASGI app; a sync one WSGI."""

    class AsgiApp:
        async def __call__(self, scope: object, receive: object, send: object) -> None: ...

    class WsgiApp:
        def __call__(self, _environ: object, _start_response: object) -> list[bytes]:
            return []

    assert WebhookClient(AsgiApp(), secret=SECRET).kind == "asgi"
    assert WebhookClient(WsgiApp(), secret=SECRET).kind == "wsgi"


def test_response_text_and_json() -> None:
    """WebhookResponse.text decodes the body."""
    response = testing.WebhookResponse(200, {}, json.dumps({"ok": True}).encode())

    assert json.loads(response.text) == {"ok": True}


def test_make_event_fills_required_fields_of_a_subclass_then_refuses_it() -> None:
    """A subclass with a required field of its own gets a value, but parse() gives the base class."""

    @attrs.frozen(kw_only=True)
    class Shipped(sow.PersonCreated):
        tracking: str = attrs.field(metadata={"wire": "Tracking"})

    with pytest.raises(sow.ConfigurationError, match="parses to PersonCreated, not Shipped"):
        make_event(Shipped, seed=1)


@pytest.mark.parametrize(
    ("override", "cause"),
    [({"primary_key": object()}, TypeError), ({"timestamp": "yesterday"}, AttributeError)],
    ids=["not JSON", "not a datetime"],
)
def test_make_event_refuses_overrides_of_the_wrong_type(
    override: dict[str, Any], cause: type[Exception]
) -> None:
    """An override the wire form cannot carry is a ConfigurationError that says so."""
    with pytest.raises(sow.ConfigurationError, match="a value has the wrong type") as info:
        make_event("person.created", **override)

    assert isinstance(info.value.__cause__, cause)


def test_wsgi_client_sends_the_real_content_length() -> None:
    """A Content-Length among the given headers is replaced by the body's real length."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        seen = {"length": environ["CONTENT_LENGTH"], "header": "HTTP_CONTENT_LENGTH" in environ}
        return [json.dumps(seen).encode()]

    response = WebhookClient(app, secret=SECRET, kind="wsgi").send_raw(
        b"{}", {"Content-Length": "999", "Content-Type": "application/json"}
    )

    assert json.loads(response.body) == {"length": "2", "header": False}


def test_asgi_client_joins_a_streamed_body_and_ignores_other_messages() -> None:
    """An ASGI body sent in parts arrives whole; messages of other types are skipped."""

    async def app(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"part one, ", "more_body": True})
        await send({"type": "http.response.debug", "info": {}})
        await send({"type": "http.response.body", "body": b"part two"})

    with WebhookClient(app, secret=SECRET) as client:
        response = client.send("test")

    assert (response.status, response.body) == (202, b"part one, part two")


# --- WebhookClient: the ASGI app's lifespan and its one event loop ---------------------


def redis_app(redis_url: str, key: str, made: Literal["at startup", "at first use"]) -> FastAPI:
    """A FastAPI app counting requests in Redis with an async client, made *made*.

    It answers with the count, and records its lifespan in ``app.state.log``.
    """
    import redis.asyncio as aioredis  # noqa: PLC0415  # only these tests need it

    clients: list[aioredis.Redis] = []

    def client() -> aioredis.Redis:
        if not clients:
            clients.append(aioredis.Redis.from_url(redis_url))
        return clients[0]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        app.state.log.append("startup")
        yield {"redis": client()} if made == "at startup" else {}
        if clients:
            await clients[0].aclose()
        app.state.log.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.state.log = []

    @app.post("/")
    async def count(request: Request) -> Response:
        redis = request.state.redis if made == "at startup" else client()
        app.state.log.append("request")
        return Response(str(await redis.incr(key)))

    return app


@pytest.mark.parametrize("made", ["at startup", "at first use"])
def test_an_async_redis_client_serves_every_request(
    redis_url: str, redis_prefix: str, made: Literal["at startup", "at first use"]
) -> None:
    """An async Redis client made in the lifespan or at first use works on every request."""
    app = redis_app(redis_url, f"{redis_prefix}count", made)

    with WebhookClient(app, secret=SECRET) as client:
        assert app.state.log == []  # nothing runs before the first request
        answers = [client.send("test").text for _ in range(3)]
        assert app.state.log == ["startup", "request", "request", "request"]

    assert answers == ["1", "2", "3"]
    assert app.state.log[-1] == "shutdown"


def test_every_request_runs_on_one_event_loop_apart_from_the_callers() -> None:
    """Requests share one loop, which is not the caller's; close() ends it, a new one follows."""
    loops: list[asyncio.AbstractEventLoop] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"  # no lifespan support, as in many bare apps
        loops.append(asyncio.get_running_loop())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def from_async_code(client: WebhookClient) -> asyncio.AbstractEventLoop:
        assert client.send("test").status == 204
        return asyncio.get_running_loop()

    client = WebhookClient(app, secret=SECRET)
    client.send("test")
    callers_loop = asyncio.run(from_async_code(client))
    client.close()
    client.close()  # a second close does nothing
    client.send("test")
    client.close()

    assert loops[0] is loops[1]
    assert callers_loop is not loops[0]
    assert loops[2] is not loops[0]
    assert loops[0].is_closed()


def test_the_lifespan_state_reaches_each_request_as_a_copy() -> None:
    """What the lifespan puts in its state, each request's scope gets a shallow copy of."""
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                scope["state"]["pool"] = ["connection"]
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(scope["state"])
        scope["state"]["request"] = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with WebhookClient(app, secret=SECRET) as client:
        client.send("test")
        client.send("test")

    assert seen[0] is not seen[1]
    assert seen[1] == {"pool": ["connection"], "request": True}
    assert seen[0]["pool"] is seen[1]["pool"]


def test_a_failing_startup_reaches_the_first_request() -> None:
    """An exception in the lifespan startup is raised by send(), and no request runs."""
    requests: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        raise ConnectionRefusedError("no database")
        yield  # pragma: no cover  # the startup fails before it

    async def endpoint(request: Request) -> PlainTextResponse:
        requests.append(request.url.path)
        return PlainTextResponse("ok")

    app = Starlette(lifespan=lifespan, routes=[Route("/", endpoint, methods=["POST"])])
    client = WebhookClient(app, secret=SECRET)

    with pytest.raises(ConnectionRefusedError, match="no database"):
        client.send("test")
    with pytest.raises(ConnectionRefusedError, match="no database"):
        client.send("test")  # tried again, not served without its startup
    client.close()

    assert requests == []


def test_a_failing_shutdown_is_raised_by_close() -> None:
    """An exception in the lifespan shutdown is raised by close() (the fixture's teardown)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        raise OSError("could not flush")

    app = Starlette(
        lifespan=lifespan, routes=[Route("/", lambda _: PlainTextResponse("ok"), methods=["POST"])]
    )
    client = WebhookClient(app, secret=SECRET)
    assert client.send("test").status == 200

    with pytest.raises(OSError, match="could not flush"):
        client.close()


@pytest.mark.parametrize(
    ("answer", "detail"),
    [({"type": "lifespan.startup.failed", "message": "no queue"}, ": no queue"), ({}, "")],
    ids=["with a message", "without one"],
)
def test_a_startup_failure_without_an_exception_is_a_configuration_error(
    answer: dict[str, str], detail: str
) -> None:
    """An app that answers startup.failed but raises nothing gets a clear error."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", **answer})

    with WebhookClient(app, secret=SECRET) as client, pytest.raises(sow.ConfigurationError) as info:
        client.send("test")

    assert str(info.value).startswith(f"The application's lifespan startup failed{detail}.")


@pytest.mark.parametrize("how", ["ends", "raises", "answers something else"])
def test_an_app_without_lifespan_support_is_served_without_it(how: str) -> None:
    """An app that ends, raises or answers nonsense at lifespan startup is served anyway."""
    scopes: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope["type"])
        if scope["type"] == "lifespan":
            await receive()
            if how == "raises":
                raise NotImplementedError(scope["type"])
            if how == "answers something else":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await receive()  # waits until close() cancels it
            return
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with WebhookClient(app, secret=SECRET) as client:
        assert [client.send("test").status for _ in range(2)] == [202, 202]

    assert scopes == ["lifespan", "http", "http"]  # no shutdown is sent


def test_a_shutdown_failure_without_an_exception_is_a_configuration_error() -> None:
    """An app that answers shutdown.failed makes close() raise a ConfigurationError."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.failed", "message": "queue not drained"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = WebhookClient(app, secret=SECRET)
    client.send("test")

    with pytest.raises(sow.ConfigurationError, match="lifespan shutdown failed: queue not drained"):
        client.close()


def test_an_app_may_end_its_lifespan_without_answering_shutdown() -> None:
    """An app whose lifespan returns at shutdown without a message closes cleanly."""
    log: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            log.append((await receive())["type"])
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with WebhookClient(app, secret=SECRET) as client:
        client.send("test")

    assert log == ["lifespan.shutdown"]


def test_send_raw_adds_no_header_field_under_wsgi() -> None:
    """send_raw() to a WSGI app sets only the header fields it is given (no Host, either)."""
    seen: dict[str, object] = {}

    def app(environ: dict[str, object], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    with WebhookClient(app, secret="s") as client:
        assert client.send_raw(b"{}", {"X-Test": "1"}).status == 200

    assert [key for key in seen if key.startswith("HTTP_")] == ["HTTP_X_TEST"]
    assert seen["wsgi.multithread"] is False
