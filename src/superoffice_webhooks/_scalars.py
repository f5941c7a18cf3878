"""Scalar hooks: strict and lenient readings of JSON values, and culture-value decoding.

Each hook takes a decoded JSON value (and the type asked for, unused) and returns the
Python value or raises :class:`MismatchError`. They know nothing of cattrs: the converter
registers them, and field metadata (``_wire``) names the lenient ones a field uses.

Strictness: no silent coercion. ``"12"`` is not an int, ``true`` is not an int,
``null`` is not a str. An error message names the JSON type only, never the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

__all__ = [
    "REWRITTEN",
    "MismatchError",
    "TooDeepError",
    "copy_json",
    "datetime_out",
    "decode_culture_value",
    "encoded_datetime",
    "encoded_int",
    "extra_mapping",
    "field_datetime",
    "guid",
    "id_values",
    "int_or_str",
    "lenient_bool",
    "lenient_int",
    "mismatch",
    "opt_int",
    "opt_raw_mapping",
    "opt_str",
    "str_tuple",
    "strict_int",
    "strict_str",
    "timestamp",
]

T = TypeVar("T")


class MismatchError(Exception):
    """A value of the wrong JSON type or format; the converter turns it into a PayloadError.

    It is also how a generated structuring function declines a body it does not take
    whole (see ``_fast``): the detailed converter then decides.
    """


_JSON_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def _got(value: object) -> str:
    # Name the JSON type only: the value itself may be personal data.
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def mismatch(expected: str, value: object) -> MismatchError:
    """The error for *value* where *expected* was wanted; it names the JSON type only."""
    return MismatchError(f"expected {expected}, got {_got(value)}")


# --- scalar hooks (strict) ----------------------------------------------------


def strict_int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    raise mismatch("an integer", value)


def opt_int(value: object, _: object) -> int | None:
    if value is None or type(value) is int:
        return value
    raise mismatch("an integer or null", value)


def strict_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    raise mismatch("a string", value)


def opt_str(value: object, _: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise mismatch("a string or null", value)


#: A GUID as SuperOffice writes it: 32 ASCII hex digits in groups of 8-4-4-4-12. UUID()
#: alone would also take braces, "urn:uuid:", underscores and any Unicode digit.
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def guid(value: object, _: object) -> UUID:
    if type(value) is not str:
        raise mismatch("a GUID string", value)
    if _GUID.fullmatch(value) is not None:
        return UUID(value)
    msg = "expected a GUID such as 88f91933-edce-4c1a-8ded-ade8e2f72434"
    raise MismatchError(msg)


def _iso(value: object, expected: str) -> datetime:
    if type(value) is not str:
        raise mismatch(expected, value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        msg = f"expected {expected} such as 2018-04-24T08:01:15.8506935Z"
        raise MismatchError(msg) from None


def timestamp(value: object, _: object) -> datetime:
    """The top-level Timestamp: always made timezone-aware UTC."""
    dt = _iso(value, "an ISO 8601 date-time")
    if dt.tzinfo is None:
        msg = "expected a UTC date-time ending in Z (or with an offset), got one without"
        raise MismatchError(msg)
    if dt.tzinfo is UTC:
        return dt
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        msg = "the date-time is out of range once converted to UTC"
        raise MismatchError(msg) from None


def field_datetime(value: object, _: object) -> datetime | None:
    """A date inside FieldValues: naive stays naive, offsets are kept, .NET's min is None."""
    if value is None:
        return None
    dt = _iso(value, "an ISO 8601 date-time")
    # 0001-01-01T00:00:00 is how SuperOffice says "not set", with or without an offset.
    # Date and time are compared apart: dt.replace(tzinfo=None) takes eight times as long.
    if dt.year == 1 and dt.date() == date.min and dt.time() == time.min:
        return None
    return dt


def str_tuple(value: object, _: object) -> tuple[str, ...]:
    if type(value) is not list:
        raise mismatch("an array of strings", value)
    for item in value:
        if type(item) is not str:
            raise mismatch("an array of strings", item)
    return tuple(value)


def id_values(make: Callable[[dict[str, int]], T]) -> Callable[[object, object], T | None]:
    """A hook for ``Values``: an object of integers, handed to *make* (strict)."""

    def structure_id_values(value: object, _: object) -> T | None:
        if value is None:
            return None
        if type(value) is not dict:
            raise mismatch("an object of integers", value)
        for item in value.values():
            if type(item) is not int:
                raise mismatch("an object of integers", item)
        return make(value)

    return structure_id_values


# --- lenient hooks, for the keys whose documented shapes disagree ------------------


#: An integer as text: an optional minus and ASCII digits (``"21"``, ``"-5"``).
_INTEGER = re.compile(r"-?[0-9]+")


def lenient_int(value: object, _: object) -> int | None:
    """An integer, or a string of ASCII digits (chat sends ``"ContactId": "21"``)."""
    if value is None or type(value) is int:
        return value
    if type(value) is str and _INTEGER.fullmatch(value) is not None:
        try:
            return int(value)
        except ValueError:  # more digits than Python converts
            pass
    raise mismatch("an integer, a string of digits or null", value)


