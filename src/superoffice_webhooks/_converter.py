"""The package's one cattrs Converter: strict scalar hooks, dates, wire-name renames.

Every attrs class the converter handles names its wire key in field metadata
(``metadata={"wire": "EventId"}``); the converter owns the renaming both ways.
Unknown keys are kept in the class's ``extra`` field and written back on the way out.

Strictness: no silent coercion. ``"12"`` is not an int, ``true`` is not an int,
``null`` is not a str. A failure is re-raised by :func:`structure` as a
:class:`~superoffice_webhooks.PayloadError` that names the wire field.
"""

from __future__ import annotations

import linecache
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .exceptions import PayloadError

__all__ = [
    "ALIASES",
    "EXTRA",
    "WIRE",
    "IdValues",
    "RawMapping",
    "decode_culture_value",
    "structure",
    "structure_fast",
    "unstructure",
    "wire",
    "wire_metadata",
]

T = TypeVar("T")

#: Field-metadata key holding the wire (JSON) name of a field.
WIRE = "wire"
#: Field-metadata key holding other accepted spellings of the wire name.
_ALIAS_NAMES = "aliases"
#: Field-metadata key holding a structure hook of the field's own (a lenient kind).
_HOOK = "hook"
#: Name of the field that keeps unknown keys; it has no wire name of its own.
EXTRA = "extra"
_EXTRA_KEY = "\x00extra"
#: Name of the hidden field recording which alias spellings a payload used.
ALIASES = "_wire_aliases"
_ALIASES_KEY = "\x00aliases"

#: Typed aliases the hooks are registered for (compared by equality).
IdValues = Mapping[str, int]
RawMapping = Mapping[str, object]

_EMPTY: Mapping[str, object] = MappingProxyType({})


def wire_metadata(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    hook: Callable[[object, object], object] | None = None,
) -> dict[str, object]:
    """Field metadata naming the JSON key *name*; see :func:`wire`."""
    metadata: dict[str, object] = {WIRE: name}
    if aliases:
        metadata[_ALIAS_NAMES] = aliases
    if hook is not None:
        metadata[_HOOK] = hook
    return metadata


def wire(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    hook: Callable[[object, object], object] | None = None,
    **kwargs: Any,
) -> Any:
    """An attrs field whose JSON key is *name*.

    *aliases* are other spellings accepted on input (the spelling used is written back);
    *hook* structures the field instead of the converter's hook for its type.
    """
    return attrs.field(metadata=wire_metadata(name, aliases=aliases, hook=hook), **kwargs)


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


#: A GUID as SuperOffice writes it: 32 ASCII hex digits in groups of 8-4-4-4-12. UUID()
#: alone would also take braces, "urn:uuid:", underscores and any Unicode digit.
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def _uuid(value: object, _: object) -> UUID:
    if type(value) is not str:
        raise _mismatch("a GUID string", value)
    if _GUID.fullmatch(value) is not None:
        return UUID(value)
    msg = "expected a GUID such as 88f91933-edce-4c1a-8ded-ade8e2f72434"
    raise _MismatchError(msg)


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
    # 0001-01-01T00:00:00 is how SuperOffice says "not set", with or without an offset.
    # Date and time are compared apart: dt.replace(tzinfo=None) takes eight times as long.
    if dt.year == 1 and dt.date() == date.min and dt.time() == time.min:
        return None
    return dt


def _str_tuple(value: object, _: object) -> tuple[str, ...]:
    if type(value) is not list:
        raise _mismatch("an array of strings", value)
    for item in value:
        if type(item) is not str:
            raise _mismatch("an array of strings", item)
    return tuple(value)


def id_values(make: Callable[[dict[str, int]], T]) -> Callable[[object, object], T | None]:
    """A hook for ``Values``: an object of integers, handed to *make* (strict)."""

    def structure_id_values(value: object, _: object) -> T | None:
        if value is None:
            return None
        if type(value) is not dict:
            raise _mismatch("an object of integers", value)
        for item in value.values():
            if type(item) is not int:
                raise _mismatch("an object of integers", item)
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
        return int(value)
    raise _mismatch("an integer, a string of digits or null", value)


def lenient_bool(value: object, _: object) -> bool | None:
    """A boolean; ``0`` and ``1`` are accepted too."""
    if value is None or type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise _mismatch("a boolean or null", value)


