"""contrib.fastapi: the router and the dependency, with FastAPI's TestClient and uvicorn."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import fastapi_app
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from live_server import Server, post, serve
from webhook_cases import (
    CASE_IDS,
    CASES,
    CONSENT_LOGGED,
    LIMIT,
    Case,
    Recorder,
    check,
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import SECRET, example, example_json
from superoffice_webhooks import ConfigurationError, Receiver
from superoffice_webhooks.contrib.fastapi import SuperOfficeEvent, webhook_router

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

URL = "/superoffice/webhook"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# --- the router ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_router_answers_like_the_receiver(case: Case, recorder: Recorder) -> None:
    """The router's route answers every request as the Receiver's policy says."""
    app = FastAPI()
    app.include_router(
        webhook_router(secret=SECRET, dispatcher=recorder.dispatcher, max_body_size=LIMIT)
    )
    response = TestClient(app).post(URL, content=case.body, headers=case.headers)
    check(case, response.status_code, response.content, recorder)


def test_router_with_prefix_path_and_ready_receiver(recorder: Recorder) -> None:
    """include_router's prefix goes in front of the path; a ready receiver is used."""
    app = FastAPI()
    receiver = Receiver(secret=SECRET, dispatcher=recorder.dispatcher)
    app.include_router(webhook_router(receiver, path="/in"), prefix="/hooks")
    body = example("person.deleted")
    client = TestClient(app)
    assert client.post("/hooks/in", content=body, headers=signed(body)).status_code == 200
    assert client.post(URL, content=body, headers=signed(body)).status_code == 404
    assert [type(e) for e in recorder.events] == [sow.PersonDeleted]
    assert "/hooks/in" not in app.openapi()["paths"]


def test_router_refuses_get_with_405(recorder: Recorder) -> None:
    """GET on the route gets 405 with Allow: POST."""
    app = FastAPI()
    app.include_router(webhook_router(secret=SECRET, dispatcher=recorder.dispatcher))
    response = TestClient(app).get(URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_router_needs_a_secret() -> None:
    """A router without secret (or allow_unsigned) is a ConfigurationError at once."""
    with pytest.raises(ConfigurationError, match="secret"):
        webhook_router()


# --- the dependency ----------------------------------------------------------------


class RouteCalls:
    def __init__(self) -> None:
        self.events: list[sow.Event] = []


def dependency_app(dependency: SuperOfficeEvent, calls: RouteCalls) -> FastAPI:
    app = FastAPI()

    @app.post(URL)
    async def webhook(
        # Not Annotated[...]: FastAPI cannot resolve a local name in a string annotation.
        event: sow.Event = Depends(dependency),  # noqa: B008, FAST002
    ) -> dict[str, str]:
        calls.events.append(event)
        return {"event": event.event}

    return app


@pytest.mark.parametrize("name", ["person.created", "person.consented", "contact.created"])
def test_dependency_gives_the_route_the_typed_event(name: str) -> None:
    """A signed request reaches the route as its typed event, handlers not dispatched."""
    calls = RouteCalls()
    recorder = Recorder()
    dependency = SuperOfficeEvent(secret=SECRET, dispatcher=recorder.dispatcher)
    body = example(name)
    response = TestClient(dependency_app(dependency, calls)).post(
        URL, content=body, headers=signed(body)
    )
    assert response.status_code == 200
    assert response.json() == {"event": name}
    assert calls.events == [sow.parse(body)]
    assert recorder.events == []


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.status != 200 and c.id != "handler raises"],
    ids=lambda c: c.id,
)
def test_dependency_rejects_with_the_receivers_status(case: Case) -> None:
    """A rejected request never reaches the route; the answer has the receiver's status."""
    calls = RouteCalls()
    dependency = SuperOfficeEvent(secret=SECRET, max_body_size=LIMIT)
    response = TestClient(dependency_app(dependency, calls)).post(
        URL, content=case.body, headers=case.headers
    )
    assert response.status_code == case.status
    assert response.json()["detail"]
    assert calls.events == []


