"""contrib.flask: the extension and the view, with Flask's test client and gunicorn."""

from __future__ import annotations

import io
import json
import logging
import select
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flask_app
import pytest
from flask import Blueprint, Flask, request
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]
from live_server import REQUEST_TIMEOUT, Server, post, serve
from webhook_cases import (
    CASE_IDS,
    CASES,
    CONSENT_LOGGED,
    LIMIT,
    Case,
    Recorder,
    Unreadable,
    check,
    failing_body,
    fresh,
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import EXAMPLES, SECRET, example
from superoffice_webhooks import ConfigurationError, Receiver
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks, webhook_view

if TYPE_CHECKING:
    from collections.abc import Iterator

URL = "/superoffice/webhook"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update({f"SUPEROFFICE_WEBHOOKS_{k}": v for k, v in config.items()})
    return app


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_extension_answers_like_the_receiver(case: Case, recorder: Recorder) -> None:
    """The extension's route answers every request as the Receiver's policy says."""
    app = make_app(SECRET=SECRET, MAX_BODY_SIZE=LIMIT)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    response = app.test_client().post(URL, data=case.body, headers=case.headers)
    check(case, response.status_code, response.data, recorder)
    assert response.content_type == "text/plain; charset=utf-8"


def test_on_registers_on_the_extensions_dispatcher() -> None:
    """@webhooks.on is the dispatcher's on; handlers get the typed event."""
    app = make_app(SECRET=SECRET)
    webhooks = SuperOfficeWebhooks(app)
    got: list[sow.PersonConsented] = []

    @webhooks.on("person.consented")
    def consented(event: sow.PersonConsented) -> None:
        got.append(event)

    assert webhooks.dispatcher.handlers_for("person.consented") == (consented,)
    assert sow.default_dispatcher.handlers_for("person.consented") == ()
    body = example("person.consented")
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 200
    assert got == [sow.parse(body)]


def test_ack_mode_from_config(recorder: Recorder) -> None:
    """SUPEROFFICE_WEBHOOKS_ON_HANDLER_ERROR = "ack" answers 200 when a handler fails."""
    app = make_app(SECRET=SECRET, ON_HANDLER_ERROR="ack")
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    body = failing_body()
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 200
    assert len(recorder.events) == 1


def test_app_factory_with_init_app_url_and_rotation(recorder: Recorder) -> None:
    """init_app reads each app's config: its URL and a SECRETS list while rotating."""
    webhooks = SuperOfficeWebhooks(dispatcher=recorder.dispatcher)
    app = make_app(SECRETS=["new secret", SECRET], URL="/hooks/so")
    webhooks.init_app(app)
    body = example("person.created")
    client = app.test_client()
    assert client.post("/hooks/so", data=body, headers=signed(body)).status_code == 200
    assert client.post(URL, data=body, headers=signed(body)).status_code == 404
    assert app.extensions["superoffice_webhooks"].receiver is webhooks.receiver(app)
    assert len(recorder.events) == 1


def test_keyword_options_are_defaults_config_wins(recorder: Recorder) -> None:
    """Keyword Receiver options apply unless the app's config sets the same option."""
    webhooks = SuperOfficeWebhooks(
        dispatcher=recorder.dispatcher, secret="not this one", max_body_size=LIMIT
    )
    app = make_app(SECRET=SECRET, OPTIONS={"ack_unverified_test": False})
    webhooks.init_app(app)
    receiver = webhooks.receiver(app)
    assert receiver.max_body_size == LIMIT
    assert receiver.ack_unverified_test is False
    body = example("person.created")
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_get_405(method: str, recorder: Recorder) -> None:
    """Anything but POST gets 405 with Allow: POST."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    response = app.test_client().open(URL, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_declared_oversize_is_refused_without_reading(recorder: Recorder) -> None:
    """A Content-Length over the limit gets 413 before the body is read."""
    app = make_app(SECRET=SECRET, MAX_BODY_SIZE=LIMIT)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)

    response = app.test_client().post(
        URL,
        environ_overrides={"wsgi.input": Unreadable(), "CONTENT_LENGTH": str(LIMIT + 1)},
    )
    assert response.status_code == 413
    assert recorder.events == []


def test_a_body_read_before_gets_400(recorder: Recorder) -> None:
    """A body something else read from the stream first is a 400 that says so."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)

    @app.before_request
    def read_the_stream() -> None:
        request.stream.read()

    body = example("person.created")
    response = app.test_client().post(URL, data=body, headers=signed(body))
    assert response.status_code == 400
    assert b"was read before" in response.data
    assert recorder.events == []


def test_a_body_read_with_get_data_is_kept(recorder: Recorder) -> None:
    """request.get_data() or request.json before the view keeps the raw bytes: 200."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)

    @app.before_request
    def read_json() -> None:
        assert request.get_json()["Event"] == "person.created"

    body = example("person.created")
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 200
    assert len(recorder.events) == 1


def test_view_in_a_blueprint(recorder: Recorder) -> None:
    """webhooks.view routed in a blueprint (url=None) answers with the app's receiver."""
    webhooks = SuperOfficeWebhooks(url=None, dispatcher=recorder.dispatcher)
    blueprint = Blueprint("integrations", __name__, url_prefix="/integrations")
    blueprint.add_url_rule("/superoffice", view_func=webhooks.view)
    app = make_app(SECRET=SECRET)
    webhooks.init_app(app)
    app.register_blueprint(blueprint)
    body = example("person.changed")
    client = app.test_client()
    assert (
        client.post("/integrations/superoffice", data=body, headers=signed(body)).status_code == 200
    )
    assert client.post(URL, data=body, headers=signed(body)).status_code == 404
    assert [type(e) for e in recorder.events] == [sow.PersonChanged]


def test_plain_view_function(recorder: Recorder) -> None:
    """webhook_view(...) is a POST-only view function for routing yourself."""
    app = Flask(__name__)
    receiver = Receiver(secret=SECRET, dispatcher=recorder.dispatcher)
    app.add_url_rule("/so", view_func=webhook_view(receiver))
    app.add_url_rule("/so2", endpoint="so2", view_func=webhook_view(secret="x", max_body_size=10))
    client = app.test_client()
    body = example("person.deleted")
    assert client.post("/so", data=body, headers=signed(body)).status_code == 200
    assert client.get("/so").status_code == 405
    assert client.post("/so2", data=body, headers=signed(body)).status_code == 413
    assert [type(e) for e in recorder.events] == [sow.PersonDeleted]


def test_view_of_an_app_without_init_app() -> None:
    """Using the view on an app the extension was not set up for is a ConfigurationError."""
    webhooks = SuperOfficeWebhooks(url=None)
    app = make_app(SECRET=SECRET)
    app.add_url_rule(URL, view_func=webhooks.view)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigurationError, match="init_app"):
        app.test_client().post(URL, data=b"{}")


