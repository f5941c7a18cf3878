"""The types of the callables and values you hand to a :class:`~superoffice_webhooks.Receiver`,
an :class:`~superoffice_webhooks.AsyncReceiver` or a :class:`~superoffice_webhooks.Worker`,
to annotate your own code with.

>>> from superoffice_webhooks.typing import SecretResolver
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from ._events import Event
from ._verify import Secret, Secrets
from .exceptions import HandlerError, PayloadError

__all__ = [
    "AsyncFailureHook",
    "AsyncInvalidPayloadHook",
    "AsyncSecretResolver",
    "FailureHook",
    "Headers",
    "InvalidPayloadHook",
    "Secret",
    "SecretResolver",
    "Secrets",
    "SyncRunner",
]

#: ``(context_identifier, webhook_name) -> secret | [secrets] | None``: picks the secrets
#: of each tenant for a :class:`~superoffice_webhooks.Receiver`.
SecretResolver = Callable[[str, str], Secrets | None]
#: The same, ``async``, for an :class:`~superoffice_webhooks.AsyncReceiver`.
AsyncSecretResolver = Callable[[str, str], Awaitable[Secrets | None]]
#: ``(event, error) -> None``: told about every handler failure.
FailureHook = Callable[[Event, HandlerError], None]
#: The same, ``async``, for an :class:`~superoffice_webhooks.AsyncReceiver`.
AsyncFailureHook = Callable[[Event, HandlerError], Awaitable[None]]
#: ``(body, error) -> None``: given each verified body that
#: :func:`~superoffice_webhooks.parse` refused.
InvalidPayloadHook = Callable[[bytes, PayloadError], None]
#: The same, ``async``, for an :class:`~superoffice_webhooks.AsyncReceiver`.
AsyncInvalidPayloadHook = Callable[[bytes, PayloadError], Awaitable[None]]
#: Runs a function of no arguments off the event loop: ``asyncio.to_thread`` and the like.
SyncRunner = Callable[[Callable[[], object]], Awaitable[object]]


class Headers(Protocol):
    """A request's headers as web frameworks give them: any mapping of names to values, or
    an object with ``get`` and ``items`` (Werkzeug's ``Headers``, Django's
    ``request.headers``). Names are looked up whatever their case."""

    def get(self, key: str, /) -> str | None:
        """The value of the header *key*, or ``None``."""
        ...

    def items(self) -> Iterable[tuple[str, str]]:
        """Every header as ``(name, value)``."""
        ...
