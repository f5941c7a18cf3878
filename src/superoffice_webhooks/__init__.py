"""Receive SuperOffice CRM webhooks: verify, parse into typed events, dispatch to handlers.

>>> import superoffice_webhooks as sow
>>> body = b'{"EventId": "576086e3-5261-426b-a84b-26ca7f5b65e8", ...}'  # doctest: +SKIP
>>> event = sow.verify_and_parse(body, signature_header, "my secret")  # doctest: +SKIP

The event classes live in :mod:`superoffice_webhooks.events` and can be imported from here
too; they are made when first used, which keeps this import cheap.
"""

from typing import TYPE_CHECKING

from ._dispatch import (
    Dispatcher,
    DispatchResult,
    Registrar,
    adispatch,
    default_dispatcher,
    dispatch,
    on,
    on_any,
)
from ._events import Event, UnknownEvent
from ._parse import parse, verify_and_parse
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

if TYPE_CHECKING:
    # Importable from here, imported on first use (see __getattr__ below): the receiver and
    # the worker, and the names of .events.
    from ._delivery import InboxHandoff, Worker
    from ._generated_events import *  # noqa: F403
    from ._receiver import AsyncReceiver, Handoff, Outcome, Receiver
    from .events import DeletedValues as DeletedValues
    from .events import FieldValues as FieldValues
    from .events import TestEvent as TestEvent
    from .events import WebhookState as WebhookState

    __version__: str
else:  # type checkers see the names above, not a catch-all
    #: Names whose modules are imported when first asked for, not with the package: a program
    #: that only verifies and parses, or a command-line tool that starts often, pays nothing for
    #: the receiver, the worker and the inbox (and asyncio) or for making ~140 event classes.
    _LAZY = {
        "AsyncReceiver": "_receiver",
        "Handoff": "_receiver",
        "InboxHandoff": "_delivery",
        "Outcome": "_receiver",
        "Receiver": "_receiver",
        "Worker": "_delivery",
    }

    def __getattr__(name: str) -> object:
        from importlib import import_module  # noqa: PLC0415  # only when asked for

        if name == "__version__":
            return import_module("importlib.metadata").version("superoffice-webhooks")
        if name in _LAZY:
            return getattr(import_module(f".{_LAZY[name]}", __name__), name)
        events = import_module(".events", __name__)
        if name in events.__all__:
            return getattr(events, name)
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)

    def __dir__() -> list[str]:
        """The module's own names and those __getattr__ gives, for completion in shells."""
        from importlib import import_module  # noqa: PLC0415  # only when asked for

        events = import_module(".events", __name__)
        return sorted({*globals(), *_LAZY, "__version__", *events.__all__})


__all__ = [
    "AsyncReceiver",
    "ConfigurationError",
    "DispatchResult",
    "Dispatcher",
    "Event",
    "EventInFlightError",
    "HandlerError",
    "Handoff",
    "InboxError",
    "InboxHandoff",
    "InvalidSignatureError",
    "MissingSignatureError",
    "Outcome",
    "PayloadError",
    "PayloadTooLargeError",
    "Receiver",
    "Registrar",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "UnknownEvent",
    "UnknownTenantError",
    "VerificationError",
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
