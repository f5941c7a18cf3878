"""contrib.django: the views, settings, checks and signal, with Django's test client and gunicorn."""

from __future__ import annotations

import asyncio
import http.client
import io
import logging
import sys
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.core import checks
from django.core.management import call_command
from django.http import HttpResponse
from django.test import (
    AsyncClient,
    AsyncRequestFactory,
    Client,
    RequestFactory,
    override_settings,
)
from live_server import Server, post, serve
from webhook_cases import (
    CASE_IDS,
    CASES,
    CONSENT_LOGGED,
    Case,
    Unreadable,
    check,
    failing_body,
    fresh,
    logged,
    signed,
)

import superoffice_webhooks as sow
from conftest import EXAMPLES, SECRET, example
from superoffice_webhooks import AsyncReceiver, ConfigurationError, Receiver
from superoffice_webhooks.contrib.django import AsyncWebhookView, WebhookView, conf, event_received
from superoffice_webhooks.contrib.django.apps import check_settings
from superoffice_webhooks.idempotency import AsyncSQLiteStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from webhook_cases import Recorder

from django_project.databases import setup  # before anything of Django's

setup()

from django_project import urls  # noqa: E402  # needs the settings configured above

URL = "/superoffice/webhook/"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    urls.recorder.events.clear()
    yield urls.recorder
    urls.recorder.events.clear()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sync_view_answers_like_the_receiver(case: Case, recorder: Recorder) -> None:
    """WebhookView answers every request as the Receiver's policy says."""
    response = Client().post(
        "/sync/", case.body, content_type="application/json", headers=case.headers
    )
    check(case, response.status_code, response.content, recorder)
    assert response["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_async_view_answers_like_the_receiver(case: Case, recorder: Recorder) -> None:
    """AsyncWebhookView answers every request as the Receiver's policy says."""
    response = asyncio.run(
        AsyncClient().post(
            "/async/", case.body, content_type="application/json", headers=case.headers
        )
    )
    check(case, response.status_code, response.content, recorder)


def test_async_view_awaits_async_handlers(recorder: Recorder) -> None:
    """Async handlers run under AsyncWebhookView; the sync view raises ConfigurationError."""
    seen: list[int] = []

    async def consented(event: sow.PersonConsented) -> None:
        await asyncio.sleep(0)
        seen.append(event.person_id)

    recorder.dispatcher.on("person.consented")(consented)
    body = example("person.consented")
    try:
        response = asyncio.run(
            AsyncClient().post(
                "/async/", body, content_type="application/json", headers=signed(body)
            )
        )
        assert response.status_code == 200
        assert seen == [18]
        with pytest.raises(ConfigurationError, match="is async"):
            Client().post("/sync/", body, content_type="application/json", headers=signed(body))
    finally:
        recorder.dispatcher.remove(consented)


def test_ack_mode(recorder: Recorder) -> None:
    """as_view(on_handler_error="ack") answers 200 when a handler fails."""
    body = failing_body()
    response = Client().post("/ack/", body, content_type="application/json", headers=signed(body))
    assert response.status_code == 200
    assert len(recorder.events) == 1


@pytest.mark.parametrize("path", ["/sync/", "/async/"])
@pytest.mark.parametrize("method", ["get", "put", "delete", "options"])
def test_other_methods_get_405(path: str, method: str, recorder: Recorder) -> None:
    """Anything but POST gets 405 with Allow: POST, sync and async."""
    client: Any = AsyncClient() if path == "/async/" else Client()
    response = getattr(client, method)(path)
    if path == "/async/":
        response = asyncio.run(response)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_csrf_is_not_required(recorder: Recorder) -> None:
    """With CSRF checks enforced, the webhook view still accepts the POST."""
    body = example("person.created")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sync/", body, content_type="application/json", headers=signed(body))
    assert response.status_code == 200


def test_declared_oversize_is_refused_without_reading(recorder: Recorder) -> None:
    """A Content-Length over the limit gets 413 before the body is read."""

    def unreadable_request() -> Any:
        environ: dict[str, Any] = {"wsgi.input": Unreadable(), "CONTENT_LENGTH": "4097"}
        return RequestFactory().generic("POST", "/sync/", b"[", "application/json", **environ)

    with pytest.raises(AssertionError, match="was read"):
        _ = unreadable_request().body  # such a request fails if read
    view = WebhookView.as_view(dispatcher=recorder.dispatcher, max_body_size=4096)
    response = view(unreadable_request())
    assert response.status_code == 413
    assert recorder.events == []


def test_a_body_read_before_gets_400(recorder: Recorder) -> None:
    """request.read() by a middleware before the view is a 400 that says what to do."""
    body = example("person.created")
    request = RequestFactory().post(
        "/sync/", body, content_type="application/json", headers=signed(body)
    )
    request.read()
    view = WebhookView.as_view(dispatcher=recorder.dispatcher)
    response = view(request)
    assert isinstance(response, HttpResponse)
    assert response.status_code == 400
    assert b"was read before" in response.content
    assert recorder.events == []


def test_a_body_read_through_request_body_is_kept(recorder: Recorder) -> None:
    """request.body read before (e.g. by logging middleware) is kept by Django: 200."""
    body = example("person.created")
    request = RequestFactory().post(
        "/sync/", body, content_type="application/json", headers=signed(body)
    )
    assert request.body == body
    response = WebhookView.as_view(dispatcher=recorder.dispatcher)(request)
    assert response.status_code == 200
    assert len(recorder.events) == 1


def test_signal_is_sent_with_event_and_outcome(recorder: Recorder) -> None:
    """event_received carries the event, the outcome and the request, sync and async."""
    received: list[dict[str, Any]] = []

    def listener(sender: type[Any], **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs})

    event_received.connect(listener)
    try:
        for body in (fresh(example("person.consented")), fresh(example("person.consented"))):
            Client().post("/sync/", body, content_type="application/json", headers=signed(body))
        body = fresh(example("person.consented"))
        asyncio.run(
            AsyncClient().post(
                "/async/", body, content_type="application/json", headers=signed(body)
            )
        )
    finally:
        event_received.disconnect(listener)
    assert [r["sender"] for r in received] == [WebhookView, WebhookView, AsyncWebhookView]
    for record in received:
        assert record["outcome"].status == 200
        assert record["outcome"].event is record["event"]
        assert record["event"].person_id == 18
        assert record["request"].path in {"/sync/", "/async/"}