@pytest.mark.parametrize(
    ("config", "kwargs", "message"),
    [
        ({}, {}, "needs the webhook's secret"),
        ({"SECRET": SECRET, "SECRETS": [SECRET]}, {}, "not both"),
        ({"SECRET": SECRET, "OPTIONS": "max_body_size=1"}, {}, "must be a dict"),
        ({"SECRET": SECRET, "OPTIONS": {"no_such_option": 1}}, {}, "Unknown Receiver option"),
        ({"SECRET": SECRET}, {"dispatcher": "handlers.dispatcher"}, "must be a Dispatcher"),
        ({"SECRET": SECRET, "MAX_BODY_SIZE": "1mb"}, {}, "max_body_size"),
    ],
)
def test_bad_configuration_is_reported_at_init_app(
    config: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    """A config that cannot make a receiver raises ConfigurationError when the app is set up."""
    with pytest.raises(ConfigurationError, match=message):
        SuperOfficeWebhooks(make_app(**config), **kwargs)


def test_async_handler_is_a_server_error() -> None:
    """An async handler cannot run in Flask's sync view: ConfigurationError, a 500."""
    app = make_app(SECRET=SECRET)
    webhooks = SuperOfficeWebhooks(app)

    @webhooks.on("person.created")
    async def created(event: sow.PersonCreated) -> None: ...

    body = example("person.created")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 500
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigurationError, match="is async"):
        app.test_client().post(URL, data=body, headers=signed(body))


# --- the documented example -----------------------------------------------------------


