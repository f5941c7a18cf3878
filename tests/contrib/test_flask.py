"""contrib.flask: the extension and the view, with Flask's test client and gunicorn."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import flask_app
import pytest
from flask import Blueprint, Flask, request
from live_server import Server, post, serve
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
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import SECRET, example
from superoffice_webhooks import ConfigurationError, Receiver
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks, webhook_view

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

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