def test_signal_is_sent_only_when_handlers_ran(recorder: Recorder) -> None:
    """Not for rejections, pings or duplicates; for a failing handler, with its 500 outcome."""
    received: list[Any] = []

    def listener(sender: type[Any], **kwargs: Any) -> None:
        received.append(kwargs["outcome"])

    body, failing, ping = fresh(example("person.created")), failing_body(), example("test")
    event_received.connect(listener)
    try:
        client = Client()
        statuses = [
            client.post(url, data, content_type="application/json", headers=headers).status_code
            for url, data, headers in [
                ("/sync/", body, signed(body)),  # handled: sent
                ("/sync/", body, signed(body)),  # a duplicate: not sent
                ("/sync/", body, {}),  # unsigned: not sent
                ("/sync/", ping, signed(ping)),  # a test ping: not sent
                ("/sync/", ping, {"X-Hook-Test": "true"}),  # an unverified ping: not sent
                ("/sync/", failing, signed(failing)),  # a failing handler: sent
            ]
        ]
    finally:
        event_received.disconnect(listener)
    assert statuses == [200, 200, 401, 200, 200, 500]
    assert [outcome.status for outcome in received] == [200, 500]
    assert [outcome.reason for outcome in received] == [
        "handled by 1 handler(s)",
        "handler failed; SuperOffice will retry",
    ]


def test_as_view_with_a_ready_receiver(recorder: Recorder) -> None:
    """as_view(receiver=...) uses that receiver; options next to it are refused."""
    view = WebhookView.as_view(Receiver(secret="own secret", dispatcher=recorder.dispatcher))
    body = example("person.deleted")
    headers = {"X-SuperOffice-Signature": sow.sign(body, "own secret")}
    request = RequestFactory().post("/x/", body, content_type="application/json", headers=headers)
    assert view(request).status_code == 200
    assert [type(e) for e in recorder.events] == [sow.PersonDeleted]
    async_view = AsyncWebhookView.as_view(receiver=AsyncReceiver(secret="own secret"))
    async_request = AsyncRequestFactory().post(
        "/x/", body, content_type="application/json", headers=headers
    )
    answer: Any = async_view(async_request)  # a coroutine: the view is async
    assert asyncio.run(answer).status_code == 200  # not the setting's secret
    with pytest.raises(ConfigurationError, match="not both"):
        WebhookView.as_view(Receiver(secret=SECRET), secret=SECRET)
    with pytest.raises(ConfigurationError, match="Unknown Receiver option"):
        WebhookView.as_view(secrett=SECRET)
    with pytest.raises(ConfigurationError, match="must be a Receiver, not AsyncReceiver"):
        WebhookView.as_view(AsyncReceiver(secret=SECRET))  # type: ignore[arg-type]  # the misuse under test
    with pytest.raises(ConfigurationError, match="must be an AsyncReceiver, not Receiver"):
        AsyncWebhookView.as_view(Receiver(secret=SECRET))  # type: ignore[arg-type]  # the misuse under test


