"""The hand-written bases of the event classes; the classes themselves are generated.

``_generated_events`` holds one class per documented event, written from the table in the
repository's ``codegen/catalogue.py`` by ``python -m codegen.generate``. This module has
what they build on: :class:`Event`, :class:`FieldValues`, :class:`DeletedValues` and its
:class:`IdKey`, the catch-all classes, :class:`WebhookState`, and the few properties that
are more than a lookup.
"""

import enum
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import ClassVar, Self, overload
from uuid import UUID

import attrs

from ._wire import (
    AS_SENT,
    WIRE,
    IdValues,
    RawMapping,
    decode_culture_value,
    empty_extra,
    id_values,
    wire,
)

__all__ = [
    "DeletedValues",
    "Event",
    "ExtraTableAccessors",
    "FieldValues",
    "IdKey",
    "ListItemAccessors",
    "PersonAccessors",
    "TestEvent",
    "UnknownEvent",
    "WebhookAccessors",
    "WebhookState",
]


def _extra_field() -> Mapping[str, object]:
    return attrs.field(factory=empty_extra, hash=False, kw_only=True)


def _as_sent_field() -> Mapping[str, object]:
    # Hidden bookkeeping for the wire form (see ``_wire.AS_SENT``): not compared, not
    # hashed, not shown, and given to __init__ under its private name only.
    return attrs.field(
        factory=empty_extra, eq=False, hash=False, repr=False, kw_only=True, alias=AS_SENT
    )


@attrs.frozen(kw_only=True)
class FieldValues:
    """Base of the typed ``FieldValues`` classes: keys it does not know land in ``extra``."""

    #: Keys SuperOffice sent that this class does not declare, with their JSON values.
    extra: Mapping[str, object] = _extra_field()
    # Which documented alias spellings the payload used (``associateId`` for
    # ``associate_id``), so that to_dict() writes them back as they came.
    _wire_aliases: frozenset[str] = attrs.field(
        factory=frozenset, eq=False, hash=False, repr=False, kw_only=True, alias="_wire_aliases"
    )
    _wire_as_sent: Mapping[str, object] = _as_sent_field()


class DeletedValues(Mapping[str, int]):
    """The ``Values`` of a delete event: a read-only mapping of id column -> id.

    The classes for each entity (:class:`PersonDeletedValues`, ...) add a typed attribute
    per documented key, ``None`` when the key was not sent. It compares equal to a
    ``dict`` with the same items.
    """

    __slots__ = ("_ids",)

    def __init__(self, ids: Mapping[str, int] | None = None, /) -> None:
        self._ids: dict[str, int] = dict(ids or {})

    def __getitem__(self, key: str) -> int:
        return self._ids[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._ids!r})"


class IdKey:
    """A documented id key of a :class:`DeletedValues` class, read as an attribute of the
    same name: the id, or ``None`` if SuperOffice did not send it."""

    __slots__ = ("_key",)

    def __set_name__(self, owner: type[DeletedValues], name: str) -> None:
        self._key = name

    @overload
    def __get__(self, values: None, owner: type[DeletedValues]) -> Self: ...
    @overload
    def __get__(self, values: DeletedValues, owner: type[DeletedValues]) -> int | None: ...
    def __get__(
        self, values: DeletedValues | None, owner: type[DeletedValues]
    ) -> Self | int | None:
        return self if values is None else values.get(self._key)


