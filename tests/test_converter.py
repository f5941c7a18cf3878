"""The converter: its error messages, and the fast path on attrs classes of other shapes.

The package's own classes are covered through parse() elsewhere; here the fast path
meets the class shapes its generator declines or handles specially (defaults, factories,
validators, converters, classes without slots or without ``extra``), and the error
describer meets the cattrs error shapes that valid and invalid payloads do not produce.
"""

from __future__ import annotations

from collections.abc import Mapping  # noqa: TC003  # attrs.resolve_types reads it at runtime
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from cattrs.errors import AttributeValidationNote, ClassValidationError

from conftest import example, example_json
from superoffice_webhooks import PayloadError, PersonCreated, PersonFieldValues, UnknownEvent, parse
from superoffice_webhooks._converter import (
    _describe,
    _factory,
    _is,
    _wire_name,
    converter,
    structure,
    structure_exact,
    unstructure,
)
from superoffice_webhooks._events import FieldValues
from superoffice_webhooks._scalars import MismatchError
from superoffice_webhooks._wire import (
    EXTRA,
    decode_culture_value,
    empty_extra,
    id_values,
    lenient_bool,
    lenient_int,
    wire,
    wire_metadata,
)


def same_as_converter(data: dict[str, object], cls: type[Any]) -> Any:
    """structure() of *data*, checked against the detailed converter's answer."""
    result = structure(data, cls)
    assert result == converter.structure(data, cls)
    return result


# --- classes the fast path declines: the converter decides -------------------------------


@attrs.frozen(kw_only=True)
class NotInit:
    number: int = wire("Number")
    derived: int = attrs.field(init=False, default=0, metadata={"wire": "Derived"})


@attrs.frozen(kw_only=True)
class SelfFactory:
    number: int = wire("Number")
    twice: int = wire("Twice", default=attrs.Factory(lambda self: self.number * 2, takes_self=True))


@attrs.frozen(kw_only=True)
class HoldsNotInit:
    inner: NotInit = wire("Inner")


@attrs.define(slots=False, kw_only=True)
class NoSlots:
    number: int = wire("Number")


@attrs.frozen(kw_only=True)
class OwnHook:
    number: object = wire("Number", hook=lambda value, _: [value])


@attrs.frozen(kw_only=True)
class ConverterObject:
    number: int = wire("Number", converter=attrs.Converter(lambda value: value + 1))


@attrs.frozen(kw_only=True)
class Chain:
    number: int = wire("Number")
    next: Chain | None = wire("Next", default=None)


attrs.resolve_types(Chain)