def test_settings_are_read_lazily_and_again_when_changed() -> None:
    """The view built from settings follows override_settings without a restart."""
    body = example("person.created")
    client = Client()
    response = client.post(
        "/settings/", body, content_type="application/json", headers=signed(body)
    )
    assert response.status_code == 200
    with override_settings(SUPEROFFICE_WEBHOOKS={"SECRETS": ["rotated", "older"]}):
        rejected = client.post(
            "/settings/", body, content_type="application/json", headers=signed(body)
        )
        headers = {"X-SuperOffice-Signature": sow.sign(body, "older")}
        accepted = client.post("/settings/", body, content_type="application/json", headers=headers)
    assert rejected.status_code == 401
    assert accepted.status_code == 200


# --- system checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ({}, "superoffice_webhooks.E001"),
        ({"SECRET": ""}, "superoffice_webhooks.E004"),
        (
            {"SECRET": SECRET, "DISPATCHER": "no_such_module.dispatcher"},
            "superoffice_webhooks.E002",
        ),
        (
            {"SECRET": SECRET, "DISPATCHER": "django_site.settings.DEBUG"},
            "superoffice_webhooks.E002",
        ),
        ("a secret", "superoffice_webhooks.E003"),
        ({"SECRET": SECRET, "SECRETS": [SECRET]}, "superoffice_webhooks.E003"),
        ({"SECRET": SECRET, "HANDLERS": []}, "superoffice_webhooks.E003"),
        ({"SECRET": SECRET, "OPTIONS": []}, "superoffice_webhooks.E003"),
        ({"SECRET": SECRET, "OPTIONS": {"max_body": 1}}, "superoffice_webhooks.E004"),
        (
            {"SECRET": SECRET, "OPTIONS": {"on_handler_error": "ignore"}},
            "superoffice_webhooks.E004",
        ),
        ({"OPTIONS": {"allow_unsigned": True}}, "superoffice_webhooks.W001"),
        ({"SECRET": SECRET, "AUTODISCOVER": "no"}, "superoffice_webhooks.E003"),
    ],
)
def test_system_checks(setting: object, check_id: str) -> None:
    """Each broken SUPEROFFICE_WEBHOOKS setting is reported under its own check id."""
    with override_settings(SUPEROFFICE_WEBHOOKS=setting):
        messages = check_settings()
        registered = checks.run_checks()
    assert [m.id for m in messages] == [check_id]
    assert check_id in [m.id for m in registered]
    assert SECRET not in messages[0].msg


def test_options_for_the_async_view_pass_the_checks(tmp_path: Path) -> None:
    """A setting whose OPTIONS make only an AsyncReceiver (an async store) passes the checks."""
    store = AsyncSQLiteStore(tmp_path / "claims.sqlite3")
    try:
        with override_settings(
            SUPEROFFICE_WEBHOOKS={"SECRET": SECRET, "OPTIONS": {"idempotency": store}}
        ):
            assert check_settings() == []
            with pytest.raises(ConfigurationError, match="is an async store"):
                conf.build_receiver()
            assert conf.build_receiver(None, AsyncReceiver).store is store
    finally:
        store.close()


def test_the_example_settings_pass_the_checks() -> None:
    """The documented settings pass `manage.py check`."""
    assert check_settings() == []
    call_command("check", stdout=io.StringIO())


def test_a_missing_secret_fails_loudly_at_the_first_request() -> None:
    """Without a secret the view raises ConfigurationError (the server's 500), naming the setting."""
    with (
        override_settings(SUPEROFFICE_WEBHOOKS={}),
        pytest.raises(ConfigurationError, match="SUPEROFFICE_WEBHOOKS"),
    ):
        Client().post("/settings/", b"{}", content_type="application/json")


# --- handler discovery ----------------------------------------------------------------


def test_webhooks_modules_of_installed_apps_are_imported_at_startup() -> None:
    """An installed app's webhooks.py, which nothing imports, has its @on handlers registered."""
    webhooks = sys.modules.get("django_project.notes.webhooks")  # not imported by any test
    assert webhooks is not None
    assert webhooks.dispatcher.handlers_for("person.created") == (webhooks.write_note,)


