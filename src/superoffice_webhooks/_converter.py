"""The package's one cattrs Converter: the scalar hooks, wire-name renames, and its errors.

Every attrs class the converter handles names its wire key in field metadata
(``_wire``); the converter owns the renaming both ways. Unknown keys are kept in the
class's ``extra`` field and written back on the way out, and so are the values as sent
that the fields cannot give back (from the object kept under ``_wire.AS_SENT``). A
failure is re-raised by :func:`structure` as a
:class:`~superoffice_webhooks.PayloadError` that names the wire field. Classes are
structured by the functions ``_fast`` generates, which fall back to the detailed hooks
below for a body they do not take whole.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._fast import FastStructure
from ._scalars import (
    REWRITTEN,
    MismatchError,
    copy_json,
    datetime_out,
    extra_mapping,
    field_datetime,
    guid,
    mismatch,
    opt_int,
    opt_raw_mapping,
    opt_str,
    str_tuple,
    strict_int,
    strict_str,
    timestamp,
)
from ._wire import ALIAS_NAMES, ALIASES, AS_SENT, EXTRA, HOOK, WIRE, IdValues, RawMapping
from .exceptions import PayloadError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["structure", "structure_exact", "unstructure"]

T = TypeVar("T")

#: The keys the detailed class hook hands cattrs the unknown keys, the aliases and the
#: object as sent under.
_EXTRA_KEY = "\x00extra"
_ALIASES_KEY = "\x00aliases"
_AS_SENT_KEY = "\x00as sent"
_HIDDEN_KEYS = {EXTRA: _EXTRA_KEY, ALIASES: _ALIASES_KEY, AS_SENT: _AS_SENT_KEY}


# --- the converter -------------------------------------------------------------

converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)


def _is(tp: object) -> Callable[[object], bool]:
    return lambda other: other == tp


converter.register_structure_hook(int, strict_int)
converter.register_structure_hook(str, strict_str)
converter.register_structure_hook(UUID, guid)
converter.register_structure_hook(datetime, timestamp)
for _tp, _hook in (
    (int | None, opt_int),
    (str | None, opt_str),
    (datetime | None, field_datetime),
    (tuple[str, ...], str_tuple),
    (RawMapping | None, opt_raw_mapping),
    (RawMapping, extra_mapping),
):
    converter.register_structure_hook_func(_is(_tp), _hook)

converter.register_unstructure_hook(UUID, str)
converter.register_unstructure_hook(datetime, datetime_out)
converter.register_unstructure_hook_func(
    lambda tp: tp in (IdValues, RawMapping, IdValues | None, RawMapping | None),
    lambda value: None if value is None else copy_json(dict(value)),  # the caller's own
)


def _field_hook(field: attrs.Attribute[object]) -> Callable[[object, object], object]:
    """The hook that reads *field*: its own, or the converter's for its type."""
    own: Callable[[object, object], object] | None = field.metadata.get(HOOK)
    return own if own is not None else converter.get_structure_hook(field.type)


def _class_structure(cls: type[T]) -> Callable[[object, object], T]:
    overrides = {}
    known: set[str] = set()
    aliases: dict[str, str] = {}  # alias -> wire name
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        hidden = _HIDDEN_KEYS.get(field.name)
        if hidden is not None:
            overrides[field.name] = override(rename=hidden)
        else:
            name = field.metadata[WIRE]
            overrides[field.name] = override(rename=name, struct_hook=field.metadata.get(HOOK))
            known.add(name)
            for alias in field.metadata.get(ALIAS_NAMES, ()):
                aliases[alias] = name
    build = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]  # cattrs types **overrides loosely
    known_keys = frozenset(known)
    records_aliases = ALIASES in overrides
    records = AS_SENT in overrides

    def structure_class(value: object, _: object) -> T:
        if type(value) is not dict:
            raise mismatch("an object", value)
        if not known_keys.issuperset(value):
            unknown = {k: v for k, v in value.items() if k not in known_keys}
            value = {**value, _EXTRA_KEY: unknown}
            if records_aliases:
                value[_ALIASES_KEY] = _rename_aliases(value, unknown, aliases)
        if records:
            value = {**value, _AS_SENT_KEY: value}
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


