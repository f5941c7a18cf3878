"""The pytest plugin of superoffice-webhooks: fixtures for testing webhook handlers.

pytest loads it through the ``pytest11`` entry point once the package is installed; turn
it off with ``-p no:superoffice_webhooks``. See :mod:`superoffice_webhooks.testing`.

It lives outside the package, and imports the package only inside the fixtures, so that
pytest can load it without importing ``superoffice_webhooks`` (its events, attrs, cattrs):
a project that has the package installed but uses none of these fixtures pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from superoffice_webhooks import Dispatcher
    from superoffice_webhooks.testing import EventRecorder, WebhookClient

__all__ = [
    "superoffice_dispatcher",
    "superoffice_events",
    "superoffice_secret",
    "superoffice_webhook_app",
    "superoffice_webhook_client",
    "superoffice_webhook_path",
]


@pytest.fixture
def superoffice_secret() -> str:
    """The secret the client signs with; override it to return your receiver's secret."""
    return "superoffice-webhooks test secret"


@pytest.fixture
def superoffice_webhook_path() -> str:
    """The path the client posts to; override it to return your webhook URL's path."""
    return "/"


@pytest.fixture
def superoffice_webhook_app() -> object:
    """Your application: override this fixture to return it."""
    pytest.fail(
        "Define a fixture named superoffice_webhook_app that returns your WSGI or ASGI "
        "application (or a django.test.Client) to use superoffice_webhook_client.",
        pytrace=False,
    )


@pytest.fixture
def superoffice_webhook_client(
    superoffice_webhook_app: object, superoffice_secret: str, superoffice_webhook_path: str
) -> Iterator[WebhookClient]:
    """A :class:`~superoffice_webhooks.testing.WebhookClient` posting to your application.

    An ASGI app's lifespan starts before the first request and shuts down after the test.
    """
    from superoffice_webhooks.testing import WebhookClient  # noqa: PLC0415  # only when used

    with WebhookClient(
        superoffice_webhook_app, secret=superoffice_secret, path=superoffice_webhook_path
    ) as client:
        yield client


@pytest.fixture
def superoffice_dispatcher() -> Dispatcher:
    """The dispatcher your receiver uses; override it if that is not the default one."""
    from superoffice_webhooks import default_dispatcher  # noqa: PLC0415  # only when used

    return default_dispatcher


@pytest.fixture
def superoffice_events(superoffice_dispatcher: Dispatcher) -> Iterator[EventRecorder]:
    """Records the events ``superoffice_dispatcher`` dispatches during the test."""
    from superoffice_webhooks.testing import EventRecorder  # noqa: PLC0415  # only when used

    with EventRecorder(superoffice_dispatcher) as recorder:
        yield recorder