@pytest.mark.parametrize(("setting", "imported"), [(False, False), (True, True)])
def test_autodiscover_setting_turns_discovery_off(setting: bool, imported: bool) -> None:
    """SUPEROFFICE_WEBHOOKS['AUTODISCOVER'] = False: webhooks.py modules are not imported."""
    name = "django_project.notes.webhooks"
    config = apps.get_app_config("superoffice_webhooks")
    saved = sys.modules.pop(name)
    try:
        with override_settings(SUPEROFFICE_WEBHOOKS={"SECRET": SECRET, "AUTODISCOVER": setting}):
            config.ready()
        assert (name in sys.modules) is imported
    finally:
        sys.modules[name] = saved


def test_a_malformed_setting_leaves_discovery_on() -> None:
    """A setting that is not a dict counts as discovery on (the checks report it)."""
    with override_settings(SUPEROFFICE_WEBHOOKS="a secret"):
        assert conf.autodiscover() is True


# --- bodies without a length -----------------------------------------------------------


def test_a_body_without_a_length_gets_411_with_the_client(recorder: Recorder) -> None:
    """Under WSGI, no Content-Length (a chunked body) gets 411 saying what to do, not 401."""
    body = fresh(example("person.created"))
    response = Client().post(
        "/sync/",
        body,
        content_type="application/json",
        headers=signed(body),
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert b"Content-Length" in response.content
    assert recorder.events == []


def test_a_chunked_body_gets_411_under_gunicorn(gunicorn_server: Server) -> None:
    """A chunked request to the example under gunicorn gets 411 naming Content-Length."""
    body = fresh(example("person.consented"))
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_server.port, timeout=10)
    try:
        connection.request(
            "POST",
            URL,
            body=iter([body[:100], body[100:]]),
            headers=signed(body),
            encode_chunked=True,
        )
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()
    assert status == 411
    assert b"no Content-Length" in answer
    assert CONSENT_LOGGED not in gunicorn_server.output()


# --- the documented example -----------------------------------------------------------


@pytest.mark.parametrize("name", ["settings.py", "urls.py", "handlers.py"])
def test_the_django_page_shows_the_example_inline(name: str) -> None:
    """docs/django.md shows each file of docs/examples/django_site inline, exactly."""
    page = (EXAMPLES.parent / "django.md").read_text(encoding="utf-8")
    example_file = (EXAMPLES / "django_site" / name).read_text(encoding="utf-8")
    assert f"```python\n{example_file}```" in page


def test_django_example_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """The example site runs its handler for a signed person.consented."""
    body = example("person.consented")
    client = Client()
    with caplog.at_level(logging.INFO, "django_site"):
        response = client.post(URL, body, content_type="application/json", headers=signed(body))
        refused = client.post(URL, body, content_type="application/json")
    assert response.status_code == 200
    assert refused.status_code == 401
    assert logged(caplog.records, "django_site.handlers") == [CONSENT_LOGGED]


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[Server]:
    with serve(
        ["gunicorn", "--bind=127.0.0.1:{port}", "--workers=1", "django_site.wsgi"],
        tmp_path / "gunicorn.log",
        env={"DJANGO_SETTINGS_MODULE": "django_site.settings"},
    ) as server:
        yield server


def test_django_example_under_gunicorn(gunicorn_server: Server) -> None:
    """The example site served by gunicorn on 127.0.0.1 answers a signed request over a socket."""
    body = example("person.consented")
    status, answer = post(gunicorn_server.url(URL), body, signed(body))
    assert (status, answer) == (200, b"handled by 1 handler(s)\n")
    assert CONSENT_LOGGED in gunicorn_server.wait_for_output(CONSENT_LOGGED)
    assert post(gunicorn_server.url(URL), body, {})[0] == 401


def test_only_this_setting_rebuilds_the_cached_receiver() -> None:
    """Changing another setting keeps the receiver; changing SUPEROFFICE_WEBHOOKS rebuilds it."""
    overrides: dict[str, Any] = {}
    first = conf.cached_receiver(Receiver, overrides)
    first_async = conf.cached_receiver(AsyncReceiver, overrides)

    with override_settings(USE_THOUSAND_SEPARATOR=True):
        unchanged = conf.cached_receiver(Receiver, overrides)
    with override_settings(SUPEROFFICE_WEBHOOKS={"SECRET": "another secret"}):
        rebuilt = conf.cached_receiver(Receiver, overrides)

    assert unchanged is first
    assert rebuilt is not first
    assert isinstance(first_async, AsyncReceiver)


def test_dispatcher_setting_may_be_the_dispatcher_itself() -> None:
    """DISPATCHER takes a Dispatcher object as well as its dotted path."""
    dispatcher = sow.Dispatcher()

    with override_settings(SUPEROFFICE_WEBHOOKS={"SECRET": SECRET, "DISPATCHER": dispatcher}):
        receiver = conf.build_receiver()

    assert receiver.dispatcher is dispatcher
