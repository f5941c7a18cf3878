"""The fast paths give exactly what the detailed converter and the stdlib parser give.

parse() structures with generated functions first and tries orjson first when it is
installed; whenever either declines, the detailed path runs. These tests check that a
fast result is always the detailed result and that errors never depend on the path.
"""

from __future__ import annotations

import json
import linecache
import subprocess
import sys
import threading
import time
import traceback
from types import MappingProxyType
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import superoffice_webhooks as sow
from conftest import example, example_json, example_names, examples
from superoffice_webhooks import (
    ChatSessionFieldValues,
    PersonCreated,
    PersonFieldValues,
    UnknownEvent,
    _converter,
    _parse,
    _scalars,
)
from superoffice_webhooks._fast import FastStructure
from superoffice_webhooks._parse import event_class

EXAMPLES = [n for n in example_names() if n != "sale.deleted.reference-index"]
#: Examples that use an alias spelling (``associateId``): the converter renames them.
ALIAS_SPELLINGS = {"relation.created"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def outcome(run: Any) -> tuple[str, object]:
    """What *run* gives: ("ok", a repr that tells 1, 1.0 and True apart) or the error."""
    try:
        result = run()
    except sow.PayloadError as exc:
        return "error", (str(exc), exc.field)
    return "ok", (repr(result), result)


def detailed(data: dict[str, Any]) -> tuple[str, object]:
    """The detailed converter's answer, never the fast path's."""
    cls = event_class(str(data.get("Event")))
    try:
        result = _converter.converter.structure(data, cls)
    except Exception as exc:  # noqa: BLE001  # compared as the PayloadError it becomes
        error = _converter._describe(exc, cls)
        return "error", (str(error), error.field)
    return "ok", (repr(result), result)


def with_parser(loads: object, body: bytes) -> tuple[str, object]:
    saved = _parse.fast_loads
    _parse.fast_loads = loads  # type: ignore[assignment]  # orjson.loads or None
    try:
        return outcome(lambda: sow.parse(body))
    finally:
        _parse.fast_loads = saved


@pytest.mark.parametrize("name", EXAMPLES)
def test_fast_structuring_of_every_example(name: str) -> None:
    """Documented examples take the fast path and give the detailed converter's event."""
    data = example_json(name)
    fast = _converter.structure_exact(data, event_class(str(data["Event"])))
    if name in ALIAS_SPELLINGS:
        assert fast is None
        assert detailed(data)[0] == "ok"
    else:
        assert fast is not None
        assert ("ok", (repr(fast), fast)) == detailed(data)
        assert fast.to_dict() == _converter.converter.structure(data, type(fast)).to_dict()


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(EXAMPLES),
    key=st.sampled_from(
        ["EventId", "Timestamp", "Changes", "PrimaryKey", "Entity", "Values", "FieldValues", "x"]
    ),
    value=json_values,
    inner=st.booleans(),
)
def test_fast_and_detailed_agree_on_changed_bodies(
    name: str, key: str, value: object, inner: bool
) -> None:
    """A body with one value replaced (top level or in FieldValues) gives the same either way.

    The same event, and the same wire form: both paths keep the same values as sent.
    """
    data = example_json(name)
    target = data.get("FieldValues") if inner else data
    if isinstance(target, dict):
        field = key if not inner else next(iter(target), key)
        target[field] = value
    fast = _converter.structure_exact(data, event_class(str(data["Event"])))
    if fast is not None:
        assert ("ok", (repr(fast), fast)) == detailed(data)
        assert fast.to_dict() == _converter.converter.structure(data, type(fast)).to_dict()
    assert outcome(lambda: _converter.structure(data, event_class(str(data["Event"])))) == detailed(
        data
    )


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(EXAMPLES),
    extra=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)
