"""A structure hook factory that generates one straight-line function per attrs class.

The converter's own class hooks validate field by field and record where a failure
happened, which costs a call and a try block per value. Most bodies are valid, so the
converter registers this factory for its attrs classes: the function it generates checks
the same things inline and builds the instance directly. Its contract is narrow:

- it returns only what the detailed hook would return for the same input;
- on anything it does not take (a missing key, a wrong type, an alias spelling, a value
  it keeps untyped that is not a plain scalar) it raises :class:`MismatchError`, and only
  that; the class's detailed hook then runs from the start and decides, so errors are
  the detailed hook's, unchanged;
- it calls only the hooks of ``_scalars`` (which refuse with :class:`MismatchError`) and
  the functions it generated for nested classes; a class with any other hook, a
  validator or a converter it cannot call keeps the detailed hook alone.
"""

from __future__ import annotations

import linecache
import threading
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from . import _scalars
from ._scalars import (
    MismatchError,
    opt_int,
    opt_raw_mapping,
    opt_str,
    str_tuple,
    strict_int,
    strict_str,
)
from ._wire import ALIAS_NAMES, ALIASES, AS_SENT, EXTRA, HOOK, WIRE, empty_extra

__all__ = ["FastStructure"]

T = TypeVar("T")
Hook = Callable[[Any, Any], Any]

_MISSING = object()
_NO_ALIASES: frozenset[str] = frozenset()
#: Types whose hook is a plain type check, done inline: type -> (hook, JSON type).
_INLINE: dict[object, tuple[object, type]] = {
    int: (strict_int, int),
    str: (strict_str, str),
    int | None: (opt_int, int),
    str | None: (opt_str, str),
}
_STR_ONLY = frozenset({str})
#: The JSON values kept untyped (in ``extra``) without a check by the detailed hook: no
#: numbers with a fraction, no containers. Anything else declines, so that a value kept as
#: sent is the same whichever JSON parser read it (orjson reads a 20-digit integer as a float).
_SCALARS = frozenset({str, int, bool, type(None)})


class _NoFastPathError(Exception):
    """Generation gives up on a class: it keeps the detailed hook alone (internal)."""