@pytest.mark.parametrize(
    ("cls", "data", "expected"),
    [
        (Chain, {"Number": 7, "Next": {"Number": 8}}, Chain(number=7, next=Chain(number=8))),
        (NotInit, {"Number": 1}, NotInit(number=1)),
        (SelfFactory, {"Number": 2}, SelfFactory(number=2)),
        (HoldsNotInit, {"Inner": {"Number": 3}}, HoldsNotInit(inner=NotInit(number=3))),
        (NoSlots, {"Number": 4}, NoSlots(number=4)),
        (ConverterObject, {"Number": 5}, ConverterObject(number=5)),
        (OwnHook, {"Number": 6}, OwnHook(number=[6])),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_classes_without_a_fast_path_use_the_converter(
    cls: type[Any], data: dict[str, object], expected: object
) -> None:
    """For shapes the fast path does not generate, structure() gives the converter's result."""
    assert same_as_converter(data, cls) == expected


def test_classes_without_a_fast_path_still_raise_payload_errors() -> None:
    """Invalid input to a class without a fast path is a PayloadError naming the field."""
    with pytest.raises(PayloadError, match="Number: expected an integer, got a string"):
        structure({"Number": "1"}, NotInit)


# --- classes the fast path handles -------------------------------------------------------


def _even(_instance: object, _attribute: object, value: int) -> None:
    if value % 2:
        msg = "odd"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Defaults:
    count: int = wire("Count", default=5)
    strict: int = wire("Strict", default=None)  # int's hook refuses null: missing and null differ
    names: tuple[str, ...] = wire("Names", factory=tuple)
    doubled: int = wire("Doubled", default=0, converter=lambda value: value * 2)


@attrs.frozen(kw_only=True)
class Validated:
    number: int = wire("Number", validator=_even)
    extra: Mapping[str, object] = attrs.field(factory=empty_extra, metadata={})


def test_defaults_factories_and_converters_on_the_fast_path() -> None:
    """Missing keys get their defaults (factories called), converters run, as the converter does."""
    assert same_as_converter({}, Defaults) == Defaults()
    assert structure_exact({}, Defaults) == Defaults()
    full = {"Count": 1, "Strict": 2, "Names": ["a"], "Doubled": 3}
    assert same_as_converter(full, Defaults) == Defaults(count=1, strict=2, names=("a",), doubled=3)
    assert Defaults(doubled=3).doubled == 6


def test_a_class_without_extra_declines_unknown_keys_on_the_fast_path() -> None:
    """Unknown keys for a class with no `extra` field: the fast path declines, the result holds."""
    assert structure_exact({"Count": 1, "Other": 2}, Defaults) is None
    assert same_as_converter({"Count": 1, "Other": 2}, Defaults) == Defaults(count=1)


def test_null_for_a_non_optional_default_is_an_error() -> None:
    """An explicit null where the hook refuses null is a PayloadError, though the key may be missing."""
    with pytest.raises(PayloadError, match="Strict: expected an integer, got null"):
        structure({"Strict": None}, Defaults)


def test_validators_run_on_the_fast_path() -> None:
    """A class with validators is built through its __init__, so they run."""
    assert same_as_converter({"Number": 2, "Note": "kept"}, Validated) == Validated(
        number=2, extra=MappingProxyType({"Note": "kept"})
    )
    with pytest.raises(PayloadError, match=r"the payload: could not be read \(ValueError\)"):
        structure({"Number": 3}, Validated)
    assert getattr(Validated(number=2), EXTRA) == {}


#: What the __attrs_pre_init__ and __attrs_post_init__ below saw.
CALLS: list[str] = []


@attrs.frozen(kw_only=True)
class PreInit:
    number: int = wire("Number")
    note: str | None = wire("Note", default="none")  # null is None; missing is "none"

    def __attrs_pre_init__(self) -> None:
        CALLS.append("pre")


@attrs.frozen(kw_only=True)
class PostInit:
    number: int = wire("Number")
    note: str | None = wire("Note", default="none")

    def __attrs_post_init__(self) -> None:
        CALLS.append(f"post {self.number}")


@attrs.frozen(kw_only=True)
class Inner:
    number: int = wire("Number")


@attrs.frozen(kw_only=True)
class Holds:
    inner: Inner = wire("Inner")
    maybe: Inner | None = wire("Maybe", default=None)


def test_init_hooks_keep_the_fast_path_through_init() -> None:
    """Classes with init hooks are built by their __init__ on the fast path; validators decline."""
    assert structure_exact({"Number": 2}, Validated) is None
    CALLS.clear()
    assert structure_exact({"Number": 1}, PreInit) == PreInit(number=1)
    assert structure_exact({"Number": 2, "Note": None}, PostInit) == PostInit(number=2, note=None)
    assert CALLS == ["pre", "pre", "post 2", "post 2"]


def test_a_missing_key_gets_its_default_even_where_null_means_none() -> None:
    """A missing key takes the field's default; an explicit null is None (the hook allows it)."""
    assert same_as_converter({"Number": 1}, PostInit).note == "none"
    assert same_as_converter({"Number": 1, "Note": None}, PostInit).note is None


def test_nested_classes_on_the_fast_path() -> None:
    """A required nested object refuses null; an optional one takes it."""
    data = {"Inner": {"Number": 1}, "Maybe": None}
    assert structure_exact(data, Holds) == Holds(inner=Inner(number=1))
    assert structure_exact({"Inner": None}, Holds) is None
    with pytest.raises(
        PayloadError, match=r"^Invalid SuperOffice payload: Inner: expected an object"
    ):
        structure({"Inner": None}, Holds)


def test_the_generator_declines_what_it_cannot_build_directly() -> None:
    """init=False fields; attrs.Converter objects are called by __init__."""
    assert same_as_converter({"Number": 5}, ConverterObject) == ConverterObject(number=5)
    assert _factory.function(NotInit) is None
    assert _factory.function(NotInit) is None  # the answer is kept
    assert _factory.function(OwnHook) is None  # its hook may refuse with any exception
    fast = _factory.function(Defaults)
    assert fast is not None
    with pytest.raises(MismatchError):
        fast({"Count": 1, "Other": 2})  # no extra field to keep "Other" in


# The annotations above are strings (from __future__ import annotations); the converter
# needs the types, as the package's own classes have them.
for _cls in (
    NotInit,
    SelfFactory,
    HoldsNotInit,
    NoSlots,
    ConverterObject,
    OwnHook,
    Defaults,
    Validated,
    PreInit,
    PostInit,
    Inner,
    Holds,
):
    attrs.resolve_types(_cls)


# --- the error describer -----------------------------------------------------------------


def noted(exc: Exception, attribute: str) -> Exception:
    exc.add_note(AttributeValidationNote(f"@ attribute {attribute}", attribute, object))
    return exc


def test_an_unexpected_error_is_described_without_its_text() -> None:
    """A failure of another kind names the field and the error type, never its message."""
    error = ClassValidationError(
        "x", [noted(ZeroDivisionError("personal data"), "primary_key")], PersonCreated
    )

    described = _describe(error, PersonCreated)

    assert str(described) == (
        "Invalid SuperOffice payload: PrimaryKey: could not be read (ZeroDivisionError)."
    )
    assert described.field == "PrimaryKey"


def test_an_error_without_a_field_names_the_payload() -> None:
    """A failure that names no attribute is described as a failure of the payload."""
    described = _describe(ValueError("personal data"), PersonCreated)

    assert str(described) == (
        "Invalid SuperOffice payload: the payload: could not be read (ValueError)."
    )
    assert described.field is None


def test_nested_names_below_a_plain_type_are_kept_as_they_are() -> None:
    """Below a field of no attrs class (or an unknown attribute), names are used as given."""
    inner = ClassValidationError("inner", [noted(KeyError("Key"), "key")], dict)
    error = ClassValidationError("outer", [noted(inner, "changes")], PersonCreated)
    unknown = ClassValidationError("x", [noted(KeyError("Gone"), "gone")], PersonCreated)

    described = _describe(error, PersonCreated)

    assert described.field == "Changes.key"
    assert str(described) == "Invalid SuperOffice payload: Changes.key is required but missing."
    assert _describe(unknown, PersonCreated).field == "gone"


# --- the helpers the event classes are declared with ----------------------------------
#
# They run when a class is defined, which for the package's classes is at import; these
# tests call them directly so that their behaviour is checked on its own too.


def test_wire_metadata_holds_the_key_its_aliases_and_its_hook() -> None:
    """The metadata names the wire key, and the aliases and hook only when given."""
    assert wire_metadata("EventId") == {"wire": "EventId"}
    assert wire_metadata("ContactId", aliases=("contactId",), hook=lenient_int) == {
        "wire": "ContactId",
        "aliases": ("contactId",),
        "hook": lenient_int,
    }


def test_a_class_declared_with_wire_reads_its_keys_aliases_and_hooks() -> None:
    """A class declared here, after import, reads wire keys, alias spellings and own hooks."""

    @attrs.frozen(kw_only=True)
    class Declared:
        number: int = wire("Number")
        contact: int | None = wire(
            "ContactId", aliases=("contactId",), hook=lenient_int, default=None
        )
        extra: Mapping[str, object] = attrs.field(factory=empty_extra, kw_only=True)
        _wire_aliases: frozenset[str] = attrs.field(
            factory=frozenset, eq=False, kw_only=True, alias="_wire_aliases"
        )

    attrs.resolve_types(Declared, globals(), locals())
    assert structure({"Number": 1, "contactId": "21"}, Declared) == Declared(number=1, contact=21)
    assert structure({"Number": 2, "Other": True}, Declared) == Declared(
        number=2, extra={"Other": True}
    )
    with pytest.raises(PayloadError, match=r"^Invalid SuperOffice payload: Number is required"):
        structure({"number": 1}, Declared)


def test_id_values_hooks_accept_an_object_of_integers_only() -> None:
    """``Values`` hooks hand an object of integers to the class; anything else is refused."""
    made: list[dict[str, int]] = []

    def make(ids: dict[str, int]) -> str:
        made.append(ids)
        return "made"

    hook = id_values(make)
    assert hook(None, None) is None
    assert hook({"person_id": 1, "contact_id": 2}, None) == "made"
    assert made == [{"person_id": 1, "contact_id": 2}]
    with pytest.raises(MismatchError, match=r"^expected an object of integers, got an array$"):
        hook([1], None)
    with pytest.raises(MismatchError, match=r"^expected an object of integers, got a string$"):
        hook({"person_id": "1"}, None)
    assert len(made) == 1


def test_type_predicates_compare_types_by_equality() -> None:
    """Hooks are registered for typing forms, which compare equal rather than identical."""
    assert _is(int | None)(int | None)
    assert not _is(int | None)(int)
    assert _is(tuple[str, ...])(tuple[str, ...])


# --- the lenient hooks, at their edges ------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("21", 21), ("-12", -12), (7, 7), (None, None)])
def test_lenient_int_reads_integers_and_ascii_digit_strings(
    value: object, expected: object
) -> None:
    """Chat sends ids as strings of digits; they are read as integers."""
    assert lenient_int(value, None) == expected


@pytest.mark.parametrize(
    "value", [" 12", "12 ", "X12", "--5", "\u0663", "1_000", "", True, 1.0, "9" * 5000]
)
def test_lenient_int_refuses_anything_else(value: object) -> None:
    """Spaces, other digits, underscores, booleans and floats are not ids."""
    with pytest.raises(MismatchError, match=r"^expected an integer, a string of digits or null"):
        lenient_int(value, None)


def test_lenient_bool_reads_zero_and_one() -> None:
    """Flags come as booleans or as 0 and 1; other integers are refused."""
    assert lenient_bool(0, None) is False
    assert lenient_bool(1, None) is True
    assert lenient_bool(True, None) is True  # noqa: FBT003  # the hook takes any JSON value
    with pytest.raises(MismatchError):
        lenient_bool(2, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[I:6]", 6),
        ("[I:-6]", -6),
        ("[F:4.5]", 4.5),
        ("[F:-4.5e2]", -450.0),
        ("[F:1E+20]", 1e20),
        ("[DT:09/16/2025 14:22:14]", datetime(2025, 9, 16, 14, 22, 14)),  # noqa: DTZ001  # naive, as sent
        ("[DT:09/16/2025 14:22:14.5]", datetime(2025, 9, 16, 14, 22, 14, 500000)),  # noqa: DTZ001
        ("[DT:09/16/2025 14:22:14.1234567]", datetime(2025, 9, 16, 14, 22, 14, 123456)),  # noqa: DTZ001
        ("[DT:01/01/0001 00:00:00.0000000]", None),
        ("plain text", "plain text"),
        (7, 7),
    ],
)
def test_culture_values_decode(value: object, expected: object) -> None:
    """CultureDataFormatter markers of extra tables decode to Python values."""
    assert decode_culture_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "[I:\u0663]",
        "[I:6.5]",
        "[I:X1]",
        "[I:--5]",
        "[I:]",
        "[F:nan]",
        "[F:inf]",
        "[F:-inf]",
        "[F:1e400]",
        "[F:abc]",
        "[F:]",
        "[F: 2 ]",
        "[F:1_0]",
        "[F:\u0663.5]",
        "[DT:2025-09-16]",
        "[DT:13/01/2025 00:00:00]",
        "[DT:01/01/0000 00:00:00]",
        "[DT:\u0660\u0669/16/2025 14:22:14]",
    ],
)
def test_culture_values_that_do_not_decode_raise_value_error(value: str) -> None:
    """A marker that does not parse raises a ValueError that does not carry the value."""
    with pytest.raises(ValueError) as caught:  # noqa: PT011  # the plain ValueError is the contract
        decode_culture_value(value)
    assert caught.value.args == ()  # the value is not carried (it may be personal data)