def test_flask_example_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """docs/examples/flask_app.py runs its handler for a signed person.consented."""
    body = example("person.consented")
    client = flask_app.app.test_client()
    with caplog.at_level(logging.INFO, "flask_app"):
        assert client.post(URL, data=body, headers=signed(body)).status_code == 200
        assert client.post(URL, data=body).status_code == 401
    assert logged(caplog.records, "flask_app") == [CONSENT_LOGGED]


def test_the_docs_page_shows_the_example_as_it_is() -> None:
    """docs/flask.md shows docs/examples/flask_app.py inline, readable on GitHub, unchanged."""
    page = (EXAMPLES.parent / "flask.md").read_text(encoding="utf-8")
    source = (EXAMPLES / "flask_app.py").read_text(encoding="utf-8")
    assert f"## A complete example\n\n```python\n{source}```\n" in page


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[Server]:
    with serve(
        ["gunicorn", "--bind=127.0.0.1:{port}", "--workers=1", "serve_flask:app"],
        tmp_path / "gunicorn.log",
    ) as server:
        yield server


def test_flask_example_under_gunicorn(gunicorn_server: Server) -> None:
    """The example served by gunicorn on 127.0.0.1 answers a signed request over a socket."""
    body = example("person.consented")
    status, answer = post(gunicorn_server.url(URL), body, signed(body))
    assert (status, answer) == (200, b"handled by 1 handler(s)\n")
    assert CONSENT_LOGGED in gunicorn_server.wait_for_output(CONSENT_LOGGED)
    tampered = body.replace(b"18", b"19")
    assert post(gunicorn_server.url(URL), tampered, signed(body))[0] == 401


def test_view_routed_for_other_methods_still_answers_405(recorder: Recorder) -> None:
    """A view routed with methods=[...] other than POST still refuses them with 405 itself."""
    app = Flask(__name__)
    receiver = Receiver(secret=SECRET, dispatcher=recorder.dispatcher)
    app.add_url_rule("/so", view_func=webhook_view(receiver), methods=["GET", "POST"])
    client = app.test_client()

    response = client.get("/so")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert "POST requests" in response.get_data(as_text=True)
    assert recorder.events == []


# --- the default dispatcher and a registry with no handler ----------------------------


@pytest.fixture
def on_default() -> Iterator[list[sow.Event]]:
    """Events seen by a person.consented handler registered with @sow.on (removed after)."""
    got: list[sow.Event] = []

    def consent_given(event: sow.PersonConsented) -> None:
        got.append(event)

    sow.on("person.consented")(consent_given)
    yield got
    sow.default_dispatcher.remove(consent_given)


def test_handlers_of_sow_on_run_through_the_extension(on_default: list[sow.Event]) -> None:
    """The README's pattern: @sow.on handlers run through SuperOfficeWebhooks(app)."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app)
    body = example("person.consented")
    response = app.test_client().post(URL, data=body, headers=signed(body))
    assert (response.status_code, response.data) == (200, b"handled by 1 handler(s)\n")
    assert on_default == [sow.parse(body)]


def test_handlers_of_both_registries_run(on_default: list[sow.Event]) -> None:
    """@webhooks.on and @sow.on handlers both run, even if registered after the app is set up."""
    app = make_app(SECRET=SECRET)
    webhooks = SuperOfficeWebhooks(app)
    on_extension: list[sow.Event] = []
    on_pattern: list[sow.Event] = []
    webhooks.on("person.consented")(on_extension.append)
    sow.on("person.*")(on_pattern.append)
    try:
        body = example("person.consented")
        response = app.test_client().post(URL, data=body, headers=signed(body))
    finally:
        sow.default_dispatcher.remove(on_pattern.append)
    assert response.data == b"handled by 3 handler(s)\n"
    assert on_extension == on_pattern == on_default == [sow.parse(body)]


def test_a_given_dispatcher_runs_alone(on_default: list[sow.Event], recorder: Recorder) -> None:
    """With dispatcher=..., only that dispatcher's handlers run, not those of @sow.on."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    body = example("person.consented")
    assert app.test_client().post(URL, data=body, headers=signed(body)).status_code == 200
    assert [type(e) for e in recorder.events] == [sow.PersonConsented]
    assert on_default == []


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_no_handler_at_all_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    """No handler in either registry: the first event logs one WARNING naming both."""
    assert sow.default_dispatcher.patterns() == ()
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app)
    client = app.test_client()
    bodies = [fresh(example("person.consented")) for _ in range(2)]
    with caplog.at_level(logging.WARNING, "superoffice_webhooks"):
        for body in bodies:
            response = client.post(URL, data=body, headers=signed(body))
            assert response.data == b"no handler for person.consented\n"
    [warning] = _warnings(caplog)
    assert "@webhooks.on" in warning
    assert "@superoffice_webhooks.on" in warning
    assert "has none" in warning
    event_ids = [str(sow.parse(body).event_id) for body in bodies]
    assert not any(value in warning for value in ["Cust1234", "2018-04-24", *event_ids])


