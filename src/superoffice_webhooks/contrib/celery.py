"""Hand events to Celery workers: the web process answers 200 at once, workers run the handlers.

Needs the ``celery`` extra: ``pip install 'superoffice-webhooks[celery]'``.

The receiver verifies, parses and claims the event, then enqueues ``event.to_json()``
and answers 200 without running a handler. A Celery task parses the event again, runs
the same dispatcher's handlers and completes the claim; when they fail it retries
(keeping the claim) and, once its retries are spent, releases the claim. The claim
travels between processes, so the store must be shared: an
:class:`~superoffice_webhooks.idempotency.SQLiteStore` (one machine) or a
``contrib.redis.RedisStore``, never the in-memory one. Its lease must outlast the time
an event may wait in the queue plus its retries. ::

    app = celery.Celery("hooks", broker="redis://localhost:6379/0")
    store = RedisStore.from_url("redis://localhost:6379/0", lease=timedelta(hours=1))
    handoff = CeleryHandoff(app, store=store, dispatcher=dispatcher)
    receiver = sow.Receiver(secret="...", handoff=handoff)

Import the module that builds *handoff* in the worker too (``celery -A yourmodule worker``),
so that the task is registered there.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from superoffice_webhooks._dispatch import Dispatcher, DispatchResult, default_dispatcher
from superoffice_webhooks._parse import parse
from superoffice_webhooks._receiver import is_async_store
from superoffice_webhooks.exceptions import ConfigurationError, HandlerError
from superoffice_webhooks.idempotency import (
    AsyncSQLiteStore,
    IdempotencyStore,
    MemoryStore,
    seconds,
)

try:
    import celery
except ImportError as exc:  # pragma: no cover  # exercised only without the extra
    msg = (
        "superoffice_webhooks.contrib.celery needs Celery: "
        "pip install 'superoffice-webhooks[celery]'"
    )
    raise ImportError(msg) from exc

if TYPE_CHECKING:
    from superoffice_webhooks._events import Event
    from superoffice_webhooks._receiver import FailureHook

__all__ = ["DEFAULT_TASK_NAME", "CeleryHandoff"]

#: The name the hand-off task is registered under by default.
DEFAULT_TASK_NAME = "superoffice_webhooks.handle"


class CeleryHandoff:
    """A :class:`~superoffice_webhooks.Handoff` that enqueues events as a Celery task.

    :param app: the Celery application the task is registered on.
    :param store: the shared idempotency store (SQLite or Redis, not memory).
    :param dispatcher: whose handlers the task runs; the default dispatcher if omitted.
    :param on_failure: called with ``(event, error)`` in the worker after every failed
        attempt.
    :param max_retries: how many times the task runs a failing event again.
    :param retry_delay: how long it waits before each retry.
    :param name: the task's name.
    :param queue: the Celery queue to send to; Celery's default if omitted.
    """

    def __init__(
        self,
        app: celery.Celery,
        *,
        store: IdempotencyStore | AsyncSQLiteStore,
        dispatcher: Dispatcher | None = None,
        on_failure: FailureHook | None = None,
        max_retries: int = 3,
        retry_delay: timedelta = timedelta(seconds=10),
        name: str = DEFAULT_TASK_NAME,
        queue: str | None = None,
    ) -> None:
        if not isinstance(app, celery.Celery):
            msg = f"CeleryHandoff needs a celery.Celery app, not {type(app).__name__}."
            raise ConfigurationError(msg)
        if isinstance(store, AsyncSQLiteStore):
            store = store.sync
        if (
            isinstance(store, MemoryStore)
            or not isinstance(store, IdempotencyStore)
            or is_async_store(store)
        ):
            msg = (
                "CeleryHandoff needs a sync store shared between processes: "
                "SQLiteStore (one machine) or contrib.redis.RedisStore; the worker "
                "completes the claim the web process took."
            )
            raise ConfigurationError(msg)
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            msg = f"dispatcher must be a Dispatcher, not {type(dispatcher).__name__}."
            raise ConfigurationError(msg)
        if type(max_retries) is not int or max_retries < 0:
            msg = "max_retries must be an int, 0 or more."
            raise ConfigurationError(msg)
        self.store = store
        self.dispatcher = default_dispatcher if dispatcher is None else dispatcher
        self.on_failure = on_failure
        self.retry_delay = seconds(retry_delay, "retry_delay")
        self.queue = queue

        def handle(task: Any, event_json: str, token: str) -> None:
            self._task(task, event_json, token)

        #: The registered Celery task; it takes ``(event_json, token)``.
        self.task = app.task(name=name, bind=True, ignore_result=True, max_retries=max_retries)(
            handle
        )

    def submit(self, event: Event, token: str) -> None:
        """Enqueue *event* as JSON with its claim *token*; raises if the broker refuses."""
        self.task.apply_async(args=(event.to_json(), token), queue=self.queue)

    def run(self, event_json: str, token: str) -> DispatchResult:
        """Parse and dispatch *event_json*, then complete the claim; the task without Celery.

        On a handler failure the *on_failure* hook is told and the
        :class:`~superoffice_webhooks.HandlerError` is raised with the claim still held;
        on any other error the claim is released.
        """
        event = parse(event_json)
        try:
            if any(
                inspect.iscoroutinefunction(h) for h in self.dispatcher.handlers_for(event.event)
            ):
                result = asyncio.run(self.dispatcher.adispatch(event))
            else:
                result = self.dispatcher.dispatch(event)
        except HandlerError as exc:
            try:
                if self.on_failure is not None:
                    self.on_failure(event, exc)
            except BaseException:
                self.store.release(event.event_id, token)
                raise
            raise
        except BaseException:
            self.store.release(event.event_id, token)
            raise
        self.store.complete(event.event_id, token)
        return result

    def _task(self, task: Any, event_json: str, token: str) -> None:
        try:
            self.run(event_json, token)
        except HandlerError as exc:
            if task.request.retries < task.max_retries:
                raise task.retry(exc=exc, countdown=self.retry_delay) from exc
            self.store.release(exc.event.event_id, token)
            raise
