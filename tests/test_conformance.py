"""Conformance: every documented example payload parses to its documented class, typed and
lossless, in every shape SuperOffice may send it; generated events of every class round-trip."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import superoffice_webhooks as sow
from codegen.catalogue import ENTITIES, Entity, Key
from conftest import example, example_json, example_names, examples

#: Every test here runs with the standard library's JSON parser and with orjson.
pytestmark = pytest.mark.usefixtures("json_parser")

NO_EVENT_ID = "sale.deleted.reference-index"

#: Example file -> the class SuperOffice's documentation says it is (SPEC 5.2, by hand).
DOCUMENTED: dict[str, type[sow.Event]] = {
    "activity.changed": sow.ActivityChanged,
    "activity.created": sow.ActivityCreated,
    "activity.deleted": sow.ActivityDeleted,
    "associate.changed": sow.AssociateChanged,
    "associate.created": sow.AssociateCreated,
    "associate.deleted": sow.AssociateDeleted,
    "chatsession.changed": sow.ChatSessionChanged,
    "chatsession.created": sow.ChatSessionCreated,
    "chatsession.message": sow.ChatSessionMessage,
    "contact.changed": sow.ContactChanged,
    "contact.changed.notification-legacy": sow.ContactChanged,
    "contact.changed.notification": sow.ContactChanged,
    "contact.changed.register": sow.ContactChanged,
    "contact.created": sow.ContactCreated,
    "contact.deleted": sow.ContactDeleted,
    "document.changed": sow.DocumentChanged,
    "document.created": sow.DocumentCreated,
    "document.deleted": sow.DocumentDeleted,
    "document.edited": sow.DocumentEdited,
    "list.110.changed": sow.ListItemChanged,
    "list.110.created": sow.ListItemCreated,
    "list.110.softdeleted": sow.ListItemSoftDeleted,
    "list.category.changed": sow.ListItemChanged,
    "list.category.created": sow.ListItemCreated,
    "list.category.softdeleted": sow.ListItemSoftDeleted,
    "person.changed": sow.PersonChanged,
    "person.consented": sow.PersonConsented,
    "person.created": sow.PersonCreated,
    "person.deleted": sow.PersonDeleted,
    "person.unconsented": sow.PersonUnconsented,
    "project.changed": sow.ProjectChanged,
    "project.created": sow.ProjectCreated,
    "project.deleted": sow.ProjectDeleted,
    "projectmember.changed": sow.ProjectMemberChanged,
    "projectmember.created": sow.ProjectMemberCreated,
    "projectmember.deleted": sow.ProjectMemberDeleted,
    "quote.approved": sow.QuoteApproved,
    "quote.ordered": sow.QuoteOrdered,
    "quote.rejected": sow.QuoteRejected,
    "quote.sent": sow.QuoteSent,
    "relation.changed": sow.RelationChanged,
    "relation.changed.v2024-11-04": sow.RelationChanged,
    "relation.created": sow.RelationCreated,
    "relation.created.v2024-11-04": sow.RelationCreated,
    "relation.deleted": sow.RelationDeleted,
    "relation.deleted.v2024-11-04": sow.RelationDeleted,
    "sale.changed": sow.SaleChanged,
    "sale.completed": sow.SaleCompleted,
    "sale.created": sow.SaleCreated,
    "sale.deleted": sow.SaleDeleted,
    "sale.lost": sow.SaleLost,
    "sale.sold": sow.SaleSold,
    "salestakeholder.changed": sow.SaleStakeholderChanged,
    "salestakeholder.created": sow.SaleStakeholderCreated,
    "salestakeholder.deleted": sow.SaleStakeholderDeleted,
    "test": sow.TestEvent,
    "ticket.changed": sow.TicketChanged,
    "ticket.changed.v2023-11-22": sow.TicketChanged,
    "ticket.created": sow.TicketCreated,
    "webhook.errors": sow.WebhookErrors,
    "webhook.started": sow.WebhookStarted,
    "webhook.stopped": sow.WebhookStopped,
    "y_table.changed": sow.ExtraTableChanged,
    "y_table.created": sow.ExtraTableCreated,
    "y_table.deleted": sow.ExtraTableDeleted,
}

#: Each entity's base class, FieldValues class and delete Values class (or None).
FAMILIES: dict[type[sow.Event], tuple[type[sow.FieldValues], type[sow.DeletedValues] | None]] = {
    sow.ActivityEvent: (sow.ActivityFieldValues, sow.ActivityDeletedValues),
    sow.AssociateEvent: (sow.AssociateFieldValues, sow.AssociateDeletedValues),
    sow.ChatSessionEvent: (sow.ChatSessionFieldValues, None),
    sow.ContactEvent: (sow.ContactFieldValues, sow.ContactDeletedValues),
    sow.DocumentEvent: (sow.DocumentFieldValues, sow.DocumentDeletedValues),
    sow.PersonEvent: (sow.PersonFieldValues, sow.PersonDeletedValues),
    sow.ProjectEvent: (sow.ProjectFieldValues, sow.ProjectDeletedValues),
    sow.ProjectMemberEvent: (sow.ProjectMemberFieldValues, sow.ProjectMemberDeletedValues),
    sow.QuoteEvent: (sow.QuoteFieldValues, None),
    sow.RelationEvent: (sow.RelationFieldValues, sow.RelationDeletedValues),
    sow.SaleEvent: (sow.SaleFieldValues, sow.SaleDeletedValues),
    sow.SaleStakeholderEvent: (sow.SaleStakeholderFieldValues, sow.SaleStakeholderDeletedValues),
    sow.TicketEvent: (sow.TicketFieldValues, None),
    sow.ListItemEvent: (sow.ListItemFieldValues, None),
    sow.ExtraTableEvent: (sow.ExtraTableFieldValues, None),
    sow.WebhookEvent: (sow.WebhookFieldValues, None),
}

PARSEABLE = [n for n in example_names() if n != NO_EVENT_ID]
WITH_FIELD_VALUES = [n for n in PARSEABLE if example_json(n).get("FieldValues")]

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d):(\d\d))?")
_CULTURE_DT = re.compile(r"\[DT:(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d+)\]")


def expected_datetime(text: str) -> datetime | None:
    """A FieldValues date computed by hand: offsets kept, naive stays naive, year 1 is None."""
    m = _ISO.fullmatch(text)
    if m is None:
        m = _CULTURE_DT.fullmatch(text)
        assert m is not None, text
        month, day, year, hour, minute, second = (int(g) for g in m.groups()[:6])
        micro, tz = m.group(7), None
    else:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        micro, tz = m.group(7), None
        if m.group(8):
            sign = 1 if m.group(8) == "+" else -1
            tz = timezone(sign * timedelta(hours=int(m.group(9)), minutes=int(m.group(10))))
    if year == 1:
        return None
    return datetime(
        year, month, day, hour, minute, second, int((micro or "0")[:6].ljust(6, "0")), tz
    )


def expected_value(kind: str, sent: object) -> object:
    """What a FieldValues key of *kind* must hold for the JSON value *sent* (by hand)."""
    if kind in ("datetime", "encoded_datetime"):
        assert isinstance(sent, str)
        return expected_datetime(sent)
    if kind == "encoded_int" and isinstance(sent, str):
        assert sent.startswith("[I:")
        return int(sent[3:-1])
    if kind == "lenient_int" and isinstance(sent, str):
        return int(sent)
    return sent


def entity_of(cls: type[sow.Event]) -> Entity:
    """The catalogue entry of an event class."""
    base = next(b for b in FAMILIES if issubclass(cls, b))
    return next(e for e in ENTITIES if f"{e.prefix}Event" == base.__name__)


def find_key(entity: Entity, wire: str) -> Key | None:
    """The catalogue key spelled *wire* (or one of its aliases)."""
    return next((k for k in entity.keys if wire in (k.wire, *k.aliases)), None)


def key_sets(data: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """The keys at the top level, inside FieldValues and inside Values."""
    return set(data), set(data.get("FieldValues") or {}), set(data.get("Values") or {})


def assert_lossless(raw: bytes | str, data: dict[str, Any]) -> sow.Event:
    """parse(raw) round-trips through JSON and to_dict() has exactly *data*'s keys."""
    event = sow.parse(raw)
    again = sow.parse(event.to_json())
    assert again == event
    assert type(again) is type(event)
    assert key_sets(event.to_dict()) == key_sets(data)
    return event