def test_wire_names_of_fields_without_one_are_their_attribute_names() -> None:
    """Error paths name a field without a wire name (``extra``) by its attribute name."""
    assert _wire_name(PersonCreated, "extra") == ("extra", None)
    assert _wire_name(PersonCreated, "primary_key") == ("PrimaryKey", None)


def test_a_class_without_values_as_sent_omits_empty_optional_keys_like_events() -> None:
    """A class that keeps no values as sent omits empty optional keys on the way out."""

    @attrs.frozen(kw_only=True)
    class Plain:
        number: int = wire("Number")
        note: str | None = wire("Note", default=None)
        extra: Mapping[str, object] = attrs.field(factory=empty_extra, kw_only=True)

    attrs.resolve_types(Plain, globals(), locals())
    assert unstructure(Plain(number=1)) == {"Number": 1}
    assert unstructure(Plain(number=1, note="n")) == {"Number": 1, "Note": "n"}


@attrs.frozen(kw_only=True)
class _Nullable(FieldValues):
    number: int | None = wire("Number")  # required, and may be null
    count: int | None = wire("Count", default=0)  # null is not its default
    note: str | None = wire("Note", default=None)


attrs.resolve_types(_Nullable)


@pytest.mark.parametrize(
    "data",
    [
        {"Number": None, "Count": None, "Note": None},
        {"Number": 1, "Count": None},
        {"Number": None, "Note": "n", "Other": 1},
        {"Number": 2, "Count": 3, "Note": None},
        {"Number": 4},
    ],
)
def test_every_kind_of_field_sent_as_null_comes_back_as_null(data: dict[str, object]) -> None:
    """Nulls of required fields, of fields with another default and of optional ones come back."""
    assert _factory.function(_Nullable) is not None  # the generated path is the one under test
    value = structure(data, _Nullable)
    assert (value.number, value.count) == (data["Number"], data.get("Count", 0))
    assert unstructure(value) == data


