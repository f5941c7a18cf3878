"""Properties that must hold for every input: no forgery verifies, parse fails only with
PayloadError, the Receiver never raises on a client's input, every event round-trips.

The number of cases comes from the hypothesis profile (see conftest.py): a fast one in
the normal run, 10^5 cases per test with ``make fuzz-long``
(``SUPEROFFICE_WEBHOOKS_HYPOTHESIS_PROFILE=long``).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from superoffice_webhooks import (
    EVENT_CLASSES,
    Event,
    InvalidSignatureError,
    PayloadError,
    PersonCreated,
    Receiver,
    VerificationError,
    parse,
    sign,
    verify,
)
from superoffice_webhooks.testing import make_event, make_payload

SECRET = "property secret"  # noqa: S105  # a test secret
KNOWN_NAMES = sorted(EVENT_CLASSES)

secrets = st.binary(min_size=1, max_size=64) | st.text(min_size=1, max_size=32)
bodies = st.binary(max_size=400)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _hmac_key(key: bytes) -> bytes:
    """The key as HMAC-SHA256 uses it: hashed when longer than the 64-byte block, then
    padded with zero bytes, so keys differing only in trailing zeros are the same key."""
    return (hashlib.sha256(key).digest() if len(key) > 64 else key).rstrip(b"\0")


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes, *, allow_empty: bool = True) -> bytes:
    """*original* changed in one of several ways: never equal to it."""
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "extend", "replace"]))
    data = bytearray(original)
    if kind == "flip" and data:
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(data) - 1))
            data[index] ^= draw(st.integers(1, 255))
    elif kind == "insert":
        index = draw(st.integers(0, len(data)))
        data[index:index] = draw(st.binary(min_size=1, max_size=8))
    elif kind == "delete" and data:
        start = draw(st.integers(0, len(data) - 1))
        data[start : draw(st.integers(start + 1, len(data)))] = b""
    elif kind == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "replace":
        data = bytearray(draw(st.binary(max_size=len(original) + 8)))
    else:  # "extend", and the kinds that need bytes when there are none
        data += draw(st.binary(min_size=1, max_size=8))
    result = bytes(data)
    assume(result != original and (allow_empty or result))
    return result


# --- verification: no mutation of body, signature or secret verifies ----------------------


@given(body=bodies, secret=secrets, data=st.data())
def test_mutated_body_never_verifies(body: bytes, secret: str | bytes, data: st.DataObject) -> None:
    """Any change to the body (flips, inserts, deletes, truncation, another body) fails."""
    signature = sign(body, secret)
    forged = data.draw(mutated_bytes(body), label="body")
    with pytest.raises(InvalidSignatureError):
        verify(forged, signature, secret)


@given(body=bodies, secret=secrets, data=st.data())
def test_mutated_signature_never_verifies(
    body: bytes, secret: str | bytes, data: st.DataObject
) -> None:
    """Any change to the signature's bytes, or any other text in its place, fails."""
    signature = sign(body, secret)
    forged = data.draw(
        mutated_bytes(signature.encode()).map(lambda b: b.decode("latin-1"))
        | st.text(max_size=60).filter(lambda s: s != signature),
        label="signature",
    )
    with pytest.raises(VerificationError):
        verify(body, forged, secret)


@given(body=bodies, secret=secrets, data=st.data())
def test_mutated_secret_never_verifies(
    body: bytes, secret: str | bytes, data: st.DataObject
) -> None:
    """A signature made with any other secret fails against the webhook's secret."""
    signature = sign(body, secret)
    other = data.draw(mutated_bytes(_key(secret), allow_empty=False), label="secret")
    assume(_hmac_key(other) != _hmac_key(_key(secret)))  # HMAC's equivalent keys, see docs
    with pytest.raises(InvalidSignatureError):
        verify(body, sign(body, other), secret)
    with pytest.raises(InvalidSignatureError):
        verify(body, signature, other)


# --- parse: only PayloadError, whatever the input ------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63)  # beyond any .NET integer
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
#: JSON-looking text: more likely than random bytes to get past the decoder.
json_fragments = st.lists(
    st.sampled_from(
        [
            '{"Event":',
            '"person.created"',
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            '"',
            "1e400",
            "-0",
            "NaN",
            "Infinity",
            "null",
            "true",
            "1" * 30,
            "\\u0000",
            "\\ud800",
            "\ufeff",
            "\xff",
        ]
    ),
    max_size=20,
).map("".join)


def parse_or_error(body: object) -> Event | PayloadError:
    """What parse makes of *body*: the event, or the PayloadError (anything else fails)."""
    try:
        return parse(body)  # type: ignore[arg-type]  # arbitrary input on purpose
    except PayloadError as exc:
        return exc


