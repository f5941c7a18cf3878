"""Receiver: body + headers -> verify -> parse -> claim -> dispatch -> Outcome (sans-I/O)."""

from __future__ import annotations

import functools
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple, Protocol, TypeVar, cast, runtime_checkable

import attrs

from ._delivery import Delivery, InboxHandoff, Mode, hook_raised
from ._dispatch import Dispatcher, DispatchResult, default_dispatcher
from ._events import Event, TestEvent
from ._log import logger, printable
from ._parse import load_json, parse, parse_decoded
from ._threads import to_thread
from ._verify import Secrets, body_bytes, check, normalize_secrets, signature_bytes
from .exceptions import (
    ConfigurationError,
    EventInFlightError,
    HandlerError,
    InboxError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    StaleEventError,
    SuperOfficeWebhookError,
    UnknownTenantError,
    VerificationError,
)
from .idempotency import (
    AsyncIdempotencyStore,
    AsyncMemoryStore,
    ClaimState,
    IdempotencyStore,
    MemoryStore,
    is_async_store,
)
from .inbox import DEFAULT_LEASE, DEFAULT_RETRY, Inbox, RetryPolicy
from .typing import (  # noqa: TC001  # the docs read them
    AsyncFailureHook,
    AsyncInvalidPayloadHook,
    AsyncSecretResolver,
    FailureHook,
    Headers,
    InvalidPayloadHook,
    SecretResolver,
    SyncRunner,
)

T = TypeVar("T")

__all__ = ["AsyncReceiver", "Handoff", "Outcome", "Receiver"]

SIGNATURE_HEADER = "x-superoffice-signature"
TEST_HEADER = "x-hook-test"
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
#: An unsigned test ping larger than this is not even parsed (SuperOffice's is ~300 bytes).
PING_SIZE_LIMIT = 4096


