"""Receive SuperOffice CRM webhooks: verify, parse into typed events, dispatch to handlers.

>>> import superoffice_webhooks as sow
>>> body = b'{"EventId": "576086e3-5261-426b-a84b-26ca7f5b65e8", ...}'  # doctest: +SKIP
>>> event = sow.verify_and_parse(body, signature_header, "my secret")  # doctest: +SKIP
"""

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
from ._events import (
    EVENT_CLASSES,
    Event,
    FieldValues,
    PersonChanged,
    PersonConsented,
    PersonCreated,
    PersonDeleted,
    PersonEvent,
    PersonFieldValues,
    PersonSoftDeleted,
    PersonUnconsented,
    TestEvent,
    UnknownEvent,
    parse,
)
from ._receiver import (
    FailureHook,
    Handoff,
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
    "EVENT_CLASSES",
    "ConfigurationError",
    "DispatchResult",
    "Dispatcher",
    "Event",
    "EventInFlightError",
    "FailureHook",
    "FieldValues",
    "Handler",
    "HandlerError",
    "Handoff",
    "InvalidSignatureError",
    "MissingSignatureError",
    "Outcome",
    "PayloadError",
    "PayloadTooLargeError",
    "PersonChanged",
    "PersonConsented",
    "PersonCreated",
    "PersonDeleted",
    "PersonEvent",
    "PersonFieldValues",
    "PersonSoftDeleted",
    "PersonUnconsented",
    "Receiver",
    "Registrar",
    "SecretResolver",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "TestEvent",
    "UnknownEvent",
    "UnknownTenantError",
    "VerificationError",
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


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415  # only when asked for

        return version("superoffice-webhooks")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
