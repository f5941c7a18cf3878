"""contrib.asgi: the pure ASGI app, with Starlette's TestClient and raw ASGI messages."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import starlette_app
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from webhook_cases import (
    CASE_IDS,
    CASES,
    CONSENT_LOGGED,
    LIMIT,
    Case,
    Recorder,
    ThreadRecorder,
    check,
    failing_body,
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import SECRET, example
from superoffice_webhooks import AsyncReceiver, ConfigurationError, Receiver
from superoffice_webhooks.contrib.asgi import WebhookApp

URL = "/superoffice/webhook"


def client_for(app: WebhookApp) -> TestClient:
    return TestClient(Starlette(routes=[Mount(URL, app=app)]))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_requests_mounted_in_starlette(case: Case, recorder: Recorder) -> None:
    """Mounted in Starlette, the app answers every request as the Receiver's policy says."""
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher, max_body_size=LIMIT)
    with client_for(app) as client:
        response = client.post(URL, content=case.body, headers=case.headers)
    check(case, response.status_code, response.content, recorder)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_ack_mode_answers_200_when_a_handler_fails(recorder: Recorder) -> None:
    """With on_handler_error="ack" a failing handler still gets 200."""
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher, on_handler_error="ack")
    body = failing_body()
    response = client_for(app).post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert len(recorder.events) == 1


def test_async_handlers_run() -> None:
    """Async handlers are awaited."""
    dispatcher = sow.Dispatcher()
    seen: list[int] = []

    @dispatcher.on("person.consented")
    async def consented(event: sow.PersonConsented) -> None:
        await asyncio.sleep(0)
        seen.append(event.person_id)

    body = example("person.consented")
    response = client_for(WebhookApp(secret=SECRET, dispatcher=dispatcher)).post(
        URL, content=body, headers=signed(body)
    )
    assert response.status_code == 200
    assert seen == [18]