@attrs.frozen(kw_only=True)
class Outcome:
    """What a :class:`Receiver` or :class:`AsyncReceiver` made of one request; adapters turn
    it into a response."""

    #: The HTTP status to answer with (see the status table in the docs).
    status: int
    #: A short, human-readable reason; never contains the body, a secret or a signature.
    reason: str
    #: The parsed event, once the body was verified and parsed.
    event: Event | None = None
    #: What the dispatcher did, when the handlers ran without failing.
    dispatch: DispatchResult | None = None
    #: The error behind a non-200 status (or behind an acknowledged handler failure).
    error: SuperOfficeWebhookError | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the answer is 200, which SuperOffice counts as delivered."""
        return self.status == 200  # noqa: PLR2004


@runtime_checkable
class Handoff(Protocol):
    """Hands a verified, claimed event to a background worker instead of dispatching it.

    The worker runs the handlers and then completes or releases the claim *token* in
    :attr:`store` (``store.complete(event.context_identifier, event.event_id, token)``,
    or ``release`` with the same arguments), which is why that store must be shared
    between processes. (The library's Celery hand-off works with an inbox instead: an
    :class:`InboxHandoff`.)
    """

    @property
    def store(self) -> IdempotencyStore:
        """The idempotency store the worker completes or releases claims in."""
        ...

    def submit(self, event: Event, token: str) -> None:
        """Enqueue *event* (whose claim *token* holds) for the worker; raise if it cannot."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Receiving:
    """What :class:`Receiver` and :class:`AsyncReceiver` share: their options, and the
    checks a request goes through before any handler runs (size, signature, parsing, age),
    which do no I/O and are the same for both."""

    def __init__(
        self,
        *,
        secret: object,
        dispatcher: Dispatcher | None,
        allow_unsigned: bool,
        max_body_size: int,
        on_handler_error: Literal["retry", "ack"],
        ack_unverified_test: bool,
        idempotency: object,
        max_age: timedelta | None,
        clock: Callable[[], datetime],
        on_failure: Callable[[Event, HandlerError], object] | None,
        handoff: object,
        inbox: Inbox | None,
        run_handlers: Mode,
        retry: RetryPolicy,
        lease: timedelta,
        on_invalid_payload: object,
        run_sync: SyncRunner | None,
        inbox_on_failure: FailureHook | None,
    ) -> None:
        if secret is None and not allow_unsigned:
            raise ConfigurationError(
                f"{type(self).__name__} needs the webhook's secret: {type(self).__name__}"
                "(secret=...). Only for a webhook without a Secret pass allow_unsigned=True."
            )
        if secret is not None and allow_unsigned:
            raise ConfigurationError("Pass either secret=... or allow_unsigned=True, not both.")
        if on_handler_error not in ("retry", "ack"):
            raise ConfigurationError(
                f"on_handler_error must be 'retry' or 'ack', not {on_handler_error!r}."
            )
        if type(max_body_size) is not int or max_body_size <= 0:
            raise ConfigurationError("max_body_size must be a positive number of bytes.")
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            raise ConfigurationError(
                f"dispatcher must be a Dispatcher, not {type(dispatcher).__name__}."
            )
        _check_delivery_options(max_age, clock, on_failure)
        queue = handoff if isinstance(handoff, InboxHandoff) else None
        if queue is not None:
            if inbox is not None and inbox is not queue.inbox:
                raise ConfigurationError(
                    "With a hand-off the receiver uses the hand-off's inbox; leave inbox out."
                )
            inbox, run_handlers = queue.inbox, "worker"
        other = None if queue is not None else handoff
        _check_inbox_options(inbox, run_handlers, other, idempotency, on_invalid_payload)
        self._resolver: Callable[[str, str], object] | None = None
        self._keys: tuple[bytes, ...] | None = None
        if callable(secret) and not isinstance(secret, (str, bytes, Sequence)):
            self._resolver = secret
        elif secret is not None:
            self._keys = normalize_secrets(secret)  # type: ignore[arg-type]  # it checks the type
        self.dispatcher = default_dispatcher if dispatcher is None else dispatcher
        self.max_body_size = max_body_size
        self.on_handler_error = on_handler_error
        self.ack_unverified_test = ack_unverified_test
        self.max_age = max_age
        self.clock = clock
        self.handoff = handoff
        self.run_handlers = run_handlers
        self._reject_invalid = on_invalid_payload == "reject"
        self._hooked_invalid = callable(on_invalid_payload)
        #: The inbox's lifecycle, or ``None`` without an inbox.
        self.delivery = (
            None
            if inbox is None
            else Delivery(
                inbox,
                self.dispatcher,
                retry=retry,
                lease=lease,
                on_failure=inbox_on_failure,
                handoff=queue,
                run_sync=run_sync,
            )
        )

    def _prepare(
        self,
        raw: bytes,
        headers: Headers,
        keys: tuple[bytes, ...] | VerificationError | None,
        decoded: dict[str, object] | None = None,
    ) -> _Checked:
        """Verify *raw* with *keys*, then parse it (from *decoded* when it was decoded already)."""
        if keys is not None:
            refused = self._check(raw, headers, keys)
            if refused is not None:
                return refused
        try:
            event = parse(raw) if decoded is None else parse_decoded(decoded)
        except PayloadError as exc:
            if keys is None or self._reject_invalid:
                return refuse(400, exc)
            return _Invalid(raw, exc)
        if isinstance(event, TestEvent):
            return _log(event, Outcome(status=200, reason="test event acknowledged", event=event))
        if self.max_age is not None:
            stale = self._stale(event, self.max_age)
            if stale is not None:
                return refuse(401, stale, event)
        return event, raw

    def _raw(self, body: bytes) -> bytes | Outcome:
        raw = body_bytes(body, allow_str=False)
        refused = too_large(len(raw), self)
        return raw if refused is None else refused

    def _check(
        self, raw: bytes, headers: Headers, keys: tuple[bytes, ...] | VerificationError
    ) -> Outcome | None:
        """``None`` when *raw* verifies with *keys*, else the answer: 401, or 200 for a ping."""
        try:
            if isinstance(keys, VerificationError):
                raise keys
            check(raw, header(headers, SIGNATURE_HEADER), keys)
        except VerificationError as exc:
            ping = self._unverified_ping(raw, headers)
            if ping is not None:
                return ping
            # With a resolver, an unknown tenant and a wrong signature look the same to
            # the client, so that the answer does not tell which tenants exist.
            hidden = self._resolver is not None and not isinstance(exc, MissingSignatureError)
            return refuse(401, exc, reason=_UNVERIFIED if hidden else None)
        return None

    def _stale(self, event: Event, max_age: timedelta) -> StaleEventError | None:
        now = self.clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ConfigurationError(
                f"{type(self).__name__} clock must return a timezone-aware datetime, "
                "e.g. datetime.now(UTC)."
            )
        age = now - event.timestamp
        if age > max_age:
            return StaleEventError(
                f"The event's Timestamp is {age} old, more than max_age ({max_age}): "
                "a replayed request, or a delivery delayed longer than max_age allows."
            )
        if -age > max_age:
            return StaleEventError(
                f"The event's Timestamp is {-age} in the future, more than max_age "
                f"({max_age}): check the clock of this machine."
            )
        return None

    def _unverified_ping(self, raw: bytes, headers: Headers) -> Outcome | None:
        if (
            not self.ack_unverified_test
            or len(raw) > PING_SIZE_LIMIT
            or str(header(headers, TEST_HEADER)).lower() != "true"
        ):
            return None
        try:
            event = parse(raw)
        except PayloadError:
            return None
        if not isinstance(event, TestEvent):
            return None
        reason = "test event acknowledged without verification (signature did not verify)"
        return _log(event, Outcome(status=200, reason=reason, event=event))

    def _handled(self, event: Event, result: DispatchResult) -> Outcome:
        count = len(result.handlers)
        reason = (
            f"handled by {count} handler(s)"
            if count
            else f"no handler for {printable(event.event)}"
        )
        return _log(event, Outcome(status=200, reason=reason, event=event, dispatch=result))

    def _failed(self, event: Event, exc: HandlerError) -> Outcome:
        logger.error(
            "Handler failed for %s event %s (tenant %s)",
            printable(event.event),
            event.event_id,
            printable(event.context_identifier),
            exc_info=exc,
        )
        if self.on_handler_error == "ack":
            reason = "handler failed; acknowledged anyway (on_handler_error='ack')"
            return _log(event, Outcome(status=200, reason=reason, event=event, error=exc))
        reason = "handler failed; SuperOffice will retry"
        return _log(event, Outcome(status=500, reason=reason, event=event, error=exc))

    def _ran(self, event: Event, result: DispatchResult | Exception) -> Outcome:
        if isinstance(result, DispatchResult):
            return self._handled(event, result)
        reason = "handler failed; the event is recorded and will be retried"
        error = result if isinstance(result, SuperOfficeWebhookError) else None
        return _log(event, Outcome(status=200, reason=reason, event=event, error=error))

    def _kept(self, invalid: _Invalid) -> Outcome:
        where = (
            "recorded as dead in the inbox"
            if self.delivery is not None
            else "given to on_invalid_payload"
            if self._hooked_invalid
            else f"not kept: give the {type(self).__name__} an inbox or an on_invalid_payload hook"
        )
        logger.error(
            "A verified body could not be read (%s); answered 200 so that SuperOffice "
            "does not count it towards disabling the webhook; %s.",
            invalid.error,
            where,
        )
        reason = f"verified payload could not be read ({invalid.error}); {where}"
        return Outcome(status=200, reason=reason, error=invalid.error)


