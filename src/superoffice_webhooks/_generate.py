"""Write the event classes, the ``on()`` overloads and docs/events.md from ``_catalogue``.

Run ``python -m superoffice_webhooks._generate`` from the repository root after changing
the catalogue (``make generate`` does). The render functions are pure, so a test compares
their output with the files in the repository and fails when one is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ._catalogue import ENTITIES, LIST_NAMES, Entity, Key

__all__ = ["DISPATCH_BEGIN", "DISPATCH_END", "main", "render_docs", "render_events", "render_on"]

HEADER = "Generated from _catalogue.py by `python -m superoffice_webhooks._generate`; do not edit."
DISPATCH_BEGIN = (
    "    # --- generated on() overloads: begin (python -m superoffice_webhooks._generate)\n"
)
DISPATCH_END = "    # --- generated on() overloads: end\n"

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
            f'    """The ``Values`` of a {entity.prefix} delete event: the ids of the deleted row."""\n\n'
            "    __slots__ = ()\n"
        )
        for key in entity.deleted_values:
            out.append(
                f"\n    @property\n    def {key}(self) -> int | None:\n"
                f'        """``{key}``, or ``None`` if not sent."""\n'
                f"        return self._ids.get({_q(key)})\n"
            )
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
        fixed = entity.family in ("fixed", "state")
        out.append(
            f"\n\n@attrs.frozen(kw_only=True)\nclass {entity.class_name(verb)}({n['event']}):\n"
            f'    """``{name}``: {verb.doc}."""\n'
        )
        if fixed:
            out.append(f"\n    event_name: ClassVar[str | None] = {_q(entity.event_name(verb))}\n")
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
        "from typing import ClassVar\n\nimport attrs\n\n",
        "from ._events import (\n",
        *(
            f"    {x},\n"
            for x in sorted(["DeletedValues", "Event", "FieldValues", "TestEvent", *mixins])
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
    out.append(
        "#: Event name -> class. :func:`parse` uses it, then the list and extra-table rules;\n"
        "#: names it does not know parse to :class:`UnknownEvent`.\n"
        'EVENT_CLASSES: Mapping[str, type[Event]] = {\n    "test": TestEvent,\n'
    )
    for entity in ENTITIES:
        if entity.family in ("fixed", "state"):
            out += [
                f"    {_q(entity.event_name(v))}: {entity.class_name(v)},\n" for v in entity.verbs
            ]
    out.append("}\n")
    for const, family in (("LIST_ITEM_CLASSES", "list"), ("EXTRA_TABLE_CLASSES", "extra_table")):
        entity = next(e for e in ENTITIES if e.family == family)
        out.append(
            f"#: Verb -> class for {entity.name}.<verb> event names.\n"
            f"{const}: Mapping[str, type[{_names(entity)['event']}]] = {{\n"
        )
        out += [f"    {_q(v.name)}: {entity.class_name(v)},\n" for v in entity.verbs]
        out.append("}\n")
    return (
        "".join(out)
        .replace("\n\n\n\n", "\n\n\n")
        .replace("\n\n\n#: Event name", "\n\n#: Event name")
    )


# --- the on() overloads ----------------------------------------------------------------


def _overload(literal: str, cls: str) -> str:
    return (
        f"    @overload\n    def on(self, name: Literal[{literal}], /) -> Registrar[{cls}]: ...\n"
    )


def render_on() -> str:
    """The ``@overload`` block of ``Dispatcher.on``, markers included."""
    out = [DISPATCH_BEGIN, _overload('"test"', "TestEvent")]
    patterns: list[str] = []
    for entity in ENTITIES:
        base = f"_ge.{_names(entity)['event']}"
        if entity.family == "extra_table":
            continue  # table names are the user's own: on("y_table.created") gives Event
        for verb in entity.verbs:
            cls = f"_ge.{entity.class_name(verb)}"
            if entity.family == "list":
                names = ", ".join(f'"list.{name}.{verb.name}"' for name in LIST_NAMES)
                out.append(_overload(names, cls))
            else:
                out.append(_overload(f'"{entity.event_name(verb)}"', cls))
        prefix = "list" if entity.family == "list" else entity.name
        patterns.append(_overload(f'"{prefix}.*"', f"{base} | UnknownEvent"))
    out += patterns
    out.append(DISPATCH_END)
    return "".join(out)


def replace_block(source: str, block: str) -> str:
    """*source* with the text between the overload markers replaced by *block*."""
    start = source.index(DISPATCH_BEGIN)
    end = source.index(DISPATCH_END) + len(DISPATCH_END)
    return source[:start] + block + source[end:]


# --- docs/events.md ------------------------------------------------------------------

_DOCS_INTRO = """\
# Event reference