@given(st.binary(max_size=500) | json_fragments.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_parse_arbitrary_bytes(body: bytes) -> None:
    """Arbitrary bytes parse or raise PayloadError; nothing else escapes."""
    result = parse_or_error(body)
    if isinstance(result, Event):
        assert parse(result.to_json()) == result


@given(json_values)
def test_parse_arbitrary_json(value: object) -> None:
    """Any JSON document, as text and as an already decoded value, gives only PayloadError."""
    for body in (json.dumps(value), value):
        result = parse_or_error(body)
        assert isinstance(result, PayloadError)  # no such value has the required keys


def _swapped(value: object) -> st.SearchStrategy[object]:
    """JSON values of another type than *value*'s (None, bool, int, float, str, list, dict)."""
    return json_values.filter(lambda other: type(other) is not type(value))


@st.composite
def near_valid_payloads(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """A valid payload of a known event with one field (top-level or in FieldValues /
    Values) replaced by a value of another JSON type, or removed."""
    name = draw(st.sampled_from(KNOWN_NAMES), label="event")
    payload = make_payload(name, seed=draw(st.integers(0, 2**16), label="seed"))
    paths: list[tuple[str, ...]] = [(key,) for key in payload if key != "Event"]
    nested: dict[str, dict[str, Any]] = {
        key: value
        for key in ("FieldValues", "Values")
        if isinstance(value := payload.get(key), dict)
    }
    paths += [(key, inner) for key, value in nested.items() for inner in value]
    path = draw(st.sampled_from(paths), label="field")
    target: dict[str, Any] = payload if len(path) == 1 else nested[path[0]]
    if draw(st.booleans(), label="remove"):
        del target[path[-1]]
    else:
        target[path[-1]] = draw(_swapped(target[path[-1]]), label="value")
    return name, payload, ".".join(path)


@given(near_valid_payloads())
def test_parse_near_valid_payloads(case: tuple[str, dict[str, Any], str]) -> None:
    """One field of another JSON type (or missing) in any known event: the event or a
    PayloadError naming that field; what parses, round-trips."""
    name, payload, path = case
    result = parse_or_error(json.dumps(payload))
    if isinstance(result, PayloadError):
        assert result.field is None or path.startswith(result.field) or result.field == path
        return
    assert result.event == name
    assert parse(result.to_json()) == result


# --- round trips ---------------------------------------------------------------------------


@given(name=st.sampled_from(KNOWN_NAMES), seed=st.integers(0, 2**32))
def test_every_event_round_trips(name: str, seed: int) -> None:
    """Every known event, with any made-up values, survives to_json / to_dict and parse."""
    event = make_event(name, seed=seed)
    assert type(event) is EVENT_CLASSES[name]
    assert parse(event.to_json()) == event
    assert parse(event.to_dict()) == event
    assert parse(event.to_json().encode()) == event


@given(extra=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4))
def test_unknown_keys_round_trip(extra: dict[str, object]) -> None:
    """Keys the library does not know come back out as they went in."""
    payload = make_payload("person.created", seed=1)
    declared = {field.metadata.get("wire") for field in attrs.fields(PersonCreated)}
    extra = {key: value for key, value in extra.items() if key not in declared}
    event = parse(json.dumps({**payload, **extra}))
    assert dict(event.extra) == extra
    assert parse(event.to_json()) == event


# --- the Receiver: a status for every request, never an exception --------------------------

headers_values = st.text(max_size=50) | st.sampled_from(["", " ", "true", "TRUE"])
header_names = st.sampled_from(
    ["X-SuperOffice-Signature", "x-superoffice-signature", "X-Hook-Test", "Content-Type", "X"]
)


@given(
    body=st.binary(max_size=300) | json_fragments.map(str.encode),
    headers=st.dictionaries(header_names, headers_values, max_size=3),
)
def test_receiver_answers_unsigned_junk(body: bytes, headers: dict[str, str]) -> None:
    """Arbitrary bodies and headers get 200 (only an unverified test ping), 401 or 413."""
    outcome = Receiver(secret=SECRET, idempotency=None).receive(body, headers)
    assert outcome.status in (200, 401, 413)
    if outcome.status == 200:
        assert outcome.event is not None
        assert outcome.event.event == "test"
        assert outcome.dispatch is None  # no handler ran


@given(
    body=st.binary(max_size=300)
    | json_fragments.map(str.encode)
    | json_values.map(lambda v: json.dumps(v).encode())
)
def test_receiver_answers_signed_junk(body: bytes) -> None:
    """Correctly signed but arbitrary bodies get 200 (an event, or kept as unreadable), never an exception."""
    outcome = Receiver(secret=SECRET, idempotency=None).receive(
        body, {"X-SuperOffice-Signature": sign(body, SECRET)}
    )
    assert outcome.status == 200
    assert (outcome.event is None) == isinstance(outcome.error, PayloadError)


def test_huge_floats_are_rejected_not_turned_into_infinity() -> None:
    """1e400 does not become inf (which to_json would write as the non-JSON Infinity)."""
    payload = make_payload("person.created", seed=1)
    body = json.dumps(payload)[:-1] + ',"Custom":1e400}'
    result = parse_or_error(body)
    assert isinstance(result, PayloadError)
    assert "1e400" not in str(result)
    assert not math.isinf(parse(json.dumps(payload)[:-1] + ',"Custom":1e300}').extra["Custom"])  # type: ignore[arg-type]  # a float
