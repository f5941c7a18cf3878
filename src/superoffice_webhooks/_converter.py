"""The package's one cattrs Converter: strict scalar hooks, dates, wire-name renames.

Every attrs class the converter handles names its wire key in field metadata
(``metadata={"wire": "EventId"}``); the converter owns the renaming both ways.
Unknown keys are kept in the class's ``extra`` field and written back on the way out.

Strictness: no silent coercion. ``"12"`` is not an int, ``true`` is not an int,
``null`` is not a str. A failure is re-raised by :func:`structure` as a
:class:`~superoffice_webhooks.PayloadError` that names the wire field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .exceptions import PayloadError

__all__ = ["EXTRA", "WIRE", "IdValues", "RawMapping", "structure", "unstructure", "wire"]

T = TypeVar("T")

#: Field-metadata key holding the wire (JSON) name of a field.
WIRE = "wire"
#: Name of the field that keeps unknown keys; it has no wire name of its own.
EXTRA = "extra"
_EXTRA_KEY = "\x00extra"

#: Typed aliases the hooks are registered for (compared by equality).
IdValues = Mapping[str, int]
RawMapping = Mapping[str, object]

_EMPTY: Mapping[str, object] = MappingProxyType({})


def wire(name: str, **kwargs: Any) -> Any:
    """An attrs field whose JSON key is *name*."""
    return attrs.field(metadata={WIRE: name}, **kwargs)


def empty_extra() -> Mapping[str, object]:
    return _EMPTY


class _MismatchError(Exception):
    """A value of the wrong JSON type or format (internal; becomes PayloadError)."""


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


def _mismatch(expected: str, value: object) -> _MismatchError:
    return _MismatchError(f"expected {expected}, got {_got(value)}")


# --- scalar hooks (strict) ----------------------------------------------------


def _int(value: object, _: object) -> int:
    if type(value) is int:
        return value
    raise _mismatch("an integer", value)


def _opt_int(value: object, _: object) -> int | None:
    if value is None or type(value) is int:
        return value
    raise _mismatch("an integer or null", value)


def _str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    raise _mismatch("a string", value)


def _opt_str(value: object, _: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _mismatch("a string or null", value)


def _uuid(value: object, _: object) -> UUID:
    if type(value) is not str:
        raise _mismatch("a GUID string", value)
    try:
        return UUID(value)
    except ValueError:
        msg = "expected a GUID such as 88f91933-edce-4c1a-8ded-ade8e2f72434"
        raise _MismatchError(msg) from None


def _iso(value: object, expected: str) -> datetime:
    if type(value) is not str:
        raise _mismatch(expected, value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        msg = f"expected {expected} such as 2018-04-24T08:01:15.8506935Z"
        raise _MismatchError(msg) from None


def _timestamp(value: object, _: object) -> datetime:
    """The top-level Timestamp: always made timezone-aware UTC."""
    dt = _iso(value, "an ISO 8601 date-time")
    if dt.tzinfo is None:
        msg = "expected a UTC date-time ending in Z (or with an offset), got one without"
        raise _MismatchError(msg)
    if dt.tzinfo is UTC:
        return dt
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        msg = "the date-time is out of range once converted to UTC"
        raise _MismatchError(msg) from None


def _field_datetime(value: object, _: object) -> datetime | None:
    """A date inside FieldValues: naive stays naive, offsets are kept, .NET's min is None."""
    if value is None:
        return None
    dt = _iso(value, "an ISO 8601 date-time")
    if dt.replace(tzinfo=None) == datetime.min:  # noqa: DTZ901  # compared without its offset
        return None  # 0001-01-01T00:00:00 is how SuperOffice says "not set"
    return dt


def _str_tuple(value: object, _: object) -> tuple[str, ...]:
    if type(value) is not list:
        raise _mismatch("an array of strings", value)
    for item in value:
        if type(item) is not str:
            raise _mismatch("an array of strings", item)
    return tuple(value)


def _id_values(value: object, _: object) -> Mapping[str, int] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise _mismatch("an object of integers", value)
    for item in value.values():
        if type(item) is not int:
            raise _mismatch("an object of integers", item)
    return MappingProxyType(dict(value))


def _opt_raw_mapping(value: object, _: object) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _mismatch("an object", value)
    return MappingProxyType(dict(value))


def _extra(value: object, _: object) -> Mapping[str, object]:
    return MappingProxyType(value)  # type: ignore[arg-type]  # built by _class_structure


# --- unstructure hooks ---------------------------------------------------------


def _datetime_out(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- the converter -------------------------------------------------------------

converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)


def _is(tp: object) -> Callable[[object], bool]:
    return lambda other: other == tp