def int_or_str(value: object, _: object) -> int | str | None:
    """An integer or a string, kept as sent."""
    if value is None or type(value) is int or type(value) is str:
        return value
    raise _mismatch("an integer, a string or null", value)


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
        raise _MismatchError(msg) from None


def encoded_int(value: object, _: object) -> int | None:
    """An integer, plain or CultureDataFormatter-encoded (``"[I:6]"``)."""
    decoded = _decoded(value, 'an integer such as 6 or "[I:6]"')
    if decoded is None or type(decoded) is int:
        return decoded
    raise _mismatch('an integer such as 6 or "[I:6]"', value)


def encoded_datetime(value: object, _: object) -> datetime | None:
    """A date-time, ISO 8601 or CultureDataFormatter-encoded (``"[DT:MM/dd/yyyy ...]"``)."""
    expected = 'a date-time such as "[DT:09/16/2025 14:22:14.0000000]"'
    if type(value) is str and value.startswith("[DT:"):
        decoded = _decoded(value, expected)
        if decoded is None or type(decoded) is datetime:
            return decoded
    if type(value) is str and value.startswith("["):
        raise _MismatchError(f"expected {expected}")
    return _field_datetime(value, None)


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
    aliases: dict[str, str] = {}  # alias -> wire name
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        if field.name == EXTRA:
            overrides[EXTRA] = override(rename=_EXTRA_KEY)
        elif field.name == ALIASES:
            overrides[ALIASES] = override(rename=_ALIASES_KEY)
        else:
            name = field.metadata[WIRE]
            overrides[field.name] = override(rename=name, struct_hook=field.metadata.get(_HOOK))
            known.add(name)
            for alias in field.metadata.get(_ALIAS_NAMES, ()):
                aliases[alias] = name
    build = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]  # cattrs types **overrides loosely
    known_keys = frozenset(known)
    records_aliases = ALIASES in overrides

    def structure_class(value: object, _: object) -> T:
        if type(value) is not dict:
            raise _mismatch("an object", value)
        if not known_keys.issuperset(value):
            unknown = {k: v for k, v in value.items() if k not in known_keys}
            value = {**value, _EXTRA_KEY: unknown}
            if records_aliases:
                value[_ALIASES_KEY] = _rename_aliases(value, unknown, aliases)
        return build(value)

    return structure_class


def _rename_aliases(
    value: dict[str, object], unknown: dict[str, object], aliases: Mapping[str, str]
) -> frozenset[str]:
    """Move alias keys of *value* to their wire names (in place); return the aliases used.

    A key sent under both spellings keeps the wire name; the alias stays an extra key.
    """
    used = [a for a, name in aliases.items() if a in unknown and name not in value]
    for alias in used:
        value[aliases[alias]] = unknown.pop(alias)
    return frozenset(used)


def _class_unstructure(cls: type[T]) -> Callable[[T], dict[str, object]]:
    # Events omit empty optional keys (state events have no Entity); field-value
    # classes write every documented key, null when unknown, so no key is lost.
    all_keys = not getattr(cls, "_omit_none_on_wire", True)
    overrides = {}
    wire_names: dict[str, str] = {}  # alias -> wire name
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        if field.name in (EXTRA, ALIASES):
            overrides[field.name] = override(omit=True)
        else:
            keep = all_keys or field.default is attrs.NOTHING
            overrides[field.name] = override(rename=field.metadata[WIRE], omit_if_default=not keep)
            for alias in field.metadata.get(_ALIAS_NAMES, ()):
                wire_names[alias] = field.metadata[WIRE]
    build = make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **overrides)  # type: ignore[arg-type]  # as above

    def unstructure_class(value: T) -> dict[str, object]:
        out = build(value)
        if wire_names:
            for alias in getattr(value, ALIASES):  # written back as they were sent
                out[alias] = out.pop(wire_names[alias])
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


# --- the fast path ---------------------------------------------------------------
#
# The converter above validates field by field and records where a failure happened,
# which costs a Python call and a try block per value. Most bodies are valid, so
# structure() first runs a function generated per class that checks the same things
# inline and builds the instance directly. It returns only what the converter would
# return for the same input; on anything it does not accept (a missing key, a wrong
# type, an alias spelling) it gives up, and the converter runs again from the start to
# decide, so errors are the converter's, unchanged.


class _FallbackError(Exception):
    """The fast path declines this input; the detailed converter decides (internal)."""


