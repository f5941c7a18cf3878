"""parse(): typed frozen events from SuperOffice webhook bodies, strict and lossless."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import superoffice_webhooks as sow
from codegen.catalogue import ENTITIES
from conftest import example, example_json, example_names, examples
from superoffice_webhooks import (
    EVENT_CLASSES,
    Event,
    ExtraTableChanged,
    PayloadError,
    PersonChanged,
    PersonConsented,
    PersonCreated,
    PersonDeleted,
    PersonEvent,
    PersonFieldValues,
    PersonSoftDeleted,
    PersonUnconsented,
    SuperOfficeWebhookError,
    TestEvent,
    UnknownEvent,
    parse,
)
from superoffice_webhooks._parse import MAX_DEPTH
from superoffice_webhooks.testing import make_payload

if TYPE_CHECKING:
    from collections.abc import Callable

#: Every test here runs with the standard library's JSON parser and with orjson.
pytestmark = pytest.mark.usefixtures("json_parser")

PERSONAL = "SECRET-PERSONAL-DATA"

PERSON_EXAMPLES: dict[str, type[PersonEvent]] = {
    "person.created": PersonCreated,
    "person.changed": PersonChanged,
    "person.deleted": PersonDeleted,
    "person.consented": PersonConsented,
    "person.unconsented": PersonUnconsented,
}
PERSON_CLASSES: list[type[PersonEvent]] = [
    PersonCreated,
    PersonChanged,
    PersonSoftDeleted,
    PersonDeleted,
    PersonConsented,
    PersonUnconsented,
]
NO_EVENT_ID = "sale.deleted.reference-index"
#: The EventId of the person.created example.
EVENT_ID = "576086e3-5261-426b-a84b-26ca7f5b65e8"
PARSEABLE_EXAMPLES = [n for n in example_names() if n != NO_EVENT_ID]
#: Every documented example, sent under a name no class knows (a custom event, an
#: unknown verb of a known entity or family): each must parse to UnknownEvent losslessly.
CUSTOM_NAMES = ("window.closed", "contact.merged", "list.category.deleted", "y_table.renamed")
UNKNOWN_EXAMPLES = [
    (name, CUSTOM_NAMES[i % len(CUSTOM_NAMES)]) for i, name in enumerate(PARSEABLE_EXAMPLES)
]

#: The documented top-level keys (SPEC section 4).
WIRE_KEYS = (
    "EventId",
    "Timestamp",
    "Changes",
    "Event",
    "PrimaryKey",
    "Entity",
    "ContextIdentifier",
    "ChangedByAssociateId",
    "WebhookName",
    "Values",
    "FieldValues",
)

REQUIRED_KEYS = (
    "EventId",
    "Timestamp",
    "Changes",
    "PrimaryKey",
    "ContextIdentifier",
    "ChangedByAssociateId",
    "WebhookName",
)

#: Person FieldValues wire key -> attribute (SPEC 5.3 / 5.4).
PERSON_FIELD_ATTRS = {
    "activeInterests": "active_interests",
    "associate_id": "associate_id",
    "business_idx": "business_idx",
    "category_idx": "category_idx",
    "contact_id": "contact_id",
    "country_id": "country_id",
    "DeletedDate": "deleted_date",
    "group_id": "group_id",
    "person_id": "person_id",
    "position_idx": "position_idx",
    "registered": "registered",
    "registered_associate_id": "registered_associate_id",
    "retired": "retired",
    "source": "source",
    "updated": "updated",
    "updated_associate_id": "updated_associate_id",
    "userdef2_id": "userdef2_id",
    "userdef_id": "userdef_id",
}
PERSON_DATE_KEYS = ("DeletedDate", "registered", "updated")
PERSON_INT_KEYS = tuple(k for k in PERSON_FIELD_ATTRS if k not in PERSON_DATE_KEYS)

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))"
)


def utc_from_text(text: str) -> datetime:
    """An ISO timestamp as aware UTC, fraction truncated to microseconds (computed by hand)."""
    m = _TIMESTAMP.fullmatch(text)
    assert m is not None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    value = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    if m.group(8) != "Z":
        sign = 1 if m.group(9) == "+" else -1
        value -= sign * timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
    return value


def body_with(name: str, **changes: object) -> bytes:
    """The example *name* with top-level keys replaced, as JSON bytes."""
    data = example_json(name)
    data.update(changes)
    return json.dumps(data).encode("utf-8")


def body_without(name: str, key: str) -> bytes:
    """The example *name* without top-level *key*, as JSON bytes."""
    data = example_json(name)
    del data[key]
    return json.dumps(data).encode("utf-8")


def person_field_values(**changes: object) -> dict[str, object]:
    """person.created's FieldValues with some keys replaced."""
    values = example_json("person.created")["FieldValues"]
    assert isinstance(values, dict)
    return {**values, **changes}


def assert_payload_error(body: bytes | str | dict[str, Any], field: str | None) -> PayloadError:
    """parse(body) raises PayloadError naming *field* (in .field and in the message)."""
    with pytest.raises(PayloadError) as info:
        parse(body)
    exc = info.value
    assert isinstance(exc, SuperOfficeWebhookError)
    assert exc.field == field
    if field is not None:
        assert field in str(exc)
    return exc


# --- the person examples -----------------------------------------------------------


@pytest.mark.parametrize(("name", "cls"), PERSON_EXAMPLES.items())
def test_person_example_parses_to_its_class(name: str, cls: type[PersonEvent]) -> None:
    """Each documented person example parses to exactly its own class."""
    event = parse(example(name))
    assert type(event) is cls
    assert isinstance(event, PersonEvent)
    assert isinstance(event, Event)
    assert EVENT_CLASSES[name] is cls
    assert cls.event_name == name


@pytest.mark.parametrize("name", PERSON_EXAMPLES)
def test_person_example_top_level_fields(name: str) -> None:
    """Top-level fields of person examples have the documented values and Python types."""
    data = example_json(name)
    event = parse(example(name))
    assert event.event_id == UUID(str(data["EventId"]))
    assert type(event.event_id) is UUID
    assert event.timestamp == utc_from_text(str(data["Timestamp"]))
    assert event.timestamp.utcoffset() == timedelta(0)
    assert event.changes == tuple(data["Changes"])  # type: ignore[arg-type]
    assert type(event.changes) is tuple
    assert event.event == name
    assert event.primary_key == data["PrimaryKey"]
    assert type(event.primary_key) is int
    assert event.entity == "person"
    assert event.context_identifier == data["ContextIdentifier"]
    assert event.changed_by_associate_id == data["ChangedByAssociateId"]
    assert event.webhook_name == data["WebhookName"]
    assert event.extra == {}
    if "Values" in data:
        assert event.values is not None
        assert dict(event.values) == data["Values"]
    else:
        assert event.values is None
    if "FieldValues" not in data:
        assert event.field_values is None


