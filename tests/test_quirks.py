"""SuperOffice's quirks: list and extra-table names, state events, chat and relation
spellings, the two delete-Values shapes, and custom events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

import superoffice_webhooks as sow
from conftest import example, example_json

#: Every test here runs with the standard library's JSON parser and with orjson.
pytestmark = pytest.mark.usefixtures("json_parser")

if TYPE_CHECKING:
    from collections.abc import Callable


def with_fields(name: str, **changes: object) -> dict[str, Any]:
    """The example *name* with FieldValues keys replaced (None removes a key)."""
    data = example_json(name)
    fields = {**data["FieldValues"], **changes}  # type: ignore[dict-item]
    data["FieldValues"] = {k: v for k, v in fields.items() if v is not None}
    return data


# --- lists: three-part names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls", "list_name", "list_id"),
    [
        ("list.category.created", sow.ListItemCreated, "category", None),
        ("list.category.changed", sow.ListItemChanged, "category", None),
        ("list.category.softdeleted", sow.ListItemSoftDeleted, "category", None),
        ("list.110.created", sow.ListItemCreated, "110", 110),
        ("list.110.softdeleted", sow.ListItemSoftDeleted, "110", 110),
    ],
)
def test_list_events(name: str, cls: type[sow.Event], list_name: str, list_id: int | None) -> None:
    """list.<name|id>.<verb> parses to the ListItem class of the verb, naming the list."""
    event = sow.parse(example(name))
    assert type(event) is cls
    assert isinstance(event, sow.ListItemEvent)
    assert event.entity == name.rsplit(".", 1)[0]
    assert event.list_name == list_name
    assert event.list_id == list_id
    assert event.list_item_id == event.primary_key
    assert isinstance(event.field_values, sow.ListItemFieldValues)


@pytest.mark.parametrize(
    "name",
    [
        "list.category.deleted",  # lists have no hard delete
        "list.created",  # two segments
        "list..created",
        "list.a.b.created",  # four segments
        "mylist.category.created",
    ],
)
def test_list_like_names_that_are_not_list_events(name: str) -> None:
    """Names that only look like list events are UnknownEvents."""
    event = sow.parse({**example_json("list.category.created"), "Event": name})
    assert type(event) is sow.UnknownEvent
    assert event.event == name


def test_any_list_name_is_a_list_event() -> None:
    """Every documented list name, and any other, works by verb (names are not a whitelist)."""
    for list_name in ("associate", "ticketstatus", "my_own_list", "4711"):
        event = sow.parse(
            {**example_json("list.110.changed"), "Event": f"list.{list_name}.changed"}
        )
        assert type(event) is sow.ListItemChanged
        assert isinstance(event, sow.ListItemEvent)
        assert event.list_name == list_name


def test_on_list_item_class_matches_every_list() -> None:
    """on(ListItemCreated) runs for an item added to any list, by name or by id."""
    dispatcher = sow.Dispatcher()
    seen: list[str] = []
    dispatcher.on(sow.ListItemCreated)(lambda e: seen.append(e.event))
    for name in ("list.category.created", "list.110.created", "list.category.changed"):
        dispatcher.dispatch(sow.parse({**example_json("list.110.changed"), "Event": name}))
    assert seen == ["list.category.created", "list.110.created"]


# --- extra tables ---------------------------------------------------------------------------


def test_extra_table_created_decodes_culture_values() -> None:
    """[I:6] and [DT:...] become int and datetime; [DT:01/01/0001 ...] is None."""
    event = sow.parse(example("y_table.created"))
    assert type(event) is sow.ExtraTableCreated
    assert isinstance(event, sow.ExtraTableEvent)
    assert event.table == "y_table"
    fv = event.field_values
    assert isinstance(fv, sow.ExtraTableFieldValues)
    assert fv.id == 6
    assert fv.dbi_agent_id == -1
    assert fv.last_changed == datetime(2025, 9, 16, 14, 22, 14)  # noqa: DTZ001  # naive on the wire
    assert fv.dbi_last_syncronized is None
    assert fv.extra == {"x_int": "[I:123]"}
    assert event.columns["x_int"] == 123
    assert event.columns["id"] == 6
    assert event.row_id == 6


def test_extra_table_float_and_unknown_markers() -> None:
    """[F:4.56] in a column decodes to a float; text and undecodable markers stay as sent."""
    data = with_fields("y_table.changed", x_float="[F:4.56]", x_text="[I:abc]", x_plain="hi")
    event = sow.parse(data)
    assert isinstance(event, sow.ExtraTableChanged)
    assert event.columns["x_float"] == 4.56
    assert type(event.columns["x_float"]) is float
    assert event.columns["x_text"] == "[I:abc]"
    assert event.columns["x_plain"] == "hi"
    assert sow.parse(event.to_json()) == event
    assert json.loads(event.to_json())["FieldValues"]["x_float"] == "[F:4.56]"


def test_extra_table_deleted_is_plain_json() -> None:
    """On delete the values are plain JSON and Values is empty; both parse."""
    event = sow.parse(example("y_table.deleted"))
    assert type(event) is sow.ExtraTableDeleted
    fv = event.field_values
    assert isinstance(fv, sow.ExtraTableFieldValues)
    assert fv.id == 3
    assert fv.last_changed == datetime(2025, 9, 12, 14, 33, 37)  # noqa: DTZ001
    assert fv.dbi_last_modified is None
    assert event.columns["x_int"] == 213
    assert event.values == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [("id", "[I:x]"), ("id", "six"), ("id", 1.5), ("last_changed", "[DT:99/99/2025]")],
)
def test_extra_table_bad_values(key: str, value: object) -> None:
    """A standard column that decodes to nothing valid is a PayloadError naming it."""
    with pytest.raises(sow.PayloadError) as info:
        sow.parse(with_fields("y_table.created", **{key: value}))
    assert info.value.field == f"FieldValues.{key}"


@pytest.mark.parametrize(
    "name", ["x_table.created", "y_.created", "y_table.renamed", "y_a.b.created"]
)
def test_not_extra_table_events(name: str) -> None:
    """Only y_<table>.<created|changed|deleted> is an extra-table event."""
    assert type(sow.parse({**example_json("y_table.created"), "Event": name})) is sow.UnknownEvent


# --- webhook state events --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("webhook.started", sow.WebhookStarted),
        ("webhook.stopped", sow.WebhookStopped),
        ("webhook.errors", sow.WebhookErrors),
    ],
)
def test_state_events(name: str, cls: type[sow.Event]) -> None:
    """State events have no Entity; webhook_id is the PrimaryKey; state uses the 0-3 enum."""
    event = sow.parse(example(name))
    assert type(event) is cls
    assert isinstance(event, sow.WebhookEvent)
    assert event.entity is None
    assert event.webhook_id == 66
    assert event.state is sow.WebhookState.STOPPED  # "state": 2 in every example
    assert event.field_values is not None
    assert event.field_values.state == 2


@pytest.mark.parametrize(
    ("number", "state"),
    [
        (0, sow.WebhookState.UNKNOWN),
        (1, sow.WebhookState.ACTIVE),
        (3, sow.WebhookState.TOO_MANY_ERRORS),
        (7, None),
        (None, None),
    ],
)
def test_webhook_state_numbers(number: int | None, state: sow.WebhookState | None) -> None:
    """Numbers map by the enum page; an undocumented number or none gives None."""
    event = sow.parse(with_fields("webhook.errors", state=number))
    assert isinstance(event, sow.WebhookErrors)
    assert event.state is state


def test_state_subscription_name_is_refused_by_on() -> None:
    """on("webhook123.errors") would never match (the body says webhook.errors): refused."""
    with pytest.raises(sow.ConfigurationError, match=r"on\('webhook.errors'\)"):
        sow.Dispatcher().on("webhook123.errors")
    d = sow.Dispatcher()
    seen: list[sow.Event] = []
    d.on("webhook.errors")(seen.append)
    d.dispatch(sow.parse(example("webhook.errors")))
    assert len(seen) == 1


# --- chat: PascalCase or lowerCamel, ids as strings --------------------------------------------


def test_chat_pascal_case_with_string_ids() -> None:
    """The documented chat example: string ids become ints, booleans stay booleans."""
    event = sow.parse(example("chatsession.created"))
    assert type(event) is sow.ChatSessionCreated
    fv = event.field_values
    assert isinstance(fv, sow.ChatSessionFieldValues)
    assert fv.contact_id == 21
    assert fv.customer_id == 12
    assert fv.project_id == 5
    assert fv.customer_alias == 5
    assert fv.chatbot_isactive is False
    assert fv.consented is False
    assert fv.extra == {}


def test_chat_lower_camel_keys() -> None:
    """The documented key list's lowerCamel spelling parses alike and is written back as sent."""
    pascal = example_json("chatsession.created")["FieldValues"]
    assert isinstance(pascal, dict)
    camel = {k[0].lower() + k[1:]: v for k, v in pascal.items()}
    camel.update(consented=1, customerAlias="VIP")
    data = {**example_json("chatsession.created"), "FieldValues": camel}
    event = sow.parse(data)
    fv = event.field_values
    assert isinstance(fv, sow.ChatSessionFieldValues)
    assert fv.contact_id == 21
    assert fv.consented is True
    assert fv.customer_alias == "VIP"
    assert fv.extra == {}
    out = event.to_dict()["FieldValues"]
    assert isinstance(out, dict)
    assert set(out) == set(camel)
    assert sow.parse(event.to_json()) == event
    assert sow.parse(example("chatsession.created")).field_values != fv  # values differ


