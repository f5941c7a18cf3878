"""Write the event classes and the typed signature of ``on()`` from the catalogue.

Run ``python -m codegen.generate`` from the repository root after changing
``codegen/catalogue.py`` (``make generate`` does). The render functions are pure, so a
test compares their output with the files in the repository and fails when one is out of
date. The event reference page is rendered from the same table when the docs are built
(``docs/_ext/event_reference.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .catalogue import ENTITIES, LIST_NAMES, Entity, Key

__all__ = ["main", "public_names", "render_docs", "render_events", "render_on", "targets"]

HEADER = "Generated from codegen/catalogue.py by `python -m codegen.generate`; do not edit."

#: kind -> (annotation, structure hook or None, documented type)
_KINDS: dict[str, tuple[str, str | None, str]] = {
    "int": ("int | None", None, "int"),
    "datetime": ("datetime | None", None, "datetime"),
    "bool": ("bool | None", "lenient_bool", "bool (0 and 1 accepted)"),
    "lenient_int": ("int | None", "lenient_int", 'int (a string of digits such as "21" accepted)'),
    "int_or_str": ("int | str | None", "int_or_str", "int or str, as sent"),
    "encoded_int": ("int | None", "encoded_int", 'int (plain or "[I:6]")'),
    "encoded_datetime": (
        "datetime | None",
        "encoded_datetime",
        'datetime (ISO or "[DT:MM/dd/yyyy HH:mm:ss.fffffff]")',
    ),
}


def _q(text: str) -> str:
    """*text* as a double-quoted Python string literal."""
    return json.dumps(text)


def _names(entity: Entity) -> dict[str, str]:
    p = entity.prefix
    return {
        "event": f"{p}Event",
        "fv": f"{p}FieldValues",
        "values": f"{p}DeletedValues" if entity.deleted_values else "",
    }


def _a(word: str) -> str:
    """*word* with its indefinite article: ``an Activity``, ``a Person``."""
    return f"{'an' if word[0] in 'AEIOUaeiou' else 'a'} {word}"


def _sample_name(entity: Entity, verb_name: str) -> str:
    """A documented-looking event name for the docs (families have no single name)."""
    if entity.family == "list":
        return f"list.<name|id>.{verb_name}"
    if entity.family == "extra_table":
        return f"y_<table>.{verb_name}"
    return f"{entity.name}.{verb_name}"


def public_names() -> list[str]:
    """Every public class name the generated module defines."""
    names: list[str] = []
    for entity in ENTITIES:
        n = _names(entity)
        names += [n["event"], n["fv"]]
        if n["values"]:
            names.append(n["values"])
        names += [entity.class_name(v) for v in entity.verbs]
    return sorted(names)


# --- _generated_events.py -----------------------------------------------------------

#: Gives each class its ``event_name`` from the table, so that each name is written once.
_NAMED = """

def _named(classes: dict[str, type[Event]]) -> Mapping[str, type[Event]]:
    for name, cls in classes.items():
        cls.event_name = name
    return MappingProxyType(classes)
"""


def _field(key: Key) -> str:
    annotation, hook, _ = _KINDS[key.kind]
    args = [_q(key.wire)]
    if key.aliases:
        args.append(f"aliases=({', '.join(_q(a) for a in key.aliases)},)")
    if hook:
        args.append(f"hook={hook}")
    args.append("default=None")
    return f"    {key.attr}: {annotation} = wire({', '.join(args)})\n"


def _entity_block(entity: Entity) -> str:
    n = _names(entity)
    out = [f"# --- {entity.prefix} {'-' * (80 - 7 - len(entity.prefix))}\n\n\n"]
    out.append(
        f"@attrs.frozen(kw_only=True)\nclass {n['fv']}(FieldValues):\n"
        f'    """The documented ``FieldValues`` of {entity.prefix} events: {entity.doc}."""\n'
    )
    if entity.keys:
        out.append("\n")
        out += [_field(k) for k in entity.keys]
    out.append("\n\n")
    if n["values"]:
        out.append(
            f"class {n['values']}(DeletedValues):\n"
            f'    """The ``Values`` of {_a(entity.prefix)} delete event: the ids of the deleted row."""\n\n'
            "    __slots__ = ()\n\n"
        )
        out += [f"    {key} = IdKey()\n" for key in entity.deleted_values]
        out.append("\n\n")
    bases = f"{entity.mixin}, Event" if entity.mixin else "Event"
    out.append(
        f"@attrs.frozen(kw_only=True)\nclass {n['event']}({bases}):\n"
        f'    """Base of the {entity.prefix} events: {entity.doc}."""\n\n'
        f'    field_values: {n["fv"]} | None = wire("FieldValues", default=None, hash=False)\n'
    )
    if n["values"]:
        out.append(
            f"    values: {n['values']} | None = attrs.field(\n"
            "        default=None,\n        hash=False,\n"
            f"        converter=attrs.converters.optional({n['values']}),\n"
            '        metadata=wire_metadata("Values", hook=id_values(dict)),\n    )\n'
        )
    if entity.id_attr:
        out.append(
            f"\n    @property\n    def {entity.id_attr}(self) -> int:\n"
            f'        """The id of the {entity.prefix} row: the event\'s ``PrimaryKey``."""\n'
            "        return self.primary_key\n"
        )
    for verb in entity.verbs:
        name = _sample_name(entity, verb.name)
        out.append(
            f"\n\n@attrs.frozen(kw_only=True)\nclass {entity.class_name(verb)}({n['event']}):\n"
            f'    """``{name}``: {verb.doc}."""\n'
        )
    out.append("\n\n")
    return "".join(out)