def test_an_empty_given_dispatcher_warns_of_the_default_ones(
    on_default: list[sow.Event], caplog: pytest.LogCaptureFixture
) -> None:
    """An empty dispatcher=... while @sow.on has handlers: the WARNING says how to include them."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=sow.Dispatcher())
    body = example("person.consented")
    with caplog.at_level(logging.WARNING, "superoffice_webhooks"):
        app.test_client().post(URL, data=body, headers=signed(body))
    [warning] = _warnings(caplog)
    assert "include(superoffice_webhooks.default_dispatcher)" in warning
    assert on_default == []


def test_no_warning_with_a_handler(
    on_default: list[sow.Event], caplog: pytest.LogCaptureFixture
) -> None:
    """A handler in either registry: no WARNING about missing handlers."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app)
    body = example("person.created")
    with caplog.at_level(logging.WARNING, "superoffice_webhooks"):
        response = app.test_client().post(URL, data=body, headers=signed(body))
    assert response.data == b"no handler for person.created\n"
    assert _warnings(caplog) == []


# --- bodies without a length, and their size ------------------------------------------


class Endless(io.RawIOBase):
    """A chunked request body of *size* bytes made as it is read; counts what was read."""

    def __init__(self, size: int, step: int | None = None) -> None:
        self.left = size
        self.step = step
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        count = min(len(buffer), self.left, self.step or self.left)
        buffer[:count] = b"[" * count
        self.left -= count
        self.read_bytes += count
        return count


def chunked(stream: io.RawIOBase, headers: dict[str, str]) -> dict[str, Any]:
    """Test client arguments for a body sent as a chunked server presents it (no length)."""
    return {
        "headers": {**headers, "Transfer-Encoding": "chunked"},
        "environ_overrides": {"wsgi.input": stream, "wsgi.input_terminated": True},
    }


def test_a_chunked_body_over_the_limit_is_not_read_past_it(recorder: Recorder) -> None:
    """A chunked body with no Content-Length is read only to max_body_size + 1 byte: 413."""
    app = make_app(SECRET=SECRET, MAX_BODY_SIZE=LIMIT)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    stream = Endless(64 * LIMIT * 1024)
    response = app.test_client().post(URL, **chunked(stream, {"X-SuperOffice-Signature": "x"}))
    assert response.status_code == 413
    assert stream.read_bytes <= LIMIT + 1
    assert recorder.events == []


def test_a_chunked_body_within_the_limit_is_read_whole(recorder: Recorder) -> None:
    """A chunked body under the limit, arriving a few bytes per read, is handled: 200."""
    app = make_app(SECRET=SECRET, MAX_BODY_SIZE=LIMIT)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    body = fresh(example("person.consented"))

    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(body)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any, /) -> int:
            return self.data.readinto(memoryview(buffer)[:7])

    response = app.test_client().post(URL, **chunked(Trickle(), signed(body)))
    assert response.status_code == 200
    assert recorder.events == [sow.parse(body)]


class Recording(io.RawIOBase):
    """A request body that records the size of every read asked of it."""

    def __init__(self, body: bytes) -> None:
        self.data = io.BytesIO(body)
        self.asked: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        self.asked.append(len(buffer))
        return self.data.readinto(buffer)