def test_chat_both_spellings_keeps_both() -> None:
    """A key sent in both spellings: the documented one is typed, the other kept in extra."""
    data = with_fields("chatsession.created", contactId="99")
    event = sow.parse(data)
    fv = event.field_values
    assert isinstance(fv, sow.ChatSessionFieldValues)
    assert fv.contact_id == 21
    assert fv.extra == {"contactId": "99"}
    out = event.to_dict()["FieldValues"]
    assert isinstance(out, dict)
    assert out["ContactId"] == "21"  # as sent
    assert out["contactId"] == "99"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ContactId", "abc"),
        ("ContactId", "2.5"),
        ("ContactId", True),
        ("Consented", 2),
        ("Consented", "true"),
        ("CustomerAlias", 1.5),
    ],
)
def test_chat_bad_values(key: str, value: object) -> None:
    """Values no documented shape allows are a PayloadError naming the key."""
    with pytest.raises(sow.PayloadError) as info:
        sow.parse(with_fields("chatsession.created", **{key: value}))
    assert info.value.field == f"FieldValues.{key}"


# --- relation's associateId ---------------------------------------------------------------------


def test_relation_associate_id_spellings() -> None:
    """associateId (example) and associate_id (key list) both fill associate_id, spelled back as sent."""
    documented = sow.parse(example("relation.created"))
    fv = documented.field_values
    assert isinstance(fv, sow.RelationFieldValues)
    assert fv.associate_id == 5
    out = documented.to_dict()["FieldValues"]
    assert isinstance(out, dict)
    assert "associateId" in out
    assert "associate_id" not in out
    listed = with_fields("relation.created", associateId=None, associate_id=5)
    event = sow.parse(listed)
    assert event.field_values == fv
    out = event.to_dict()["FieldValues"]
    assert isinstance(out, dict)
    assert out["associate_id"] == 5
    assert "associateId" not in out


