"""The Celery app of the hand-off test; the worker loads it with ``celery -A celery_app``.

The test process and the worker build the same hand-off from the same settings: the
Redis URL, a key prefix and a queue name, passed to the worker in the environment.
"""

from __future__ import annotations

import os
from datetime import timedelta

import celery

from delivery_load import RedisSink, dispatcher_for
from superoffice_webhooks.contrib.celery import CeleryHandoff
from superoffice_webhooks.contrib.redis import RedisStore

URL, PREFIX, QUEUE = "SOW_TEST_REDIS_URL", "SOW_TEST_PREFIX", "SOW_TEST_QUEUE"


def build(url: str, prefix: str, queue: str) -> CeleryHandoff:
    """The app, store and hand-off; handlers record into a RedisSink under *prefix*."""
    app = celery.Celery("superoffice_webhooks_test", broker=url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    app.conf.task_default_queue = queue
    store = RedisStore.from_url(url, prefix=f"{prefix}event:", lease=timedelta(minutes=5))
    return CeleryHandoff(
        app,
        store=store,
        dispatcher=dispatcher_for(RedisSink(url, prefix)),
        retry_delay=timedelta(milliseconds=50),
        queue=queue,
    )


if URL in os.environ:  # in the worker
    handoff = build(os.environ[URL], os.environ[PREFIX], os.environ[QUEUE])
    app = handoff.task.app