class FastStructure:
    """The hook factory: ``converter.register_structure_hook_factory(attrs.has, factory)``.

    *detailed* makes the converter's detailed hook for a class; the hook made here runs
    the generated function first and the detailed hook when it declines.
    """

    def __init__(
        self, detailed: Callable[[type], Hook], hook_for: Callable[[object], Hook]
    ) -> None:
        self._detailed = detailed
        self._hook_for = hook_for
        self._fast: dict[type, Callable[[object], Any] | None] = {}
        self._generating = threading.RLock()
        self._pending: set[type] = set()

    def __call__(self, cls: type) -> Hook:
        detailed = self._detailed(cls)
        fast = self.function(cls)
        if fast is None:
            return detailed

        def structure_fast_or_detailed(value: object, tp: object) -> Any:
            try:
                return fast(value)
            except MismatchError:
                return detailed(value, tp)

        return structure_fast_or_detailed

    def exact(self, data: object, cls: type[T]) -> T | None:
        """*data* structured into *cls* by the generated function alone, or ``None``.

        A result holds no ``float`` that was not checked: typed fields admit none, and
        the other values of the body (kept as sent) are strings, integers, booleans or
        null, or objects and lists the generated functions checked.
        """
        fast = self.function(cls)
        if fast is None:
            return None
        try:
            return fast(data)  # type: ignore[no-any-return]  # a generated function
        except MismatchError:
            return None

    def function(self, cls: type) -> Callable[[object], Any] | None:
        """The generated function for *cls*, or ``None`` where there is none."""
        try:
            return self._fast[cls]
        except KeyError:
            pass
        # One thread generates at a time (generating a class generates its nested classes
        # first), and only finished answers are kept where other threads read without it.
        with self._generating:
            if cls in self._fast:
                return self._fast[cls]
            if cls in self._pending:  # a class met within itself keeps the detailed hook
                return None
            self._pending.add(cls)
            try:
                fn = self._generate(cls)
            except _NoFastPathError:
                fn = None
            finally:
                self._pending.discard(cls)
            self._fast[cls] = fn
            return fn

    def _generate(self, cls: type) -> Callable[[object], Any]:  # one generator, read top to bottom
        names: dict[str, object] = {
            "_Decline": MismatchError,
            "_MISSING": _MISSING,
            "_EMPTY": empty_extra(),
            "_NO_ALIASES": _NO_ALIASES,
            "_MappingProxyType": MappingProxyType,
            "_STR_ONLY": _STR_ONLY,
            "_SCALARS": _SCALARS,
            "_cls": cls,
        }
        fields = attrs.fields(cls)
        if any(not f.init or f.validator is not None for f in fields):
            raise _NoFastPathError
        known: set[str] = set()
        aliases: set[str] = set()
        values: list[tuple[attrs.Attribute[object], str]] = []
        reads: list[tuple[attrs.Attribute[object], str, list[str], bool]] = []
        has_extra = False
        for i, field in enumerate(fields):
            if field.name == EXTRA:
                has_extra = True
                values.append((field, "extra"))
                continue
            if field.name == ALIASES:
                values.append((field, "_NO_ALIASES"))
                continue
            if field.name == AS_SENT:
                values.append((field, "o"))  # the object as sent
                continue
            known.add(field.metadata[WIRE])
            aliases.update(field.metadata.get(ALIAS_NAMES, ()))
            var = f"v{i}"
            convert, null_is_none = self._convert(field, var, i, names)
            reads.append((field, var, convert, null_is_none))
            values.append((field, var))
        names["_known"] = frozenset(known)
        names["_aliases"] = frozenset(aliases)
        head = _head(has_extra=has_extra, aliases=bool(aliases))
        body = _body(reads, names=names)
        lines = [*head, *("    " + line for line in (*body, *_build(cls, values, names)))]
        source = "\n".join(lines) + "\n"
        filename = f"<superoffice_webhooks fast structure {cls.__module__}.{cls.__qualname__}>"
        exec(compile(source, filename, "exec"), names)  # noqa: S102  # source built above from field names only
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        return names["fast"]  # type: ignore[return-value]  # defined by the exec above

    def _convert(
        self,
        field: attrs.Attribute[object],
        var: str,
        i: int,
        names: dict[str, object],
    ) -> tuple[list[str], bool]:
        """The lines that check and convert *var*, the value of *field*.

        And whether the field's reading turns ``null`` into ``None``: then the lines are
        for a value other than ``null``, and a missing key is the same as ``null``.
        """
        tp = field.type
        own = field.metadata.get(HOOK)
        hook = own if own is not None else self._hook_for(tp)
        inline = _INLINE.get(tp)
        nested = tp if isinstance(tp, type) and attrs.has(tp) else _optional_class(tp)
        if inline is not None and inline[0] is hook:
            check = f"type({var}) is not {inline[1].__name__}"
            return [f"if {check}:", "    raise _Decline"], tp != inline[1]
        if hook is str_tuple:
            return [
                f"if type({var}) is not list or not _STR_ONLY.issuperset(map(type, {var})):",
                "    raise _Decline",
                f"{var} = tuple({var})",
            ], False
        if hook is opt_raw_mapping:
            return [
                f"if type({var}) is not dict or not _SCALARS.issuperset(map(type, {var}.values())):",
                "    raise _Decline",
                f"{var} = _MappingProxyType({var}.copy())",
            ], True
        if nested is not None and own is None:
            inner = self.function(nested)
            if inner is None:
                raise _NoFastPathError
            names[f"_h{i}"] = inner
            return [f"{var} = _h{i}({var})"], nested is not tp
        if getattr(hook, "__module__", None) != _scalars.__name__:
            raise _NoFastPathError  # a hook that may refuse with another exception
        names[f"_h{i}"] = hook
        names[f"_t{i}"] = tp
        return [f"{var} = _h{i}({var}, _t{i})"], _none_is_none(hook, tp)


def _head(*, has_extra: bool, aliases: bool) -> list[str]:
    """The lines that check *o* is a dict and split off the keys no field reads."""
    head = [
        "def fast(o):",
        "    if type(o) is not dict:",
        "        raise _Decline",
        "    if _known.issuperset(o):",
        "        extra = _EMPTY",
        "    else:",
    ]
    if not has_extra:
        return [*head, "        raise _Decline"]
    return [
        *head,
        "        extra = o.copy()",
        "        for key in _known.intersection(o):",
        "            del extra[key]",
        *(
            ["        if not _aliases.isdisjoint(extra):", "            raise _Decline"]
            if aliases
            else []
        ),
        "        if not _SCALARS.issuperset(map(type, extra.values())):",
        "            raise _Decline",
        "        extra = _MappingProxyType(extra)",
    ]