def test_timestamp_truncates_seven_digits() -> None:
    """The 7-digit .NET fraction is truncated (not rounded) to microseconds."""
    event = parse(example("person.created"))
    assert event.timestamp == datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)
    assert event.timestamp.microsecond == 850693


def test_person_created_field_values_are_typed() -> None:
    """person.created FieldValues: ints are ints, dates are datetimes, the .NET min is None."""
    data = example_json("person.created")["FieldValues"]
    assert isinstance(data, dict)
    event = parse(example("person.created"))
    fv = event.field_values
    assert type(fv) is PersonFieldValues
    for key in PERSON_INT_KEYS:
        value = getattr(fv, PERSON_FIELD_ATTRS[key])
        assert type(value) is int, key
        assert value == data[key], key
    assert fv.registered == datetime(2021, 8, 13, 10, 11, 47)  # noqa: DTZ001  # naive on the wire
    assert fv.registered is not None
    assert fv.registered.tzinfo is None
    two_hours = timezone(timedelta(hours=2))
    assert fv.updated == datetime(2025, 5, 14, 14, 43, 4, 383290, tzinfo=two_hours)
    assert fv.updated is not None
    assert fv.updated.utcoffset() == timedelta(hours=2)
    assert fv.updated.hour == 14
    assert fv.deleted_date is None
    assert fv.extra == {}


def test_person_contact_id_from_field_values() -> None:
    """contact_id comes from FieldValues.contact_id when sent."""
    data = example_json("person.created")["FieldValues"]
    assert isinstance(data, dict)
    event = parse(example("person.created"))
    assert isinstance(event, PersonEvent)
    assert event.contact_id == data["contact_id"]
    assert event.person_id == example_json("person.created")["PrimaryKey"]


def test_person_contact_id_from_delete_values() -> None:
    """On person.deleted, contact_id comes from the delete Values."""
    data = example_json("person.deleted")
    values = data["Values"]
    assert isinstance(values, dict)
    event = parse(example("person.deleted"))
    assert isinstance(event, PersonDeleted)
    assert event.contact_id == values["contact_id"]
    assert event.person_id == data["PrimaryKey"]


@pytest.mark.parametrize("name", ["person.changed", "person.consented", "person.unconsented"])
def test_person_contact_id_none_when_absent(name: str) -> None:
    """contact_id is None when neither FieldValues nor Values carries it."""
    event = parse(example(name))
    assert isinstance(event, PersonEvent)
    assert event.contact_id is None
    assert event.person_id == example_json(name)["PrimaryKey"]


def test_person_contact_id_falls_back_to_values() -> None:
    """A null FieldValues.contact_id falls back to Values.contact_id."""
    body = body_with(
        "person.deleted",
        FieldValues=person_field_values(contact_id=None),
        Values={"contact_id": 77},
    )
    event = parse(body)
    assert isinstance(event, PersonDeleted)
    assert event.contact_id == 77


def test_person_contact_id_none_with_values_without_it() -> None:
    """Values without contact_id and no FieldValues give None."""
    event = parse(body_with("person.deleted", Values={"person_id": 18}))
    assert isinstance(event, PersonEvent)
    assert event.contact_id is None


def test_person_softdeleted() -> None:
    """person.softdeleted (no documented example) parses to PersonSoftDeleted."""
    event = parse(body_with("person.changed", Event="person.softdeleted"))
    assert type(event) is PersonSoftDeleted
    assert event.event == "person.softdeleted"
    assert EVENT_CLASSES["person.softdeleted"] is PersonSoftDeleted
    assert parse(event.to_json()) == event


def test_test_event() -> None:
    """The test ping parses to TestEvent."""
    data = example_json("test")
    event = parse(example("test"))
    assert type(event) is TestEvent
    assert event.event == "test"
    assert event.entity == "test"
    assert event.primary_key == 0
    assert event.changes == ()
    assert event.event_id == UUID(str(data["EventId"]))


# --- every other example ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "custom"), UNKNOWN_EXAMPLES)
def test_other_examples_parse_to_unknown_event_losslessly(name: str, custom: str) -> None:
    """Every example under a name without a class parses to UnknownEvent, nothing lost."""
    data = {**example_json(name), "Event": custom}
    event = parse(json.dumps(data))
    assert type(event) is UnknownEvent
    assert event.event == data["Event"]
    assert event.entity == data.get("Entity")
    assert event.timestamp == utc_from_text(str(data["Timestamp"]))
    if "FieldValues" in data:
        assert event.field_values is not None
        assert dict(event.field_values) == data["FieldValues"]
    else:
        assert event.field_values is None
    if "Values" in data:
        assert event.values is not None
        assert dict(event.values) == data["Values"]
    else:
        assert event.values is None
    known = set(WIRE_KEYS)
    assert dict(event.extra) == {k: v for k, v in data.items() if k not in known}
    # The wire form is the body again, except for the truncated Timestamp.
    out = json.loads(event.to_json())
    assert utc_from_text(out.pop("Timestamp")) == utc_from_text(str(data.pop("Timestamp")))
    assert out == data


def test_missing_event_id_names_event_id() -> None:
    """The reference-index delete sketch lacks EventId: PayloadError naming EventId."""
    assert_payload_error(example(NO_EVENT_ID), "EventId")


def test_unknown_example_set_is_not_empty() -> None:
    """The unknown-event tests really cover the examples, under every custom name."""
    assert len(UNKNOWN_EXAMPLES) >= 50
    assert any(n == "contact.created" for n, _ in UNKNOWN_EXAMPLES)
    assert any(n == "webhook.started" for n, _ in UNKNOWN_EXAMPLES)
    assert {c for _, c in UNKNOWN_EXAMPLES} == set(CUSTOM_NAMES)
    for custom in CUSTOM_NAMES:
        assert custom not in EVENT_CLASSES


