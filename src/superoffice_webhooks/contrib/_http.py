"""What every adapter shares: building the Receiver and the answers it gives before reading."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, TypeVar

from superoffice_webhooks._receiver import AsyncReceiver, Outcome, Receiver, refuse, too_large
from superoffice_webhooks.exceptions import ConfigurationError, PayloadError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Callable, Iterable, Mapping

#: The receiver an adapter takes: a Receiver for sync frameworks, an AsyncReceiver for async ones.
R = TypeVar("R", Receiver, AsyncReceiver)

CONSUMED = (
    "The request body was read before the webhook view got it (by a middleware, a form or "
    "DRF parser, or request.POST), so its signature cannot be checked. Route the webhook "
    "URL past whatever reads the body."
)
NOT_ALLOWED = Outcome(status=405, reason="SuperOffice webhooks are POST requests.")
#: The header an adapter adds to its :data:`NOT_ALLOWED` answer.
ALLOW = "Allow", "POST"
#: The Content-Type of every answer: its :func:`text`.
CONTENT_TYPE = "text/plain; charset=utf-8"


def make_receiver(kind: type[R], receiver: R | None, options: Mapping[str, Any]) -> R:
    """The given *receiver* (of class *kind*), or a new one built from keyword *options*."""
    if receiver is not None:
        if options:
            names = ", ".join(sorted(options))
            msg = f"Pass either receiver=... or {kind.__name__} options ({names}), not both."
            raise ConfigurationError(msg)
        if not isinstance(receiver, kind):
            article, why = _KINDS[kind]
            msg = (
                f"receiver must be {article} {kind.__name__}, not {type(receiver).__name__}: {why}"
            )
            raise ConfigurationError(msg)
        return receiver
    check_options(kind, options)
    return kind(**options)


_KINDS: dict[type, tuple[str, str]] = {
    Receiver: ("a", "this adapter runs sync code, which does not await hooks and stores."),
    AsyncReceiver: ("an", "this adapter runs in an event loop, which awaits hooks and stores."),
}


def check_options(kind: type[Receiver | AsyncReceiver], options: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` for a name that is not an option of *kind*."""
    names = frozenset(inspect.signature(kind.__init__).parameters) - {"self"}
    unknown = sorted(set(options) - names)
    if unknown:
        msg = (
            f"Unknown {kind.__name__} option(s): {', '.join(unknown)}. "
            f"{kind.__name__} takes: {', '.join(sorted(names))}."
        )
        raise ConfigurationError(msg)


def asgi_headers(fields: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's ``headers`` by lower-case name; a repeated name's values joined with ", ".

    That is how HTTP combines repeated fields (RFC 9110, section 5.3) and how WSGI
    servers present them, so that a repeated ``X-SuperOffice-Signature`` is malformed
    (401) in every adapter, whichever copy is right.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in fields:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """A WSGI environ's header fields by lower-case name (the server has joined repeats).

    Read straight from the ``HTTP_*`` keys (and ``CONTENT_TYPE``, ``CONTENT_LENGTH``), as
    a framework's header object would, without building one.
    """
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name[:5] == "HTTP_"
    }
    for name, key in _CONTENT_FIELDS:
        value = environ.get(name)
        if value:
            headers[key] = value
    return headers


_CONTENT_FIELDS = (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length"))


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The Content-Length header as a number, or ``None`` when absent or not a number."""
    value = headers.get("content-length")
    if value is None or not (value.isascii() and value.strip().isdigit()):
        return None
    return int(value)


def consumed() -> Outcome:
    """The 400 outcome for a body that something else read first."""
    return refuse(400, PayloadError(CONSUMED))


def checked(
    declared: int | None, body: bytes, receiver: Receiver | AsyncReceiver
) -> bytes | Outcome:
    """*body*, or :func:`consumed` when fewer bytes arrived than declared (within the limit)."""
    if declared is None or len(body) >= declared or len(body) > receiver.max_body_size:
        return body
    return consumed()


def read_body(
    headers: Mapping[str, str], receiver: Receiver | AsyncReceiver, read: Callable[[int], bytes]
) -> bytes | Outcome:
    """The body *read* gives when asked for at most *n* bytes, or why not to read it (413, 400).

    *n* is the declared ``Content-Length`` (a larger one is answered 413 before reading)
    or, for a body without one, ``max_body_size + 1``: the receiver answers 413 to a body
    that reaches it.
    """
    declared = declared_length(headers)
    early = too_large(declared, receiver)
    if early is not None:
        return early
    return checked(
        declared, read(receiver.max_body_size + 1 if declared is None else declared), receiver
    )


async def collect(
    chunks: AsyncIterable[bytes], headers: Mapping[str, str], receiver: AsyncReceiver
) -> bytes | Outcome:
    """Like :func:`read_body`: the body read from *chunks*, which stops at the limit."""
    declared = declared_length(headers)
    early = too_large(declared, receiver)
    if early is not None:
        return early
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > receiver.max_body_size:
            break
    return checked(declared, bytes(body), receiver)


def text(outcome: Outcome) -> bytes:
    """The body of an answer: the outcome's reason, never the request body."""
    return f"{outcome.reason}\n".encode()
