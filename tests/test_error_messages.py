"""The exact words of every error the verification and parsing code raises.

Error messages are part of the interface: each says what went wrong and what to do,
names the field, and never quotes the body, a secret or a signature. The other tests
check the error classes and fields; this table pins the sentences.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from conftest import SECRET, example, example_json
from superoffice_webhooks import (
    ConfigurationError,
    InvalidSignatureError,
    MissingSignatureError,
    PayloadError,
    SuperOfficeWebhookError,
    parse,
    sign,
    verify,
)

if TYPE_CHECKING:
    from collections.abc import Callable

BODY = example("person.created")
SIGNATURE = sign(BODY, SECRET)
WRONG_SIGNATURE = sign(BODY, "another secret")

NO_SIGNATURE = (
    "The request has no X-SuperOffice-Signature header. Set a Secret on the webhook in "
    "SuperOffice so that it signs its requests."
)
MALFORMED = (
    "The signature is malformed: expected 44 characters of standard base64 (an "
    "HMAC-SHA256 digest), as in the X-SuperOffice-Signature header."
)
NO_MATCH = (
    "The signature does not match the body. Check that the secret is the webhook's "
    "Secret and that the body is passed exactly as received."
)

VERIFY_CASES: dict[str, tuple[Callable[[], object], type[SuperOfficeWebhookError], str]] = {
    "secret of the wrong type": (
        lambda: verify(BODY, SIGNATURE, 7),  # type: ignore[arg-type]
        ConfigurationError,
        "secret must be a str, bytes, or a list of them (for rotation), not int.",
    ),
    "secret in a list of the wrong type": (
        lambda: verify(BODY, SIGNATURE, [SECRET, 7]),  # type: ignore[list-item]
        ConfigurationError,
        "A webhook secret must be str or bytes, not int.",
    ),
    "empty secret": (
        lambda: verify(BODY, SIGNATURE, ""),
        ConfigurationError,
        (
            "The webhook secret is empty. Pass the Secret from the SuperOffice webhook "
            "definition; an empty secret would accept forged requests."
        ),
    ),
    "empty list of secrets": (
        lambda: verify(BODY, SIGNATURE, []),
        ConfigurationError,
        "The list of webhook secrets is empty. Pass at least one secret.",
    ),
    "body of the wrong type": (
        lambda: verify(json.loads(BODY), SIGNATURE, SECRET),
        ConfigurationError,
        (
            "The body must be the raw request body as bytes, not dict. Pass the bytes exactly "
            "as received, before any decoding or JSON parsing."
        ),
    ),
    "no signature": (lambda: verify(BODY, None, SECRET), MissingSignatureError, NO_SIGNATURE),
    "empty signature": (lambda: verify(BODY, "", SECRET), MissingSignatureError, NO_SIGNATURE),
    "empty signature bytes": (
        lambda: verify(BODY, b"", SECRET),  # type: ignore[arg-type]
        MissingSignatureError,
        NO_SIGNATURE,
    ),
    "non-ASCII signature": (
        lambda: verify(BODY, "é" * 44, SECRET),
        InvalidSignatureError,
        "The signature contains non-ASCII characters; it must be base64.",
    ),
    "signature of the wrong type": (
        lambda: verify(BODY, 7, SECRET),  # type: ignore[arg-type]
        InvalidSignatureError,
        "The signature must be a str, not int.",
    ),
    "signature too short": (lambda: verify(BODY, "abc=", SECRET), InvalidSignatureError, MALFORMED),
    "signature of 44 characters, not base64": (
        lambda: verify(BODY, "!" * 44, SECRET),
        InvalidSignatureError,
        MALFORMED,
    ),
    "signature bytes of 44 characters, not base64": (
        lambda: verify(BODY, b"!" * 44, SECRET),  # type: ignore[arg-type]
        InvalidSignatureError,
        MALFORMED,
    ),
    "well-formed signature that does not match": (
        lambda: verify(BODY, WRONG_SIGNATURE, SECRET),
        InvalidSignatureError,
        NO_MATCH,
    ),
    "well-formed signature bytes that do not match": (
        lambda: verify(BODY, WRONG_SIGNATURE.encode(), SECRET),  # type: ignore[arg-type]
        InvalidSignatureError,
        NO_MATCH,
    ),
}


@pytest.mark.parametrize("case", VERIFY_CASES)
def test_verification_errors(case: str) -> None:
    """Each verification error has its class and its exact message."""
    call, error, message = VERIFY_CASES[case]
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert str(caught.value) == message


def person_created(**changes: object) -> dict[str, object]:
    """The documented person.created example with some top-level keys replaced."""
    return {**example_json("person.created"), **changes}


def with_field_values(name: str, **values: object) -> dict[str, object]:
    """The documented *name* example with some ``FieldValues`` replaced."""
    data = example_json(name)
    data["FieldValues"] = {**data["FieldValues"], **values}  # type: ignore[dict-item]
    return data


INVALID = "Invalid SuperOffice payload: "

#: body (bytes, or a decoded object) -> (field, exact message)
PARSE_CASES: dict[str, tuple[bytes | dict[str, object], str | None, str]] = {
    "invalid UTF-8": (
        b'{"Event": "test", "x": "\xff"}',
        None,
        INVALID + "the body is not valid UTF-8.",
    ),
    "invalid JSON": (b'{"Event": "test",}', None, INVALID + "the body is not valid JSON."),
    "a list": (b"[1]", None, INVALID + "the body must be a JSON object."),
    "no Event": (b"{}", "Event", INVALID + "Event is required but missing."),
    "Event, a number": (b'{"Event": 7}', "Event", INVALID + "Event must be a string."),
    "EventId, not a GUID": (
        person_created(EventId="576086e3-5261-426b"),
        "EventId",
        INVALID + "EventId: expected a GUID such as 88f91933-edce-4c1a-8ded-ade8e2f72434.",
    ),
    "Timestamp, a number": (
        person_created(Timestamp=7),
        "Timestamp",
        INVALID + "Timestamp: expected an ISO 8601 date-time, got an integer.",
    ),
    "Timestamp, not a date": (
        person_created(Timestamp="yesterday"),
        "Timestamp",
        INVALID + "Timestamp: expected an ISO 8601 date-time such as 2018-04-24T08:01:15.8506935Z.",
    ),
    "Timestamp without an offset": (
        person_created(Timestamp="2018-04-24T08:01:15"),
        "Timestamp",
        INVALID + "Timestamp: expected a UTC date-time ending in Z (or with an offset), got one "
        "without.",
    ),
    "Timestamp before year 1 in UTC": (
        person_created(Timestamp="0001-01-01T00:00:00+01:00"),
        "Timestamp",
        INVALID + "Timestamp: the date-time is out of range once converted to UTC.",
    ),
    "Entity, a number": (
        person_created(Entity=7),
        "Entity",
        INVALID + "Entity: expected a string or null, got an integer.",
    ),
    "EventId, a number": (
        person_created(EventId=7),
        "EventId",
        INVALID + "EventId: expected a GUID string, got an integer.",
    ),
    "ContextIdentifier, a number": (
        person_created(ContextIdentifier=7),
        "ContextIdentifier",
        INVALID + "ContextIdentifier: expected a string, got an integer.",
    ),
    "FieldValues, an array": (
        person_created(FieldValues=[7]),
        "FieldValues",
        INVALID + "FieldValues: expected an object, got an array.",
    ),
    "an id field, a string": (
        with_field_values("person.created", contact_id="7"),
        "FieldValues.contact_id",
        INVALID + "FieldValues.contact_id: expected an integer or null, got a string.",
    ),
    "a date field, a number": (
        with_field_values("person.created", updated=7),
        "FieldValues.updated",
        INVALID + "FieldValues.updated: expected an ISO 8601 date-time, got an integer.",
    ),
    "a date field, not a date": (
        with_field_values("person.created", updated="yesterday"),
        "FieldValues.updated",
        INVALID + "FieldValues.updated: expected an ISO 8601 date-time such as "
        "2018-04-24T08:01:15.8506935Z.",
    ),
    "NaN": (b'{"Event": "test", "x": NaN}', None, INVALID + "NaN is not valid JSON."),
    "Infinity": (
        b'{"Event": "test", "x": -Infinity}',
        None,
        INVALID + "-Infinity is not valid JSON.",
    ),
    "a number beyond a float": (
        b'{"Event": "test", "x": 1e400}',
        None,
        INVALID + "a number is too large (beyond a 64-bit float).",
    ),
    "a value of no JSON type": (
        person_created(PrimaryKey=b"7"),
        "PrimaryKey",
        INVALID + "PrimaryKey: expected an integer, got bytes.",
    ),
    "Changes, an object": (
        person_created(Changes={"person_id": 1}),
        "Changes",
        INVALID + "Changes: expected an array of strings, got an object.",
    ),
    "Changes, a number in the list": (
        person_created(Changes=["person_id", 7]),
        "Changes",
        INVALID + "Changes: expected an array of strings, got an integer.",
    ),
    "chat id, not digits": (
        with_field_values("chatsession.created", ContactId="21a"),
        "FieldValues.ContactId",
        INVALID + "FieldValues.ContactId: expected an integer, a string of digits or null, "
        "got a string.",
    ),
    "chat id, a number with a fraction": (
        with_field_values("chatsession.created", CustomerId=1.5),
        "FieldValues.CustomerId",
        INVALID + "FieldValues.CustomerId: expected an integer, a string of digits or null, "
        "got a number.",
    ),
    "chat flag, 2": (
        with_field_values("chatsession.created", Consented=2),
        "FieldValues.Consented",
        INVALID + "FieldValues.Consented: expected a boolean or null, got an integer.",
    ),
    "chat alias, a list": (
        with_field_values("chatsession.created", CustomerAlias=[5]),
        "FieldValues.CustomerAlias",
        INVALID + "FieldValues.CustomerAlias: expected an integer, a string or null, got an array.",
    ),
    "extra-table id, a bad marker": (
        with_field_values("y_table.created", id="[I:six]"),
        "FieldValues.id",
        INVALID + 'FieldValues.id: expected an integer such as 6 or "[I:6]".',
    ),
    "extra-table id, a float": (
        with_field_values("y_table.created", id="[F:6.5]"),
        "FieldValues.id",
        INVALID + 'FieldValues.id: expected an integer such as 6 or "[I:6]", got a string.',
    ),
    "extra-table date, a bad marker": (
        with_field_values("y_table.created", last_changed="[DT:yesterday]"),
        "FieldValues.last_changed",
        INVALID + "FieldValues.last_changed: expected a date-time such as "
        '"[DT:09/16/2025 14:22:14.0000000]".',
    ),
    "unknown event, FieldValues a list": (
        person_created(Event="gadget.created", FieldValues=[1]),
        "FieldValues",
        INVALID + "FieldValues: expected an object, got an array.",
    ),
}


@pytest.mark.parametrize("case", PARSE_CASES)
def test_payload_errors(case: str) -> None:
    """Each payload error has its exact message and names its field."""
    body, field, message = PARSE_CASES[case]
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert str(caught.value) == message
    assert caught.value.field == field


def test_parse_of_something_else_says_what_it_takes() -> None:
    """parse() of an object of the wrong type says which types it takes."""
    with pytest.raises(PayloadError) as caught:
        parse(7)  # type: ignore[arg-type]
    assert str(caught.value) == "parse() takes the body as bytes, str or a mapping, not int."
