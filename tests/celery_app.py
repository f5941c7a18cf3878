"""The Celery app of the hand-off tests; the worker loads it with ``celery -A celery_app``.

The test process and the worker build the same hand-off from the same settings: the
Redis URL (the broker, and where handlers record what they did), a key prefix, a queue
name and the SQLite inbox's path, passed to the worker in the environment.

Handlers: ``person.created`` records into a :class:`~delivery_load.RedisSink` and fails
the first attempt of every tenth event; ``person.changed`` always fails; ``contact.created``
records its process id and, on its first attempt, sleeps until the test kills it.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import celery
import redis

from delivery_load import RedisSink, dispatcher_for
from superoffice_webhooks.contrib.celery import CeleryHandoff
from superoffice_webhooks.inbox import RetryPolicy, SQLiteInbox

if TYPE_CHECKING:
    from pathlib import Path

    import superoffice_webhooks as sow

URL, PREFIX, QUEUE, INBOX = (
    "SOW_TEST_REDIS_URL",
    "SOW_TEST_PREFIX",
    "SOW_TEST_QUEUE",
    "SOW_TEST_INBOX",
)
#: Three attempts, the retries due within 0.1 s and 0.2 s.
RETRY = RetryPolicy(first_delay=timedelta(milliseconds=100), max_attempts=3)
LEASE = timedelta(seconds=2)
#: How long the first attempt of contact.created waits to be killed.
KILL_WINDOW = 120


def dispatcher(url: str, prefix: str) -> sow.Dispatcher:
    """The handlers described above, recording under *prefix* in the Redis at *url*."""
    sink = RedisSink(url, prefix)
    handlers = dispatcher_for(sink)
    client = redis.Redis.from_url(url, decode_responses=True)

    @handlers.on("person.changed")
    def always_fails(event: sow.PersonChanged) -> None:
        sink.first_failure(str(event.event_id))  # counts the attempts
        msg = "this handler always fails"
        raise RuntimeError(msg)

    @handlers.on("contact.created")
    def killed_once(event: sow.ContactCreated) -> None:
        if client.rpush(f"{prefix}pids", os.getpid()) == 1:
            time.sleep(KILL_WINDOW)  # the test kills this process meanwhile
        sink.succeeded(str(event.event_id))

    return handlers


def build(url: str, prefix: str, queue: str, inbox: str | Path) -> CeleryHandoff:
    """The app, inbox and hand-off, the handlers recording under *prefix*."""
    app = celery.Celery("superoffice_webhooks_test", broker=url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    app.conf.task_default_queue = queue
    return CeleryHandoff(
        app,
        inbox=SQLiteInbox(inbox),
        dispatcher=dispatcher(url, prefix),
        retry=RETRY,
        lease=LEASE,
        queue=queue,
    )


if URL in os.environ:  # in the worker
    handoff = build(os.environ[URL], os.environ[PREFIX], os.environ[QUEUE], os.environ[INBOX])
    app = handoff.task.app