def lenient_bool(value: object, _: object) -> bool | None:
    """A boolean; ``0`` and ``1`` are accepted too."""
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise mismatch("a boolean or null", value)


def int_or_str(value: object, _: object) -> int | str | None:
    """An integer or a string, kept as sent."""
    if value is None or type(value) is int or type(value) is str:
        return value
    raise mismatch("an integer, a string or null", value)


_CULTURE = re.compile(r"\[(I|F|DT):(.*)\]", re.DOTALL)
_CULTURE_FLOAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_CULTURE_DT = re.compile(
    r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?"
)


def decode_culture_value(value: object) -> object:
    """Decode a CultureDataFormatter value of an extra table; anything else is returned as is.

    ``"[I:6]"`` -> ``6``, ``"[F:4.56]"`` -> ``4.56``, ``"[DT:09/16/2025 14:22:14.0000000]"``
    -> a naive ``datetime`` (``01/01/0001 00:00:00`` -> ``None``); digits are ASCII only.
    Raises a bare ``ValueError`` (it does not carry the value) for a marker whose content
    does not parse.
    """
    if type(value) is not str:
        return value
    match = _CULTURE.fullmatch(value)
    if match is None:
        return value
    marker, text = match.groups()
    if marker == "I":
        if _INTEGER.fullmatch(text) is None:
            raise ValueError
        return int(text)
    if marker == "F":
        if _CULTURE_FLOAT.fullmatch(text) is None:
            raise ValueError
        number = float(text)
        if math.isinf(number):  # beyond a 64-bit float, e.g. 1e400
            raise ValueError
        return number
    dt = _CULTURE_DT.fullmatch(text)
    if dt is None:
        raise ValueError
    month, day, year, hour, minute, second = (int(g) for g in dt.groups()[:6])
    micro = int((dt.group(7) or "0")[:6].ljust(6, "0"))
    try:
        decoded = datetime(year, month, day, hour, minute, second, micro)  # noqa: DTZ001  # naive on the wire
    except ValueError:  # month 13, year 0, ...: its message would quote the value
        raise ValueError from None
    return None if decoded == datetime.min else decoded  # noqa: DTZ901  # naive, as sent


def _decoded(value: object, expected: str) -> object:
    try:
        return decode_culture_value(value)
    except ValueError:
        msg = f"expected {expected}"
        raise MismatchError(msg) from None


def encoded_int(value: object, _: object) -> int | None:
    """An integer, plain or CultureDataFormatter-encoded (``"[I:6]"``)."""
    decoded = _decoded(value, 'an integer such as 6 or "[I:6]"')
    if decoded is None or type(decoded) is int:
        return decoded
    raise mismatch('an integer such as 6 or "[I:6]"', value)


def encoded_datetime(value: object, _: object) -> datetime | None:
    """A date-time, ISO 8601 or CultureDataFormatter-encoded (``"[DT:MM/dd/yyyy ...]"``)."""
    expected = 'a date-time such as "[DT:09/16/2025 14:22:14.0000000]"'
    if type(value) is str and value.startswith("[DT:"):
        decoded = _decoded(value, expected)
        if decoded is None or type(decoded) is datetime:
            return decoded
    if type(value) is str and value.startswith("["):
        raise MismatchError(f"expected {expected}")
    return field_datetime(value, None)


def opt_raw_mapping(value: object, _: object) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise mismatch("an object", value)
    return MappingProxyType(dict(value))


def extra_mapping(value: object, _: object) -> Mapping[str, object]:
    return MappingProxyType(value)  # type: ignore[arg-type]  # built by the converter's class hook


#: The hooks whose value is written back in another form than it was sent: all seven
#: fractional digits of a .NET date become six, "0001-01-01T00:00:00" becomes None, a
#: GUID's case is lost, "21" becomes 21 and "[I:6]" becomes 6. An event keeps the JSON
#: object it was read from, so that the wire form can give such a value back.
REWRITTEN = frozenset(
    {guid, timestamp, field_datetime, lenient_int, lenient_bool, encoded_int, encoded_datetime}
)


# --- unstructure hooks ---------------------------------------------------------


class TooDeepError(Exception):
    """A value nests deeper than :func:`copy_json` was told to go (internal)."""


def copy_json(value: dict[str, Any], max_depth: int | None = None) -> dict[str, Any]:
    """A copy of the JSON object *value*, with each of the objects and lists in it copied.

    A loop rather than recursion: JSON the parser took may nest deeper than a recursive
    copy can go. A container met twice (or within itself) is copied once. Containers
    more than *max_depth* levels down raise :class:`TooDeepError`.
    """
    copies: dict[int, Any] = {}
    root = copies[id(value)] = value.copy()
    pending: list[tuple[Any, int]] = [(root, 1)]
    while pending:
        container, depth = pending.pop()
        for key, item in container.items() if type(container) is dict else enumerate(container):
            if type(item) is dict or type(item) is list:
                copied = copies.get(id(item))
                if copied is None:
                    if max_depth is not None and depth >= max_depth:
                        raise TooDeepError
                    copied = copies[id(item)] = item.copy()
                    pending.append((copied, depth + 1))
                container[key] = copied
    return root


def datetime_out(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