def _body(
    reads: list[tuple[attrs.Attribute[object], str, list[str], bool]],
    names: dict[str, object],
) -> list[str]:
    """The lines that read and convert every field's value (see :func:`_read`)."""
    fetch: list[str] = []
    body: list[str] = []
    for field, var, convert, null_is_none in reads:
        fetched, read = _read(
            field.metadata[WIRE], var, field, convert, null_is_none=null_is_none, names=names
        )
        fetch.extend(fetched)
        body.extend(read)
    if not fetch:
        return body
    # The keys every event has, read in one block: a missing one is a KeyError of `o`,
    # a dict, and nothing else in the block can raise.
    return ["try:", *_indent(fetch), "except KeyError:", "    raise _Decline from None", *body]


def _build(
    cls: type, values: list[tuple[attrs.Attribute[object], str]], names: dict[str, object]
) -> list[str]:
    """The lines that make the instance from the field *values*.

    Where the class's ``__init__`` only stores the values (no hooks, no validators,
    plain callable converters), they are stored through the class's own field slots, as
    that ``__init__`` does, without its keyword-argument call; otherwise it is called.
    """
    direct = (
        cls.__new__ is object.__new__  # type: ignore[comparison-overlap]  # attrs classes inherit it
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.on_setattr is None for f in attrs.fields(cls))
    )
    call_init = [f"return _cls({', '.join(f'{f.alias}={var}' for f, var in values)})"]
    slots = [getattr(cls, field.name, None) for field, _ in values]
    if not direct or any(type(slot).__name__ != "member_descriptor" for slot in slots):
        return call_init
    names["_new"] = object.__new__
    lines = ["self = _new(_cls)"]
    for i, ((field, var), slot) in enumerate(zip(values, slots, strict=True)):
        names[f"_s{i}"] = slot.__set__  # type: ignore[union-attr]  # a member descriptor
        value = var
        if field.converter is not None:
            if not callable(field.converter) or isinstance(field.converter, attrs.Converter):
                return call_init
            names[f"_c{i}"] = field.converter
            value = f"_c{i}({var})"
        lines.append(f"_s{i}(self, {value})")
    return [*lines, "return self"]


def _read(  # the parts of one field
    key: str,
    var: str,
    field: attrs.Attribute[object],
    convert: list[str],
    *,
    null_is_none: bool,
    names: dict[str, object],
) -> tuple[list[str], list[str]]:
    """The lines that read *key* into *var*, with its default, and *convert* it.

    Returned apart: the line that fetches a required key (into the block that declines
    when one is missing), and the lines that read an optional one and convert the value.
    """
    default = _default(field)
    if null_is_none:
        convert = [f"if {var} is not None:", *_indent(convert)]
    if default is attrs.NOTHING:
        return [f"{var} = o[{key!r}]"], convert
    if default is None and null_is_none:
        # A missing key and an explicit null give the same value: one lookup.
        return [], [f"{var} = o.get({key!r})", *convert]
    names[f"_d{var}"] = default
    return [], [
        f"{var} = o.get({key!r}, _MISSING)",
        f"if {var} is _MISSING:",
        f"    {var} = _d{var}",
        "else:",
        *_indent(convert),
    ]


def _default(field: attrs.Attribute[object]) -> object:
    """The value of *field* when its key is missing (``attrs.NOTHING``: it is required)."""
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # attrs.Factory is a class at runtime
        factory: Any = default
        if factory.takes_self:
            raise _NoFastPathError
        return factory.factory()
    return default


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _optional_class(tp: object) -> type | None:
    """``X`` for a field type ``X | None`` where X is an attrs class, else ``None``."""
    args: tuple[object, ...] = getattr(tp, "__args__", ())
    if len(args) == 2 and args[1] is type(None) and isinstance(args[0], type):  # noqa: PLR2004  # X | None
        return args[0] if attrs.has(args[0]) else None
    return None


def _none_is_none(hook: Hook, tp: object) -> bool:
    """Whether *hook* turns ``null`` into ``None``."""
    try:
        return hook(None, tp) is None
    except MismatchError:  # a refusal means: keep missing and null apart
        return False
