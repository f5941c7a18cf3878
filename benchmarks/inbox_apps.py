"""The apps ``python -m benchmarks --inbox`` serves, made by factories in each server process.

``asgi_memory`` / ``asgi_inbox`` run under uvicorn (``--factory``), ``flask_memory`` /
``flask_inbox`` under gunicorn (``"benchmarks.inbox_apps:flask_inbox()"``). The memory
apps are our adapters with the receiver's default in-memory idempotency store, running
the handlers in the request (inline). The inbox apps record every event in the
:class:`~superoffice_webhooks.inbox.SQLiteInbox` named by the ``SUPEROFFICE_WEBHOOKS_BENCH_INBOX``
environment variable and answer at once (``run_handlers="worker"``); a
:class:`~superoffice_webhooks.Worker` thread in the same process runs the handlers, as an
app would start it. The handlers are those of :mod:`benchmarks.server_apps`: an async
no-op under ASGI, a sync no-op under Flask.

Every request the benchmark sends is a new event (its own ``EventId`` and signature), so
each one is claimed (memory) or recorded (inbox) anew.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import webhook_view
from superoffice_webhooks.inbox import SQLiteInbox

from .cases import noop_dispatcher
from .payloads import SECRET
from .server import PATH
from .server_apps import async_dispatcher

#: The environment variable naming the inbox apps' SQLite file.
INBOX_ENV = "SUPEROFFICE_WEBHOOKS_BENCH_INBOX"
#: How often the worker looks for due events when it found none.
POLL = timedelta(milliseconds=20)


def _inbox_options(dispatcher: sow.Dispatcher) -> dict[str, Any]:
    """Receiver options recording in the SQLite inbox, and a started Worker thread draining it."""
    inbox = SQLiteInbox(os.environ[INBOX_ENV])
    sow.Worker(inbox, dispatcher, poll_interval=POLL).start()
    return {"secret": SECRET, "dispatcher": dispatcher, "inbox": inbox, "run_handlers": "worker"}


def asgi_memory() -> WebhookApp:
    """Our ASGI adapter, memory idempotency store, handlers inline."""
    return WebhookApp(secret=SECRET, dispatcher=async_dispatcher)


def asgi_inbox() -> WebhookApp:
    """Our ASGI adapter, SQLite inbox, handlers in a Worker thread."""
    return WebhookApp(sow.AsyncReceiver(**_inbox_options(async_dispatcher)))


def _flask(receiver: sow.Receiver) -> flask.Flask:
    app = flask.Flask("benchmark-inbox")
    app.add_url_rule(PATH, view_func=webhook_view(receiver), methods=["POST"])
    return app


def flask_memory() -> flask.Flask:
    """Our Flask adapter, memory idempotency store, handlers inline."""
    return _flask(sow.Receiver(secret=SECRET, dispatcher=noop_dispatcher()))


def flask_inbox() -> flask.Flask:
    """Our Flask adapter, SQLite inbox, handlers in a Worker thread."""
    return _flask(sow.Receiver(**_inbox_options(noop_dispatcher())))