_MISSING = object()
_NO_ALIASES: frozenset[str] = frozenset()
#: Types whose converter hook is a plain type check, done inline: type -> (hook, JSON type).
_INLINE: dict[object, tuple[object, type]] = {
    int: (_int, int),
    str: (_str, str),
    int | None: (_opt_int, int),
    str | None: (_opt_str, str),
}
_FAST: dict[type, Callable[[object], Any] | None] = {}


def _fast_structure(cls: type) -> Callable[[object], Any] | None:
    """The generated fast function for *cls*, or ``None`` where there is none."""
    try:
        return _FAST[cls]
    except KeyError:
        pass
    _FAST[cls] = None  # while generating; also the answer if generation gives up
    try:
        fn = _make_fast(cls)
    except _FallbackError:
        return None
    _FAST[cls] = fn
    return fn


def _is_optional_of(tp: object) -> type | None:
    """``X`` for a field type ``X | None`` where X is an attrs class, else ``None``."""
    args: tuple[object, ...] = getattr(tp, "__args__", ())
    if len(args) == 2 and args[1] is type(None) and isinstance(args[0], type):  # noqa: PLR2004  # X | None
        return args[0] if attrs.has(args[0]) else None
    return None


def _make_fast(cls: type) -> Callable[[object], Any]:  # noqa: C901, PLR0912, PLR0915  # one generator, read top to bottom
    """Generate the fast function for the attrs class *cls* (see the comment above)."""
    names: dict[str, object] = {
        "_FallbackError": _FallbackError,
        "_MISSING": _MISSING,
        "_EMPTY": _EMPTY,
        "_NO_ALIASES": _NO_ALIASES,
        "_MappingProxyType": MappingProxyType,
        "_cls": cls,
        "_new": object.__new__,
    }
    # Slots are set through their descriptors rather than by the attrs __init__ (a
    # third of the time), which is exact for classes without validators or hooks.
    direct = (
        cls.__new__ is object.__new__  # type: ignore[comparison-overlap]  # attrs classes inherit it
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.validator is None and f.on_setattr is None for f in attrs.fields(cls))
    )
    known: set[str] = set()
    aliases: set[str] = set()
    body: list[str] = []
    values: list[tuple[attrs.Attribute[object], str]] = []
    has_extra = False
    for i, field in enumerate(attrs.fields(cls)):
        if not field.init:
            raise _FallbackError
        if field.name == EXTRA:
            has_extra = True
            values.append((field, "extra"))
            continue
        if field.name == ALIASES:
            values.append((field, "_NO_ALIASES"))
            continue
        key = field.metadata[WIRE]
        known.add(key)
        aliases.update(field.metadata.get(_ALIAS_NAMES, ()))
        tp = field.type
        hook = field.metadata.get(_HOOK)
        if hook is None:
            hook = converter.get_structure_hook(tp)
        var = f"v{i}"
        names[f"_t{i}"] = tp
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # attrs.Factory is a class at runtime
            if default.takes_self:
                raise _FallbackError
            default = default.factory()
        inline = _INLINE.get(tp)
        nested = tp if isinstance(tp, type) and attrs.has(tp) else _is_optional_of(tp)
        if inline is not None and inline[0] is hook:
            check = f"type({var}) is not {inline[1].__name__}"
            if tp == inline[1] | None:
                check = f"{var} is not None and {check}"
            convert = [f"if {check}:", "    raise _FallbackError"]
        elif tp == tuple[str, ...] and hook is _str_tuple:
            convert = [
                f"if type({var}) is not list or not _STR_ONLY.issuperset(map(type, {var})):",
                "    raise _FallbackError",
                f"{var} = tuple({var})",
            ]
        elif tp == RawMapping | None and hook is _opt_raw_mapping:
            convert = [
                f"if type({var}) is not dict or not _SCALARS.issuperset(map(type, {var}.values())):",
                "    raise _FallbackError",
                f"{var} = _MappingProxyType({var}.copy())",
            ]
        elif nested is not None and field.metadata.get(_HOOK) is None:
            inner = _fast_structure(nested)
            if inner is None:
                raise _FallbackError
            names[f"_h{i}"] = inner
            call = f"{var} = _h{i}({var})"
            convert = [call] if nested is tp else [f"if {var} is not None:", f"    {call}"]
        else:
            names[f"_h{i}"] = hook
            convert = [f"{var} = _h{i}({var}, _t{i})"]
        if default is attrs.NOTHING:
            body.append(f"{var} = o[{key!r}]")
            body.extend(convert)
        elif default is None and _none_is_none(hook, tp):
            # A missing key and an explicit null give the same value: one lookup.
            body.append(f"{var} = o.get({key!r})")
            if not convert[0].startswith(f"if {var} is not None"):
                convert = [f"if {var} is not None:", *("    " + line for line in convert)]
            body.extend(convert)
        else:
            names[f"_d{i}"] = default
            body.append(f"{var} = o.get({key!r}, _MISSING)")
            body.append(f"if {var} is _MISSING:")
            body.append(f"    {var} = _d{i}")
            body.append("else:")
            body.extend("    " + line for line in convert)
        values.append((field, var))
    names["_known"] = frozenset(known)
    names["_aliases"] = frozenset(aliases)
    names["_STR_ONLY"] = _STR_ONLY
    names["_SCALARS"] = _SCALARS
    head = [
        "def fast(o):",
        "    if type(o) is not dict:",
        "        raise _FallbackError",
        "    if _known.issuperset(o):",
        "        extra = _EMPTY",
        "    else:",
    ]
    if not has_extra:
        head.append("        raise _FallbackError")
    else:
        head += [
            "        extra = o.copy()",
            "        for key in _known.intersection(o):",
            "            del extra[key]",
        ]
        if aliases:
            head += [
                "        if not _aliases.isdisjoint(extra):",
                "            raise _FallbackError",
            ]
        head += [
            "        if not _SCALARS.issuperset(map(type, extra.values())):",
            "            raise _FallbackError",
            "        extra = _MappingProxyType(extra)",
        ]
    tail: list[str] = []
    if direct:
        tail.append("self = _new(_cls)")
        for i, (field, var) in enumerate(values):
            slot: Any = getattr(cls, field.name, None)
            if type(slot).__name__ != "member_descriptor":
                raise _FallbackError
            names[f"_s{i}"] = slot.__set__
            if field.converter is not None:
                if not callable(field.converter) or isinstance(field.converter, attrs.Converter):
                    raise _FallbackError
                names[f"_c{i}"] = field.converter
                var = f"_c{i}({var})"  # noqa: PLW2901  # the converted value
            tail.append(f"_s{i}(self, {var})")
        tail.append("return self")
    else:
        tail.append(f"return _cls({', '.join(f'{f.alias}={var}' for f, var in values)})")
    lines = [*head, *("    " + line for line in (*body, *tail))]
    source = "\n".join(lines) + "\n"
    filename = f"<superoffice_webhooks fast structure {cls.__module__}.{cls.__qualname__}>"
    exec(compile(source, filename, "exec"), names)  # noqa: S102  # source built above from field names only
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    return names["fast"]  # type: ignore[return-value]  # defined by the exec above