# --- delete Values, both documented shapes --------------------------------------------------------


def test_sale_deleted_values_both_shapes() -> None:
    """The sale page's Values (associate_id ...) and the reference index's (sale_id ...)."""
    page = sow.parse(example("sale.deleted"))
    assert isinstance(page, sow.SaleDeleted)
    assert page.values is not None
    assert page.values.associate_id == 4039840
    assert page.values.sale_id is None
    assert page.values.contact_id == 43
    index = sow.parse(
        {
            **example_json("sale.deleted"),
            "Values": example_json("sale.deleted.reference-index")["Values"],
        }
    )
    assert isinstance(index, sow.SaleDeleted)
    assert index.values is not None
    assert index.values.sale_id == 994863
    assert index.values.associate_id is None
    assert index.values.project_id == 178105


def test_relation_deleted_values_both_revisions() -> None:
    """Relation delete Values of the current and the 2024-11-04 page both have accessors."""
    current = sow.parse(example("relation.deleted"))
    older = sow.parse(example("relation.deleted.v2024-11-04"))
    assert isinstance(current, sow.RelationDeleted)
    assert isinstance(older, sow.RelationDeleted)
    assert current.values is not None
    assert older.values is not None
    assert (current.values.associate_id, current.values.relation_id) == (40, 178105)
    assert current.values.registered_associate_id is None
    assert (
        older.values.relation_id,
        older.values.registered_associate_id,
        older.values.updated_associate_id,
    ) == (3, 18, 18)