def test_state_event_has_no_entity() -> None:
    """Webhook state events have no Entity: it is None and stays absent on the wire."""
    event = parse(example("webhook.started"))
    assert event.entity is None
    assert "Entity" not in event.to_dict()


# --- extra keys ------------------------------------------------------------------------

CUSTOM = {
    "MyProperty": {"nested": [1, "two", None, True, 2.5]},
    "Flag": False,
    "Empty": None,
    "Text": "hello",
}


@pytest.mark.parametrize("name", ["person.created", "test", "contact.created", "webhook.errors"])
def test_unknown_top_level_keys_land_in_extra(name: str) -> None:
    """Unknown top-level keys (custom Properties) are kept in extra and written back."""
    event = parse(body_with(name, **CUSTOM))
    assert dict(event.extra) == CUSTOM
    out = json.loads(event.to_json())
    for key, value in CUSTOM.items():
        assert out[key] == value
    again = parse(event.to_json())
    assert again == event
    assert dict(again.extra) == CUSTOM
    assert parse(event.to_dict()) == event


def test_unknown_person_field_values_keys_land_in_field_values_extra() -> None:
    """Unknown FieldValues keys of a person event land in field_values.extra and round-trip."""
    unknown = {"firstname_hash": "abc", "newColumn": 5, "flags": [1, 2], "obj": {"a": None}}
    event = parse(body_with("person.created", FieldValues=person_field_values(**unknown)))
    assert isinstance(event, PersonCreated)
    assert event.field_values is not None
    assert dict(event.field_values.extra) == unknown
    out = json.loads(event.to_json())
    for key, value in unknown.items():
        assert out["FieldValues"][key] == value
    again = parse(event.to_json())
    assert again == event
    assert again.field_values is not None
    assert dict(again.field_values.extra) == unknown


def test_extra_is_empty_when_nothing_unknown() -> None:
    """extra is empty (not None) for documented bodies."""
    event = parse(example("person.created"))
    assert event.extra == {}
    assert len(event.extra) == 0


# --- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("name", PARSEABLE_EXAMPLES)
def test_every_example_round_trips(name: str) -> None:
    """parse(e.to_json()) == e and parse(e.to_dict()) == e for every example."""
    event = parse(example(name))
    text = event.to_json()
    assert isinstance(text, str)
    assert parse(text) == event
    assert type(parse(text)) is type(event)
    assert parse(text.encode("utf-8")) == event
    assert parse(event.to_dict()) == event
    assert json.loads(text) == event.to_dict()


def test_to_json_is_compact() -> None:
    """to_json is compact JSON text."""
    text = parse(example("person.created")).to_json()
    assert "\n" not in text
    assert ", " not in text
    assert '": ' not in text


def test_to_dict_uses_wire_names_and_json_types() -> None:
    """to_dict uses the PascalCase wire keys and JSON-compatible values."""
    data = example_json("person.created")
    out = parse(example("person.created")).to_dict()
    assert set(out) == set(data)
    assert out["EventId"] == data["EventId"]
    assert out["Changes"] == data["Changes"]
    assert isinstance(out["Timestamp"], str)
    assert utc_from_text(out["Timestamp"]) == utc_from_text(str(data["Timestamp"]))
    fv = out["FieldValues"]
    assert isinstance(fv, dict)
    documented = data["FieldValues"]
    assert isinstance(documented, dict)
    assert fv["DeletedDate"] == documented["DeletedDate"] == "0001-01-01T00:00:00"
    assert isinstance(documented, dict)
    assert fv["contact_id"] == documented["contact_id"]
    assert fv["activeInterests"] == documented["activeInterests"]


# --- the wire form as sent -------------------------------------------------------------


@pytest.mark.parametrize("name", PARSEABLE_EXAMPLES)
def test_every_example_comes_back_as_sent(name: str) -> None:
    """to_json() gives back the JSON SuperOffice sent, key order aside, for every example."""
    assert json.loads(parse(example(name)).to_json()) == json.loads(example(name))


def test_keys_not_sent_stay_out_and_nulls_stay_in() -> None:
    """Only the keys sent are written: a key sent as null comes back as null."""
    values = {"contact_id": 7, "updated": None, "DeletedDate": "0001-01-01T00:00:00"}
    data = {**example_json("person.created"), "Entity": None, "FieldValues": values}
    assert parse(json.dumps(data)).to_dict() == data
    del data["Entity"]
    data["FieldValues"] = {"contact_id": 7}
    assert parse(json.dumps(data)).to_dict() == data


_PERSON_VALUES = {
    "contact_id": 7,
    "person_id": 12,
    "activeInterests": 1,
    "updated": "2025-05-14T14:43:04.3832901+02:00",
    "DeletedDate": "0001-01-01T00:00:00",
}


@given(
    st.dictionaries(st.sampled_from(sorted(_PERSON_VALUES)), st.sampled_from(["null", "value"])),
    st.dictionaries(st.sampled_from(["custom_a", "custom_b"]), st.integers(-5, 5)),
)
def test_any_mix_of_missing_null_and_set_values_comes_back_as_sent(
    sent: dict[str, str], extra: dict[str, int]
) -> None:
    """FieldValues with keys missing, sent as null or set, and extra keys, come back as sent."""
    values: dict[str, object] = {
        key: None if how == "null" else _PERSON_VALUES[key] for key, how in sent.items()
    }
    data = {**example_json("person.created"), "FieldValues": {**values, **extra}}
    assert parse(json.dumps(data)).to_dict() == data
    assert parse(data).to_dict() == data


def test_nulls_stay_in_when_the_body_takes_the_detailed_path() -> None:
    """A key sent as null comes back as null also for a body with a container in an unknown key."""
    values = {"contact_id": 7, "updated": None}
    data = {**example_json("person.created"), "Custom": [1], "Entity": None, "FieldValues": values}
    assert parse(json.dumps(data)).to_dict() == data


def test_each_to_dict_gives_containers_of_its_own() -> None:
    """Changing the lists and objects of one to_dict() result changes no other result."""
    event = parse(json.dumps({**example_json("person.created"), "Custom": [1, [2]]}))
    first, second = event.to_dict(), event.to_dict()
    changes, values = first["Changes"], first["FieldValues"]
    assert isinstance(changes, list)
    assert isinstance(values, dict)
    changes.append("person_id")
    values["contact_id"] = 0
    custom = first["Custom"]
    assert isinstance(custom, list)
    custom.append(3)
    custom[1].append(4)
    assert second == event.to_dict()
    assert second != first
    assert event.extra["Custom"] == [1, [2]]