converter.register_structure_hook(int, _int)
converter.register_structure_hook(str, _str)
converter.register_structure_hook(UUID, _uuid)
converter.register_structure_hook(datetime, _timestamp)
for _tp, _hook in (
    (int | None, _opt_int),
    (str | None, _opt_str),
    (datetime | None, _field_datetime),
    (tuple[str, ...], _str_tuple),
    (IdValues | None, _id_values),
    (RawMapping | None, _opt_raw_mapping),
    (RawMapping, _extra),
):
    converter.register_structure_hook_func(_is(_tp), _hook)

converter.register_unstructure_hook(UUID, str)
converter.register_unstructure_hook(datetime, _datetime_out)
converter.register_unstructure_hook_func(
    lambda tp: tp in (IdValues, RawMapping, IdValues | None, RawMapping | None),
    lambda value: None if value is None else dict(value),
)


def _class_structure(cls: type[T]) -> Callable[[object, object], T]:
    overrides = {}
    known: set[str] = set()
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        if field.name == EXTRA:
            overrides[EXTRA] = override(rename=_EXTRA_KEY)
        else:
            overrides[field.name] = override(rename=field.metadata[WIRE])
            known.add(field.metadata[WIRE])
    build = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]  # cattrs types **overrides loosely
    known_keys = frozenset(known)

    def structure_class(value: object, _: object) -> T:
        if type(value) is not dict:
            raise _mismatch("an object", value)
        if not known_keys.issuperset(value):
            unknown = {k: v for k, v in value.items() if k not in known_keys}
            value = {**value, _EXTRA_KEY: unknown}
        return build(value)

    return structure_class


def _class_unstructure(cls: type[T]) -> Callable[[T], dict[str, object]]:
    # Events omit empty optional keys (state events have no Entity); field-value
    # classes write every documented key, null when unknown, so no key is lost.
    all_keys = not getattr(cls, "_omit_none_on_wire", True)
    overrides = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        if field.name == EXTRA:
            overrides[EXTRA] = override(omit=True)
        else:
            keep = all_keys or field.default is attrs.NOTHING
            overrides[field.name] = override(rename=field.metadata[WIRE], omit_if_default=not keep)
    build = make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **overrides)  # type: ignore[arg-type]  # as above

    def unstructure_class(value: T) -> dict[str, object]:
        out = build(value)
        extra: Mapping[str, object] = getattr(value, EXTRA)
        if extra:
            out.update(extra)
        return out

    return unstructure_class


converter.register_structure_hook_factory(attrs.has, _class_structure)
converter.register_unstructure_hook_factory(attrs.has, _class_unstructure)


# --- public helpers ------------------------------------------------------------


def _wire_name(cls: object, attribute: str) -> tuple[str, object]:
    """The wire name of *attribute* on *cls*, and the class one level down (if any)."""
    if not (isinstance(cls, type) and attrs.has(cls)):
        return attribute, None
    for field in attrs.fields(cls):
        if field.name == attribute:
            inner = field.type
            args = getattr(inner, "__args__", ())
            nested = next((a for a in (inner, *args) if isinstance(a, type) and attrs.has(a)), None)
            return field.metadata.get(WIRE, attribute), nested
    return attribute, None


def _describe(exc: BaseException, cls: type) -> PayloadError:
    """Turn cattrs' nested validation errors into one PayloadError naming the field."""
    path: list[str] = []
    current: object = cls
    while True:
        if isinstance(exc, BaseValidationError):
            exc = exc.exceptions[0]
        note = next(
            (n for n in getattr(exc, "__notes__", ()) if isinstance(n, AttributeValidationNote)),
            None,
        )
        if note is None:
            break
        name, current = _wire_name(current, note.name)
        if name == _EXTRA_KEY:
            break
        path.append(name)
        if not isinstance(exc, BaseValidationError):
            break
    field = ".".join(path) or None
    if isinstance(exc, KeyError):
        reason = "is required but missing"
    elif isinstance(exc, _MismatchError):
        reason = str(exc)
    else:
        reason = f"could not be read ({type(exc).__name__})"
    where = field or "the payload"
    sep = " " if isinstance(exc, KeyError) else ": "
    return PayloadError(f"Invalid SuperOffice payload: {where}{sep}{reason}.", field=field)


def structure(data: Mapping[str, object], cls: type[T]) -> T:
    """Structure *data* into *cls*, raising only PayloadError on bad input."""
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # every failure of untrusted input is a PayloadError
        raise _describe(exc, cls) from exc


def unstructure(value: object) -> dict[str, object]:
    """The wire form (PascalCase keys, JSON types) of an event or field-values object."""
    out: dict[str, object] = converter.unstructure(value)
    return out