<!-- {header} -->

Every event SuperOffice documents has a class, written from one table in the package, as
this page is. Class names are the entity followed by the verb: `contact.created` is
{{class}}`~superoffice_webhooks.ContactCreated`, `salestakeholder.deleted`
{{class}}`~superoffice_webhooks.SaleStakeholderDeleted`, `chatsession.message`
{{class}}`~superoffice_webhooks.ChatSessionMessage`, `softdeleted` becomes `SoftDeleted`.
Each entity has a base class (`ContactEvent`, for `on("contact.*")` and `isinstance`), a
`FieldValues` class and, when it has a delete event, a `DeletedValues` class: a read-only
mapping of the ids with a typed property per documented key.

Three families have names that no table can list:

- **Lists**: `list.<name>.<verb>` or `list.<id>.<verb>` (`list.category.created`,
  `list.110.softdeleted`) give `ListItemCreated`, `ListItemChanged` or
  `ListItemSoftDeleted`; `event.list_name` is `"category"` or `"110"`, `event.list_id` the
  number for lists subscribed by id.
- **Extra tables**: a name whose table starts with `y_` (SuperOffice names every extra table
  so), such as `y_table.created`, gives `ExtraTableCreated`, `ExtraTableChanged` or
  `ExtraTableDeleted`; `event.table` is `"y_table"` and `event.columns` every column with
  SuperOffice's `[I:6]`, `[F:4.56]` and `[DT:09/16/2025 14:22:14.0000000]` values decoded.
  Register them by name (`on("y_table.created")`); a type checker sees an `Event` there.
- **Webhook state events**: you subscribe to `webhook123.errors`, SuperOffice sends the
  header `X-SuperOffice-Event: webhook123.errors` but the body says `webhook.errors` and has
  no `Entity`. Events are routed by the signed body, so register `on("webhook.errors")`;
  `on("webhook123.errors")` raises `ConfigurationError` rather than never matching.
  `event.webhook_id` is the `PrimaryKey` (presumably the webhook id; the docs do not say)
  and `event.state` the {{class}}`~superoffice_webhooks.WebhookState`.

Any other name, such as a custom event signalled with
`POST /api/v1/Webhook/{{eventName}}/{{primaryKey}}` or an unknown verb of a known entity,
gives an {{class}}`~superoffice_webhooks.UnknownEvent`: the common fields are typed, the
rest is kept as sent, and it is dispatched by name and patterns like any other event.

## Where the SuperOffice docs disagree

The reference pages contradict each other in places. This library accepts every
documented shape and decides as follows:

- **Webhook state numbers.** The enum page, the REST field and the database say
  Unknown = 0, Active = 1, Stopped = 2, TooManyErrors = 3; the troubleshooting page lists
  them as 1 to 4 and the state-event page says 0 = Active, 1 = Stopped, 2 = TooManyErrors
  (its examples all send `state: 2`). `event.state` uses the enum page: 2 is `STOPPED`.
  `field_values.state` keeps the number as sent.
- **Chat `FieldValues`.** The key list is lowerCamel (`contactId`), the example PascalCase
  (`ContactId`) with ids as strings (`"21"`). Both spellings are accepted and written back as
  they came; ids may be integers or strings of digits and become `int`s.
- **Relation `associate_id`.** Listed as `associate_id`, sent as `associateId` in the
  example: both are accepted into `associate_id` and written back as they came.