def test_a_parsed_mapping_is_the_callers_own() -> None:
    """Changing the mapping parse() was given, at any depth, changes nothing in the event."""
    values: dict[str, object] = {"contact_id": 7, "updated": "2025-05-14T14:43:04.3832901+02:00"}
    custom: list[list[int]] = [[1]]
    data = {**example_json("person.created"), "Entity": None, "Custom": custom}
    data["FieldValues"] = values
    event = parse(data)
    before = event.to_dict()
    assert before == data
    data["Timestamp"] = str(data["Timestamp"]).replace("Z", "+00:00")
    data["Entity"] = "person"
    values["updated"] = "2025-05-14T12:43:04.383290Z"
    values["person_id"] = None
    custom[0].append(2)
    assert event.to_dict() == before


def test_raw_field_values_in_to_dict_are_the_callers_own() -> None:
    """The lists in an unknown event's FieldValues are copied by to_dict(), at any depth."""
    body = {**example_json("person.created"), "Event": "unheard.of", "FieldValues": {"x": [[1]]}}
    event = parse(json.dumps(body))
    assert event.field_values == {"x": [[1]]}
    values = event.to_dict()["FieldValues"]
    assert isinstance(values, dict)
    values["x"].append(2)
    values["x"][0].append(3)
    assert event.field_values == {"x": [[1]]}
    assert event.to_dict() == body


def test_a_list_met_twice_in_a_mapping_is_copied_once() -> None:
    """A list under two keys of a parsed mapping becomes one copy, the caller's left alone."""
    shared = [1, [2]]
    body = {**example_json("person.created"), "First": shared, "Second": shared}
    event = parse(body)
    shared.append(3)
    assert event.extra["First"] == event.extra["Second"] == [1, [2]]
    assert event.extra["First"] is event.extra["Second"]


@pytest.mark.parametrize("depth", [400, 800])
def test_deeply_nested_unknown_keys_come_back(depth: int) -> None:
    """A body nested as deep as the parser takes writes back; a mapping, up to parse()'s limit."""
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    data = {**example_json("person.created"), "Custom": value}
    assert json.loads(parse(json.dumps(data)).to_json()) == data
    if depth <= MAX_DEPTH:
        assert json.loads(parse(data).to_json()) == data
    else:
        with pytest.raises(PayloadError, match="nested too deeply"):
            parse(data)


def test_a_mapping_may_nest_max_depth_levels_and_no_more() -> None:
    """parse() takes a mapping nested MAX_DEPTH levels deep (the object itself is one)."""
    value: list[object] = []
    for _ in range(MAX_DEPTH - 2):
        value = [value]
    data = {**example_json("person.created"), "Custom": value}  # MAX_DEPTH levels
    assert parse(data).extra["Custom"] == value
    with pytest.raises(PayloadError, match="nested too deeply"):
        parse({**data, "Custom": [value]})


def test_extra_table_values_come_back_encoded() -> None:
    """Extra-table columns are typed when read and written back in their [I:]/[DT:] form."""
    event = parse(example("y_table.created"))
    assert isinstance(event.field_values, sow.ExtraTableFieldValues)
    assert event.field_values.id == 6
    assert event.field_values.dbi_last_modified is None
    values = event.to_dict()["FieldValues"]
    assert isinstance(values, dict)
    assert values["id"] == "[I:6]"
    assert values["dbi_last_modified"] == "[DT:01/01/0001 00:00:00.0000000]"


def test_guid_case_and_timestamp_offset_come_back_as_sent() -> None:
    """An upper-case EventId and a Timestamp with an offset are written as they came."""
    text = "2018-04-24T10:01:15.8506935+02:00"
    body = body_with("person.created", EventId=EVENT_ID.upper(), Timestamp=text)
    event = parse(body)
    assert event.event_id == UUID(EVENT_ID)
    assert event.timestamp == datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)
    assert (event.to_dict()["EventId"], event.to_dict()["Timestamp"]) == (EVENT_ID.upper(), text)


def test_values_as_sent_are_not_part_of_equality() -> None:
    """Events that differ only in digits beyond the microsecond are equal, hash alike, show alike."""
    first = parse(body_with("test", Timestamp="2018-04-24T08:52:59.0005158Z"))
    second = parse(body_with("test", Timestamp="2018-04-24T08:52:59.0005150Z"))
    assert first == second
    assert hash(first) == hash(second)
    assert repr(first) == repr(second)
    assert "0005158" not in repr(first)
    assert first.to_json() != second.to_json()


def test_changed_values_are_written_as_they_are_now() -> None:
    """A value changed with attrs.evolve is written in plain JSON; the others as sent."""
    event = parse(example("y_table.created"))
    values = event.field_values
    assert isinstance(values, sow.ExtraTableFieldValues)
    changed = attrs.evolve(event, field_values=attrs.evolve(values, id=7, last_changed=None))
    written = changed.to_dict()["FieldValues"]
    assert isinstance(written, dict)
    assert written["id"] == 7
    assert "last_changed" not in written  # None, like a key that was not sent
    assert written["dbi_agent_id"] == "[I:-1]"
    assert written["dbi_last_modified"] == "[DT:01/01/0001 00:00:00.0000000]"
    assert parse(changed.to_json()) == changed


def test_a_date_moved_to_another_offset_is_written_at_its_offset() -> None:
    """The same instant at another offset is not the value sent: it is written as it is."""
    event = parse(example("person.created"))
    values = event.field_values
    assert isinstance(values, PersonFieldValues)
    assert values.updated is not None
    in_utc = values.updated.astimezone(UTC)
    changed = attrs.evolve(event, field_values=attrs.evolve(values, updated=in_utc))
    written = changed.to_dict()["FieldValues"]
    assert isinstance(written, dict)
    assert written["updated"] == "2025-05-14T12:43:04.383290Z"