def test_a_body_is_read_in_reads_no_larger_than_needed(recorder: Recorder) -> None:
    """A body is read in reads of at most 64 KiB, and never past its Content-Length."""
    app = make_app(SECRET=SECRET)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    data = json.loads(example("person.created"))
    data["FieldValues"]["padding"] = "x" * 100_000  # kept in extra
    body = fresh(json.dumps(data).encode())
    stream = Recording(body + b"trailing bytes past the declared length")
    response = app.test_client().post(
        URL,
        headers=signed(body),
        environ_overrides={"wsgi.input": stream, "CONTENT_LENGTH": str(len(body))},
    )
    assert response.status_code == 200
    assert sum(stream.asked) == len(body)
    assert max(stream.asked) == 64 * 1024
    assert recorder.events == [sow.parse(body)]


GIB = 1 << 30
FRAME_SIZE = 1 << 16
MB = 1_000_000


def peak_rss(pid: int) -> int:
    """The peak resident set size of process *pid*, in bytes (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    msg = f"no VmHWM for process {pid}"
    raise AssertionError(msg)


def gunicorn_worker(server: Server) -> int:
    """The pid of the one worker process of the gunicorn *server*."""
    master = server.process.pid
    [worker] = [
        int(pid)
        for task in Path(f"/proc/{master}/task").iterdir()
        for pid in (task / "children").read_text(encoding="ascii").split()
    ]
    return worker


def send_chunked(port: int, size: int, headers: dict[str, str]) -> tuple[bytes, int]:
    """POST *size* bytes, chunked, until the server answers; its answer and the bytes sent."""
    frame = b"%x\r\n" % FRAME_SIZE + b"[" * FRAME_SIZE + b"\r\n"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sent = 0
    with socket.create_connection(("127.0.0.1", port), REQUEST_TIMEOUT) as connection:
        connection.sendall(
            f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
            "Transfer-Encoding: chunked\r\n\r\n".encode("latin-1")
        )
        try:
            while sent < size and not select.select([connection], [], [], 0)[0]:
                connection.sendall(frame)
                sent += FRAME_SIZE
            if sent == size:
                connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the answer is read below
        answer = b""
        while chunk := connection.recv(FRAME_SIZE):
            answer += chunk
    return answer, sent


def test_a_chunked_gigabyte_under_gunicorn_costs_no_memory(gunicorn_server: Server) -> None:
    """A 1 GiB chunked body gets 413 from gunicorn; the worker's peak RSS rises by < 10 MB."""
    body = example("person.consented")
    assert post(gunicorn_server.url(URL), body, signed(body))[0] == 200
    worker = gunicorn_worker(gunicorn_server)
    before = peak_rss(worker)
    answer, sent = send_chunked(gunicorn_server.port, GIB, {"X-SuperOffice-Signature": "x"})
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert peak_rss(worker) - before < 10 * MB
    assert sent < GIB


# --- Flask-WTF -------------------------------------------------------------------------


def csrf_app() -> Flask:
    app = make_app(SECRET=SECRET)
    app.secret_key = "a test key"  # noqa: S105  # a test value

    @app.post("/form")
    def form() -> str:
        return "saved"

    return app


@pytest.mark.parametrize("csrf_first", [True, False], ids=["CSRFProtect first", "extension first"])
def test_the_webhook_is_exempt_from_flask_wtf_csrf(csrf_first: bool, recorder: Recorder) -> None:
    """With Flask-WTF's CSRFProtect set up before or after, the webhook is exempt: 200."""
    app = csrf_app()
    if csrf_first:
        CSRFProtect(app)
    SuperOfficeWebhooks(app, dispatcher=recorder.dispatcher)
    if not csrf_first:
        CSRFProtect(app)
    client = app.test_client()
    body = example("person.consented")
    assert client.post(URL, data=body, headers=signed(body)).status_code == 200
    assert client.post("/form", data={"name": "x"}).status_code == 400, "CSRF still applies"
    assert [type(e) for e in recorder.events] == [sow.PersonConsented]


def test_a_plain_view_is_exempt_with_one_line(recorder: Recorder) -> None:
    """The documented line csrf.exempt(webhook_view(...)) exempts a view routed yourself."""
    app = csrf_app()
    csrf = CSRFProtect(app)
    view = webhook_view(secret=SECRET, dispatcher=recorder.dispatcher)
    app.add_url_rule("/so", view_func=csrf.exempt(view))
    body = example("person.consented")
    assert app.test_client().post("/so", data=body, headers=signed(body)).status_code == 200
    assert len(recorder.events) == 1
