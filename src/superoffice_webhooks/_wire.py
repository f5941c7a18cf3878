"""Field metadata: the wire (JSON) name of each field, and how a field reads its value.

The event classes import this module and nothing of the converter: a field says its
JSON key (``wire("EventId")``), other spellings accepted on input, and, for the keys
whose documented shapes disagree, which lenient reading of ``_scalars`` it takes. The
converter reads this metadata to rename keys both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._scalars import (
    decode_culture_value,
    encoded_datetime,
    encoded_int,
    id_values,
    int_or_str,
    lenient_bool,
    lenient_int,
)

__all__ = [
    "ALIASES",
    "ALIAS_NAMES",
    "AS_SENT",
    "EXTRA",
    "HOOK",
    "WIRE",
    "IdValues",
    "RawMapping",
    "decode_culture_value",
    "empty_extra",
    "encoded_datetime",
    "encoded_int",
    "id_values",
    "int_or_str",
    "lenient_bool",
    "lenient_int",
    "wire",
    "wire_metadata",
]

#: Field-metadata key holding the wire (JSON) name of a field.
WIRE = "wire"
#: Field-metadata key holding other accepted spellings of the wire name.
ALIAS_NAMES = "aliases"
#: Field-metadata key holding a structure hook of the field's own (a lenient kind).
HOOK = "hook"
#: Name of the field that keeps unknown keys; it has no wire name of its own.
EXTRA = "extra"
#: Name of the hidden field recording which alias spellings a payload used.
ALIASES = "_wire_aliases"
#: Name of the hidden field holding the JSON object the instance was read from. The wire
#: form takes from it what the fields cannot make again: the values a hook rewrites
#: (``_scalars.REWRITTEN``), as sent while they still read as the field's value, and the
#: keys sent as ``null``. Keeping the object costs no work while parsing a body, the
#: common path; writing back is the rare one.
AS_SENT = "_wire_as_sent"

#: Typed aliases the converter's hooks are registered for (compared by equality).
IdValues = Mapping[str, int]
RawMapping = Mapping[str, object]

_EMPTY: Mapping[str, object] = MappingProxyType({})


def empty_extra() -> Mapping[str, object]:
    """The shared empty ``extra`` mapping (read-only)."""
    return _EMPTY


def wire_metadata(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    hook: Callable[[object, object], object] | None = None,
) -> dict[str, object]:
    """Field metadata naming the JSON key *name*; see :func:`wire`."""
    metadata: dict[str, object] = {WIRE: name}
    if aliases:
        metadata[ALIAS_NAMES] = aliases
    if hook is not None:
        metadata[HOOK] = hook
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