_FRACTION_DIGITS = st.integers(min_value=5, max_value=7)
_OFFSETS = st.sampled_from(["Z", "+02:00", "-05:30", "+00:00"])
#: Naive bounds, as hypothesis wants them; the dates drawn are naive unless a zone is given.
_FROM, _TO = datetime(1900, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001
_INSTANTS = st.datetimes(min_value=_FROM, max_value=_TO)


def _dotnet_text(moment: datetime, digits: int, ticks: int, offset: str) -> str:
    """*moment* as .NET writes it, with *digits* fractional digits taken from *ticks*."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ticks:07d}"[: 20 + digits] + offset


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.too_slow])
@given(
    moment=_INSTANTS,
    digits=_FRACTION_DIGITS,
    ticks=st.integers(min_value=0, max_value=9_999_999),
    offset=_OFFSETS,
    naive=st.booleans(),
)
def test_property_dates_keep_all_their_fractional_digits(
    moment: datetime, digits: int, ticks: int, offset: str, naive: bool
) -> None:
    """Timestamps and FieldValues dates with 5 to 7 fractional digits come back digit for digit."""
    timestamp = _dotnet_text(moment, digits, ticks, offset)
    updated = _dotnet_text(moment, digits, ticks, "" if naive else offset)
    data = example_json("person.created")
    data["Timestamp"] = timestamp
    data["FieldValues"] = {**person_field_values(), "updated": updated}
    event = parse(json.dumps(data))
    written = event.to_dict()
    assert written["Timestamp"] == timestamp
    assert written["FieldValues"]["updated"] == updated  # type: ignore[index]
    assert json.loads(event.to_json()) == data
    assert parse(event.to_json()) == event


_EVOLVED_DATES = st.none() | st.datetimes(
    min_value=_FROM,
    max_value=_TO,
    timezones=st.none() | st.sampled_from([UTC, timezone(timedelta(hours=2))]),
)


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["person.created", "sale.created", "y_table.created", "relation.created"]),
    timestamp=st.datetimes(min_value=_FROM, max_value=_TO, timezones=st.just(UTC)),
    date=_EVOLVED_DATES,
    number=st.none() | st.integers(min_value=-(2**31), max_value=2**31),
    data=st.data(),
)
def test_property_evolved_events_write_their_new_values(
    name: str,
    timestamp: datetime,
    date: datetime | None,
    number: int | None,
    data: st.DataObject,
) -> None:
    """An event changed with attrs.evolve reads back as the changed event; untouched keys as sent."""
    event = parse(example(name))
    values = event.field_values
    assert isinstance(values, sow.FieldValues)
    fields = {f.name: f for f in attrs.fields(type(values)) if "wire" in f.metadata}
    dates = sorted(n for n, f in fields.items() if f.type == datetime | None)
    numbers = sorted(n for n, f in fields.items() if f.type == int | None)
    date_name, number_name = data.draw(st.sampled_from(dates)), data.draw(st.sampled_from(numbers))
    changes: dict[str, Any] = {date_name: date, number_name: number}
    changed = attrs.evolve(event, timestamp=timestamp, field_values=attrs.evolve(values, **changes))
    assert parse(changed.to_json()) == changed
    original, written = example_json(name), changed.to_dict()
    touched = {"Timestamp", "FieldValues"}
    assert {k: v for k, v in written.items() if k not in touched} == {
        k: v for k, v in original.items() if k not in touched
    }
    sent = original["FieldValues"]
    out = written["FieldValues"]
    assert isinstance(sent, dict)
    assert isinstance(out, dict)
    touched = {
        key
        for f in (fields[date_name], fields[number_name])
        for key in (f.metadata["wire"], *f.metadata.get("aliases", ()))
    }
    assert {k: v for k, v in out.items() if k not in touched} == {
        k: v for k, v in sent.items() if k not in touched
    }


@pytest.mark.parametrize("name", ["person.created", "test", "sale.deleted"])
def test_parse_accepts_bytes_str_and_dict(name: str) -> None:
    """parse takes the body as bytes, as str or as an already decoded dict."""
    raw = example(name)
    from_bytes = parse(raw)
    assert parse(raw.decode("utf-8")) == from_bytes
    assert parse(json.loads(raw)) == from_bytes
    assert parse(example_json(name)) == from_bytes


def test_parse_does_not_mutate_dict_input() -> None:
    """Parsing a dict leaves the caller's dict unchanged."""
    data = json.loads(body_with("person.created", Custom=1))
    before = json.dumps(data, sort_keys=True)
    parse(data)
    assert json.dumps(data, sort_keys=True) == before


def test_utf8_bom_is_accepted() -> None:
    """A UTF-8 byte order mark in front of the JSON is accepted (bytes and str)."""
    raw = example("person.created")
    assert parse("\ufeff".encode() + raw) == parse(raw)
    assert parse("\ufeff" + raw.decode("utf-8")) == parse(raw)


# --- timestamps -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-04-24T08:01:15.8506935Z", datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)),
        ("2018-04-24T08:18:42.089895Z", datetime(2018, 4, 24, 8, 18, 42, 89895, tzinfo=UTC)),
        ("2025-09-16T07:24:33.27583Z", datetime(2025, 9, 16, 7, 24, 33, 275830, tzinfo=UTC)),
        ("2018-04-24T08:01:15Z", datetime(2018, 4, 24, 8, 1, 15, tzinfo=UTC)),
        ("2018-04-24T08:01:15.8506935+00:00", datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)),
        ("2018-04-24T10:01:15.8506935+02:00", datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)),
        ("2018-04-24T01:00:00-05:30", datetime(2018, 4, 24, 6, 30, tzinfo=UTC)),
        ("2018-01-01T01:00:00+02:00", datetime(2017, 12, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_timestamp_formats(text: str, expected: datetime) -> None:
    """Timestamps with 5-7 fractional digits, Z or an offset become aware UTC."""
    assert utc_from_text(text) == expected  # the hand-made helper agrees
    event = parse(body_with("person.changed", Timestamp=text))
    assert event.timestamp == expected
    assert event.timestamp.utcoffset() == timedelta(0)
    # Converted, not merely equal as an instant: the wall-clock fields are UTC.
    assert event.timestamp.replace(tzinfo=None) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    "text", ["2018-04-24T08:01:15.8506935", "2018-04-24T08:01:15", "2018-04-24"]
)
def test_naive_timestamp_is_payload_error(text: str) -> None:
    """A Timestamp without Z or offset is refused, naming Timestamp."""
    assert_payload_error(body_with("person.changed", Timestamp=text), "Timestamp")


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2018-13-40T08:01:15Z", "0001-01-01T00:00:00+02:00"]
)
def test_bad_timestamp_is_payload_error(text: str) -> None:
    """A Timestamp that is not a representable date-time is refused, naming Timestamp."""
    assert_payload_error(body_with("person.changed", Timestamp=text), "Timestamp")