def test_sync_handlers_run_off_the_loop_thread() -> None:
    """A sync handler runs in a worker thread; an async one on the loop's thread."""
    threads = ThreadRecorder()

    async def loop_thread(_: object) -> PlainTextResponse:
        threads.record_loop()
        return PlainTextResponse("")

    app = Starlette(
        routes=[
            Route("/loop", loop_thread),
            Mount(URL, app=WebhookApp(secret=SECRET, dispatcher=threads.dispatcher)),
        ]
    )
    with TestClient(app) as client:
        threads.check(client, URL)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405(method: str, recorder: Recorder) -> None:
    """Anything but POST gets 405 with Allow: POST."""
    client = client_for(WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher))
    response = client.request(method, URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert recorder.events == []


def test_a_ready_receiver_is_used_as_is(recorder: Recorder) -> None:
    """WebhookApp(receiver) uses that receiver."""
    receiver = AsyncReceiver(secret=SECRET, dispatcher=recorder.dispatcher)
    app = WebhookApp(receiver)
    assert app.receiver is receiver
    body = example("person.created")
    assert client_for(app).post(URL, content=body, headers=signed(body)).status_code == 200
    assert [type(e) for e in recorder.events] == [sow.PersonCreated]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((Receiver(secret=SECRET),), {"secret": SECRET}, "not both"),
        (("a secret",), {}, "must be an AsyncReceiver, not str"),
        ((), {"secrets": SECRET}, "Unknown AsyncReceiver option(s): secrets"),
        ((), {}, "needs the webhook's secret"),
    ],
)
def test_wrong_setup_is_a_configuration_error(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    """A receiver together with options, a non-Receiver, an unknown option or no secret."""
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        WebhookApp(*args, **kwargs)


# --- raw ASGI ----------------------------------------------------------------------


class Conversation:
    """Feeds *messages* to an ASGI app and collects what it sends."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.incoming = list(messages)
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        return self.incoming.pop(0)

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))

    def run(self, app: WebhookApp, scope: dict[str, Any]) -> None:
        asyncio.run(app(scope, self.receive, self.send))

    @property
    def status(self) -> int:
        status: int = self.sent[0]["status"]
        return status

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def http_scope(headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": URL,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def test_declared_oversize_is_refused_without_reading(recorder: Recorder) -> None:
    """A Content-Length over the limit gets 413 before a single body message is read."""
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher, max_body_size=LIMIT)
    talk = Conversation()
    talk.run(app, http_scope({"Content-Length": str(LIMIT + 1)}))
    assert talk.received == 0
    assert talk.status == 413
    assert b"4096 bytes" in talk.body


def test_a_growing_body_stops_being_read_past_the_limit(recorder: Recorder) -> None:
    """Without Content-Length, reading stops once the body is over the limit: 413."""
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher, max_body_size=LIMIT)
    chunk = {"type": "http.request", "body": b"x" * 3000, "more_body": True}
    talk = Conversation(chunk, chunk, chunk, chunk)
    talk.run(app, http_scope({}))
    assert talk.received == 2
    assert talk.status == 413
    assert recorder.events == []


def test_chunked_body_is_joined(recorder: Recorder) -> None:
    """A body sent in several messages is verified as a whole."""
    body = example("person.created")
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher)
    talk = Conversation(
        {"type": "http.request", "body": body[:100], "more_body": True},
        {"type": "http.request", "body": body[100:], "more_body": False},
    )
    talk.run(app, http_scope(signed(body)))
    assert talk.status == 200
    assert [type(e) for e in recorder.events] == [sow.PersonCreated]


def test_a_body_read_before_gets_400(recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    """Fewer bytes than Content-Length (something read them first) is a 400 that says so."""
    body = example("person.created")
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher)
    talk = Conversation({"type": "http.request", "body": b"", "more_body": False})
    with caplog.at_level(logging.WARNING, "superoffice_webhooks"):
        talk.run(app, http_scope({**signed(body), "Content-Length": str(len(body))}))
    assert talk.status == 400
    assert b"was read before" in talk.body
    assert "was read before" in caplog.text
    assert recorder.events == []


def test_client_gone_means_no_answer(recorder: Recorder) -> None:
    """A disconnect while reading ends the request without an answer or a handler."""
    app = WebhookApp(secret=SECRET, dispatcher=recorder.dispatcher)
    talk = Conversation({"type": "http.disconnect"})
    talk.run(app, http_scope(signed(b"{}")))
    assert talk.sent == []
    assert recorder.events == []


def test_lifespan_is_acknowledged() -> None:
    """Served on its own, the app completes startup and shutdown."""
    talk = Conversation({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    talk.run(WebhookApp(secret=SECRET), {"type": "lifespan"})
    assert [m["type"] for m in talk.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_websocket_is_a_configuration_error() -> None:
    """Routing a websocket to the app is a mistake in the routing, raised as such."""
    with pytest.raises(ConfigurationError, match="serves HTTP requests"):
        Conversation().run(WebhookApp(secret=SECRET), {"type": "websocket"})


# --- the documented example ----------------------------------------------------------


def test_starlette_example(caplog: pytest.LogCaptureFixture) -> None:
    """docs/examples/starlette_app.py runs its handler for a signed person.consented."""
    body = example("person.consented")
    with caplog.at_level(logging.INFO, "starlette_app"), TestClient(starlette_app.app) as client:
        response = client.post(URL, content=body, headers=signed(body))
        refused = client.post(URL, content=body, headers={})
    assert response.status_code == 200
    assert refused.status_code == 401
    assert logged(caplog.records, "starlette_app") == [CONSENT_LOGGED]


def test_unknown_lifespan_messages_are_ignored() -> None:
    """A lifespan message of another type is skipped; startup and shutdown still complete."""
    talk = Conversation(
        {"type": "lifespan.startup"}, {"type": "lifespan.custom"}, {"type": "lifespan.shutdown"}
    )
    talk.run(WebhookApp(secret=SECRET), {"type": "lifespan"})
    assert [m["type"] for m in talk.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