def test_orjson_and_stdlib_agree_on_extra_values(name: str, extra: dict[str, object]) -> None:
    """Unknown keys of any JSON value (big integers, floats, nesting) parse the same either way."""
    data = example_json(name)
    data.update({f"x-{k}": v for k, v in extra.items()})
    values = data.get("FieldValues")
    if isinstance(values, dict):
        values.update({f"x-{k}": v for k, v in extra.items()})
    body = json.dumps(data).encode()
    assert with_parser(orjson.loads, body) == with_parser(None, body)


#: Bodies on which orjson and the standard library disagree, or nearly.
TRICKY = [
    b'\xef\xbb\xbf{"Event": "test"}',  # a byte order mark: orjson refuses it
    b'{"Event": "test", "x": 123456789012345678901234567890}',  # orjson: a float
    b'{"Event": "test", "x": 18446744073709551616}',  # 2**64: orjson: a float
    b'{"Event": "test", "x": -9223372036854775809}',  # below int64: orjson: a float
    b'{"Event": "test", "x": 18446744073709551615}',  # 2**64 - 1: an int for both
    b'{"Event": "test", "x": 1e400}',  # inf for json, an error for orjson
    b'{"Event": "test", "x": NaN}',
    b'{"Event": "test", "x": -Infinity}',
    b'{"Event": "test", "x": "\\ud800"}',  # a lone surrogate
    b'{"Event": "test", "x": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8
    b'{"Event": "test", "x": 1, "x": 2}',  # duplicate keys: the last wins
    b'{"Event": "test", "x": 1.5}',
    b'{"Event": "test"} x',
    b'{"Event": "test", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    b"",
    b"[]",
    b'"text"',
    b"\xff",
]


@pytest.mark.parametrize("body", TRICKY)
def test_orjson_and_stdlib_agree_on_tricky_bodies(body: bytes) -> None:
    """Where orjson differs from json, parse() still gives json's event or error."""
    merged = example_json("test") | {"x": 0}
    full = body.replace(b'{"Event": "test"', json.dumps(merged).encode()[:-1], 1)
    assert with_parser(orjson.loads, full) == with_parser(None, full)


def test_big_integer_stays_an_integer_with_orjson() -> None:
    """A 30-digit integer in an unknown key is an int, as with json, not orjson's float."""
    data = example_json("person.created") | {"Big": 123456789012345678901234567890}
    event = with_parser(orjson.loads, json.dumps(data).encode())
    assert event[0] == "ok"
    parsed = event[1][1]  # type: ignore[index]  # ("ok", (repr, event))
    assert parsed.extra["Big"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("576086e3-5261-426b-a84b-26ca7f5b65e8", True),
        ("576086E3-5261-426B-A84B-26CA7F5B65E8", True),
        ("576086e35261426ba84b26ca7f5b65e8", False),
        ("{576086e3-5261-426b-a84b-26ca7f5b65e8}", False),
        ("urn:uuid:576086e3-5261-426b-a84b-26ca7f5b65e8", False),
        ("576086e3-5261-426b-a84b-26ca7f5b_5e8", False),
        ("576086e3-5261-426b-a84b-26ca7f5b65eg", False),
        ("576086e3-5261-426b-a84b-26ca7f5b65e", False),
        ("576086e3-5261-426b-a84b-26ca7f5b65e8\n", False),
        ("\u0661" * 8 + "-5261-426b-a84b-26ca7f5b65e8", False),  # Arabic-Indic digits
        ("\uff15" + "76086e3-5261-426b-a84b-26ca7f5b65e8", False),  # a fullwidth 5
    ],
)
def test_event_ids_are_ascii_hex_guids_only(text: str, accepted: bool) -> None:
    """EventId is a GUID in SuperOffice's 8-4-4-4-12 ASCII hex form; any other spelling is refused."""
    try:
        got: object = _scalars.guid(text, UUID)
    except _scalars.MismatchError:
        got = None
    assert (got == UUID(text.strip()) if accepted else got is None) is True


WITHOUT_ORJSON = """
import sys
sys.modules["orjson"] = None  # as if the fast extra were not installed
import superoffice_webhooks as sow
from superoffice_webhooks import _parse
body = sys.stdin.buffer.read()
event = sow.parse(body)
print(_parse.fast_loads is None, type(event).__name__, event.primary_key)
"""


