"""Receive SuperOffice CRM webhooks: verify, parse into typed events, dispatch to handlers.

>>> import superoffice_webhooks as sow
>>> body = b'{"EventId": "576086e3-5261-426b-a84b-26ca7f5b65e8", ...}'  # doctest: +SKIP
>>> event = sow.verify_and_parse(body, signature_header, "my secret")  # doctest: +SKIP
"""

from . import _generated_events
from ._delivery import Worker
from ._dispatch import (
    Dispatcher,
    DispatchResult,
    Handler,
    Registrar,
    adispatch,
    default_dispatcher,
    dispatch,
    on,
    on_any,
)
from ._events import DeletedValues, Event, FieldValues, TestEvent, UnknownEvent, WebhookState
from ._generated_events import *  # noqa: F403  # one class per documented event, listed in its __all__
from ._parse import parse
from ._receiver import (
    FailureHook,
    Handoff,
    InvalidPayloadHook,
    Outcome,
    Receiver,
    SecretResolver,
    verify_and_parse,
)
from ._verify import sign, verify
from .exceptions import (
    ConfigurationError,
    EventInFlightError,
    HandlerError,
    InboxError,
    InvalidSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    StaleEventError,
    SuperOfficeWebhookError,
    UnknownTenantError,
    VerificationError,
)

__all__ = [
    "ConfigurationError",
    "DeletedValues",
    "DispatchResult",
    "Dispatcher",
    "Event",
    "EventInFlightError",
    "FailureHook",
    "FieldValues",
    "Handler",
    "HandlerError",
    "Handoff",
    "InboxError",
    "InvalidPayloadHook",
    "InvalidSignatureError",
    "MissingSignatureError",
    "Outcome",
    "PayloadError",
    "PayloadTooLargeError",
    "Receiver",
    "Registrar",
    "SecretResolver",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "TestEvent",
    "UnknownEvent",
    "UnknownTenantError",
    "VerificationError",
    "WebhookState",
    "Worker",
    "adispatch",
    "default_dispatcher",
    "dispatch",
    "on",
    "on_any",
    "parse",
    "sign",
    "verify",
    "verify_and_parse",
]
__all__ += _generated_events.__all__  # EVENT_CLASSES and one class per documented event


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415  # only when asked for

        return version("superoffice-webhooks")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