def test_utc_is_written_as_z_and_other_offsets_as_they_are() -> None:
    """Changed dates go on the wire with ``Z`` for UTC and any other offset as it is."""
    event = parse(example("person.created"))
    assert isinstance(event.field_values, PersonFieldValues)
    assert event.field_values.updated is not None
    later = timedelta(microseconds=1)
    changed = attrs.evolve(
        event,
        timestamp=event.timestamp + later,
        field_values=attrs.evolve(event.field_values, updated=event.field_values.updated + later),
    )
    written = changed.to_dict()
    assert written["Timestamp"] == "2018-04-24T08:01:15.850694Z"
    assert written["FieldValues"]["updated"] == "2025-05-14T14:43:04.383291+02:00"  # type: ignore[index]


#: 0001-01-01T00:00:00 with a fraction of zero or any offset is "not set".
NOT_SET = [
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00.0000000",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+02:00",
    "0001-01-01T00:00:00.0000000-05:00",
]
#: Dates close to it are real dates.
NEAR_NOT_SET = [
    "0001-01-01T00:00:01",
    "0001-01-01T00:01:00",
    "0001-01-01T01:00:00",
    "0001-01-01T00:00:00.000001",
    "0001-01-01T00:00:00.0000010+02:00",
    "0001-01-02T00:00:00",
    "0001-02-01T00:00:00",
    "0002-01-01T00:00:00",
]