class Receiver(_Receiving):
    """Turns a webhook request into an :class:`Outcome`; knows nothing of HTTP frameworks.

    For sync code (Flask, Django's WSGI views): its resolver, hooks and idempotency store
    are sync, and so are the handlers it runs. Async code uses :class:`AsyncReceiver`.

    :param secret: the webhook's Secret, a list of secrets while rotating, or a resolver
        ``(context_identifier, webhook_name) -> secret | list | None`` that picks them per
        tenant; ``None`` or an empty result means "unknown tenant" and gets 401.
    :param dispatcher: whose handlers run; the default dispatcher (``@on``) if omitted.
    :param allow_unsigned: accept requests without verifying them. Only for webhooks
        that have no Secret; never together with *secret*.
    :param max_body_size: bodies larger than this many bytes get 413 (default 1 MiB).
    :param on_handler_error: without an inbox, ``"retry"`` (default) answers 500 when a
        handler fails, so SuperOffice sends the event again; ``"ack"`` answers 200 anyway
        and marks the event handled (record it with *on_failure* to replay it later).
    :param ack_unverified_test: answer 200 to SuperOffice's ``test`` ping (header
        ``X-Hook-Test: true``) even when its signature cannot be verified, so that saving
        a webhook succeeds before its new secret is configured. No handler runs for it.
    :param idempotency: without an inbox, where claims on each event (its tenant and
        ``EventId``) are kept so that its handlers run once: ``"memory"`` (default) is a
        store in this receiver's memory, good for one process; pass a shared store for
        several processes or machines, or ``None`` to run the handlers for every delivery.
    :param max_age: reject (401) events whose signed ``Timestamp`` is further than this
        from now, in either direction. Off by default: SuperOffice's retries can arrive
        minutes after the change.
    :param clock: returns the current time, timezone-aware; for *max_age*.
    :param on_failure: called with ``(event, error)`` for every handler failure. Without
        an inbox it is called before the answer is made, and if it raises, the claim is
        released and the exception propagates; with an inbox, after the failure is
        recorded (what it raises is logged).
    :param handoff: enqueue events for a background worker instead of running the
        handlers here, and answer 200 at once. A hand-off with an inbox
        (``contrib.celery.CeleryHandoff``) is told the entry id of each event recorded in
        its inbox; its own *retry* and *lease* apply. A :class:`Handoff` is given each
        claimed event and its claim token, and the receiver uses the hand-off's store.
    :param inbox: record every verified event in this :class:`~superoffice_webhooks.inbox.Inbox`
        before answering, and answer 200 once it is recorded: the library then owns the
        event, retries failed handlers itself (*retry*) and keeps what finally fails as
        ``dead``. Replaces the idempotency store (a recorded event is never run twice).
        If the inbox cannot record the event, the answer is 503 and nothing runs.
    :param run_handlers: with an inbox, ``"inline"`` (default) runs the handlers in the
        request after recording the event and answers 200 even when they fail (the
        event is retried by a :class:`~superoffice_webhooks.Worker`); ``"worker"``
        answers at once and leaves the handlers to a worker.
    :param retry: with an inbox, when failed handlers run again and when the event is dead.
    :param lease: with an inbox, how long an inline attempt holds its entry without
        renewing it (renewed every third while the handlers run).
    :param on_invalid_payload: what to do with a body whose signature verifies but which
        :func:`parse` refuses (a type SuperOffice changed, a ``null`` where a string was
        documented): ``"keep"`` (default) answers 200 so that SuperOffice does not count
        failures towards disabling the webhook, and records it as ``dead`` in the inbox;
        a callable ``(body, error)`` is given the body instead (without an inbox);
        ``"reject"`` answers 400. Unverified bodies (``allow_unsigned``) always get 400.
    """

    def __init__(
        self,
        *,
        secret: Secrets | SecretResolver | None = None,
        dispatcher: Dispatcher | None = None,
        allow_unsigned: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        on_handler_error: Literal["retry", "ack"] = "retry",
        ack_unverified_test: bool = True,
        idempotency: IdempotencyStore | Literal["memory"] | None = "memory",
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = _utcnow,
        on_failure: FailureHook | None = None,
        handoff: Handoff | InboxHandoff | None = None,
        inbox: Inbox | None = None,
        run_handlers: Mode = "inline",
        retry: RetryPolicy = DEFAULT_RETRY,
        lease: timedelta = DEFAULT_LEASE,
        on_invalid_payload: Literal["keep", "reject"] | InvalidPayloadHook = "keep",
    ) -> None:
        super().__init__(
            secret=secret,
            dispatcher=dispatcher,
            allow_unsigned=allow_unsigned,
            max_body_size=max_body_size,
            on_handler_error=on_handler_error,
            ack_unverified_test=ack_unverified_test,
            idempotency=idempotency,
            max_age=max_age,
            clock=clock,
            on_failure=on_failure,
            handoff=handoff,
            inbox=inbox,
            run_handlers=run_handlers,
            retry=retry,
            lease=lease,
            on_invalid_payload=on_invalid_payload,
            run_sync=None,
            inbox_on_failure=on_failure,
        )
        self.on_failure = on_failure
        self.on_invalid_payload = on_invalid_payload
        # The hand-off that takes claimed events (a Handoff), apart from one with an inbox.
        self._handoff = None if isinstance(handoff, InboxHandoff) else handoff
        #: The idempotency store in use, or ``None`` when every delivery runs the handlers.
        self.store = None if self.delivery is not None else _store(idempotency, self._handoff)

    def receive(self, body: bytes, headers: Headers) -> Outcome:
        """Verify, parse, record or claim, and dispatch one request.

        :raises ConfigurationError: misuse (a ``str`` body, an async handler, resolver or
            hook).
        """
        checked = self._verified(body, headers)
        if not isinstance(checked, tuple):
            return self._keep(checked) if isinstance(checked, _Invalid) else checked
        event, raw = checked
        if self.delivery is None:
            return self._deliver(event)
        return self._record(self.delivery, event, raw)

    def accept(self, body: bytes, headers: Headers) -> Event | Outcome:
        """Verify and parse one request without dispatching it.

        Returns the event for your own code to handle, or the :class:`Outcome` to answer
        with when there is nothing to handle: a rejection (413, 401, 400), a ``test``
        ping (200) or a verified body that :func:`parse` refused and *on_invalid_payload*
        kept (200). The same checks, in the same order, as :meth:`receive`; the event is
        neither recorded nor claimed (nothing is dispatched).

        :raises ConfigurationError: misuse, as for :meth:`receive` (e.g. an async resolver).
        """
        checked = self._verified(body, headers)
        if isinstance(checked, tuple):
            return checked[0]
        return self._keep(checked) if isinstance(checked, _Invalid) else checked

    def _verified(self, body: bytes, headers: Headers) -> _Checked:
        raw = self._raw(body)
        if isinstance(raw, Outcome):
            return raw
        if self._resolver is None:
            return self._prepare(raw, headers, self._keys)
        tenant = _tenant(raw, headers)
        if isinstance(tenant, VerificationError):
            return self._prepare(raw, headers, tenant)
        keys = _secret_keys(
            _not_async(self._resolver(tenant.tenant, tenant.name), "secret resolver")
        )
        return self._prepare(raw, headers, keys, tenant.data)

    def _record(self, delivery: Delivery, event: Event, raw: bytes) -> Outcome:
        try:
            new = delivery.record(event, raw)
        except Exception as exc:  # noqa: BLE001  # any store failure: SuperOffice must retry
            return _unrecorded(event, exc)
        claimed = delivery.claim(event) if new and self.run_handlers == "inline" else None
        if claimed is None:
            return _recorded(event, new=new)
        result = delivery.run(*claimed, self.dispatcher.dispatch, event)
        return self._ran(event, result)

    def _keep(self, invalid: _Invalid) -> Outcome:
        hook = self.on_invalid_payload
        try:
            if self.delivery is not None:
                self.delivery.record_invalid(invalid.raw, invalid.error)
            elif callable(hook):
                _not_async(hook(invalid.raw, invalid.error), "on_invalid_payload hook")
        except ConfigurationError:
            raise
        except Exception as exc:  # noqa: BLE001  # not kept: SuperOffice must send it again
            return _unkept(invalid, exc)
        return self._kept(invalid)

    def _deliver(self, event: Event) -> Outcome:
        store = self.store
        token = _token()
        if store is not None:
            duplicate = _duplicate(
                event, store.claim(event.context_identifier, event.event_id, token)
            )
            if duplicate is not None:
                return duplicate
        try:
            if self._handoff is not None:
                self._handoff.submit(event, token)
                reason = "queued for a background worker"
                return _log(event, Outcome(status=200, reason=reason, event=event))
            result = self.dispatcher.dispatch(event)
        except HandlerError as exc:
            acknowledged = False  # the claim is released unless "ack" and the hook returned
            try:
                if self.on_failure is not None:
                    _not_async(self.on_failure(event, exc), "on_failure hook")
                acknowledged = self.on_handler_error == "ack"
            finally:
                _settle(store, event, token, done=acknowledged)
            return self._failed(event, exc)
        except BaseException:
            _settle(store, event, token, done=False)
            raise
        _settle(store, event, token, done=True)
        return self._handled(event, result)


