"""The pytest plugin, run with pytester against small Flask, FastAPI and Django apps.

Each app's view calls a Receiver directly. The inner test runs go in a subprocess: the
apps register handlers and configure Django, which must not leak into this process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

INI = """
[pytest]
addopts = -p no:cacheprovider
filterwarnings = error
"""

COMMON_CONFTEST = """
import pytest
import superoffice_webhooks as sow

SECRET = "framework secret"
dispatcher = sow.Dispatcher()
receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher)
async_receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=dispatcher)


@dispatcher.on("person.consented")
def consent_given(event):
    if event.person_id == 666:
        raise RuntimeError("the database is down")


@pytest.fixture
def superoffice_secret():
    return SECRET


@pytest.fixture
def superoffice_webhook_path():
    return "/superoffice"


@pytest.fixture
def superoffice_dispatcher():
    return dispatcher
"""

FLASK_APP = """
import flask

app = flask.Flask(__name__)


@app.post("/superoffice")
def webhook():
    outcome = receiver.receive(flask.request.get_data(), flask.request.headers)
    return outcome.reason, outcome.status


@pytest.fixture
def superoffice_webhook_app():
    return app
"""

FASTAPI_APP = """
from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.post("/superoffice")
async def webhook(request: Request) -> Response:
    outcome = await async_receiver.areceive(await request.body(), request.headers)
    return Response(outcome.reason, status_code=outcome.status, media_type="text/plain")


@pytest.fixture
def superoffice_webhook_app():
    return app
"""

DJANGO_APP = """
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="not secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["testserver"],
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def webhook(request):
    outcome = receiver.receive(request.body, request.headers)
    return HttpResponse(outcome.reason, status=outcome.status, content_type="text/plain")


urlpatterns = [path("superoffice", webhook)]


@pytest.fixture(params=["test client", "wsgi", "asgi"])
def superoffice_webhook_app(request):
    if request.param == "wsgi":
        return get_wsgi_application()
    if request.param == "asgi":
        return get_asgi_application()
    return Client()
"""

FLASK_ADAPTER_APP = """
import flask
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks

app = flask.Flask(__name__)
SuperOfficeWebhooks(app, url="/superoffice", secret=SECRET, dispatcher=dispatcher)


@pytest.fixture
def superoffice_webhook_app():
    return app
"""

ASGI_ADAPTER_APP = """
from superoffice_webhooks.contrib.asgi import WebhookApp

app = WebhookApp(receiver=async_receiver)


@pytest.fixture
def superoffice_webhook_app():
    return app
"""

DJANGO_ADAPTER_APP = """
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="not secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["testserver"],
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    INSTALLED_APPS=["superoffice_webhooks.contrib.django"],
    USE_TZ=True,
)
django.setup()

from django.test import Client
from django.urls import path
from superoffice_webhooks.contrib.django import WebhookView

urlpatterns = [path("superoffice", WebhookView.as_view(receiver=receiver))]


@pytest.fixture
def superoffice_webhook_app():
    return Client()
"""

TESTS = """
import superoffice_webhooks as sow
from superoffice_webhooks.testing import signed_request


def test_a_signed_event_reaches_the_handler(superoffice_webhook_client, superoffice_events):
    response = superoffice_webhook_client.send("person.consented", primary_key=18)

    assert response.status == 200, response.text
    assert response.text.strip() == "handled by 2 handler(s)"  # consent_given and the recorder
    assert superoffice_events.names == ["person.consented"]
    assert superoffice_events[0].person_id == 18


def test_a_wrong_signature_is_refused(superoffice_webhook_client, superoffice_events):
    body, headers = signed_request("person.consented", "not the secret")

    assert superoffice_webhook_client.send_raw(body, headers).status == 401
    assert len(superoffice_events) == 0


def test_an_unreadable_signed_body_is_kept_not_refused(superoffice_webhook_client):
    assert superoffice_webhook_client.send(b"{").status == 200