# --- frozen and hashable ---------------------------------------------------------------


@pytest.mark.parametrize("name", [*PERSON_EXAMPLES, "test", "contact.created", "sale.deleted"])
def test_events_are_frozen(name: str) -> None:
    """Assigning to an event attribute raises FrozenInstanceError."""
    event = parse(example(name))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.primary_key = 1  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.extra = {}  # type: ignore[misc]
    assert event.primary_key == example_json(name)["PrimaryKey"]


def test_person_field_values_are_frozen() -> None:
    """PersonFieldValues is frozen too."""
    fv = parse(example("person.created")).field_values
    assert isinstance(fv, PersonFieldValues)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fv.contact_id = 1  # type: ignore[misc]
    assert fv.contact_id == person_field_values()["contact_id"]


def test_mappings_are_read_only() -> None:
    """extra, values and raw field_values cannot be mutated in place."""
    event = parse(body_with("sale.deleted", Custom=1))
    assert event.values is not None
    assert event.field_values is not None
    with pytest.raises(TypeError):
        event.extra["x"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        event.values["x"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        event.field_values["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize("name", PARSEABLE_EXAMPLES)
def test_events_are_hashable(name: str) -> None:
    """Events are hashable; equal events hash equally and de-duplicate in a set."""
    first = parse(example(name))
    second = parse(example(name))
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


def test_different_events_are_not_equal() -> None:
    """Events differing in one field are not equal."""
    a = parse(example("person.changed"))
    b = parse(body_with("person.changed", PrimaryKey=1))
    assert a != b


# --- strictness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("PrimaryKey", "12"),
        ("PrimaryKey", 3.9),
        ("PrimaryKey", 12.0),
        ("PrimaryKey", True),
        ("PrimaryKey", None),
        ("ChangedByAssociateId", "316"),
        ("ChangedByAssociateId", False),
        ("ContextIdentifier", None),
        ("ContextIdentifier", 5),
        ("WebhookName", None),
        ("WebhookName", ["x"]),
        ("EventId", "not-a-guid"),
        ("EventId", 5),
        ("EventId", None),
        ("Timestamp", 1524556875),
        ("Timestamp", None),
        ("Changes", ["person_id", 1]),
        ("Changes", ["person_id", None]),
        ("Changes", "person_id"),
        ("Changes", None),
        ("Changes", {"a": "b"}),
        ("Entity", 5),
        ("Entity", ["person"]),
        ("Values", {"contact_id": "9"}),
        ("Values", {"contact_id": 9.5}),
        ("Values", {"contact_id": True}),
        ("Values", {"contact_id": None}),
        ("Values", [1, 2]),
        ("Values", "x"),
        ("FieldValues", [1]),
        ("FieldValues", "x"),
        ("FieldValues", 5),
        ("FieldValues", True),
    ],
)
@pytest.mark.parametrize("name", ["person.created", "test", "contact.created"])
def test_wrong_type_is_payload_error_naming_field(name: str, field: str, value: object) -> None:
    """A top-level value of the wrong type is refused; the error names the wire field."""
    assert_payload_error(body_with(name, **{field: value}), field)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("contact_id", "7179"),
        ("contact_id", 7179.0),
        ("contact_id", True),
        ("person_id", [1]),
        ("activeInterests", "0"),
        ("retired", False),
        ("registered", 5),
        ("registered", "not a date"),
        ("updated", True),
        ("DeletedDate", "garbage"),
        ("DeletedDate", {}),
    ],
)
def test_person_field_values_wrong_type_names_nested_field(key: str, value: object) -> None:
    """A person FieldValues value of the wrong type is refused as FieldValues.<wire key>."""
    body = body_with("person.created", FieldValues=person_field_values(**{key: value}))
    assert_payload_error(body, f"FieldValues.{key}")


@pytest.mark.parametrize("key", REQUIRED_KEYS)
@pytest.mark.parametrize("name", ["person.created", "person.deleted", "test", "contact.created"])
def test_missing_required_field(name: str, key: str) -> None:
    """A missing required key is refused, naming that key."""
    exc = assert_payload_error(body_without(name, key), key)
    assert "missing" in str(exc)


@pytest.mark.parametrize("key", ["Entity", "Values", "FieldValues"])
def test_optional_fields_may_be_missing_or_null(key: str) -> None:
    """Entity, Values and FieldValues are optional and may be null."""
    for body in (body_without("sale.deleted", key), body_with("sale.deleted", **{key: None})):
        event = parse(body)
        assert event.event == "sale.deleted"
    assert parse(body_with("person.created", **{key: None})).event == "person.created"


def test_missing_event() -> None:
    """A body without Event is refused, naming Event."""
    assert_payload_error(body_without("person.created", "Event"), "Event")


@pytest.mark.parametrize("value", [5, None, True, ["person.created"], {"a": 1}, 1.5])
def test_event_not_a_string(value: object) -> None:
    """An Event that is not a string is refused, naming Event."""
    assert_payload_error(body_with("person.created", Event=value), "Event")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[]", id="array"),
        pytest.param(b"[" + example("person.created") + b"]", id="array-of-event"),
        pytest.param(b'"person.created"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"4.2", id="float"),
        pytest.param(b"null", id="null"),
        pytest.param(b"true", id="true"),
        pytest.param(b"", id="empty"),
        pytest.param(b"   ", id="blank"),
        pytest.param(b"\xff\xfe{}", id="invalid-utf8"),
        pytest.param(b'{"Event": "test", "x": "\xc3"}', id="truncated-utf8"),
        pytest.param(b"{", id="unterminated"),
        pytest.param(b"{'Event': 'test'}", id="single-quotes"),
        pytest.param(b'{"Event": "test",}', id="trailing-comma"),
        pytest.param(example("person.created") + b"x", id="trailing-garbage"),
        pytest.param(b'{"Event": "test", "x": NaN}', id="nan"),
        pytest.param(b'{"Event": "test", "x": Infinity}', id="infinity"),
        pytest.param(b'{"Event": "test", "x": -Infinity}', id="minus-infinity"),
        pytest.param(b'{"Event": "test", "x": ' + b"9" * 5000 + b"}", id="huge-int"),
    ],
)
def test_malformed_body_is_payload_error(body: bytes) -> None:
    """Bodies that are not a JSON object are refused with PayloadError (no field)."""
    exc = assert_payload_error(body, None)
    assert not isinstance(exc, (ValueError, UnicodeError))


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000]
)
def test_deeply_nested_json_is_payload_error(body: bytes) -> None:
    """Pathologically deep JSON is a PayloadError, not a RecursionError."""
    with pytest.raises(PayloadError):
        parse(body)