class AsyncReceiver(_Receiving):
    """The :class:`Receiver` of async code (ASGI, FastAPI, Django's async views).

    Its resolver, hooks and idempotency store are async and awaited (a type checker
    refuses sync ones, which would block the event loop); its handlers may be sync or
    async, and sync ones run off the event loop (*run_sync*). An inbox's calls, which
    block, run off the event loop too.

    It takes the parameters of :class:`Receiver`, typed for async code: *secret* may be an
    async resolver, *on_failure* and *on_invalid_payload* async callables, *idempotency*
    an :class:`~superoffice_webhooks.idempotency.AsyncIdempotencyStore` (``"memory"`` is an
    :class:`~superoffice_webhooks.idempotency.AsyncMemoryStore`), and *handoff* only a
    hand-off with an inbox (``contrib.celery.CeleryHandoff``). With an inbox, *on_failure*
    is awaited after the failure is recorded. One more:

    :param run_sync: how sync handlers and the inbox's calls run off the event loop (see
        :meth:`Dispatcher.adispatch <superoffice_webhooks.Dispatcher.adispatch>`); a
        worker thread (``asyncio.to_thread``) if omitted. Django's async view passes
        ``sync_to_async``.
    """

    def __init__(
        self,
        *,
        secret: Secrets | AsyncSecretResolver | None = None,
        dispatcher: Dispatcher | None = None,
        allow_unsigned: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        on_handler_error: Literal["retry", "ack"] = "retry",
        ack_unverified_test: bool = True,
        idempotency: AsyncIdempotencyStore | Literal["memory"] | None = "memory",
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = _utcnow,
        on_failure: AsyncFailureHook | None = None,
        handoff: InboxHandoff | None = None,
        inbox: Inbox | None = None,
        run_handlers: Mode = "inline",
        retry: RetryPolicy = DEFAULT_RETRY,
        lease: timedelta = DEFAULT_LEASE,
        on_invalid_payload: Literal["keep", "reject"] | AsyncInvalidPayloadHook = "keep",
        run_sync: SyncRunner | None = None,
    ) -> None:
        if handoff is not None and not isinstance(handoff, InboxHandoff):
            raise ConfigurationError(
                "AsyncReceiver hands events off through an inbox: give it a hand-off with "
                "an inbox and an enqueue(entry_id) method (contrib.celery.CeleryHandoff)."
            )
        super().__init__(
            secret=secret,
            dispatcher=dispatcher,
            allow_unsigned=allow_unsigned,
            max_body_size=max_body_size,
            on_handler_error=on_handler_error,
            ack_unverified_test=ack_unverified_test,
            idempotency=idempotency,
            max_age=max_age,
            clock=clock,
            on_failure=on_failure,
            handoff=handoff,
            inbox=inbox,
            run_handlers=run_handlers,
            retry=retry,
            lease=lease,
            on_invalid_payload=on_invalid_payload,
            run_sync=run_sync,
            inbox_on_failure=None,  # awaited in _arecord
        )
        self.on_failure = on_failure
        self.on_invalid_payload = on_invalid_payload
        self._adispatch: Callable[[Event], Awaitable[DispatchResult]] = functools.partial(
            self.dispatcher.adispatch, run_sync=to_thread if run_sync is None else run_sync
        )
        #: The idempotency store in use, or ``None`` when every delivery runs the handlers.
        self.store = None if self.delivery is not None else _async_store(idempotency)

    async def areceive(self, body: bytes, headers: Headers) -> Outcome:
        """Verify, parse, record or claim, and dispatch one request, awaiting async handlers.

        :raises ConfigurationError: misuse (a ``str`` body, a sync resolver or hook).
        """
        checked = await self._averified(body, headers)
        if not isinstance(checked, tuple):
            return await self._akeep(checked) if isinstance(checked, _Invalid) else checked
        event, raw = checked
        if self.delivery is None:
            return await self._adeliver(event)
        return await self._arecord(self.delivery, event, raw)

    async def aaccept(self, body: bytes, headers: Headers) -> Event | Outcome:
        """Verify and parse one request without dispatching it; see :meth:`Receiver.accept`."""
        checked = await self._averified(body, headers)
        if isinstance(checked, tuple):
            return checked[0]
        return await self._akeep(checked) if isinstance(checked, _Invalid) else checked

    async def _averified(self, body: bytes, headers: Headers) -> _Checked:
        raw = self._raw(body)
        if isinstance(raw, Outcome):
            return raw
        if self._resolver is None:
            return self._prepare(raw, headers, self._keys)
        tenant = _tenant(raw, headers)
        if isinstance(tenant, VerificationError):
            return self._prepare(raw, headers, tenant)
        found = await _awaited(self._resolver(tenant.tenant, tenant.name), "secret resolver")
        return self._prepare(raw, headers, _secret_keys(found), tenant.data)

    async def _arecord(self, delivery: Delivery, event: Event, raw: bytes) -> Outcome:
        try:
            new = await delivery.call(delivery.record, event, raw)
        except Exception as exc:  # noqa: BLE001  # any store failure: SuperOffice must retry
            return _unrecorded(event, exc)
        claimed = (
            await delivery.call(delivery.claim, event)
            if new and self.run_handlers == "inline"
            else None
        )
        if claimed is None:
            return _recorded(event, new=new)
        result = await delivery.arun(*claimed, self._adispatch, event)
        if isinstance(result, HandlerError) and self.on_failure is not None:
            try:
                await _awaited(self.on_failure(event, result), "on_failure hook")
            except Exception:  # noqa: BLE001  # logged; the failure is recorded already
                hook_raised(claimed[0])
        return self._ran(event, result)

    async def _akeep(self, invalid: _Invalid) -> Outcome:
        hook = self.on_invalid_payload
        try:
            if self.delivery is not None:
                delivery = self.delivery
                await delivery.call(delivery.record_invalid, invalid.raw, invalid.error)
            elif callable(hook):
                await _awaited(hook(invalid.raw, invalid.error), "on_invalid_payload hook")
        except ConfigurationError:
            raise
        except Exception as exc:  # noqa: BLE001  # not kept: SuperOffice must send it again
            return _unkept(invalid, exc)
        return self._kept(invalid)

    async def _adeliver(self, event: Event) -> Outcome:
        store = self.store
        token = _token()
        if store is not None:
            duplicate = _duplicate(
                event, await store.claim(event.context_identifier, event.event_id, token)
            )
            if duplicate is not None:
                return duplicate
        try:
            result = await self._adispatch(event)
        except HandlerError as exc:
            acknowledged = False  # the claim is released unless "ack" and the hook returned
            try:
                if self.on_failure is not None:
                    await _awaited(self.on_failure(event, exc), "on_failure hook")
                acknowledged = self.on_handler_error == "ack"
            finally:
                await _asettle(store, event, token, done=acknowledged)
            return self._failed(event, exc)
        except BaseException:
            await _asettle(store, event, token, done=False)
            raise
        await _asettle(store, event, token, done=True)
        return self._handled(event, result)