def test_a_failing_handler_gives_500(superoffice_webhook_client, superoffice_events):
    response = superoffice_webhook_client.send("person.consented", primary_key=666)

    assert response.status == 500
    assert superoffice_events.names == ["person.consented"]


def test_the_ping_is_acknowledged_without_handlers(superoffice_webhook_client, superoffice_events):
    assert superoffice_webhook_client.send("test").status == 200
    assert len(superoffice_events) == 0


def test_the_recorder_is_gone_after_each_test(superoffice_dispatcher):
    assert [h.__name__ for h in superoffice_dispatcher.handlers_for("person.consented")] == [
        "consent_given"
    ]
"""


def run_inner(pytester: pytest.Pytester, app: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makeconftest(COMMON_CONFTEST + textwrap.dedent(app))
    pytester.makepyfile(test_webhooks=TESTS)
    return pytester.runpytest_subprocess("-q")


def test_flask_app(pytester: pytest.Pytester) -> None:
    """The fixtures post signed events through a Flask app: 200, 401, 400, 500, ping."""
    result = run_inner(pytester, FLASK_APP)

    result.assert_outcomes(passed=6)


def test_fastapi_app(pytester: pytest.Pytester) -> None:
    """The same tests pass against a FastAPI app, posted to over ASGI."""
    result = run_inner(pytester, FASTAPI_APP)

    result.assert_outcomes(passed=6)


def test_django_app(pytester: pytest.Pytester) -> None:
    """The same tests pass against Django: its test Client, its WSGI and its ASGI app."""
    result = run_inner(pytester, DJANGO_APP)

    result.assert_outcomes(passed=16)  # 5 tests x 3 apps, and one without an app


def test_library_adapters(pytester: pytest.Pytester) -> None:
    """The same tests pass against apps that use the library's own Flask, ASGI and Django adapters."""
    for app in (FLASK_ADAPTER_APP, ASGI_ADAPTER_APP, DJANGO_ADAPTER_APP):
        result = run_inner(pytester, app)
        result.assert_outcomes(passed=6)


def test_default_dispatcher_and_secret(pytester: pytest.Pytester) -> None:
    """Without overrides, events come from default_dispatcher and the default secret signs."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_defaults="""
        import superoffice_webhooks as sow

        handled = []


        @sow.on("person.created")
        def created(event):
            handled.append(event.primary_key)


        def test_roundtrip(superoffice_secret, superoffice_events):
            receiver = sow.Receiver(secret=superoffice_secret)
            from superoffice_webhooks.testing import signed_request

            outcome = receiver.receive(*signed_request("person.created", superoffice_secret, primary_key=3))
            assert outcome.status == 200
            assert handled == [3]
            assert superoffice_events.names == ["person.created"]
            assert superoffice_events.dispatcher is sow.default_dispatcher


        def test_detached():
            assert sow.default_dispatcher.handlers_for("person.created") == (created,)
        """
    )
    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(passed=2)


def test_missing_app_fixture_says_what_to_define(pytester: pytest.Pytester) -> None:
    """Using the client without a superoffice_webhook_app fixture fails with instructions."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_no_app="""
        def test_client(superoffice_webhook_client):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Define a fixture named superoffice_webhook_app*"])


def test_the_plugin_is_registered_and_can_be_disabled(pytester: pytest.Pytester) -> None:
    """pytest loads the plugin by itself; -p no:superoffice_webhooks turns it off."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_fixture="""
        def test_secret(superoffice_secret):
            assert superoffice_secret
        """
    )

    loaded = pytester.runpytest_subprocess("-q", "--fixtures")
    loaded.stdout.fnmatch_lines(["*superoffice_webhook_client*", "*superoffice_events*"])
    disabled = pytester.runpytest_subprocess("-q", "-p", "no:superoffice_webhooks")
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'superoffice_secret' not found*"])


def test_default_path_is_the_root(pytester: pytest.Pytester) -> None:
    """Without a superoffice_webhook_path override, the client posts to "/"."""
    pytester.makeini(INI)
    pytester.makeconftest(
        """
        import pytest
        from superoffice_webhooks.contrib.asgi import WebhookApp

        paths = []
        app = WebhookApp(secret="superoffice-webhooks test secret")


        async def recording(scope, receive, send):
            if scope["type"] == "http":
                paths.append(scope["path"])
            await app(scope, receive, send)


        @pytest.fixture
        def superoffice_webhook_app():
            return recording
        """
    )
    pytester.makepyfile(
        test_path="""
        from conftest import paths


        def test_posts_to_the_root(superoffice_webhook_client, superoffice_webhook_path):
            assert superoffice_webhook_path == "/"
            assert superoffice_webhook_client.send("test").status == 200
            assert paths == ["/"]
        """
    )

    pytester.runpytest_subprocess("-q").assert_outcomes(passed=1)


FASTAPI_REDIS_APP = """
import contextlib
import os