@pytest.mark.parametrize("body", [None, 5, 1.5, ["Event"], object()])
def test_parse_wrong_argument_type(body: object) -> None:
    """parse refuses anything but bytes, str or a mapping with PayloadError."""
    with pytest.raises(PayloadError):
        parse(body)  # type: ignore[arg-type]


# --- nothing personal in error messages ------------------------------------------------


def _leaky_bodies() -> list[tuple[str, bytes]]:
    return [
        ("pk", body_with("person.created", PrimaryKey=PERSONAL)),
        ("event-id", body_with("person.created", EventId=PERSONAL)),
        ("timestamp", body_with("person.created", Timestamp=PERSONAL)),
        ("changes", body_with("person.created", Changes=[PERSONAL, 1])),
        ("changes-str", body_with("person.created", Changes=PERSONAL)),
        ("context", body_with("person.created", ContextIdentifier=[PERSONAL])),
        ("webhook-name", body_with("person.created", WebhookName={PERSONAL: PERSONAL})),
        ("values-key", body_with("person.deleted", Values={PERSONAL: PERSONAL})),
        ("field-values", body_with("person.created", FieldValues=PERSONAL)),
        (
            "fv-contact",
            body_with("person.created", FieldValues=person_field_values(contact_id=PERSONAL)),
        ),
        (
            "fv-date",
            body_with("person.created", FieldValues=person_field_values(registered=PERSONAL)),
        ),
        ("unknown-fv", body_with("test", FieldValues=[PERSONAL])),
        ("event", body_with("person.created", Event=[PERSONAL])),
        ("missing", body_without("person.created", "EventId")[:-1] + f',"{PERSONAL}":1}}'.encode()),
        ("invalid-json", f'{{"WebhookName": "{PERSONAL}", '.encode()),
        ("nan", f'{{"WebhookName": "{PERSONAL}", "x": NaN}}'.encode()),
        ("bad-utf8", f'{{"WebhookName": "{PERSONAL}\xff"}}'.encode("latin-1")),
        ("string-body", json.dumps(PERSONAL).encode()),
        ("array-body", json.dumps([PERSONAL]).encode()),
    ]


LEAKY = _leaky_bodies()


@pytest.mark.parametrize("body", [b for _, b in LEAKY], ids=[i for i, _ in LEAKY])
def test_error_messages_contain_no_body_values(body: bytes) -> None:
    """PayloadError messages name fields and types, never values from the body."""
    with pytest.raises(PayloadError) as info:
        parse(body)
    message = str(info.value)
    assert message
    assert PERSONAL not in message
    assert "PERSONAL" not in message
    assert PERSONAL not in (info.value.field or "")
    for value in ("576086e3", "Cust1234", "Name you provided", "1467783"):
        assert value not in message


# --- hypothesis: robustness ---------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=15,
)
event_names = st.sampled_from([*EVENT_CLASSES, "contact.created", "webhook.started"]) | st.text()
_VALID = {**example_json("person.created"), "Values": {"contact_id": 1, "person_id": 2}}
#: Objects with the documented keys, each either a valid value or an arbitrary JSON value.
payload_like = st.fixed_dictionaries(
    {
        "Event": event_names,
        **{key: st.just(_VALID[key]) | st.just(_VALID[key]) | json_values for key in REQUIRED_KEYS},
    },
    optional={
        key: st.just(_VALID[key]) | json_values for key in ("Entity", "Values", "FieldValues")
    },
)


def _parse_or_payload_error(body: bytes | str | dict[str, Any]) -> Event | None:
    """parse(body), or None if it raised PayloadError; any other exception propagates."""
    try:
        return parse(body)
    except PayloadError:
        return None


def _outcome(body: dict[str, Any]) -> Event | PayloadError:
    """The parsed event, or the PayloadError parse raised."""
    try:
        return parse(body)
    except PayloadError as exc:
        return exc


@settings(max_examples=examples(200))
@given(st.binary(max_size=300))
def test_property_arbitrary_bytes(body: bytes) -> None:
    """Arbitrary bytes either parse or raise PayloadError, nothing else."""
    _parse_or_payload_error(body)


@settings(max_examples=examples(200))
@given(json_values)
def test_property_arbitrary_json_values(value: object) -> None:
    """Arbitrary JSON values either parse or raise PayloadError, nothing else."""
    text = json.dumps(value)
    _parse_or_payload_error(text)
    _parse_or_payload_error(text.encode("utf-8"))
    if isinstance(value, dict):
        _parse_or_payload_error(value)


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.too_slow])
@given(payload_like)
def test_property_payload_like_objects(value: dict[str, Any]) -> None:
    """Objects with the documented keys and arbitrary values parse or raise PayloadError."""
    event = _parse_or_payload_error(value)
    if event is not None:
        assert event.event == value["Event"]
        assert parse(event.to_json()) == event


_JSON_TYPES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _json_type(value: object) -> str:
    return _JSON_TYPES[type(value)]


_NEAR_VALID_KEYS = (*WIRE_KEYS,)
#: The JSON type(s) each top-level key legitimately has (SPEC section 4).
_ACCEPTED_TYPES = {
    "EventId": {"string"},
    "Timestamp": {"string"},
    "Changes": {"array"},
    "Event": {"string"},
    "PrimaryKey": {"integer"},
    "Entity": {"string", "null"},
    "ContextIdentifier": {"string"},
    "ChangedByAssociateId": {"integer"},
    "WebhookName": {"string"},
    "Values": {"object", "null"},
    "FieldValues": {"object", "null"},
}