@attrs.frozen
class _Invalid:
    """A verified body that :func:`parse` refused, on its way to be kept."""

    raw: bytes
    error: PayloadError


#: What the checks make of a request: an answer, a body to keep, or the event and its body.
_Checked = Outcome | _Invalid | tuple[Event, bytes]


def _recorded(event: Event, *, new: bool) -> Outcome:
    reason = (
        "recorded; a worker will run the handlers"
        if new
        else "duplicate of an event already recorded"
    )
    return _log(event, Outcome(status=200, reason=reason, event=event))


def _unrecorded(event: Event, cause: Exception) -> Outcome:
    exc = InboxError(
        "The inbox could not record the event; SuperOffice will send it again. "
        f"Check the inbox's storage ({type(cause).__name__})."
    )
    exc.__cause__ = cause
    logger.error(
        "Could not record %s event %s (tenant %s) in the inbox; answered 503.",
        printable(event.event),
        event.event_id,
        printable(event.context_identifier),
        exc_info=cause,
    )
    return Outcome(status=503, reason=str(exc), event=event, error=exc)


def _unkept(invalid: _Invalid, cause: Exception) -> Outcome:
    exc = InboxError(
        "A verified body could not be read, and keeping it failed; SuperOffice will send "
        f"it again ({type(cause).__name__})."
    )
    exc.__cause__ = cause
    logger.error("%s Its error: %s", exc, invalid.error, exc_info=cause)
    return Outcome(status=503, reason=str(exc), error=exc)


