"""Run the handlers of recorded events in Celery workers, on as many machines as you like.

Needs the ``celery`` extra: ``pip install 'superoffice-webhooks[celery]'``.

The receiver records each verified event in the inbox (persist, then acknowledge), sends
a task carrying only the entry's id and answers 200. The task claims the entry, runs its
handlers and records the result through the same lifecycle as a
:class:`~superoffice_webhooks.Worker`; a failed attempt is sent again, with the delay the
:class:`~superoffice_webhooks.inbox.RetryPolicy` draws, until the entry is done or dead.
The task is acknowledged only after it ran (``acks_late``) and sent again if its worker
process dies (``reject_on_worker_lost``); an entry whose worker died is taken over once
its lease runs out. The inbox is read by the web processes and the workers alike, so it
must be shared: :class:`~superoffice_webhooks.inbox.SQLiteInbox` (one machine) or
``contrib.redis.RedisInbox``. ::

    app = celery.Celery("hooks", broker="redis://localhost:6379/0")
    inbox = SQLiteInbox("/var/lib/hooks/inbox.sqlite3")
    handoff = CeleryHandoff(app, inbox=inbox, dispatcher=dispatcher)
    receiver = sow.Receiver(secret="...", handoff=handoff)
    app.conf.beat_schedule = {"sweep": {"task": handoff.sweep.name, "schedule": 30.0}}

Import the module that builds *handoff* in the worker too (``celery -A yourmodule worker``),
so that the tasks are registered there, and run ``celery -A yourmodule beat`` for the sweep:
it runs what no task carries (an event recorded while the broker was down, a replayed one).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from superoffice_webhooks._delivery import Delivery
from superoffice_webhooks.exceptions import ConfigurationError
from superoffice_webhooks.inbox import (
    DEFAULT_LEASE,
    DEFAULT_RETRY,
    Inbox,
    MemoryInbox,
    RetryPolicy,
    State,
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
    from datetime import timedelta

    from superoffice_webhooks._dispatch import Dispatcher
    from superoffice_webhooks.inbox import Entry
    from superoffice_webhooks.typing import FailureHook

__all__ = ["DEFAULT_TASK_NAME", "CeleryHandoff"]

#: The name the task that runs one entry is registered under by default; the sweep's
#: name adds ``.sweep``.
DEFAULT_TASK_NAME = "superoffice_webhooks.handle"


class CeleryHandoff:
    """Runs the handlers of the events a receiver recorded in Celery tasks.

    Give it to the receiver: ``Receiver(secret=..., handoff=handoff)``; the receiver
    records in the hand-off's inbox.

    :param app: the Celery application the tasks are registered on.
    :param inbox: the inbox shared by the web processes and the workers
        (:class:`~superoffice_webhooks.inbox.SQLiteInbox` or ``contrib.redis.RedisInbox``).
    :param dispatcher: whose handlers the task runs; the default dispatcher if omitted.
    :param retry: when failed handlers run again, and when an event is dead.
    :param lease: how long an attempt holds its entry without renewing it (renewed every
        third while the handlers run); a dead worker's entry is taken over after this.
    :param on_failure: told ``(event, error)`` in the worker after every failed attempt.
    :param name: the name of the task that runs one entry; the sweep is ``name + ".sweep"``.
    :param queue: the Celery queue to send to; Celery's default if omitted.
    """

    def __init__(
        self,
        app: celery.Celery,
        *,
        inbox: Inbox,
        dispatcher: Dispatcher | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        lease: timedelta = DEFAULT_LEASE,
        on_failure: FailureHook | None = None,
        name: str = DEFAULT_TASK_NAME,
        queue: str | None = None,
    ) -> None:
        if not isinstance(app, celery.Celery):
            msg = f"CeleryHandoff needs a celery.Celery app, not {type(app).__name__}."
            raise ConfigurationError(msg)
        if isinstance(inbox, MemoryInbox):
            msg = (
                "CeleryHandoff needs an inbox shared between processes: SQLiteInbox (one "
                "machine) or contrib.redis.RedisInbox; a MemoryInbox lives in one process."
            )
            raise ConfigurationError(msg)
        #: The lifecycle the tasks go through: claim, run, settle.
        self.delivery = Delivery(inbox, dispatcher, retry=retry, lease=lease, on_failure=on_failure)
        self.queue = queue

        def handle(entry_id: str) -> None:
            self.run(entry_id)

        def sweep() -> int:
            return self.sweep_once()

        #: The task that runs one entry; it takes the entry id. Acknowledged once it ran,
        #: and sent again if its worker process dies.
        self.task = app.task(
            name=name, ignore_result=True, acks_late=True, reject_on_worker_lost=True
        )(handle)
        #: The task to run from celery beat: it runs every entry that is due.
        self.sweep = app.task(name=f"{name}.sweep", ignore_result=True)(sweep)

    @property
    def inbox(self) -> Inbox:
        """The inbox the receiver records in and the tasks read."""
        return self.delivery.inbox

    def enqueue(self, entry_id: str, delay: float = 0.0) -> None:
        """Send the task for *entry_id*, due in *delay* seconds; raises if the broker refuses."""
        countdown = delay if delay > 0 else None
        self.task.apply_async(args=(entry_id,), countdown=countdown, queue=self.queue)

    def run(self, entry_id: str) -> None:
        """The task's body: one attempt on the entry *entry_id*, and what follows it.

        A pending entry is claimed and run; if it fails and may be retried, the task is
        sent again for when the retry is due. An entry another attempt holds is looked at
        again when that attempt's lease ends, and once the lease has run out (its worker
        died) it is taken over, with whatever else is due. A done or dead entry is left
        as it is: this was a second message for it.
        """
        delivery = self.delivery
        taken = delivery.start(entry_id)
        if taken is not None:
            self._attempt(*taken)
            return
        current = delivery.inbox.get(entry_id)
        if current is None or current.state is not State.RUNNING:
            return
        wait = cast("float", current.lease_until) - time.time()
        if wait > 0:
            self.enqueue(entry_id, wait)
        else:
            self.sweep_once()

    def sweep_once(self) -> int:
        """Run every entry that is due, one after another; return how many ran.

        Due are new entries no task carries (recorded while the broker refused them, or
        replayed), retries whose task was lost, and entries of dead workers.
        """
        count = 0
        while (taken := self.delivery.start()) is not None:
            self._attempt(*taken)
            count += 1
        return count

    def close(self) -> None:
        """Close the event loop that async handlers ran in on this thread, if any."""
        self.delivery.close()

    def _attempt(self, entry: Entry, owner: str) -> None:
        self.delivery.run(entry, owner, self.delivery.dispatch_in_loop)
        after = self.delivery.inbox.get(entry.id)
        if after is not None and after.state is State.PENDING:
            self.enqueue(entry.id, after.next_attempt_at - time.time())