# --- the documented examples ---------------------------------------------------------------


def test_every_example_has_a_documented_class() -> None:
    """The table above covers every example payload in tests/data, and nothing else."""
    assert set(DOCUMENTED) == set(PARSEABLE)


def test_every_documented_event_name_has_a_class() -> None:
    """Each fixed event name of SPEC 5.2 is in EVENT_CLASSES with a class of that name."""
    names = {
        f"{entity}.{verb}"
        for entity, verbs in {
            "activity": "created changed deleted",
            "associate": "created changed deleted",
            "chatsession": "created message changed",
            "contact": "created changed deleted softdeleted",
            "document": "created changed deleted edited",
            "person": "created changed deleted softdeleted consented unconsented",
            "project": "created changed deleted",
            "projectmember": "created changed deleted",
            "quote": "approved rejected sent ordered",
            "relation": "created changed deleted",
            "sale": "created changed deleted sold lost completed",
            "salestakeholder": "created changed deleted",
            "ticket": "created changed",
            "webhook": "started stopped errors",
        }.items()
        for verb in verbs.split()
    }
    assert set(sow.EVENT_CLASSES) == names | {"test"}
    for name in names:
        assert sow.EVENT_CLASSES[name].event_name == name


@pytest.mark.parametrize("name", PARSEABLE)
def test_example_parses_to_its_documented_class(name: str) -> None:
    """Each example parses to exactly its documented class, with the entity's typed parts."""
    data = example_json(name)
    event = sow.parse(example(name))
    cls = DOCUMENTED[name]
    assert type(event) is cls
    assert event.event == data["Event"]
    assert event.entity == data.get("Entity")
    if cls is sow.TestEvent:
        return
    base = next(b for b in FAMILIES if issubclass(cls, b))
    fv_class, values_class = FAMILIES[base]
    if "FieldValues" in data:
        assert type(event.field_values) is fv_class
    else:
        assert event.field_values is None
    if "Values" in data:
        assert event.values is not None
        assert dict(event.values) == data["Values"]
        assert type(event.values) is (values_class or sow.DeletedValues)
    else:
        assert event.values is None


