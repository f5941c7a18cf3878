"""The pytest plugin: fixtures for testing SuperOffice webhook handlers.

pytest loads it through the ``pytest11`` entry point once the package is installed; turn
it off with ``-p no:superoffice_webhooks``. See :mod:`superoffice_webhooks.testing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ._dispatch import Dispatcher, default_dispatcher
from .testing import EventRecorder, WebhookClient

if TYPE_CHECKING:
    from collections.abc import Iterator

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
) -> WebhookClient:
    """A :class:`~superoffice_webhooks.testing.WebhookClient` posting to your application."""
    return WebhookClient(
        superoffice_webhook_app, secret=superoffice_secret, path=superoffice_webhook_path
    )


@pytest.fixture
def superoffice_dispatcher() -> Dispatcher:
    """The dispatcher your receiver uses; override it if that is not the default one."""
    return default_dispatcher


@pytest.fixture
def superoffice_events(superoffice_dispatcher: Dispatcher) -> Iterator[EventRecorder]:
    """Records the events ``superoffice_dispatcher`` dispatches during the test."""
    with EventRecorder(superoffice_dispatcher) as recorder:
        yield recorder