import redis.asyncio as aioredis
from fastapi import FastAPI, Request, Response

log = []


@contextlib.asynccontextmanager
async def lifespan(app):
    client = aioredis.Redis.from_url(os.environ["SUPEROFFICE_WEBHOOKS_TEST_REDIS_URL"])
    log.append("startup")
    yield {"redis": client}
    await client.aclose()
    log.append("shutdown")


app = FastAPI(lifespan=lifespan)


@app.post("/superoffice")
async def webhook(request: Request) -> Response:
    outcome = await async_receiver.areceive(await request.body(), request.headers)
    if outcome.status == 200:
        await request.state.redis.incr(os.environ["COUNTER"])
    log.append("request")
    return Response(outcome.reason, status_code=outcome.status, media_type="text/plain")


@pytest.fixture
def superoffice_webhook_app():
    return app
"""

REDIS_TESTS = """
import os

import redis

from conftest import log


def count():
    return int(redis.Redis.from_url(os.environ["SUPEROFFICE_WEBHOOKS_TEST_REDIS_URL"]).get(os.environ["COUNTER"]) or 0)


def test_first(superoffice_webhook_client):
    assert log == []
    assert [superoffice_webhook_client.send("test").status for _ in range(3)] == [200] * 3
    assert log == ["startup", "request", "request", "request"]


def test_second(superoffice_webhook_client):
    assert log[-1] == "shutdown"
    del log[:]
    assert superoffice_webhook_client.send("test").status == 200
    assert log == ["startup", "request"]


def test_last():
    assert log[-1] == "shutdown"
    assert count() == 4
"""


def test_fastapi_app_with_an_async_redis_client(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    """The client runs the app's lifespan around each test; its async Redis client works throughout."""
    monkeypatch.setenv("SUPEROFFICE_WEBHOOKS_TEST_REDIS_URL", redis_url)
    monkeypatch.setenv("COUNTER", f"{redis_prefix}count")
    pytester.makeini(INI)
    pytester.makeconftest(COMMON_CONFTEST + textwrap.dedent(FASTAPI_REDIS_APP))
    pytester.makepyfile(test_redis=REDIS_TESTS)

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(passed=3)


HEAVY = ("superoffice_webhooks", "attr", "attrs", "cattrs", "starlette", "httpx", "flask", "django")


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """Importing the plugin module imports neither the package nor attrs, cattrs or a framework."""
    code = (
        "import sys, _superoffice_webhooks_pytest_plugin\n"
        "print(' '.join(sorted({m.partition('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(  # noqa: S603  # a fixed command line
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    loaded = set(done.stdout.split())
    assert "_superoffice_webhooks_pytest_plugin" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


def test_a_project_that_uses_no_fixture_never_imports_the_package(
    pytester: pytest.Pytester,
) -> None:
    """In a pytest run that uses none of the fixtures, the package is never imported."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_plain="""
        import sys


        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("superoffice_webhooks")
            assert "superoffice_webhooks" not in sys.modules


        def test_fixture_list(superoffice_secret):
            assert superoffice_secret
            assert "superoffice_webhooks" not in sys.modules
        """
    )

    pytester.runpytest_subprocess("-q").assert_outcomes(passed=2)