def _check_inbox_options(
    inbox: object, run_handlers: object, handoff: object, idempotency: object, on_invalid: object
) -> None:
    if on_invalid not in ("keep", "reject") and not callable(on_invalid):
        raise ConfigurationError(
            "on_invalid_payload must be 'keep', 'reject' or a callable taking "
            f"(body, error), not {on_invalid!r}."
        )
    if run_handlers not in ("inline", "worker"):
        raise ConfigurationError(
            f"run_handlers must be 'inline' or 'worker', not {run_handlers!r}."
        )
    if inbox is None and run_handlers == "worker":
        raise ConfigurationError(
            "run_handlers='worker' needs an inbox for the worker to read: Receiver(inbox=...)."
        )
    if inbox is not None and (handoff is not None or idempotency != "memory"):
        raise ConfigurationError(
            "With an inbox, leave out idempotency and handoff: the inbox records each "
            "event once, and a Worker (or contrib.celery) runs it."
        )


def _check_delivery_options(max_age: object, clock: object, on_failure: object) -> None:
    if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
        raise ConfigurationError("max_age must be a positive datetime.timedelta or None.")
    if not callable(clock):
        raise ConfigurationError("clock must be a callable returning a timezone-aware datetime.")
    if on_failure is not None and not callable(on_failure):
        raise ConfigurationError("on_failure must be a callable taking (event, error).")