@attrs.frozen(kw_only=True)
class Event:
    """A SuperOffice webhook notification, common to every event.

    Use :func:`~superoffice_webhooks.parse` to get the right subclass. Fields are the
    snake_case versions of the wire names; :meth:`to_dict` gives the wire form back.
    """

    #: The ``Event`` name this class stands for (``None`` for catch-all classes).
    event_name: ClassVar[str | None] = None

    #: ``EventId``: the same on every retry of one delivery cycle.
    event_id: UUID = wire("EventId")
    #: ``Timestamp``: when the event occurred, timezone-aware UTC (microseconds).
    timestamp: datetime = wire("Timestamp")
    #: ``Changes``: the names of the changed database columns (may be empty).
    changes: tuple[str, ...] = wire("Changes")
    #: ``Event``: the event name from the signed body, e.g. ``"person.consented"``.
    event: str = wire("Event")
    #: ``PrimaryKey``: the id of the affected row (``0`` for the test event).
    primary_key: int = wire("PrimaryKey")
    #: ``Entity``: e.g. ``"person"`` or ``"list.category"``; ``None`` on webhook state events.
    entity: str | None = wire("Entity", default=None)
    #: ``ContextIdentifier``: the tenant, e.g. ``"Cust12345"`` (``"Default"`` on-site).
    context_identifier: str = wire("ContextIdentifier")
    #: ``ChangedByAssociateId``: the user who caused the change.
    changed_by_associate_id: int = wire("ChangedByAssociateId")
    #: ``WebhookName``: the name of the webhook definition that matched.
    webhook_name: str = wire("WebhookName")
    #: ``Values``: the id columns of a deleted row; only on delete events.
    values: IdValues | None = wire(
        "Values", default=None, hash=False, hook=id_values(DeletedValues)
    )
    #: ``FieldValues``: column values of the row after the change, when sent.
    field_values: FieldValues | RawMapping | None = wire("FieldValues", default=None, hash=False)
    #: Top-level keys SuperOffice sent that this class does not declare (e.g. the
    #: webhook's custom Properties), with their JSON values.
    extra: Mapping[str, object] = _extra_field()
    _wire_as_sent: Mapping[str, object] = _as_sent_field()

    def to_dict(self) -> dict[str, object]:
        """The wire form: the JSON object SuperOffice sent, so ``parse(e.to_dict()) == e``.

        Values come back as they were sent (all fractional digits of a date, "not set"
        dates, ``"[I:6]"``); keys that were not sent stay out. A value changed since
        (``attrs.evolve``) is written in its plain JSON form.
        """
        from ._converter import unstructure  # noqa: PLC0415  # models import no converter

        return unstructure(self)

    def to_json(self) -> str:
        """The wire form (:meth:`to_dict`) as compact JSON text, so ``parse(e.to_json()) == e``."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


@attrs.frozen(kw_only=True)
class UnknownEvent(Event):
    """An event name this version does not know (a newer or custom event).

    Nothing is lost: ``field_values`` and ``extra`` hold what was sent, as JSON values.
    """

    field_values: RawMapping | None = wire("FieldValues", default=None, hash=False)


@attrs.frozen(kw_only=True)
class TestEvent(Event):
    """The ``test`` ping SuperOffice sends when a webhook is saved; it carries no data."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    event_name: ClassVar[str | None] = "test"

    field_values: RawMapping | None = wire("FieldValues", default=None, hash=False)


class PersonAccessors:
    """Properties of :class:`PersonEvent` beyond the generated ones."""

    __slots__ = ()
    field_values: FieldValues | RawMapping | None
    values: IdValues | None

    @property
    def contact_id(self) -> int | None:
        """The person's company id, from ``FieldValues`` or delete ``Values``, if sent."""
        contact_id: int | None = getattr(self.field_values, "contact_id", None)
        if contact_id is None and self.values is not None:
            return self.values.get("contact_id")
        return contact_id


class ListItemAccessors:
    """Properties of :class:`ListItemEvent`: which list the item belongs to."""

    __slots__ = ()
    event: str

    @property
    def list_name(self) -> str:
        """The list, as in the event name: ``"category"`` or a list id such as ``"110"``."""
        return self.event.split(".")[1]

    @property
    def list_id(self) -> int | None:
        """The ``UDListDefinition_id`` for lists subscribed by id (``list.110.*``), else ``None``."""
        name = self.list_name
        return int(name) if name.isascii() and name.isdigit() else None


class ExtraTableAccessors:
    """Properties of :class:`ExtraTableEvent`: the table and its decoded columns."""

    __slots__ = ()
    event: str
    field_values: FieldValues | RawMapping | None

    @property
    def table(self) -> str:
        """The extra table, as in the event name: ``"y_table"``."""
        return self.event.rsplit(".", 1)[0]

    @property
    def columns(self) -> Mapping[str, object]:
        """Every ``FieldValues`` column by wire name, CultureDataFormatter values decoded.

        ``"[I:123]"`` becomes ``123``, ``"[F:4.56]"`` ``4.56`` and ``"[DT:...]"`` a naive
        ``datetime``; plain values (sent on delete) are returned as they are. The typed
        standard columns come from ``field_values``; a value that does not decode is
        returned as it was sent.
        """
        values = self.field_values
        if not isinstance(values, FieldValues):
            return {}
        columns: dict[str, object] = {
            field.metadata[WIRE]: getattr(values, field.name)
            for field in attrs.fields(type(values))
            if WIRE in field.metadata
        }
        for key, value in values.extra.items():
            try:
                columns[key] = decode_culture_value(value)
            except ValueError:
                columns[key] = value
        return columns


class WebhookState(enum.IntEnum):
    """The state of a webhook definition, numbered as SuperOffice's ``WebhookState`` enum.

    The state-event reference page numbers ``state`` differently (0 = Active, 1 = Stopped,
    2 = TooManyErrors) and its examples all send 2; the enum page, the REST field and the
    database column agree on this numbering, so it is the one used.
    """

    UNKNOWN = 0
    ACTIVE = 1
    STOPPED = 2
    TOO_MANY_ERRORS = 3


class WebhookAccessors:
    """Properties of :class:`WebhookEvent`: the webhook and its state."""

    __slots__ = ()
    field_values: FieldValues | RawMapping | None

    @property
    def state(self) -> WebhookState | None:
        """``FieldValues.state`` as a :class:`WebhookState`; ``None`` if absent or unknown."""
        number = getattr(self.field_values, "state", None)
        if not isinstance(number, int):
            return None
        try:
            return WebhookState(number)
        except ValueError:
            return None