@pytest.mark.parametrize("name", WITH_FIELD_VALUES)
def test_example_field_values_are_typed(name: str) -> None:
    """Every documented FieldValues key has its documented type and value; nothing is extra
    except the columns of an extra table."""
    data: dict[str, Any] = example_json(name)
    event = sow.parse(example(name))
    entity = entity_of(type(event))
    fv = event.field_values
    assert isinstance(fv, sow.FieldValues)
    for wire, sent in data["FieldValues"].items():
        key = find_key(entity, wire)
        if key is None:
            assert entity.prefix == "ExtraTable", wire
            assert fv.extra[wire] == sent
            continue
        value = getattr(fv, key.attr)
        assert value == expected_value(key.kind, sent), wire
        if value is not None:
            kinds = {
                "datetime": datetime,
                "encoded_datetime": datetime,
                "bool": bool,
                "int_or_str": type(sent),
            }
            assert type(value) is kinds.get(key.kind, int), wire
    if entity.prefix != "ExtraTable":
        assert fv.extra == {}


@pytest.mark.parametrize("name", PARSEABLE)
def test_example_round_trips_with_no_key_lost(name: str) -> None:
    """parse(e.to_json()) == e, and to_dict() has exactly the example's keys, also inside
    FieldValues and Values."""
    assert_lossless(example(name), example_json(name))


