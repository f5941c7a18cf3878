"""Every error the library raises.

The whole tree::

    SuperOfficeWebhookError
    ├── ConfigurationError        the library is set up or called wrongly (a bug to fix in code)
    ├── VerificationError         the request cannot be shown to come from SuperOffice (HTTP 401)
    │   ├── MissingSignatureError     no X-SuperOffice-Signature, or an empty one
    │   ├── InvalidSignatureError     a signature that is malformed or does not match
    │   ├── UnknownTenantError        the secret resolver knows no secret for the request
    │   └── StaleEventError           the signed Timestamp is outside the max_age window
    ├── PayloadError              the body is not a well-formed SuperOffice notification (HTTP 400)
    │   └── PayloadTooLargeError      the body is larger than the configured limit (HTTP 413)
    ├── EventInFlightError        another delivery of the same EventId is being handled (HTTP 409)
    ├── InboxError                the inbox could not record a verified event (HTTP 503)
    └── HandlerError              one or more handlers raised (an ExceptionGroup; HTTP 500)

No message ever contains a secret, a signature, the expected digest or any part of
the body: those carry credentials and personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._events import Event

__all__ = [
    "ConfigurationError",
    "EventInFlightError",
    "HandlerError",
    "InboxError",
    "InvalidSignatureError",
    "MissingSignatureError",
    "PayloadError",
    "PayloadTooLargeError",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "UnknownTenantError",
    "VerificationError",
]


class SuperOfficeWebhookError(Exception):
    """Base class of every error raised by superoffice-webhooks."""


class ConfigurationError(SuperOfficeWebhookError):
    """The library is configured or called in a way that cannot work.

    Raised for an empty secret, a receiver without a secret, an async handler given
    to the sync ``dispatch``, an invalid event pattern, and arguments of the wrong type.
    """


class VerificationError(SuperOfficeWebhookError):
    """The request could not be verified as coming from SuperOffice."""


class MissingSignatureError(VerificationError):
    """The request carries no ``X-SuperOffice-Signature`` header, or an empty one."""


class InvalidSignatureError(VerificationError):
    """The signature is malformed or does not match the body and any configured secret."""


class UnknownTenantError(VerificationError):
    """The secret resolver has no secret for the request's tenant and webhook name.

    Also raised when the body is not even a JSON object carrying the ``ContextIdentifier``
    and ``WebhookName`` strings the resolver needs: such a body cannot be verified.
    """


class StaleEventError(VerificationError):
    """The signed ``Timestamp`` is further from now than the receiver's ``max_age``.

    Too old (a replayed request) or too far in the future (a clock far off).
    """


class EventInFlightError(SuperOfficeWebhookError):
    """Another delivery of the same event (tenant and ``EventId``) is running its handlers.

    The receiver answers 409 so that SuperOffice retries; by then the first delivery has
    either completed (the retry gets 200) or released the claim (the retry runs the handlers).
    """


class InboxError(SuperOfficeWebhookError):
    """The inbox could not record a verified event (a full disk, Redis down, ...).

    The receiver answers 503 and runs nothing, so that SuperOffice sends the event again;
    the cause is chained (``__cause__``) and logged.
    """


class PayloadError(SuperOfficeWebhookError):
    """The body is not a well-formed SuperOffice webhook notification.

    *field* names the offending wire field (e.g. ``"PrimaryKey"`` or
    ``"FieldValues.contact_id"``) when one can be named, else ``None``.
    """

    #: The wire field at fault, e.g. ``"FieldValues.contact_id"``, or ``None``.
    field: str | None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PayloadTooLargeError(PayloadError):
    """The body is larger than the receiver's ``max_body_size``."""


class HandlerError(SuperOfficeWebhookError, ExceptionGroup[Exception]):
    """One or more handlers raised while an event was dispatched.

    Every matching handler runs even if an earlier one fails; their exceptions are
    collected here. It is an :class:`ExceptionGroup`, so ``except*`` works, and
    :attr:`event` is the event that was being dispatched.
    """

    #: The event whose handlers failed.
    event: Event

    def __new__(cls, message: str, exceptions: Sequence[Exception], *, event: Event) -> Self:
        self = super().__new__(cls, message, exceptions)
        self.event = event
        return self

    def __init__(self, message: str, exceptions: Sequence[Exception], *, event: Event) -> None:  # noqa: ARG002  # set in __new__
        super().__init__(message, exceptions)

    def derive(self, excs: Sequence[Exception]) -> HandlerError:  # type: ignore[override]
        """Keep the class and the event when ``except*`` splits the group."""
        return HandlerError(self.message, excs, event=self.event)
