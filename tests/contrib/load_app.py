"""The apps the load test serves: ASGI (for uvicorn) and Flask (for gunicorn).

Both share an SQLite idempotency store and record each handler run in an SQLite sink,
both in $LOAD_DIR, so that the test can count the effects of every EventId.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from pathlib import Path

from flask import Flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks
from superoffice_webhooks.idempotency import AsyncSQLiteStore

SECRET = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
DIRECTORY = Path(os.environ["LOAD_DIR"])
SINK = DIRECTORY / "effects.sqlite3"

# Everything the library logs goes to the server's output, which the test audits.
logging.basicConfig(
    stream=sys.stderr, level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s"
)


def record(event: sow.Event) -> None:
    """The handler's effect: one row per run, keyed by EventId."""
    with sqlite3.connect(SINK, timeout=30) as connection:
        connection.execute("INSERT INTO effects VALUES (?)", (str(event.event_id),))
    connection.close()


def dispatcher() -> sow.Dispatcher:
    with sqlite3.connect(SINK, timeout=30) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL)")
    connection.close()
    handlers = sow.Dispatcher()
    handlers.on("person.created")(record)
    return handlers


store = AsyncSQLiteStore(DIRECTORY / "claims.sqlite3")
asgi_app = WebhookApp(secret=SECRET, dispatcher=dispatcher(), idempotency=store)
flask_app = Flask(__name__)
SuperOfficeWebhooks(
    flask_app, url="/", dispatcher=dispatcher(), secret=SECRET, idempotency=store.sync
)
