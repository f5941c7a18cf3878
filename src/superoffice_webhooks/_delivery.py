"""The life of a recorded event, written once: record -> run -> settle; and the Worker.

The receiver (inline), the :class:`Worker`, the Celery task and the command line all go
through :class:`Delivery`. What to record after an attempt is decided by a pure function
(:func:`settlement`); the I/O around it (the inbox, the handlers) is done here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import signal
import threading
import time
import uuid
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING, Literal, ParamSpec, Protocol, TypeVar, cast, runtime_checkable

from ._dispatch import Dispatcher, DispatchResult, default_dispatcher
from ._log import logger, printable
from ._parse import load_json, parse
from ._threads import to_thread
from .exceptions import ConfigurationError, HandlerError, PayloadError
from .idempotency import seconds
from .inbox import (
    DEFAULT_LEASE,
    DEFAULT_RETRY,
    Entry,
    Inbox,
    MemoryInbox,
    RetryPolicy,
    Settlement,
    State,
    entry_id,
    new_owner,
)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, Iterator
    from types import FrameType

    from ._events import Event
    from .typing import FailureHook, SyncRunner

__all__ = ["Delivery", "InboxHandoff", "Worker", "hook_raised", "settlement"]

P = ParamSpec("P")
T = TypeVar("T")


#: Draws the jitter of retries from the operating system: forked workers draw differently,
#: and the random module's shared state (which applications and tests seed) is left alone.
_jitter = random.SystemRandom().random

#: The first pause between tries to record a result after a store error (it doubles),
#: and how long to keep trying at least.
_SETTLE_PAUSE = 0.025
_SETTLE_BUDGET = 30.0


def describe(error: BaseException) -> str:
    """``"ExceptionType: message"`` for the inbox; a group names its first few members."""
    if isinstance(error, ExceptionGroup):
        inner = "; ".join(describe(e) for e in error.exceptions[:3])
        return f"{type(error).__name__}: {error.message} ({inner})"
    return f"{type(error).__name__}: {error}"


def settlement(
    entry: Entry, error: BaseException | None, policy: RetryPolicy, now: float, draw: float
) -> Settlement:
    """What to record after an attempt on *entry* ended with *error* (``None``: success)."""
    if error is None:
        return Settlement(state=State.DONE)
    delay = policy.delay(entry.attempts, now - entry.received_at, draw)
    if delay is None:
        return Settlement(state=State.DEAD, error=describe(error))
    return Settlement(state=State.PENDING, delay=delay, error=describe(error))


@runtime_checkable
class InboxHandoff(Protocol):
    """Runs the handlers of recorded events elsewhere, e.g. in Celery workers.

    A receiver given one records each verified event in :attr:`inbox`, then tells the
    hand-off its entry id. ``superoffice_webhooks.contrib.celery.CeleryHandoff`` is the
    one this library ships.
    """

    @property
    def inbox(self) -> Inbox:
        """The inbox the receiver records in and the hand-off's workers read."""
        ...

    def enqueue(self, entry_id: str) -> None:
        """Have the entry *entry_id* run soon; raise if that cannot be arranged."""
        ...


#: How long the lease thread waits without any attempt to renew before it ends (the next
#: attempt starts a new one), so that a finished Delivery leaves no thread behind.
_IDLE = 60.0

#: Every Delivery's heartbeat, so that a forked child can start each afresh.
_HEARTBEATS: weakref.WeakSet[_Heartbeat] = weakref.WeakSet()


def _forget_heartbeats() -> None:
    # Runs in the child right after a fork, while only the forking thread exists.
    for heartbeat in _HEARTBEATS:
        heartbeat.forget()


os.register_at_fork(after_in_child=_forget_heartbeats)


