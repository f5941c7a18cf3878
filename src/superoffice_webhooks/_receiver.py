"""Receiver: body + headers -> verify -> parse -> dispatch -> Outcome (sans-I/O)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import attrs

from ._dispatch import Dispatcher, DispatchResult, default_dispatcher
from ._events import Event, TestEvent
from ._parse import parse
from ._verify import Secrets, body_bytes, check, normalize_secrets, verify
from .exceptions import (
    ConfigurationError,
    HandlerError,
    PayloadError,
    PayloadTooLargeError,
    SuperOfficeWebhookError,
    VerificationError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Outcome", "Receiver", "verify_and_parse"]

logger = logging.getLogger("superoffice_webhooks")
logger.addHandler(logging.NullHandler())  # the application decides where records go

SIGNATURE_HEADER = "x-superoffice-signature"
TEST_HEADER = "x-hook-test"
DEFAULT_MAX_BODY_SIZE = 1024 * 1024


def verify_and_parse(body: bytes | str, signature: str | None, secret: Secrets) -> Event:
    """:func:`verify` the body, then :func:`parse` it.

    :raises ConfigurationError: the secret is empty or of the wrong type.
    :raises VerificationError: the signature is missing or does not match.
    :raises PayloadError: the verified body is not a valid notification.
    """
    verify(body, signature, secret)
    return parse(body)


@attrs.frozen(kw_only=True)
class Outcome:
    """What a :class:`Receiver` made of one request; adapters turn it into a response."""

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


class Receiver:
    """Turns a webhook request into an :class:`Outcome`; knows nothing of HTTP frameworks.

    :param secret: the webhook's Secret, or a list of secrets while rotating.
    :param dispatcher: whose handlers run; the default dispatcher (``@on``) if omitted.
    :param allow_unsigned: accept requests without verifying them. Only for webhooks
        that have no Secret; never together with *secret*.
    :param max_body_size: bodies larger than this many bytes get 413 (default 1 MiB).
    :param on_handler_error: ``"retry"`` (default) answers 500 when a handler fails, so
        SuperOffice sends the event again; ``"ack"`` answers 200 anyway.
    :param ack_unverified_test: answer 200 to SuperOffice's ``test`` ping (header
        ``X-Hook-Test: true``) even when its signature cannot be verified, so that saving
        a webhook succeeds before its new secret is configured. No handler runs for it.
    """

    def __init__(
        self,
        *,
        secret: Secrets | None = None,
        dispatcher: Dispatcher | None = None,
        allow_unsigned: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        on_handler_error: Literal["retry", "ack"] = "retry",
        ack_unverified_test: bool = True,
    ) -> None:
        if secret is None and not allow_unsigned:
            msg = (
                "Receiver needs the webhook's secret: Receiver(secret=...). Only for a "
                "webhook without a Secret pass allow_unsigned=True."
            )
            raise ConfigurationError(msg)
        if secret is not None and allow_unsigned:
            msg = "Pass either secret=... or allow_unsigned=True, not both."
            raise ConfigurationError(msg)
        if on_handler_error not in ("retry", "ack"):
            msg = f"on_handler_error must be 'retry' or 'ack', not {on_handler_error!r}."
            raise ConfigurationError(msg)
        if type(max_body_size) is not int or max_body_size <= 0:
            msg = "max_body_size must be a positive number of bytes."
            raise ConfigurationError(msg)
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            msg = f"dispatcher must be a Dispatcher, not {type(dispatcher).__name__}."
            raise ConfigurationError(msg)
        self._keys = None if secret is None else normalize_secrets(secret)
        self.dispatcher = default_dispatcher if dispatcher is None else dispatcher
        self.max_body_size = max_body_size
        self.on_handler_error = on_handler_error
        self.ack_unverified_test = ack_unverified_test

    def receive(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        """Verify, parse and dispatch one request with sync handlers."""
        prepared = self._prepare(body, headers)
        if isinstance(prepared, Outcome):
            return prepared
        try:
            result = self.dispatcher.dispatch(prepared)
        except HandlerError as exc:
            return self._failed(prepared, exc)
        return self._handled(prepared, result)

    async def areceive(self, body: bytes, headers: Mapping[str, str]) -> Outcome:
        """Like :meth:`receive`, awaiting async handlers."""
        prepared = self._prepare(body, headers)
        if isinstance(prepared, Outcome):
            return prepared
        try:
            result = await self.dispatcher.adispatch(prepared)
        except HandlerError as exc:
            return self._failed(prepared, exc)
        return self._handled(prepared, result)

    def accept(self, body: bytes, headers: Mapping[str, str]) -> Event | Outcome:
        """Verify and parse one request without dispatching it.

        Returns the event for your own code to handle, or the :class:`Outcome` to answer
        with when there is nothing to handle: a rejection (413, 401, 400) or a ``test``
        ping (200). The same checks, in the same order, as :meth:`receive`.
        """
        return self._prepare(body, headers)

    # --- steps ----------------------------------------------------------------

    def _prepare(self, body: bytes, headers: Mapping[str, str]) -> Event | Outcome:
        raw = body_bytes(body, allow_str=False)
        if len(raw) > self.max_body_size:
            return _rejected(
                413,
                PayloadTooLargeError(
                    f"The body is larger than the limit of {self.max_body_size} bytes "
                    "(Receiver max_body_size)."
                ),
            )
        lowered = {key.lower(): value for key, value in headers.items()}
        if self._keys is not None:
            try:
                check(raw, lowered.get(SIGNATURE_HEADER), self._keys)
            except VerificationError as exc:
                ping = self._unverified_ping(raw, lowered)
                return ping if ping is not None else _rejected(401, exc)
        try:
            event = parse(raw)
        except PayloadError as exc:
            return _rejected(400, exc)
        if isinstance(event, TestEvent):
            return _log(Outcome(status=200, reason="test event acknowledged", event=event))
        return event

    def _unverified_ping(self, raw: bytes, headers: Mapping[str, str]) -> Outcome | None:
        if not self.ack_unverified_test or str(headers.get(TEST_HEADER, "")).lower() != "true":
            return None
        try:
            event = parse(raw)
        except PayloadError:
            return None
        if not isinstance(event, TestEvent):
            return None
        reason = "test event acknowledged without verification (signature did not verify)"
        return _log(Outcome(status=200, reason=reason, event=event))

    def _handled(self, event: Event, result: DispatchResult) -> Outcome:
        count = len(result.handlers)
        reason = f"handled by {count} handler(s)" if count else f"no handler for {event.event}"
        return _log(Outcome(status=200, reason=reason, event=event, dispatch=result))

    def _failed(self, event: Event, exc: HandlerError) -> Outcome:
        logger.error(
            "Handler failed for %s event %s (tenant %s)",
            event.event,
            event.event_id,
            event.context_identifier,
            exc_info=exc,
        )
        if self.on_handler_error == "ack":
            reason = "handler failed; acknowledged anyway (on_handler_error='ack')"
            return _log(Outcome(status=200, reason=reason, event=event, error=exc))
        reason = "handler failed; SuperOffice will retry"
        return _log(Outcome(status=500, reason=reason, event=event, error=exc))


def _rejected(status: int, exc: SuperOfficeWebhookError) -> Outcome:
    outcome = Outcome(status=status, reason=str(exc), error=exc)
    logger.warning("Rejected webhook request: %s %s", status, outcome.reason)
    return outcome


def _log(outcome: Outcome) -> Outcome:
    event = outcome.event
    if event is not None:
        logger.info(
            "%s event %s (tenant %s): %s %s",
            event.event,
            event.event_id,
            event.context_identifier,
            outcome.status,
            outcome.reason,
        )
    return outcome