def _same(read: object, current: object) -> bool:
    """Whether *read* is *current*: equal, of one type, and for dates at one offset."""
    if type(read) is not type(current) or read != current:
        return False
    if isinstance(read, datetime) and isinstance(current, datetime):
        return read.utcoffset() == current.utcoffset()
    return True


def _write_as_sent(
    out: dict[str, object],
    value: object,
    readers: Mapping[str, tuple[str, Callable[[object, object], object], object, bool]],
) -> None:
    """Put into *out* the values *value* was read from that the fields cannot make again.

    Those are the keys sent as ``null`` (an empty field is otherwise left out) and the
    values a hook rewrites, each written as sent if reading it still gives the value its
    field holds. *readers* gives, by wire name, the field's name, its hook, its type and
    whether the hook rewrites what was sent.
    """
    as_sent: Mapping[str, object] = getattr(value, AS_SENT)
    if not as_sent:
        return
    for key, (name, hook, tp, rewrites) in readers.items():
        sent = as_sent.get(key)
        if sent is None:
            if key in as_sent and getattr(value, name) is None:
                out[key] = None
        elif rewrites and _same(hook(sent, tp), getattr(value, name)):
            out[key] = sent


def _class_unstructure(cls: type[T]) -> Callable[[T], dict[str, object]]:
    # A key whose value is its default (an optional key left empty) is written only if
    # it was sent: as sent, if reading that gives the value the field holds now.
    overrides = {}
    wire_names: dict[str, str] = {}  # alias -> wire name
    readers: dict[str, tuple[str, Callable[[object, object], object], object, bool]] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]  # only called for attrs classes
        if field.name in _HIDDEN_KEYS:
            overrides[field.name] = override(omit=True)
        else:
            name = field.metadata[WIRE]
            # An optional key left empty is left out; cattrs never leaves out a required one.
            overrides[field.name] = override(rename=name, omit_if_default=True)
            hook = _field_hook(field)
            readers[name] = (field.name, hook, field.type, hook in REWRITTEN)
            for alias in field.metadata.get(ALIAS_NAMES, ()):
                wire_names[alias] = name
    build = make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]  # as above
    records = AS_SENT in overrides

    def unstructure_class(value: T) -> dict[str, object]:
        out = build(value)
        if records:
            _write_as_sent(out, value, readers)
        if wire_names:
            for alias in getattr(value, ALIASES):  # written back as they were sent
                if wire_names[alias] in out:
                    out[alias] = out.pop(wire_names[alias])
        extra: Mapping[str, object] = getattr(value, EXTRA)
        if extra:
            # Lists and objects under unknown keys are copied: each result is the caller's
            # own, and changing it must not change the event.
            out.update(copy_json(dict(extra)))
        return out

    return unstructure_class


_factory = FastStructure(_class_structure, converter.get_structure_hook)
converter.register_structure_hook_factory(attrs.has, _factory)
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
    elif isinstance(exc, MismatchError):
        reason = str(exc)
    else:
        reason = f"could not be read ({type(exc).__name__})"
    where = field or "the payload"
    sep = " " if isinstance(exc, KeyError) else ": "
    return PayloadError(f"Invalid SuperOffice payload: {where}{sep}{reason}.", field=field)


#: *data* structured into *cls* by the generated function alone, or ``None``; for the
#: orjson path of :func:`~superoffice_webhooks.parse` (a result holds no unchecked float).
structure_exact = _factory.exact


def structure(data: Mapping[str, object], cls: type[T]) -> T:
    """Structure *data* into *cls*, raising only PayloadError on bad input."""
    hook = _class_hook(cls)
    try:
        result: T = hook(data, cls)
    except Exception as exc:  # every failure of untrusted input is a PayloadError
        raise _describe(exc, cls) from exc
    return result


#: The converter's structure hook of a class, asked for once per class: the converter is
#: set up when this module is imported and not changed after, and its dispatch on every
#: call costs a good part of structuring a small event.
_class_hook: Callable[[type], Callable[[object, type], Any]] = functools.cache(
    converter.get_structure_hook
)


def unstructure(value: object) -> dict[str, object]:
    """The wire form (PascalCase keys, JSON types) of an event or field-values object."""
    out: dict[str, object] = converter.unstructure(value)
    return out