class _Heartbeat:
    """Renews the lease of each running attempt every third of it, all in one thread.

    A thread rather than a task, so that a lease is renewed even while a handler blocks
    the event loop: the owner is alive, and its entry must not be taken over. One thread
    for all of a Delivery's attempts, started when first needed: starting and joining a
    thread per attempt cost more than the rest of the worker's work on an event.
    """

    def __init__(self, inbox: Inbox, lease: float) -> None:
        self._inbox, self._lease = inbox, lease
        self.forget()
        _HEARTBEATS.add(self)

    def forget(self) -> None:
        """Start with no attempts, no thread and a new lock.

        A forked child does so: the parent's attempts are not its own, the parent's thread
        does not run in it, and the lock may have been held by a thread of the parent.
        """
        self._changed = threading.Condition()
        # (entry id, owner) -> when to renew it next (time.monotonic()). Each attempt is
        # due a third of the lease after it was added or renewed, and is put last then,
        # so the order of the dict is the order of the due times: the first is due first.
        self._due: dict[tuple[str, str], float] = {}
        self._renewing: tuple[str, str] | None = None
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def keeping(self, entry_id: str, owner: str, *, wait: bool = True) -> Iterator[None]:
        """Renew the attempt's lease within the block.

        After it, nothing renews the lease any more; with *wait*, a renewal of this
        attempt in flight has finished too (so none can overtake the settle that
        follows). An event loop passes ``wait=False``: it must not block.
        """
        key = (entry_id, owner)
        with self._changed:
            self._due[key] = time.monotonic() + self._lease / 3
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="superoffice-webhooks-lease", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                self._due.pop(key, None)  # gone already if its lease was lost
                while wait and self._renewing == key:
                    self._changed.wait()

    def _beat(self) -> None:
        while (key := self._next()) is not None:
            try:
                held = self._inbox.renew(*key, self._lease)
            except Exception:  # noqa: BLE001  # logged; the next beat tries again
                logger.warning(
                    "Could not renew the lease on inbox entry %s; trying again.",
                    printable(key[0]),
                    exc_info=True,
                )
                held = True  # still ours as far as we know: renewed again at the next beat
            with self._changed:
                self._renewing = None
                self._changed.notify_all()
                # An attempt that ended while its renewal was in flight is gone already.
                running = self._due.pop(key, None) is not None
                if running and held:
                    self._due[key] = time.monotonic() + self._lease / 3
            if running and not held:
                logger.warning(
                    "Lost the lease on inbox entry %s: another worker may run it too.",
                    printable(key[0]),
                )

    def _next(self) -> tuple[str, str] | None:
        """The attempt to renew, once it is due; ``None`` when idle for a while (the thread ends)."""
        with self._changed:
            while True:
                if not self._changed.wait_for(lambda: self._due, _IDLE):
                    self._thread = None
                    return None
                key, due = next(iter(self._due.items()))
                wait = due - time.monotonic()
                if wait <= 0:
                    self._renewing = key
                    return key
                self._changed.wait(wait)