@settings(max_examples=examples(300))
@given(key=st.sampled_from(_NEAR_VALID_KEYS), value=json_values)
def test_property_near_valid_person_created(key: str, value: object) -> None:
    """person.created with one field of another JSON type: PayloadError naming it, or accepted."""
    documented = {t for t in _ACCEPTED_TYPES[key] if t != "null"}
    if _json_type(value) in documented:
        value = [value] if key != "Changes" else {"x": value}
    data = example_json("person.created")
    data[key] = value
    if value is None and "null" in _ACCEPTED_TYPES[key]:
        event = parse(data)
        assert type(event) is PersonCreated
        assert parse(event.to_json()) == event
        return
    with pytest.raises(PayloadError) as info:
        parse(data)
    assert info.value.field == key
    assert key in str(info.value)


@settings(max_examples=examples(200))
@given(key=st.sampled_from([*PERSON_FIELD_ATTRS, "unknownKey"]), value=json_values)
def test_property_near_valid_person_field_values(key: str, value: object) -> None:
    """One person FieldValues key set to any JSON value: accepted or names FieldValues.<key>."""
    data = example_json("person.created")
    data["FieldValues"] = person_field_values(**{key: value})
    event = _outcome(data)
    if isinstance(event, PayloadError):
        assert event.field == f"FieldValues.{key}"
        assert key in str(event)
        assert key in PERSON_FIELD_ATTRS
        if key in PERSON_INT_KEYS:
            assert value is not None
            assert type(value) is not int
        return
    assert isinstance(event, PersonCreated)
    assert event.field_values is not None
    if key == "unknownKey":
        assert event.field_values.extra == {"unknownKey": value}
    elif key in PERSON_INT_KEYS:
        assert value is None or type(value) is int
        assert getattr(event.field_values, PERSON_FIELD_ATTRS[key]) == value
    else:
        assert value is None or isinstance(value, str)
    assert parse(event.to_json()) == event


# --- hypothesis: round trip of generated person events ------------------------------------

_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_field_dates = st.none() | st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001  # 0001-01-01T00:00:00 means "not set"
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.one_of(st.none(), _offsets),
)
_opt_ints = st.none() | st.integers()
_field_values = st.builds(
    PersonFieldValues,
    active_interests=_opt_ints,
    associate_id=_opt_ints,
    business_idx=_opt_ints,
    category_idx=_opt_ints,
    contact_id=_opt_ints,
    country_id=_opt_ints,
    deleted_date=_field_dates,
    group_id=_opt_ints,
    person_id=_opt_ints,
    position_idx=_opt_ints,
    registered=_field_dates,
    registered_associate_id=_opt_ints,
    retired=_opt_ints,
    source=_opt_ints,
    updated=_field_dates,
    updated_associate_id=_opt_ints,
    userdef2_id=_opt_ints,
    userdef_id=_opt_ints,
)
_extra_keys = st.text(max_size=12).filter(lambda k: k not in WIRE_KEYS)


@st.composite
def person_events(draw: st.DrawFn) -> PersonEvent:
    """A person event of any class built from generated valid field values."""
    cls = draw(st.sampled_from(PERSON_CLASSES))
    assert cls.event_name is not None
    return cls(
        event_id=draw(st.uuids()),
        timestamp=draw(st.datetimes(timezones=st.just(UTC))),
        changes=tuple(draw(st.lists(st.text(max_size=20), max_size=5))),
        event=cls.event_name,
        primary_key=draw(st.integers()),
        entity=draw(st.none() | st.text(max_size=10)),
        context_identifier=draw(st.text(max_size=20)),
        changed_by_associate_id=draw(st.integers()),
        webhook_name=draw(st.text(max_size=20)),
        values=draw(st.none() | st.dictionaries(st.text(max_size=10), st.integers(), max_size=4)),
        field_values=draw(st.none() | _field_values),
        extra=draw(st.dictionaries(_extra_keys, json_values, max_size=3)),
    )


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.too_slow])
@given(person_events())
def test_property_person_events_round_trip(event: PersonEvent) -> None:
    """Person events with arbitrary valid fields survive to_json/to_dict and parse."""
    text = event.to_json()
    again = parse(text)
    assert type(again) is type(event)
    assert again == event
    assert again.extra == event.extra
    assert again.field_values == event.field_values
    assert parse(text.encode("utf-8")) == event
    assert parse(event.to_dict()) == event
    if event.field_values is not None:
        assert again.field_values is not None
        for name in ("registered", "updated", "deleted_date"):
            original = getattr(event.field_values, name)
            parsed = getattr(again.field_values, name)
            if original is not None:
                assert parsed.utcoffset() == original.utcoffset()


def test_json_float_values_round_trip_exactly() -> None:
    """Floats in extra keep their exact value through to_json."""
    value = 0.1 + 0.2
    event = parse(body_with("test", Ratio=value))
    again = parse(event.to_json())
    assert again.extra["Ratio"] == value
    assert again == event


ID_PROPERTIES = sorted(
    (name, entity.id_attr)
    for name, cls in EVENT_CLASSES.items()
    for entity in ENTITIES
    if entity.id_attr is not None and issubclass(cls, getattr(sow, f"{entity.prefix}Event"))
)


@pytest.mark.parametrize(("name", "id_attr"), ID_PROPERTIES)
def test_the_row_id_property_is_the_primary_key(name: str, id_attr: str) -> None:
    """Each entity's id property (contact_id, sale_id, ...) gives the event's PrimaryKey."""
    parsed = parse(make_payload(name, seed=3, primary_key=4711))

    assert getattr(parsed, id_attr) == parsed.primary_key == 4711


def test_extra_table_columns_without_field_values_are_empty() -> None:
    """An extra-table event without FieldValues has no columns (not an error)."""
    data = {**example_json("y_table.changed")}
    del data["FieldValues"]

    event = parse(json.dumps(data))

    assert isinstance(event, ExtraTableChanged)
    assert event.field_values is None
    assert dict(event.columns) == {}


@pytest.mark.parametrize("wrap", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_parse_takes_a_bytearray_or_memoryview(wrap: Callable[[bytes], object]) -> None:
    """parse() of a bytearray or memoryview gives the same event as of the bytes."""
    body = example("person.consented")

    assert parse(wrap(body)) == parse(body)  # type: ignore[arg-type]  # accepted at runtime