def test_deleted_values_is_a_read_only_mapping() -> None:
    """DeletedValues behaves as the Mapping[str, int] values always was."""
    event = sow.parse(example("person.deleted"))
    assert isinstance(event, sow.PersonDeleted)
    values = event.values
    assert isinstance(values, sow.PersonDeletedValues)
    assert isinstance(values, sow.DeletedValues)
    assert values == {"associate_id": 4039840, "contact_id": 9, "person_id": 18}
    assert values.get("contact_id") == 9
    assert values["person_id"] == 18
    assert len(values) == 3
    assert list(values) == ["associate_id", "contact_id", "person_id"]
    assert "PersonDeletedValues(" in repr(values)
    with pytest.raises(TypeError):
        values["x"] = 1  # type: ignore[index]
    with pytest.raises(KeyError):
        values["missing"]


def test_values_given_as_a_dict_are_converted() -> None:
    """Building an event with values={...} gives the entity's DeletedValues class."""
    parsed = sow.parse(example("contact.deleted"))
    built = sow.ContactDeleted(
        **{
            **{
                a: getattr(parsed, a)
                for a in (
                    "event_id",
                    "timestamp",
                    "changes",
                    "event",
                    "primary_key",
                    "entity",
                    "context_identifier",
                    "changed_by_associate_id",
                    "webhook_name",
                )
            },
            "values": {"associate_id": 4039840, "contact_id": 994863},
        }
    )
    assert isinstance(built.values, sow.ContactDeletedValues)
    assert built.values.contact_id == 994863
    assert built == parsed


# --- custom events ------------------------------------------------------------------------------


def test_custom_event_is_unknown_and_dispatched() -> None:
    """A custom event (POST /api/v1/Webhook/window.closed/12) parses to UnknownEvent with
    everything kept, and is dispatched by name, by prefix, by suffix and by '*'."""
    data = {
        **example_json("test"),
        "Event": "window.closed",
        "Entity": "window",
        "PrimaryKey": 12,
        "Payload": {"button": "ok"},
    }
    event = sow.parse(data)
    assert type(event) is sow.UnknownEvent
    assert event.extra == {"Payload": {"button": "ok"}}
    out = event.to_dict()
    assert {k: v for k, v in out.items() if k != "Timestamp"} == {
        k: v for k, v in data.items() if k != "Timestamp"
    }
    assert sow.parse(out) == event
    d = sow.Dispatcher()
    calls: list[str] = []

    def recorder(pattern: str) -> Callable[[sow.Event], None]:
        return lambda _: calls.append(pattern)

    for pattern in ("window.closed", "window.*", "*.closed", "*"):
        d.on(pattern)(recorder(pattern))
    d.dispatch(event)
    assert calls == ["window.closed", "window.*", "*.closed", "*"]


def test_extra_table_non_finite_floats_stay_as_sent() -> None:
    """[F:nan] and [F:inf] do not decode to a number: the column keeps the text as sent."""
    event = sow.parse(with_fields("y_table.changed", x_nan="[F:nan]", x_inf="[F:-inf]"))

    assert isinstance(event, sow.ExtraTableChanged)
    assert event.columns["x_nan"] == "[F:nan]"
    assert event.columns["x_inf"] == "[F:-inf]"


@pytest.mark.parametrize(
    "value",
    ["[I:6]", "[DT:09/16/2025 14:22:14", "[DT:16.09.2025]"],
    ids=["an integer marker", "unclosed", "not MM/dd/yyyy"],
)
def test_extra_table_last_changed_must_be_a_date_time(value: str) -> None:
    """A last_changed marker that is not a CultureDataFormatter date-time is a PayloadError."""
    with pytest.raises(sow.PayloadError, match="last_changed") as info:
        sow.parse(with_fields("y_table.changed", last_changed=value))

    assert "[DT:09/16/2025 14:22:14.0000000]" in str(info.value)
    assert info.value.field == "FieldValues.last_changed"
