"""contrib.fastapi: the router and the dependency, with FastAPI's TestClient and uvicorn."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import urllib.request
from typing import TYPE_CHECKING

import fastapi_app
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from live_server import REQUEST_TIMEOUT, Server, post, serve
from webhook_cases import (
    CASE_IDS,
    CASES,
    CONSENT_LOGGED,
    LIMIT,
    Case,
    Recorder,
    ThreadRecorder,
    check,
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import EXAMPLES, SECRET, example, example_json
from superoffice_webhooks import AsyncReceiver, ConfigurationError
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
    receiver = AsyncReceiver(secret=SECRET, dispatcher=recorder.dispatcher)
    app.include_router(webhook_router(receiver, path="/in"), prefix="/hooks")
    body = example("person.deleted")
    client = TestClient(app)
    assert client.post("/hooks/in", content=body, headers=signed(body)).status_code == 200
    assert client.post(URL, content=body, headers=signed(body)).status_code == 404
    assert [type(e) for e in recorder.events] == [sow.PersonDeleted]
    assert list(app.openapi()["paths"]) == ["/hooks/in"]


def test_router_refuses_get_with_405(recorder: Recorder) -> None:
    """GET on the route gets 405 with Allow: POST."""
    app = FastAPI()
    app.include_router(webhook_router(secret=SECRET, dispatcher=recorder.dispatcher))
    response = TestClient(app).get(URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_router_dependencies_run_before_the_route(recorder: Recorder) -> None:
    """include_router(dependencies=...) apply: one records its call, one refuses with 403."""
    calls: list[str] = []

    async def record(request: Request) -> None:
        calls.append(request.url.path)

    def refuse() -> None:
        raise HTTPException(403, detail="not from SuperOffice's addresses")

    app = FastAPI()
    app.include_router(
        webhook_router(secret=SECRET, dispatcher=recorder.dispatcher),
        prefix="/open",
        dependencies=[Depends(record)],
    )
    app.include_router(
        webhook_router(secret=SECRET, dispatcher=recorder.dispatcher, name="closed"),
        prefix="/closed",
        dependencies=[Depends(refuse)],
    )
    body = example("person.created")
    client = TestClient(app)
    opened = client.post("/open" + URL, content=body, headers=signed(body))
    closed = client.post("/closed" + URL, content=body, headers=signed(body))
    assert opened.status_code == 200
    assert calls == ["/open" + URL]
    assert closed.status_code == 403
    assert closed.json() == {"detail": "not from SuperOffice's addresses"}
    assert [type(e) for e in recorder.events] == [sow.PersonCreated]


def test_a_router_dependency_that_reads_the_body_leaves_it_verifiable(recorder: Recorder) -> None:
    """A dependency that awaits request.body() first: the route still verifies the bytes."""
    seen: list[int] = []

    async def measure(request: Request) -> None:
        seen.append(len(await request.body()))

    app = FastAPI()
    app.include_router(
        webhook_router(secret=SECRET, dispatcher=recorder.dispatcher),
        dependencies=[Depends(measure)],
    )
    body = example("person.changed")
    response = TestClient(app).post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert seen == [len(body)]
    assert [type(e) for e in recorder.events] == [sow.PersonChanged]


def test_router_is_in_openapi_with_tags_body_and_answers(recorder: Recorder) -> None:
    """/openapi.json lists the POST route under its prefix and tags, with body and statuses."""
    app = FastAPI()
    outer = APIRouter(prefix="/integrations", tags=["integrations"])
    outer.include_router(webhook_router(secret=SECRET, dispatcher=recorder.dispatcher))
    app.include_router(outer, prefix="/v1", tags=["superoffice"])
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert list(paths) == ["/v1/integrations" + URL]
    (method, operation), *_ = paths["/v1/integrations" + URL].items()
    assert method == "post"
    assert operation["tags"] == ["superoffice", "integrations"]
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["title"] == "SuperOffice webhook notification"
    assert {"EventId", "Event", "Timestamp"} <= set(schema["properties"])
    answers = operation["responses"]
    assert sorted(answers) == ["200", "400", "401", "409", "413", "500", "503"]
    assert all(answer["description"] for answer in answers.values())
    assert "text/plain" in answers["200"]["content"]
    (signature,) = operation["parameters"]
    assert (signature["name"], signature["in"]) == ("X-SuperOffice-Signature", "header")


def test_routers_do_not_share_their_schema_parts(recorder: Recorder) -> None:
    """Changing one app's generated schema leaves another router's schema as it was."""
    first, second = FastAPI(), FastAPI()
    first.include_router(webhook_router(secret=SECRET, dispatcher=recorder.dispatcher))
    second.include_router(webhook_router(secret=SECRET, dispatcher=recorder.dispatcher))
    operation = first.openapi()["paths"][URL]["post"]
    operation["requestBody"]["content"]["application/json"]["schema"]["title"] = "changed"
    operation["parameters"].clear()
    again = second.openapi()["paths"][URL]["post"]
    schema = again["requestBody"]["content"]["application/json"]["schema"]
    assert schema["title"] == "SuperOffice webhook notification"
    assert len(again["parameters"]) == 1


def test_router_runs_sync_handlers_off_the_loop_thread() -> None:
    """A sync handler runs in a worker thread; an async one on the loop's thread."""
    threads = ThreadRecorder()
    app = FastAPI()
    app.include_router(webhook_router(secret=SECRET, dispatcher=threads.dispatcher))

    @app.get("/loop")
    async def loop_thread() -> None:
        threads.record_loop()

    with TestClient(app) as client:
        threads.check(client, URL)


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


def test_fastapi_page_shows_the_tested_example() -> None:
    """docs/fastapi.md shows docs/examples/fastapi_app.py inline, exactly."""
    page = (EXAMPLES.parent / "fastapi.md").read_text(encoding="utf-8")
    example_file = (EXAMPLES / "fastapi_app.py").read_text(encoding="utf-8")
    assert f"```python\n{example_file}```" in page


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


# --- sync handlers under a real server ------------------------------------------------


@pytest.fixture
def threads_server(tmp_path: Path) -> Iterator[Server]:
    with serve(
        ["uvicorn", "--host=127.0.0.1", "--port={port}", "--log-level=warning", "threads_app:app"],
        tmp_path / "uvicorn.log",
    ) as server:
        yield server


@pytest.mark.parametrize("path", [URL, "/asgi/"], ids=["router", "mounted WebhookApp"])
def test_a_waiting_sync_handler_does_not_block_other_requests(
    threads_server: Server, path: str
) -> None:
    """Under uvicorn, another request is answered while a sync handler waits for it."""
    body = example("person.created")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        webhook = pool.submit(post, threads_server.url(path), body, signed(body))
        with urllib.request.urlopen(threads_server.url("/ping"), timeout=REQUEST_TIMEOUT) as ping:  # noqa: S310  # http://127.0.0.1 only
            pong = json.loads(ping.read())
        status, answer = webhook.result()
    assert (status, answer) == (200, b"handled by 1 handler(s)\n")
    assert pong == {"handler_started": True}