def render_events() -> str:
    """The source of ``_generated_events.py``."""
    names = public_names()
    mixins = sorted({e.mixin for e in ENTITIES if e.mixin})
    hooks = sorted({h for e in ENTITIES for k in e.keys if (h := _KINDS[k.kind][1])})
    out = [
        f'"""Event classes for every documented SuperOffice event.\n\n{HEADER}\n"""\n\n',
        "from collections.abc import Mapping\nfrom datetime import datetime\n",
        "from types import MappingProxyType\n\nimport attrs\n\n",
        "from ._events import (\n",
        *(
            f"    {x},\n"
            for x in sorted(
                ["DeletedValues", "Event", "FieldValues", "IdKey", "TestEvent", *mixins]
            )
        ),
        ")\n",
        "from ._wire import (\n",
        *(f"    {x},\n" for x in sorted([*hooks, "id_values", "wire", "wire_metadata"])),
        ")\n\n",
        "__all__ = [\n",
        *(f'    "{x}",\n' for x in ["EVENT_CLASSES", *names]),
        "]\n\n\n",
    ]
    out += [_entity_block(e) for e in ENTITIES]
    out.append(_NAMED.lstrip("\n"))
    out.append(
        "\n\n#: Event name -> class, read-only. :func:`parse` uses it, then the list and\n"
        "#: extra-table rules; names it does not know parse to :class:`UnknownEvent`.\n"
        'EVENT_CLASSES = _named(\n    {\n        "test": TestEvent,\n'
    )
    for entity in ENTITIES:
        if entity.family in ("fixed", "state"):
            out += [
                f"        {_q(entity.event_name(v))}: {entity.class_name(v)},\n"
                for v in entity.verbs
            ]
    out.append("    }\n)\n")
    for const, family in (("LIST_ITEM_CLASSES", "list"), ("EXTRA_TABLE_CLASSES", "extra_table")):
        entity = next(e for e in ENTITIES if e.family == family)
        out.append(
            f"#: Verb -> class for {entity.name}.<verb> event names.\n"
            f"{const}: Mapping[str, type[{_names(entity)['event']}]] = MappingProxyType(\n"
            "    {\n"
        )
        out += [f"        {_q(v.name)}: {entity.class_name(v)},\n" for v in entity.verbs]
        out.append("    }\n)\n")
    return "".join(out).replace("\n\n\n\n", "\n\n\n")


# --- _on.pyi: the typed signature of on() ----------------------------------------------


def _overload(names: list[str], cls: str) -> str:
    line = f"    def __call__(self, name: Literal[{_q(names[0])}], /) -> Registrar[{cls}]: ...\n"
    if len(names) == 1 and len(line) <= 101:  # noqa: PLR2004  # ruff's line length, and \n
        return "    @overload\n" + line
    if len(names) == 1:
        return (
            f"    @overload\n    def __call__(\n        self, name: Literal[{_q(names[0])}], /\n"
            f"    ) -> Registrar[{cls}]: ...\n"
        )
    literal = "".join(f"            {_q(n)},\n" for n in names)
    return (
        f"    @overload\n    def __call__(\n        self,\n        name: Literal[\n{literal}"
        f"        ],\n        /,\n    ) -> Registrar[{cls}]: ...\n"
    )