def header(headers: Headers, name: str) -> str | None:
    """The value of the header field *name* (lower case), whatever the case of the keys.

    Adapters pass lower-case keys, and frameworks' header objects look up any case, so
    the first lookup finds a field that is there; only a miss reads every key.
    """
    value = headers.get(name)
    if value is not None:
        return value
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def refuse(
    status: int,
    exc: SuperOfficeWebhookError,
    event: Event | None = None,
    *,
    reason: str | None = None,
) -> Outcome:
    """The answer *status* for *exc*, logged; *reason*, if given, is what the client sees instead."""
    logger.warning("Rejected webhook request: %s %s", status, exc)
    return Outcome(
        status=status, reason=str(exc) if reason is None else reason, event=event, error=exc
    )


def too_large(size: int | None, receiver: _Receiving) -> Outcome | None:
    """The 413 answer when a body of *size* bytes (``None``: unknown) exceeds the limit."""
    if size is None or size <= receiver.max_body_size:
        return None
    return refuse(
        413,
        PayloadTooLargeError(
            f"The body is larger than the limit of {receiver.max_body_size} bytes "
            f"({type(receiver).__name__} max_body_size)."
        ),
    )


#: The reason a receiver with a secret resolver gives for every unverifiable request.
_UNVERIFIED = (
    "The signature does not verify with the secret configured for this request's "
    "ContextIdentifier and WebhookName."
)


def _store(idempotency: object, handoff: Handoff | None) -> IdempotencyStore | None:
    if handoff is not None:
        if not isinstance(handoff, Handoff):
            raise ConfigurationError(
                "handoff must have a store and a submit(event, token) method, or an inbox "
                "and an enqueue(entry_id) method (contrib.celery.CeleryHandoff)."
            )
        if idempotency != "memory" and idempotency is not handoff.store:
            raise ConfigurationError(
                "With a handoff the receiver uses the hand-off's store; leave idempotency out."
            )
        return handoff.store
    if idempotency == "memory":
        return MemoryStore()
    if is_async_store(idempotency):
        raise ConfigurationError(
            f"{type(idempotency).__name__} is an async store: give it to an AsyncReceiver, "
            "or give this Receiver its sync twin (SQLiteStore, contrib.redis.RedisStore)."
        )
    if idempotency is None or isinstance(idempotency, IdempotencyStore):
        return idempotency
    raise ConfigurationError(
        "idempotency must be an idempotency store (MemoryStore, SQLiteStore, RedisStore, ...), "
        f"'memory' or None, not {type(idempotency).__name__}."
    )