@pytest.mark.parametrize("value", NOT_SET + NEAR_NOT_SET)
def test_only_the_exact_dotnet_minimum_means_not_set(value: str) -> None:
    """The .NET minimum in any spelling is None; any other date is read as sent."""
    data = example_json("person.created")
    data["FieldValues"]["updated"] = value  # type: ignore[index]
    expected = None if value in NOT_SET else datetime.fromisoformat(value)
    assert parse(data).field_values.updated == expected  # type: ignore[union-attr]


def test_values_of_an_unknown_event_that_the_fast_path_declines_are_kept() -> None:
    """A float in FieldValues sends the body through the detailed converter; nothing is lost."""
    data = {**example_json("person.created"), "Event": "gadget.created"}
    data["FieldValues"] = {"Amount": 1.5, "Name": "x"}
    event = parse(data)
    assert type(event) is UnknownEvent
    assert event.field_values == {"Amount": 1.5, "Name": "x"}


def test_a_null_field_values_of_an_unknown_event_is_none_on_the_detailed_path() -> None:
    """An unknown event's null FieldValues is None when the detailed hook decides (a float extra)."""
    data = {**example_json("person.created"), "Event": "gadget.created", "FieldValues": None}
    event = structure({**data, "Other": 1.5}, UnknownEvent)
    assert event.field_values is None
    assert event.extra == {"Other": 1.5}
