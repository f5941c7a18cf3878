"""parse(): a notification body -> the typed event for its name."""

import functools
import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from ._events import Event, UnknownEvent
from ._scalars import TooDeepError, copy_json
from ._verify import Secrets, verify
from .exceptions import PayloadError

if TYPE_CHECKING:
    from ._generated_events import ExtraTableEvent, ListItemEvent

__all__ = ["event_class", "parse", "parse_decoded", "verify_and_parse"]


class _Engine(NamedTuple):
    """What parsing needs beyond the standard library: the converter and the name tables."""

    structure: Callable[[Mapping[str, object], type[Event]], Event]
    structure_exact: Callable[[object, type[Event]], Event | None]
    fixed: Mapping[str, type[Event]]
    list_items: Mapping[str, type["ListItemEvent"]]
    extra_tables: Mapping[str, type["ExtraTableEvent"]]


@functools.cache
def _engine() -> _Engine:
    """The engine, made on the first parse rather than when the package is imported: cattrs
    and the ~140 event classes are most of what importing the package would cost, and a
    program may import it without parsing (a command-line tool, a test run, a worker that
    only reads its inbox at first)."""
    from . import _converter  # noqa: PLC0415  # see the docstring
    from . import _generated_events as made  # noqa: PLC0415  # see the docstring

    return _Engine(
        _converter.structure,
        _converter.structure_exact,
        made.EVENT_CLASSES,
        made.LIST_ITEM_CLASSES,
        made.EXTRA_TABLE_CLASSES,
    )


def event_class(name: str) -> type[Event]:
    """The class :func:`parse` uses for an event named *name*.

    Fixed names come from :data:`~superoffice_webhooks.events.EVENT_CLASSES`. Two families
    have names no table can hold: list events ``list.<name|id>.<verb>`` (three segments)
    and extra-table events ``y_<table>.<verb>`` (SuperOffice names every extra table
    ``y_...``). Anything else, including a known family with an unknown verb, is an
    :class:`~superoffice_webhooks.events.UnknownEvent`.
    """
    return _class_in(_engine(), name)


def _class_in(engine: _Engine, name: str) -> type[Event]:
    cls = engine.fixed.get(name)
    if cls is not None:
        return cls
    head, _, verb = name.rpartition(".")
    if head.startswith("list.") and head.count(".") == 1 and len(head) > len("list."):
        return engine.list_items.get(verb, UnknownEvent)
    if head.startswith("y_") and len(head) > len("y_") and "." not in head:
        return engine.extra_tables.get(verb, UnknownEvent)
    return UnknownEvent


#: How deeply a mapping given to :func:`parse` may nest: well within what ``to_json()``
#: can write back from a deep call stack (the standard library's parser gives up on a
#: body somewhere below 1,000 levels, depending on the stack it is called from).
MAX_DEPTH = 500


def _reject_constant(name: str) -> object:
    msg = f"Invalid SuperOffice payload: {name} is not valid JSON."
    raise PayloadError(msg)


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e400: json would make it inf, which no JSON can carry back
        msg = "Invalid SuperOffice payload: a number is too large (beyond a 64-bit float)."
        raise PayloadError(msg)
    return number


#: The standard library's parser, built once (``json.loads`` with an argument builds a
#: new decoder on every call).
_decode = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode

#: The faster parser tried first when it is installed (orjson, the ``fast`` extra).
fast_loads: Callable[[bytes | str], object] | None
try:
    from orjson import loads as fast_loads
except ImportError:  # the fast extra is not installed
    fast_loads = None


def load_json(body: bytes | str) -> object:
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = "Invalid SuperOffice payload: the body is not valid UTF-8."
            raise PayloadError(msg) from exc
    else:
        text = body
    text = text.removeprefix("\ufeff")  # a byte order mark is harmless; it was signed too
    try:
        return _decode(text)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers over Python's digit limit.
        msg = "Invalid SuperOffice payload: the body is not valid JSON."
        raise PayloadError(msg) from exc


def parse(body: bytes | str | Mapping[str, object]) -> Event:
    """Parse a notification body into its typed event.

    *body* is the raw body (bytes or str) or an already decoded JSON object (a mapping,
    which is copied: the event keeps what it was read from). The class is chosen by the
    body's ``Event`` name: :data:`~superoffice_webhooks.events.EVENT_CLASSES`, then list
    (``list.<name|id>.<verb>``) and extra-table (``y_<table>.<verb>``) names; names this
    version does not know give an :class:`~superoffice_webhooks.events.UnknownEvent`. Parsing does not verify: call
    :func:`~superoffice_webhooks.verify` first, or use
    :func:`~superoffice_webhooks.verify_and_parse`.

    :raises PayloadError: the body is not valid UTF-8 or JSON, not an object, or a
        field is missing or of the wrong type (the error names the field); a mapping
        nests more than 500 levels deep.
    """
    if isinstance(body, (bytes, str)):
        event = None if fast_loads is None else _parse_fast(body, fast_loads)
        if event is not None:
            return event
        data = load_json(body)
    elif isinstance(body, (bytearray, memoryview)):
        data = load_json(bytes(body))
    elif isinstance(body, Mapping):
        # The event keeps the object it is read from: the caller's must stay the caller's.
        try:
            data = copy_json(dict(body), MAX_DEPTH)
        except TooDeepError:
            msg = "Invalid SuperOffice payload: the body is nested too deeply."
            raise PayloadError(msg) from None
    else:
        msg = f"parse() takes the body as bytes, str or a mapping, not {type(body).__name__}."
        raise PayloadError(msg)
    return parse_decoded(data)


def parse_decoded(data: object) -> Event:
    """:func:`parse` of *data*, a decoded body that nothing else holds: the event keeps it."""
    if type(data) is not dict:
        msg = "Invalid SuperOffice payload: the body must be a JSON object."
        raise PayloadError(msg)
    name = data.get("Event")
    if type(name) is not str:
        reason = "must be a string" if "Event" in data else "is required but missing"
        msg = f"Invalid SuperOffice payload: Event {reason}."
        raise PayloadError(msg, field="Event")
    engine = _engine()
    return engine.structure(data, _class_in(engine, name))


def _parse_fast(body: bytes | str, loads: Callable[[bytes | str], object]) -> Event | None:
    """The event parsed with *loads* (orjson), or ``None`` to parse the standard way.

    orjson differs from the standard library on a few inputs: it rejects NaN, Infinity,
    numbers out of the float range, lone surrogates and a byte order mark, and it reads
    an integer beyond 64 bits as a float. So its result is only used when the fast
    structuring path accepts it whole (no float anywhere, see ``structure_exact``); any
    other body is parsed again by the standard library, which gives the same event or
    the same error as without orjson.
    """
    try:
        data = loads(body)
    except Exception:  # noqa: BLE001  # orjson.JSONDecodeError and the like: decided below
        return None
    if type(data) is not dict:
        return None
    name = data.get("Event")
    if type(name) is not str:
        return None
    engine = _engine()
    return engine.structure_exact(data, _class_in(engine, name))


def verify_and_parse(body: bytes | str, signature: str | None, secret: Secrets) -> Event:
    """:func:`~superoffice_webhooks.verify` the body, then :func:`parse` it.

    :raises ConfigurationError: the secret is empty or of the wrong type.
    :raises VerificationError: the signature is missing or does not match.
    :raises PayloadError: the verified body is not a valid notification.
    """
    verify(body, signature, secret)
    return parse(body)