def test_parse_works_without_orjson() -> None:
    """Without orjson importable, parse() falls back to the standard library's JSON."""
    proc = subprocess.run(  # noqa: S603  # our own interpreter
        [sys.executable, "-c", WITHOUT_ORJSON],
        input=json.dumps(example_json("person.consented")).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr.decode()
    expected = sow.parse(json.dumps(example_json("person.consented")))
    assert proc.stdout.decode().split() == ["True", "PersonConsented", str(expected.primary_key)]


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n not in ALIAS_SPELLINGS])
def test_orjson_alone_reads_documented_bodies(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With orjson installed, a documented body never reaches the standard library's parser."""

    def stdlib_decode(text: str) -> object:
        msg = "the standard library's parser ran"
        raise AssertionError(msg)

    body = example(name)
    expected = with_parser(None, body)
    monkeypatch.setattr(_parse, "fast_loads", orjson.loads)
    monkeypatch.setattr(_parse, "_decode", stdlib_decode)
    assert outcome(lambda: sow.parse(body)) == expected


def test_generated_functions_decline_with_their_own_error() -> None:
    """A generated function gives up by raising MismatchError, not by failing otherwise."""
    person = example_json("person.created")
    chat = example_json("chatsession.created")
    declined: list[tuple[type[object], object]] = [
        (PersonCreated, []),
        (PersonCreated, {**person, "PrimaryKey": "7"}),
        (PersonCreated, {**person, "Changes": [7]}),
        (PersonCreated, {**person, "Other": [1]}),
        (PersonCreated, {**person, "FieldValues": []}),
        (UnknownEvent, {**person, "Event": "gadget.created", "FieldValues": {"a": [1]}}),
        (ChatSessionFieldValues, {"contactId": "21"}),  # an alias spelling
        (type(sow.parse(chat)), {**chat, "FieldValues": {"contactId": "21"}}),
    ]
    for cls, data in declined:
        fast = _converter._factory.function(cls)
        assert fast is not None
        with pytest.raises(_scalars.MismatchError):
            fast(data)


def test_generated_source_is_shown_in_tracebacks() -> None:
    """A traceback through a generated function shows its source lines."""
    fast = _converter._factory.function(PersonCreated)
    assert fast is not None
    lines = linecache.getlines(fast.__code__.co_filename)
    assert lines[0] == "def fast(o):\n"
    assert all(line.endswith("\n") for line in lines)
    with pytest.raises(_scalars.MismatchError) as caught:
        fast([])
    shown = "".join(traceback.format_exception(caught.value))
    assert "<superoffice_webhooks fast structure" in shown
    assert "    raise _Decline\n" in shown  # line 3 of the generated source


def test_any_mapping_parses_as_its_dict_would() -> None:
    """A read-only mapping parses to the same event as the dict and the body."""
    data = example_json("person.created")
    assert (
        sow.parse(MappingProxyType(data)) == sow.parse(data) == sow.parse(example("person.created"))
    )


def test_a_thread_waiting_for_a_class_being_generated_gets_its_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While one thread generates a class's function, another asking for it gets the same one."""
    factory = FastStructure(_converter._class_structure, _converter.converter.get_structure_hook)
    started, release = threading.Event(), threading.Event()
    generate = factory._generate

    def slowly(cls: type) -> object:
        started.set()
        release.wait(10)
        return generate(cls)

    monkeypatch.setattr(factory, "_generate", slowly)
    got: dict[str, object] = {}
    first = threading.Thread(target=lambda: got.update(first=factory.function(PersonFieldValues)))
    second = threading.Thread(target=lambda: got.update(second=factory.function(PersonFieldValues)))
    first.start()
    assert started.wait(10)
    second.start()
    time.sleep(0.2)  # the second thread now waits for the first to finish
    release.set()
    first.join(10)
    second.join(10)
    assert got["first"] is not None
    assert got["second"] is got["first"]