class Delivery:
    """Records verified events in an inbox, runs their handlers and records the result.

    It takes the options of :class:`Worker` but *poll_interval*, and two more: *handoff* is
    told the id of each newly recorded event (:meth:`record`), and *run_sync* is how async
    code runs the inbox's blocking calls (``asyncio.to_thread`` if omitted; Django's async
    view passes ``sync_to_async``).
    """

    def __init__(
        self,
        inbox: Inbox,
        dispatcher: Dispatcher | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        lease: timedelta = DEFAULT_LEASE,
        on_failure: FailureHook | None = None,
        handoff: InboxHandoff | None = None,
        run_sync: SyncRunner | None = None,
    ) -> None:
        if not isinstance(inbox, Inbox):
            raise ConfigurationError(
                "inbox must be an Inbox (MemoryInbox, SQLiteInbox, contrib.redis.RedisInbox), "
                f"not {type(inbox).__name__}."
            )
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            raise ConfigurationError(
                f"dispatcher must be a Dispatcher, not {type(dispatcher).__name__}."
            )
        if not isinstance(retry, RetryPolicy):
            raise ConfigurationError(f"retry must be a RetryPolicy, not {type(retry).__name__}.")
        if not isinstance(lease, timedelta) or lease < timedelta(seconds=1):
            raise ConfigurationError("lease must be a datetime.timedelta of at least 1 second.")
        self.inbox = inbox
        self.dispatcher = default_dispatcher if dispatcher is None else dispatcher
        self.retry = retry
        self.lease = lease.total_seconds()
        self.on_failure = on_failure
        self.handoff = handoff
        #: Whether the inbox does I/O (async code then calls it off the event loop).
        self.blocking = not isinstance(inbox, MemoryInbox)
        self._run_sync = to_thread if run_sync is None else run_sync
        self._heartbeat = _Heartbeat(self.inbox, self.lease)
        self._loops = threading.local()

    def record(self, event: Event, raw: bytes) -> bool:
        """Record a verified, parsed event as ``PENDING``; ``False`` if it was recorded before.

        A new entry is then handed to the *handoff*, if any. If that fails (a broker
        down), the entry stays recorded and pending: a worker pass runs it.
        """
        now = time.time()
        entry = Entry(
            tenant=event.context_identifier,
            event_id=event.event_id,
            event=event.event,
            body=raw,
            state=State.PENDING,
            received_at=now,
            next_attempt_at=now,
        )
        new = self.inbox.add(entry)
        if new and self.handoff is not None:
            try:
                self.handoff.enqueue(entry.id)
            except Exception:  # noqa: BLE001  # logged; the entry is recorded and a sweep runs it
                logger.warning(
                    "Recorded inbox entry %s but could not hand it off; it stays pending "
                    "until a worker pass (Worker.run_once(), or the hand-off's sweep) runs it.",
                    printable(entry.id),
                    exc_info=True,
                )
        return new

    def record_invalid(self, raw: bytes, error: PayloadError) -> None:
        """Record a verified body that :func:`parse` refused as ``DEAD``, with its error.

        Its key is the ``ContextIdentifier`` and ``EventId`` when they can be read, else
        a name-based UUID of the body (the same body is the same entry).
        """
        try:
            data = load_json(raw)
        except PayloadError:
            data = None
        fields = data if isinstance(data, dict) else {}
        tenant, name, event_id = (fields.get(k) for k in ("ContextIdentifier", "Event", "EventId"))
        key = uuid.uuid5(uuid.NAMESPACE_OID, raw.hex())
        if type(event_id) is str:
            with contextlib.suppress(ValueError):
                key = uuid.UUID(event_id)
        now = time.time()
        entry = Entry(
            tenant=tenant if type(tenant) is str and tenant else "unknown",
            event_id=key,
            event=name if type(name) is str else "",
            body=raw,
            state=State.DEAD,
            received_at=now,
            next_attempt_at=now,
            last_error=describe(error),
        )
        self.inbox.add(entry)

    def claim(self, event: Event) -> tuple[Entry, str] | None:
        """Start the first attempt on a just-recorded event.

        ``None`` if a worker has it already, or if the inbox fails now: the event is
        recorded, and a worker runs it.
        """
        key = entry_id(event.context_identifier, event.event_id)
        try:
            return self.start(key)
        except Exception:  # noqa: BLE001  # logged; recorded events are a worker's to run
            logger.warning(
                "Recorded inbox entry %s but could not start its attempt; a worker will run it.",
                printable(key),
                exc_info=True,
            )
            return None

    def start(self, key: str | None = None) -> tuple[Entry, str] | None:
        """Start an attempt: on the pending entry *key* (:meth:`Inbox.claim`, due or not), or
        else on the entry due first (:meth:`Inbox.take`); ``None`` if there is none."""
        owner, inbox = new_owner(), self.inbox
        entry = (
            inbox.take(owner, self.lease) if key is None else inbox.claim(key, owner, self.lease)
        )
        return None if entry is None else (entry, owner)

    def dispatch_in_loop(self, event: Event) -> DispatchResult:
        """Run sync and async handlers in this thread's event loop, kept until :meth:`close`."""
        runner: asyncio.Runner | None = getattr(self._loops, "runner", None)
        if runner is None:
            import asyncio  # noqa: PLC0415  # imported when first needed (see _threads)

            runner = self._loops.runner = asyncio.Runner()
        return runner.run(self.dispatcher.adispatch(event))

    def close(self) -> None:
        """Close this thread's event loop of :meth:`dispatch_in_loop`, if it has one."""
        runner: asyncio.Runner | None = getattr(self._loops, "runner", None)
        if runner is not None:
            runner.close()
            del self._loops.runner

    def run(
        self,
        entry: Entry,
        owner: str,
        dispatch: Callable[[Event], DispatchResult],
        event: Event | None = None,
    ) -> DispatchResult | Exception:
        """Run the handlers of *entry* (parsed from its body unless *event* is given).

        Returns what the dispatcher returned, or the error that failed the attempt; the
        result is recorded in the inbox either way. Interrupted (``KeyboardInterrupt``,
        ``SystemExit``), the attempt is handed back as due now and the interruption raised.
        """
        abandoned = self._abandoned(entry, owner)
        if abandoned is not None:
            return abandoned
        try:
            event = parse(entry.body) if event is None else event
        except PayloadError as exc:
            return self._dead(entry, owner, exc)
        try:
            with self._heartbeat.keeping(entry.id, owner):
                result = dispatch(event)
        except ConfigurationError:
            # A mistake in the code (an async handler reached through receive()): hand the
            # event back for a worker, which can run it, and show the mistake.
            self._settle(entry, owner, Settlement(state=State.PENDING))
            raise
        except Exception as exc:  # noqa: BLE001  # every failure is recorded and retried
            return self._failed(entry, owner, event, exc)
        except BaseException:
            self._settle(entry, owner, Settlement(state=State.PENDING))
            raise
        self._settle(entry, owner, Settlement(state=State.DONE))
        return result

    def _abandoned(self, entry: Entry, owner: str) -> Exception | None:
        """Settle *entry* dead if its earlier attempts died with their workers too often.

        An attempt whose worker died (killed, out of memory, a crash in native code) is
        never settled; its entry is taken over when the lease runs out. Such attempts
        count: past the retry policy's limits (:meth:`RetryPolicy.gave_up`) the entry is
        dead, so that an event that kills its worker cannot do so forever.
        """
        earlier = entry.attempts - 1
        if earlier < 1 or not self.retry.gave_up(earlier, time.time() - entry.received_at):
            return None
        error = RuntimeError(
            f"{earlier} attempt(s) started and the last one's worker died without recording "
            "a result"
        )
        return self._dead(entry, owner, error)

    def _dead(self, entry: Entry, owner: str, error: Exception) -> Exception:
        decided = Settlement(state=State.DEAD, error=describe(error))
        self._settle(entry, owner, decided)
        _log_failure(entry, error, decided)
        return error

    async def arun(
        self,
        entry: Entry,
        owner: str,
        dispatch: Callable[[Event], Awaitable[DispatchResult]],
        event: Event,
    ) -> DispatchResult | Exception:
        """Like :meth:`run`, awaiting the dispatcher; the inbox is called in a thread."""
        try:
            with self._heartbeat.keeping(entry.id, owner, wait=False):
                result = await dispatch(event)
        except Exception as exc:  # noqa: BLE001  # every failure is recorded and retried
            return await self.call(self._failed, entry, owner, event, exc)
        except BaseException:
            await self.call(self._settle, entry, owner, Settlement(state=State.PENDING))
            raise
        await self.call(self._settle, entry, owner, Settlement(state=State.DONE))
        return result

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call *function* from async code: off the event loop when the inbox does I/O."""
        if not self.blocking:
            return function(*args, **kwargs)
        return cast("T", await self._run_sync(functools.partial(function, *args, **kwargs)))

    def _failed(self, entry: Entry, owner: str, event: Event, exc: Exception) -> Exception:
        decided = settlement(entry, exc, self.retry, time.time(), _jitter())
        self._settle(entry, owner, decided)
        _log_failure(entry, exc, decided)
        if self.on_failure is not None and isinstance(exc, HandlerError):
            try:
                self.on_failure(event, exc)
            except Exception:  # noqa: BLE001  # logged; the entry is recorded already
                hook_raised(entry)
        return exc

    def _settle(self, entry: Entry, owner: str, decided: Settlement) -> None:
        """Record *decided*, retrying store errors; an entry is never left stuck.

        If every try fails, the entry stays ``RUNNING`` until its lease runs out, and a
        worker then takes it over and runs it again.
        """
        # Tries are never further apart than a sixth of the lease: when the store is back
        # before the lease runs out, the result is recorded before any other worker may
        # take the entry over. Past the deadline the lease is the backstop.
        deadline = time.monotonic() + max(_SETTLE_BUDGET, 2 * self.lease)
        pause = _SETTLE_PAUSE
        while True:
            try:
                held = self.inbox.settle(entry.id, owner, decided)
            except Exception:  # noqa: BLE001  # retried, then logged: the lease is the backstop
                pause = min(2 * pause, self.lease / 6, deadline - time.monotonic())
                if pause <= 0:
                    logger.exception(
                        "Could not record the result of inbox entry %s (%s); it will run "
                        "again once its lease runs out.",
                        printable(entry.id),
                        decided.state.value,
                    )
                    return
                time.sleep(pause)
                continue
            if not held:
                logger.warning(
                    "Inbox entry %s was taken over before its result (%s) was recorded; "
                    "its handlers may run again.",
                    printable(entry.id),
                    decided.state.value,
                )
            return


def hook_raised(entry: Entry) -> None:
    """Log the exception an ``on_failure`` hook raised for *entry* (its failure is recorded)."""
    logger.exception("The on_failure hook raised for inbox entry %s.", printable(entry.id))


def _log_failure(entry: Entry, error: Exception, decided: Settlement) -> None:
    if decided.state is State.DEAD:
        logger.error(
            "Inbox entry %s (%s event) is dead after %d attempt(s): %s. Replay it with "
            "`superoffice-webhooks inbox replay %s` once the cause is fixed.",
            printable(entry.id),
            printable(entry.event or "unreadable"),
            entry.attempts,
            describe(error),
            printable(entry.id),
            exc_info=error,
        )
    else:
        logger.warning(
            "Handlers failed for inbox entry %s (%s event), attempt %d; retrying in %.1f s.",
            printable(entry.id),
            printable(entry.event),
            entry.attempts,
            decided.delay,
            exc_info=error,
        )


class Worker:
    """Runs the handlers of due inbox entries: new, retried, or left by a dead worker.

    Run it in a thread of your web process (:meth:`start` / :meth:`stop`), or as its own
    process (``superoffice-webhooks worker``). Sync and async handlers both run, awaited
    with ``adispatch`` in one event loop per thread that runs the worker, kept until
    :meth:`run` or :meth:`run_once` returns.

    :param inbox: where events are kept.
    :param dispatcher: whose handlers run; the default dispatcher if omitted.
    :param retry: when failed handlers run again, and when an event is dead.
    :param lease: how long an attempt holds its entry without renewing (the owner renews
        it every third); a dead worker's entry is taken over after at most this long.
    :param poll_interval: how long to wait when nothing is due.
    :param on_failure: told ``(event, error)`` after every failed attempt.
    """

    def __init__(
        self,
        inbox: Inbox,
        dispatcher: Dispatcher | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        lease: timedelta = DEFAULT_LEASE,
        poll_interval: timedelta = timedelta(seconds=1),
        on_failure: FailureHook | None = None,
    ) -> None:
        self.delivery = Delivery(inbox, dispatcher, retry=retry, lease=lease, on_failure=on_failure)
        self.poll_interval = seconds(poll_interval, "poll_interval", "timedelta(seconds=1)")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Run every entry that is due now, one after another; return how many ran."""
        self._stopping.clear()
        try:
            return self._pass()
        finally:
            self.delivery.close()

    def _pass(self) -> int:
        count = 0
        while not self._stopping.is_set():
            taken = self.delivery.start()
            if taken is None:
                break
            self.delivery.run(*taken, self.delivery.dispatch_in_loop)
            count += 1
        return count

    def run(self) -> None:
        """Run due entries until :meth:`stop` is called (from a signal handler or a thread).

        A worker that was stopped is not run again by this; :meth:`start` restarts it.
        """
        try:
            while not self._stopping.is_set():
                try:
                    ran = self._pass()
                except Exception:  # noqa: BLE001  # logged; the next pass tries again
                    logger.exception("The inbox worker could not read the inbox; retrying.")
                    ran = 0
                if not ran:
                    self._stopping.wait(self.poll_interval)
        finally:
            self.delivery.close()

    def start(self) -> Worker:
        """Run :meth:`run` in a daemon thread of this process; returns the worker."""
        if self._thread is not None and self._thread.is_alive():
            raise ConfigurationError(
                "This worker is running already; stop() it before starting it again."
            )
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self.run, name="superoffice-webhooks-worker", daemon=True
        )
        self._thread.start()
        return self

    @contextlib.contextmanager
    def stopping_on_signals(
        self, announce: Callable[[str], object] | None = None
    ) -> Iterator[None]:
        """Within the block, SIGTERM or SIGINT :meth:`stop` the worker; a second one exits.

        For a process that runs the worker in its main thread (``with
        worker.stopping_on_signals(): worker.run()``): the first signal lets the running
        event finish, then :meth:`run` returns; a second one ends the process at once with
        status 130 (that event runs again once its lease runs out). *announce* is told the
        signal's name. The previous handlers are back after the block.
        """
        received: list[str] = []

        def stop(number: int, _frame: FrameType | None) -> None:
            name = signal.Signals(number).name
            if received:
                logger.warning(
                    "%s again: exiting now. The running event runs again once its lease runs out.",
                    name,
                )
                logging.shutdown()
                os._exit(130)
            received.append(name)
            logger.info("%s: finishing the running event, then stopping (again: at once).", name)
            if announce is not None:
                announce(name)
            # Event.set() takes a lock the interrupted main thread may hold: a thread waits.
            threading.Thread(target=self.stop, name="superoffice-webhooks-stop").start()

        previous = {
            number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def stop(self, timeout: float | None = None) -> None:
        """Finish the entry running now, then stop; wait up to *timeout* seconds for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


Mode = Literal["inline", "worker"]
