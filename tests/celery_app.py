"""The Celery app of the hand-off tests; the worker loads it with ``celery -A celery_app``.

The test process and the worker build the same hand-off from the same settings: the
Redis URL (the broker, and where handlers record what they did), a key prefix, a queue
name, the SQLite inbox's path and how long contact.created's handler takes, passed to the
worker in the environment.

Handlers: ``person.created`` records into a :class:`~delivery_load.RedisSink` and fails
the first attempt of every tenth event; ``person.changed`` always fails; ``contact.created``
records each start as ``"<process id> <EventId>"`` under ``starts``, takes the pause, and
succeeds. The first run of a process waits to be killed instead while the ``holds`` counter
the test sets is positive (it counts down); such a run is also listed under ``held``.
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

URL, PREFIX, QUEUE, INBOX, PAUSE = (
    "SOW_TEST_REDIS_URL",
    "SOW_TEST_PREFIX",
    "SOW_TEST_QUEUE",
    "SOW_TEST_INBOX",
    "SOW_TEST_PAUSE",  # seconds each run of contact.created's handler takes
)
#: Three attempts, the retries due within 0.1 s and 0.2 s.
RETRY = RetryPolicy(first_delay=timedelta(milliseconds=100), max_attempts=3)
LEASE = timedelta(seconds=2)
#: How long a run of contact.created that is held waits to be killed.
KILL_WINDOW = 120


def dispatcher(url: str, prefix: str, pause: float = 0.0) -> sow.Dispatcher:
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
    def held_or_paused(event: sow.ContactCreated) -> None:
        pid = os.getpid()
        start = f"{pid} {event.event_id}"
        first_run = client.sadd(f"{prefix}processes", pid) == 1
        held = first_run and client.decr(f"{prefix}holds") >= 0
        client.rpush(f"{prefix}starts", start)  # once decided: a test that sees it may set holds
        if held:
            client.rpush(f"{prefix}held", start)
            time.sleep(KILL_WINDOW)  # the test kills this process meanwhile
        time.sleep(pause)
        sink.succeeded(str(event.event_id))

    return handlers


def build(
    url: str, prefix: str, queue: str, inbox: str | Path, pause: float = 0.0
) -> CeleryHandoff:
    """The app, inbox and hand-off, the handlers recording under *prefix*."""
    app = celery.Celery("superoffice_webhooks_test", broker=url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    app.conf.task_default_queue = queue
    return CeleryHandoff(
        app,
        inbox=SQLiteInbox(inbox),
        dispatcher=dispatcher(url, prefix, pause),
        retry=RETRY,
        lease=LEASE,
        queue=queue,
    )


if URL in os.environ:  # in the worker
    handoff = build(
        os.environ[URL],
        os.environ[PREFIX],
        os.environ[QUEUE],
        os.environ[INBOX],
        float(os.environ.get(PAUSE, "0")),
    )
    app = handoff.task.app