- **Relation delete `Values`.** The current page shows `associate_id, relation_id`, an older
  one `relation_id, registered_associate_id, updated_associate_id`: `RelationDeletedValues`
  has a property for each.
- **Sale delete `Values`.** The sale page shows `associate_id, contact_id, person_id,
  project_id`, the reference index `sale_id, contact_id, person_id, project_id`:
  `SaleDeletedValues` has a property for each.
- **The reference-index delete sketch** has no `EventId` and no `Changes`. Every real
  example has both, so they stay required: that sketch raises `PayloadError` naming
  `EventId`.
- **`person.softdeleted`** is on the person page but not in the event table; it has a class.
- **Extra tables** encode `FieldValues` with CultureDataFormatter markers on created and
  changed but send plain JSON on delete. Both are accepted; `to_dict()` writes the typed
  standard columns in plain JSON (`6`, `"2025-09-16T14:22:14"`), which parses to the same
  event, and other columns exactly as they were sent.
- **Other field types.** Chat's `CustomerAlias` is listed without a type and sent as a
  number, so it is kept as an `int` or a `str`, as sent. Chat booleans also accept `0`
  and `1`.

## All events

| Event | Class | `FieldValues` | `Values` |
|---|---|---|---|
"""


def _doc_entity(entity: Entity) -> str:
    n = _names(entity)
    out = [f"### {entity.prefix}\n\n", f"{entity.doc[0].upper()}{entity.doc[1:]}.\n\n"]
    out.append("| Event | Class | When |\n|---|---|---|\n")
    out += [
        f"| `{_sample_name(entity, v.name)}` | {{class}}`~superoffice_webhooks.{entity.class_name(v)}`"
        f" | {v.doc[0].upper()}{v.doc[1:]}. |\n"
        for v in entity.verbs
    ]
    out.append(f"\n`field_values` is a {{class}}`~superoffice_webhooks.{n['fv']}`")
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
            f"\nOn delete, `values` is a {{class}}`~superoffice_webhooks.{n['values']}` "
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
        out.append(f".. autoclass:: {n['values']}()\n   :members:\n\n")
    return "".join(out).rstrip("\n") + "\n```\n\n"


def render_docs() -> str:
    """The text of ``docs/events.md``."""
    out = [_DOCS_INTRO.format(header=HEADER)]
    out.append("| `test` | {class}`~superoffice_webhooks.TestEvent` | none | none |\n")
    for entity in ENTITIES:
        n = _names(entity)
        fv = ", ".join(f"`{k.wire}`" for k in entity.keys) or "none documented"
        values = ", ".join(f"`{k}`" for k in entity.deleted_values) or "none"
        for verb in entity.verbs:
            shown_values = values if verb.name == "deleted" else "none"
            out.append(
                f"| `{_sample_name(entity, verb.name)}` "
                f"| {{class}}`~superoffice_webhooks.{entity.class_name(verb)}` "
                f"| {fv if n['fv'] else 'none'} | {shown_values} |\n"
            )
    out.append("\n## By entity\n\n```{eval-rst}\n.. currentmodule:: superoffice_webhooks\n```\n\n")
    out += [_doc_entity(e) for e in ENTITIES]
    return "".join(out).rstrip("\n") + "\n"


# --- writing -------------------------------------------------------------------------


def targets(root: Path) -> dict[Path, str]:
    """Each generated file under the repository *root*, with the text it should have."""
    package = root / "src" / "superoffice_webhooks"
    dispatch = package / "_dispatch.py"
    return {
        package / "_generated_events.py": render_events(),
        dispatch: replace_block(dispatch.read_text(encoding="utf-8"), render_on()),
        root / "docs" / "events.md": render_docs(),
    }


def main() -> int:
    """Write the generated files; the repository root is the current directory."""
    root = Path.cwd()
    if not (root / "src" / "superoffice_webhooks" / "_catalogue.py").is_file():
        sys.stderr.write("Run this from the repository root (where pyproject.toml is).\n")
        return 1
    for path, text in targets(root).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path.relative_to(root)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