_STR_ONLY = frozenset({str})
#: The JSON values the fast path keeps untyped (in ``extra``): no numbers with a fraction,
#: no containers. Anything else goes the converter's way, so that a value kept as sent
#: is the same whichever JSON parser read it (orjson turns a 20-digit integer into a float).
_SCALARS = frozenset({str, int, bool, type(None)})


def _none_is_none(hook: Callable[[object, object], object], tp: object) -> bool:
    """Whether *hook* turns ``null`` into ``None`` (then a missing key is the same)."""
    try:
        return hook(None, tp) is None
    except Exception:  # noqa: BLE001  # any refusal means: keep missing and null apart
        return False


def structure_fast(data: object, cls: type[T]) -> T | None:
    """*data* structured into *cls* by the fast path, or ``None`` where it declines.

    A result holds no ``float`` that the fast path did not check: its typed fields
    admit none, and the values it keeps as sent are strings, integers, booleans or null.
    """
    fast = _FAST.get(cls, _MISSING)
    if fast is _MISSING:
        fast = _fast_structure(cls)
    if fast is None:
        return None
    try:
        return fast(data)  # type: ignore[operator,no-any-return]  # a generated function
    except Exception:  # noqa: BLE001  # declined: the caller asks the converter
        return None


def structure(data: Mapping[str, object], cls: type[T]) -> T:
    """Structure *data* into *cls*, raising only PayloadError on bad input."""
    result = structure_fast(data, cls)
    if result is not None:
        return result
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # every failure of untrusted input is a PayloadError
        raise _describe(exc, cls) from exc


def unstructure(value: object) -> dict[str, object]:
    """The wire form (PascalCase keys, JSON types) of an event or field-values object."""
    out: dict[str, object] = converter.unstructure(value)
    return out