def test_reference_index_sketch_lacks_event_id_and_changes() -> None:
    """The reference-index delete sketch has no EventId and no Changes; both stay required,
    so it is a PayloadError naming EventId, then Changes once EventId is there."""
    with pytest.raises(sow.PayloadError) as info:
        sow.parse(example(NO_EVENT_ID))
    assert info.value.field == "EventId"
    data = {**example_json(NO_EVENT_ID), "EventId": "88f91933-edce-4c1a-8ded-ade8e2f72434"}
    with pytest.raises(sow.PayloadError) as info:
        sow.parse(data)
    assert info.value.field == "Changes"
    event = sow.parse({**data, "Changes": []})
    assert isinstance(event, sow.SaleDeleted)
    assert event.values is not None
    assert event.values.sale_id == 994863
    assert event.values.associate_id is None


# --- variants of every example --------------------------------------------------------------


@pytest.mark.parametrize("name", PARSEABLE)
def test_compact_indented_and_crlf_bodies_parse_alike(name: str) -> None:
    """Compact JSON, indented JSON and CRLF line endings give the same event."""
    raw = example(name)
    data = example_json(name)
    expected = sow.parse(raw)
    compact = json.dumps(data, separators=(",", ":")).encode()
    indented = json.dumps(data, indent=4).encode()
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert b"\r\n" in crlf
    for body in (compact, indented, crlf, indented.replace(b"\n", b"\r\n")):
        assert sow.parse(body) == expected
        assert_lossless(body, data)


@pytest.mark.parametrize("name", PARSEABLE)
def test_extra_top_level_keys_are_kept(name: str) -> None:
    """Unknown top-level keys (custom Properties) land in extra and are written back."""
    custom = {"MyProperty": {"nested": [1, "two"]}, "Flag": True, "Nothing": None}
    data = {**example_json(name), **custom}
    event = assert_lossless(json.dumps(data), data)
    assert dict(event.extra) == custom
    assert type(event) is DOCUMENTED[name]


@pytest.mark.parametrize("name", PARSEABLE)
def test_missing_optional_keys(name: str) -> None:
    """Without Entity, FieldValues, Values or half the FieldValues keys an example still
    parses to its class; the keys it sent are all written back, missing documented keys as null."""
    data: dict[str, Any] = example_json(name)
    for key in ("Entity", "FieldValues", "Values"):
        smaller = {k: v for k, v in data.items() if k != key}
        event = sow.parse(smaller)
        assert type(event) is DOCUMENTED[name]
        assert sow.parse(event.to_json()) == event
        assert key not in event.to_dict()
    fields = data.get("FieldValues")
    if not fields:
        return
    kept = dict(list(fields.items())[::2])
    event = sow.parse({**data, "FieldValues": kept})
    out = event.to_dict()["FieldValues"]
    assert isinstance(out, dict)
    assert set(kept) <= set(out)
    assert all(out[k] is None for k in set(out) - set(kept))
    assert sow.parse(event.to_json()) == event


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2025-09-16T07:24:33.27583Z", datetime(2025, 9, 16, 7, 24, 33, 275830, tzinfo=UTC)),
        ("2018-04-24T08:18:42.089895Z", datetime(2018, 4, 24, 8, 18, 42, 89895, tzinfo=UTC)),
        ("2018-04-24T08:01:15.8506935Z", datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)),
        ("2018-04-24T10:01:15.8506935+02:00", datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("name", PARSEABLE)
def test_timestamp_digits_and_offsets(name: str, timestamp: str, expected: datetime) -> None:
    """5, 6 and 7 fractional digits and +02:00 offsets parse to the same UTC instant."""
    event = sow.parse({**example_json(name), "Timestamp": timestamp})
    assert event.timestamp == expected
    assert event.timestamp.tzinfo is UTC
    assert sow.parse(event.to_json()) == event


WITH_DATES = [
    n for n in WITH_FIELD_VALUES if any(k.kind == "datetime" for k in entity_of(DOCUMENTED[n]).keys)
]


@pytest.mark.parametrize("digits", ["27583", "089895", "3832901"])
@pytest.mark.parametrize("name", WITH_DATES)
def test_field_value_dates_with_digits_and_offsets(name: str, digits: str) -> None:
    """FieldValues dates with 5-7 digits and a +02:00 offset keep their offset."""
    data: dict[str, Any] = example_json(name)
    dates = [k for k in entity_of(DOCUMENTED[name]).keys if k.kind == "datetime"]
    text = f"2025-05-14T14:43:04.{digits}+02:00"
    fields = {**data["FieldValues"], dates[0].wire: text}
    event = sow.parse({**data, "FieldValues": fields})
    value = getattr(event.field_values, dates[0].attr)
    assert value == expected_datetime(text)
    assert value.utcoffset() == timedelta(hours=2)
    assert sow.parse(event.to_json()) == event


# --- hypothesis: every class round-trips ----------------------------------------------------

_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_dates = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001  # 0001-01-01T00:00:00 means "not set"
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.one_of(st.none(), _offsets),
)
_KIND_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(),
    "lenient_int": st.integers(),
    "encoded_int": st.integers(),
    "datetime": _dates,
    "encoded_datetime": _dates,
    "bool": st.booleans(),
    "int_or_str": st.integers() | st.text(max_size=10),
}
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_WIRE_KEYS = {f.metadata["wire"] for f in attrs.fields(sow.Event) if "wire" in f.metadata}


