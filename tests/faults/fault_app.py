"""The apps the fault-injection tests serve: Flask (for gunicorn) and ASGI (for uvicorn).

Everything is set by environment variables, so that one module serves every scenario:

- ``FAULT_DIR``: where the handler writes its ``started`` and ``handled`` lines (one
  ``write`` per line on a file opened with ``O_APPEND``, so that lines from several
  processes never mix) and where the test puts its flag files (``down``, ``refuse``);
- ``FAULT_INBOX``: the inbox, ``sqlite:///<path>`` or ``redis://<host>:<port>/<db>`` (a
  :class:`~superoffice_webhooks.contrib.redis.RedisInbox` with the default prefix);
- ``FAULT_SLEEP``: seconds the handler sleeps between ``started`` and ``handled``;
- ``FAULT_LEASE``, ``FAULT_MAX_ATTEMPTS``, ``FAULT_POLL``: the inbox's lease, the retry
  policy's attempts (0: no limit) and the worker's poll interval.

Each server process also runs a :class:`~superoffice_webhooks.Worker` thread, which retries
failed events and takes over those of a process that died.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from fault_handlers import CountingSQLiteInbox, handlers
from flask import Flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import webhook_view
from superoffice_webhooks.contrib.redis import RedisInbox
from superoffice_webhooks.inbox import Inbox, RetryPolicy

SECRET = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
#: Quick retries, so that a scenario's recovery takes seconds.
RETRY = RetryPolicy(first_delay=timedelta(seconds=0.2), max_delay=timedelta(seconds=1))


def _inbox(url: str, directory: Path) -> Inbox:
    if url.startswith("redis://"):
        return RedisInbox.from_url(url)
    return CountingSQLiteInbox(url.removeprefix("sqlite:///"), directory)


def _setup() -> tuple[sow.Receiver, sow.AsyncReceiver, sow.Worker]:
    directory = Path(os.environ["FAULT_DIR"])
    inbox = _inbox(os.environ["FAULT_INBOX"], directory)
    dispatcher = handlers(directory, float(os.environ.get("FAULT_SLEEP", "0")))
    lease = timedelta(seconds=float(os.environ.get("FAULT_LEASE", "3")))
    attempts = int(os.environ.get("FAULT_MAX_ATTEMPTS", "0")) or None
    retry = RetryPolicy(
        first_delay=RETRY.first_delay, max_delay=RETRY.max_delay, max_attempts=attempts
    )
    options: dict[str, Any] = {
        "secret": SECRET,
        "dispatcher": dispatcher,
        "inbox": inbox,
        "retry": retry,
        "lease": lease,
    }
    poll = timedelta(seconds=float(os.environ.get("FAULT_POLL", "0.1")))
    worker = sow.Worker(inbox, dispatcher, retry=retry, lease=lease, poll_interval=poll)
    return sow.Receiver(**options), sow.AsyncReceiver(**options), worker.start()


# The library's warnings and errors go to the server's output, for a failing test to show.
logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s %(message)s")
# A write past a file-size limit fails with EFBIG instead of killing the process.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
# gunicorn imports this module in each worker process after forking (no --preload), so
# each worker has its own receiver and Worker thread.
receiver, async_receiver, worker = _setup()
flask_app = Flask(__name__)
flask_app.add_url_rule("/", view_func=webhook_view(receiver))
asgi_app = WebhookApp(async_receiver)