def test_dependency_answers_test_pings_itself() -> None:
    """SuperOffice's test ping gets 200 without running the route."""
    calls = RouteCalls()
    body = example("test")
    response = TestClient(dependency_app(SuperOfficeEvent(secret=SECRET), calls)).post(
        URL, content=body, headers=signed(body)
    )
    assert response.status_code == 200
    assert response.json() == {"detail": "test event acknowledged"}
    assert calls.events == []


def test_dependency_after_the_body_was_read_and_kept() -> None:
    """A body read earlier with request.body() (kept by Starlette) still verifies."""
    dependency = SuperOfficeEvent(secret=SECRET)
    app = FastAPI()

    @app.post(URL)
    async def webhook(request: Request) -> dict[str, str]:
        await request.body()
        event = await dependency(request)
        return {"event": event.event}

    body = example("person.changed")
    response = TestClient(app).post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"event": "person.changed"}


def test_dependency_after_the_stream_was_consumed_gets_400() -> None:
    """A body consumed through request.stream() cannot be verified: 400 that says so."""
    dependency = SuperOfficeEvent(secret=SECRET)
    app = FastAPI()

    @app.post(URL)
    async def webhook(request: Request) -> dict[str, str]:
        async for _ in request.stream():
            pass
        event = await dependency(request)
        return {"event": event.event}

    body = example("person.changed")
    response = TestClient(app).post(URL, content=body, headers=signed(body))
    assert response.status_code == 400
    assert "was read before" in response.json()["detail"]


# --- the documented example -----------------------------------------------------------


def test_fastapi_example_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """docs/examples/fastapi_app.py: the router runs the handler; the route gets the event."""
    consent = example("person.consented")
    created = example("person.created")
    client = TestClient(fastapi_app.app)
    with caplog.at_level(logging.INFO, "fastapi_app"):
        routed = client.post(URL, content=consent, headers=signed(consent))
        direct = client.post("/superoffice/people", content=created, headers=signed(created))
        refused = client.post("/superoffice/people", content=created, headers={})
    assert routed.status_code == 200
    assert direct.status_code == 200
    assert direct.json() == {"received": "person.created"}
    assert refused.status_code == 401
    assert logged(caplog.records, "fastapi_app") == [
        CONSENT_LOGGED,
        f"person.created for person {example_json('person.created')['PrimaryKey']}",
    ]


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[Server]:
    with serve(
        [
            "uvicorn",
            "--host=127.0.0.1",
            "--port={port}",
            "--log-level=warning",
            "--log-config=logging.json",
            "fastapi_app:app",
        ],
        tmp_path / "uvicorn.log",
    ) as server:
        yield server


def test_fastapi_example_under_uvicorn(uvicorn_server: Server) -> None:
    """The example served by uvicorn on 127.0.0.1 answers a signed request over a socket."""
    body = example("person.consented")
    status, answer = post(uvicorn_server.url(URL), body, signed(body))
    assert (status, answer) == (200, b"handled by 1 handler(s)\n")
    assert CONSENT_LOGGED in uvicorn_server.wait_for_output(CONSENT_LOGGED)
    status, _ = post(uvicorn_server.url(URL), body, {"X-SuperOffice-Signature": "x"})
    assert status == 401


def test_dependency_is_awaitable_outside_fastapi() -> None:
    """The dependency is a plain async callable of a Starlette Request (for reuse in tests)."""
    body = example("person.created")
    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "headers": [(k.lower().encode(), v.encode()) for k, v in signed(body).items()],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    event = asyncio.run(SuperOfficeEvent(secret=SECRET)(Request(scope, receive)))
    assert isinstance(event, sow.PersonCreated)


def test_dependency_refuses_a_repeated_signature() -> None:
    """Two signature fields, each of them right, are one malformed field: 401."""
    calls = RouteCalls()
    body = example("person.consented")
    right = sow.sign(body, SECRET)
    response = TestClient(dependency_app(SuperOfficeEvent(secret=SECRET), calls)).post(
        URL,
        content=body,
        headers=[("X-SuperOffice-Signature", right), ("x-superoffice-signature", right)],
    )
    assert response.status_code == 401
    assert "malformed" in response.json()["detail"]
    assert calls.events == []
