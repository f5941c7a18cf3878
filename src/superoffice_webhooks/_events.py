"""Frozen event classes, the event-name -> class table, and parse()."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import attrs

from ._converter import IdValues, RawMapping, empty_extra, structure, unstructure, wire
from .exceptions import PayloadError

__all__ = [
    "EVENT_CLASSES",
    "Event",
    "FieldValues",
    "PersonChanged",
    "PersonConsented",
    "PersonCreated",
    "PersonDeleted",
    "PersonEvent",
    "PersonFieldValues",
    "PersonSoftDeleted",
    "PersonUnconsented",
    "TestEvent",
    "UnknownEvent",
    "parse",
]


def _extra_field() -> Mapping[str, object]:
    return attrs.field(factory=empty_extra, hash=False, kw_only=True)


@attrs.frozen(kw_only=True)
class FieldValues:
    """Base of the typed ``FieldValues`` classes: keys it does not know land in ``extra``."""

    _omit_none_on_wire: ClassVar[bool] = False

    #: Keys SuperOffice sent that this class does not declare, with their JSON values.
    extra: Mapping[str, object] = _extra_field()


@attrs.frozen(kw_only=True)
class Event:
    """A SuperOffice webhook notification, common to every event.

    Use :func:`~superoffice_webhooks.parse` to get the right subclass. Fields are the
    snake_case versions of the wire names; :meth:`to_dict` gives the wire form back.
    """

    _omit_none_on_wire: ClassVar[bool] = True
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
    values: IdValues | None = wire("Values", default=None, hash=False)
    #: ``FieldValues``: column values of the row after the change, when sent.
    field_values: FieldValues | RawMapping | None = wire("FieldValues", default=None, hash=False)
    #: Top-level keys SuperOffice sent that this class does not declare (e.g. the
    #: webhook's custom Properties), with their JSON values.
    extra: Mapping[str, object] = _extra_field()

    def to_dict(self) -> dict[str, object]:
        """The wire form: PascalCase keys and JSON types, so ``parse(e.to_dict()) == e``."""
        return unstructure(self)

    def to_json(self) -> str:
        """The wire form as compact JSON text, so ``parse(e.to_json()) == e``."""
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


# --- person -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PersonFieldValues(FieldValues):
    """The documented ``FieldValues`` of person events.

    Ids are ints, dates are datetimes (naive when SuperOffice sends no offset, with
    the offset when it does), and ``0001-01-01T00:00:00`` ("not set") is ``None``.
    """

    active_interests: int | None = wire("activeInterests", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    business_idx: int | None = wire("business_idx", default=None)
    category_idx: int | None = wire("category_idx", default=None)
    contact_id: int | None = wire("contact_id", default=None)
    country_id: int | None = wire("country_id", default=None)
    deleted_date: datetime | None = wire("DeletedDate", default=None)
    group_id: int | None = wire("group_id", default=None)
    person_id: int | None = wire("person_id", default=None)
    position_idx: int | None = wire("position_idx", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    retired: int | None = wire("retired", default=None)
    source: int | None = wire("source", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


@attrs.frozen(kw_only=True)
class PersonEvent(Event):
    """Base of the person events; ``PrimaryKey`` is the person id."""

    field_values: PersonFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def person_id(self) -> int:
        """The person's id (the event's ``PrimaryKey``)."""
        return self.primary_key

    @property
    def contact_id(self) -> int | None:
        """The person's company id, from ``FieldValues`` or delete ``Values``, if sent."""
        if self.field_values is not None and self.field_values.contact_id is not None:
            return self.field_values.contact_id
        if self.values is not None:
            return self.values.get("contact_id")
        return None


@attrs.frozen(kw_only=True)
class PersonCreated(PersonEvent):
    """``person.created``: a person row was added."""

    event_name: ClassVar[str | None] = "person.created"


@attrs.frozen(kw_only=True)
class PersonChanged(PersonEvent):
    """``person.changed``: a person row was updated."""

    event_name: ClassVar[str | None] = "person.changed"


@attrs.frozen(kw_only=True)
class PersonSoftDeleted(PersonEvent):
    """``person.softdeleted``: a person was deleted in the user interface."""

    event_name: ClassVar[str | None] = "person.softdeleted"


@attrs.frozen(kw_only=True)
class PersonDeleted(PersonEvent):
    """``person.deleted``: a person was permanently deleted; ids are in ``values``."""

    event_name: ClassVar[str | None] = "person.deleted"


@attrs.frozen(kw_only=True)
class PersonConsented(PersonEvent):
    """``person.consented``: consent was added or changed."""

    event_name: ClassVar[str | None] = "person.consented"


@attrs.frozen(kw_only=True)
class PersonUnconsented(PersonEvent):
    """``person.unconsented``: consent was removed or marked as withdrawn."""

    event_name: ClassVar[str | None] = "person.unconsented"


#: Event name -> class. Names not in it parse to :class:`UnknownEvent`.
EVENT_CLASSES: Mapping[str, type[Event]] = {
    cls.event_name: cls
    for cls in (
        TestEvent,
        PersonCreated,
        PersonChanged,
        PersonSoftDeleted,
        PersonDeleted,
        PersonConsented,
        PersonUnconsented,
    )
    if cls.event_name is not None
}


# --- parse --------------------------------------------------------------------


def _reject_constant(name: str) -> object:
    msg = f"Invalid SuperOffice payload: {name} is not valid JSON."
    raise PayloadError(msg)


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
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers over Python's digit limit.
        msg = "Invalid SuperOffice payload: the body is not valid JSON."
        raise PayloadError(msg) from exc


def parse(body: bytes | str | Mapping[str, object]) -> Event:
    """Parse a notification body into its typed event.

    *body* is the raw body (bytes or str) or an already decoded JSON object. The
    class is chosen by the body's ``Event`` name; names this version does not know
    give an :class:`UnknownEvent`. Parsing does not verify: call
    :func:`~superoffice_webhooks.verify` first, or use
    :func:`~superoffice_webhooks.verify_and_parse`.

    :raises PayloadError: the body is not valid UTF-8 or JSON, not an object, or a
        field is missing or of the wrong type (the error names the field).
    """
    if isinstance(body, (bytes, str)):
        data = load_json(body)
    elif isinstance(body, (bytearray, memoryview)):
        data = load_json(bytes(body))
    elif isinstance(body, Mapping):
        data = body if type(body) is dict else dict(body)
    else:
        msg = f"parse() takes the body as bytes, str or a mapping, not {type(body).__name__}."
        raise PayloadError(msg)
    if type(data) is not dict:
        msg = "Invalid SuperOffice payload: the body must be a JSON object."
        raise PayloadError(msg)
    name = data.get("Event")
    if type(name) is not str:
        reason = "must be a string" if "Event" in data else "is required but missing"
        msg = f"Invalid SuperOffice payload: Event {reason}."
        raise PayloadError(msg, field="Event")
    return structure(data, EVENT_CLASSES.get(name, UnknownEvent))