def field_values_of(entity: Entity) -> st.SearchStrategy[sow.FieldValues]:
    """FieldValues of *entity* with any valid value (or None) per documented key."""
    cls = getattr(sow, f"{entity.prefix}FieldValues")
    keys = {k.attr: st.none() | _KIND_VALUES[k.kind] for k in entity.keys}
    return st.builds(cls, **keys)


def _name_for(entity: Entity, cls: type[sow.Event], verb: str, draw: st.DrawFn) -> str:
    if cls.event_name is not None:
        return cls.event_name
    if entity.family == "list":
        return f"list.{draw(st.sampled_from(['category', '110', 'tags']))}.{verb}"
    return f"y_{draw(st.from_regex(r'[a-z]{1,8}', fullmatch=True))}.{verb}"


@st.composite
def events(draw: st.DrawFn) -> sow.Event:
    """An event of any class of the catalogue, with generated valid fields."""
    entity = draw(st.sampled_from(ENTITIES))
    verb = draw(st.sampled_from(entity.verbs))
    cls: type[sow.Event] = getattr(sow, entity.class_name(verb))
    has_values = entity.deleted_values or entity.family == "extra_table"
    values = st.dictionaries(
        st.sampled_from(entity.deleted_values or ("id",)) | st.text(max_size=8), st.integers()
    )
    return cls(
        event_id=draw(st.uuids()),
        timestamp=draw(st.datetimes(timezones=st.just(UTC))),
        changes=tuple(draw(st.lists(st.text(max_size=12), max_size=4))),
        event=_name_for(entity, cls, verb.name, draw),
        primary_key=draw(st.integers()),
        entity=draw(st.none() | st.text(max_size=10)),
        context_identifier=draw(st.text(max_size=12)),
        changed_by_associate_id=draw(st.integers()),
        webhook_name=draw(st.text(max_size=12)),
        values=draw(st.none() | values) if has_values else None,
        field_values=draw(st.none() | field_values_of(entity)),
        extra=draw(
            st.dictionaries(
                st.text(max_size=8).filter(lambda k: k not in _WIRE_KEYS), _json, max_size=2
            )
        ),
    )


def test_strategies_cover_every_class() -> None:
    """The generated events can be of every class in the catalogue."""
    classes = {getattr(sow, e.class_name(v)) for e in ENTITIES for v in e.verbs}
    assert set(sow.EVENT_CLASSES.values()) - {sow.TestEvent} <= classes
    assert len(classes) == sum(len(e.verbs) for e in ENTITIES)


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_property_every_event_class_round_trips(event: sow.Event) -> None:
    """Generated events of every class survive to_json() and parse() unchanged."""
    again = sow.parse(event.to_json())
    assert type(again) is type(event)
    assert again == event
    assert again.field_values == event.field_values
    assert sow.parse(event.to_dict()) == event