def _async_store(idempotency: object) -> AsyncIdempotencyStore | None:
    if idempotency == "memory":
        return AsyncMemoryStore()
    if idempotency is None or is_async_store(idempotency):
        return idempotency
    raise ConfigurationError(
        "idempotency of an AsyncReceiver must be an async store (AsyncMemoryStore, "
        "AsyncSQLiteStore, contrib.redis.AsyncRedisStore, ...), 'memory' or None, not "
        f"{type(idempotency).__name__}; a sync store goes with Receiver."
    )


def _not_async(result: T, what: str) -> T:
    """*result*, unless a sync receiver was given an async callable (which type checkers catch)."""
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise ConfigurationError(
            f"The {what} is async; a Receiver cannot await it. Use an AsyncReceiver."
        )
    return result


async def _awaited(result: object, what: str) -> object:
    """What *result* gives when awaited; a sync callable given to an AsyncReceiver is refused."""
    if not inspect.isawaitable(result):
        raise ConfigurationError(
            f"The {what} of an AsyncReceiver must be async (an `async def`); a sync one "
            "goes with Receiver."
        )
    return await result


def _secret_keys(secrets: object) -> tuple[bytes, ...] | VerificationError:
    """The keys a resolver returned; None or empty means the tenant is unknown."""
    if secrets is None or (isinstance(secrets, (str, bytes, Sequence)) and not secrets):
        return UnknownTenantError(
            "No secret is configured for this request's ContextIdentifier and "
            "WebhookName (the secret resolver returned none)."
        )
    return normalize_secrets(secrets)  # type: ignore[arg-type]  # normalize_secrets checks the type


class _Tenant(NamedTuple):
    """Whom an unverified body names, and the body decoded (it is parsed from that later)."""

    tenant: str
    name: str
    data: dict[str, object]


def _tenant(raw: bytes, headers: Headers) -> _Tenant | VerificationError:
    """The unverified (ContextIdentifier, WebhookName) to ask the resolver about."""
    try:
        signature_bytes(header(headers, SIGNATURE_HEADER))  # no resolver call for unsigned junk
    except VerificationError as exc:
        return exc
    try:
        data = load_json(raw)
    except PayloadError:
        data = None
    tenant = data.get("ContextIdentifier") if isinstance(data, dict) else None
    name = data.get("WebhookName") if isinstance(data, dict) else None
    if type(tenant) is not str or type(name) is not str:
        return UnknownTenantError(
            "Cannot choose the secret: the body is not a JSON object with the "
            "ContextIdentifier and WebhookName strings SuperOffice always sends."
        )
    return _Tenant(tenant, name, cast("dict[str, object]", data))


# Read once here rather than from the enum class on every request, which is a lookup
# through the enum machinery each time.
_COMPLETED, _IN_FLIGHT = ClaimState.COMPLETED, ClaimState.IN_FLIGHT


def _duplicate(event: Event, state: ClaimState) -> Outcome | None:
    if state is _COMPLETED:
        return _log(
            event, Outcome(status=200, reason="duplicate of an event already handled", event=event)
        )
    if state is _IN_FLIGHT:
        exc = EventInFlightError(
            "Another delivery of this EventId is being handled right now; SuperOffice will "
            "retry, and the retry gets the first delivery's result."
        )
        return _log(event, Outcome(status=409, reason=str(exc), event=event, error=exc))
    return None


def _token() -> str:
    """A claim token: it tells this delivery's claim from others' on the same EventId.

    Not a secret, only unique: ``random`` is reseeded in every forked worker, and a
    token is compared only with the tokens of other deliveries of the same event.
    """
    return random.getrandbits(128).to_bytes(16).hex()  # 32 hex digits, as f"{n:032x}"


def _settle(store: IdempotencyStore | None, event: Event, token: str, *, done: bool) -> None:
    if store is None:
        return
    if not done:
        store.release(event.context_identifier, event.event_id, token)
    elif not store.complete(event.context_identifier, event.event_id, token):
        _expired(event)


async def _asettle(
    store: AsyncIdempotencyStore | None, event: Event, token: str, *, done: bool
) -> None:
    if store is None:
        return
    if not done:
        await store.release(event.context_identifier, event.event_id, token)
    elif not await store.complete(event.context_identifier, event.event_id, token):
        _expired(event)


def _expired(event: Event) -> None:
    logger.warning(
        "The claim on %s event %s expired before its handlers finished; another delivery "
        "may have run them too. Give the idempotency store a longer lease.",
        printable(event.event),
        event.event_id,
    )


def _log(event: Event, outcome: Outcome) -> Outcome:
    # Asked first: escaping the values for a record nobody reads is work on every request.
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s event %s (tenant %s): %s %s",
            printable(event.event),
            event.event_id,
            printable(event.context_identifier),
            outcome.status,
            outcome.reason,
        )
    return outcome