def render_on() -> str:
    """The source of ``_on.pyi``: ``on()`` typed by event name, class and pattern."""
    out = [
        (
            f"# How type checkers see on(): the class of each documented event name.\n# {HEADER}\n\n"
            "from typing import Literal, Protocol, TypeVar, overload\n\n"
            "from . import _generated_events as _ge\n"
            "from ._dispatch import Registrar\n"
            "from ._events import Event, TestEvent, UnknownEvent\n\n"
            '_E = TypeVar("_E", bound=Event)\n\n'
            "class On(Protocol):\n"
        ),
        _overload(["test"], "TestEvent"),
    ]
    patterns: list[str] = []
    for entity in ENTITIES:
        if entity.family == "extra_table":
            continue  # table names are the user's own: on("y_table.created") gives Event
        for verb in entity.verbs:
            cls = f"_ge.{entity.class_name(verb)}"
            if entity.family == "list":
                out.append(_overload([f"list.{name}.{verb.name}" for name in LIST_NAMES], cls))
            else:
                out.append(_overload([entity.event_name(verb)], cls))
        prefix = "list" if entity.family == "list" else entity.name
        patterns.append(_overload([f"{prefix}.*"], f"_ge.{_names(entity)['event']} | UnknownEvent"))
    out += patterns
    out.append(
        "    @overload\n    def __call__(self, event_class: type[_E], /) -> Registrar[_E]: ...\n"
        "    @overload\n"
        "    def __call__(self, *targets: str | type[Event]) -> Registrar[Event]: ...\n"
    )
    return "".join(out)


# --- docs/events.md ------------------------------------------------------------------

_DOCS_TABLE = """\
## All events

| Event | Class | `FieldValues` | `Values` |
|---|---|---|---|
"""


def _doc_entity(entity: Entity) -> str:
    n = _names(entity)
    out = [f"### {entity.prefix}\n\n", f"{entity.doc[0].upper()}{entity.doc[1:]}.\n\n"]
    out.append("| Event | Class | When |\n|---|---|---|\n")
    out += [
        f"| `{_sample_name(entity, v.name)}` | {{class}}`~superoffice_webhooks.events.{entity.class_name(v)}`"
        f" | {v.doc[0].upper()}{v.doc[1:]}. |\n"
        for v in entity.verbs
    ]
    out.append(f"\n`field_values` is a {{class}}`~superoffice_webhooks.events.{n['fv']}`")
    if entity.keys:
        out.append(":\n\n| Key | Attribute | Type |\n|---|---|---|\n")
        for key in entity.keys:
            spelled = " / ".join(f"`{w}`" for w in (key.wire, *key.aliases))
            out.append(f"| {spelled} | `{key.attr}` | {_KINDS[key.kind][2]} |\n")
    else:
        out.append(" (no keys documented; any sent are in its `extra`).\n")
    if n["values"]:
        keys = ", ".join(f"`{k}`" for k in entity.deleted_values)
        out.append(
            f"\nOn delete, `values` is a {{class}}`~superoffice_webhooks.events.{n['values']}` "
            f"with {keys}.\n"
        )
    if entity.id_attr:
        out.append(f"\n`event.{entity.id_attr}` is the `PrimaryKey`.\n")
    out.append("\n```{eval-rst}\n")
    members = ", ".join(
        [
            "field_values",
            *(["values"] if n["values"] else []),
            *([entity.id_attr] if entity.id_attr else []),
        ]
    )
    out.append(f".. autoclass:: {n['event']}()\n   :members: {members}\n\n")
    out += [f".. autoclass:: {entity.class_name(v)}()\n\n" for v in entity.verbs]
    out.append(f".. autoclass:: {n['fv']}()\n\n")
    if n["values"]:
        out.append(f".. autoclass:: {n['values']}()\n\n")
    return "".join(out).rstrip("\n") + "\n```\n\n"


def render_docs() -> str:
    """The event tables of ``docs/events.md``, in Markdown; rendered when the docs are built."""
    out = [_DOCS_TABLE]
    out.append("| `test` | {class}`~superoffice_webhooks.events.TestEvent` | none | none |\n")
    for entity in ENTITIES:
        n = _names(entity)
        fv = ", ".join(f"`{k.wire}`" for k in entity.keys) or "none documented"
        values = ", ".join(f"`{k}`" for k in entity.deleted_values) or "none"
        for verb in entity.verbs:
            shown_values = values if verb.name == "deleted" else "none"
            out.append(
                f"| `{_sample_name(entity, verb.name)}` "
                f"| {{class}}`~superoffice_webhooks.events.{entity.class_name(verb)}` "
                f"| {fv if n['fv'] else 'none'} | {shown_values} |\n"
            )
    out.append("\n## By entity\n\n")
    out += [_doc_entity(e) for e in ENTITIES]
    return "".join(out).rstrip("\n") + "\n"


# --- writing -------------------------------------------------------------------------


def targets(root: Path) -> dict[Path, str]:
    """Each generated file under the repository *root*, with the text it should have."""
    package = root / "src" / "superoffice_webhooks"
    return {package / "_generated_events.py": render_events(), package / "_on.pyi": render_on()}


def main() -> int:
    """Write the generated files; the repository root is the current directory."""
    root = Path.cwd()
    if not (root / "codegen" / "catalogue.py").is_file():
        sys.stderr.write("Run this from the repository root (where pyproject.toml is).\n")
        return 1
    for path, text in targets(root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path.relative_to(root)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
