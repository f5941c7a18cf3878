"""Error messages: the security-relevant ones word for word, the rest by class and field.

Pinned word for word: every message about signatures and secrets (``verify``), the
receiver's answers to unverifiable and stale requests (the one 401 reason a receiver with a
secret resolver gives whatever went wrong, so that it does not tell which tenants exist, and
the ``UnknownTenantError`` and ``StaleEventError`` messages behind it), and the messages
that replace the JSON and UTF-8 decoders' own, which quote bytes and positions of the body.
Their exact words are what shows that no secret, signature or body value gets out. Every
other error (a payload field of the wrong type, an argument of the wrong type) is checked
by its class, the field or type it names, the words that tell the user what to do (what is
wrong and what was expected: "expected an integer or null, got a string", "is required but
missing", "must be a string"), and that no value from the body appears in its message; the
rest of its wording (the prefix, the punctuation) may change.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from conftest import SECRET, example, example_json
from superoffice_webhooks import (
    ConfigurationError,
    Dispatcher,
    InvalidSignatureError,
    MissingSignatureError,
    PayloadError,
    Receiver,
    StaleEventError,
    SuperOfficeWebhookError,
    UnknownTenantError,
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
    """Each verification error has its class and its exact words."""
    call, error, message = VERIFY_CASES[case]
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert str(caught.value) == message


UNKNOWN_TENANT = (
    "No secret is configured for this request's ContextIdentifier and WebhookName (the "
    "secret resolver returned none)."
)
NOT_A_TENANT = (
    "Cannot choose the secret: the body is not a JSON object with the ContextIdentifier and "
    "WebhookName strings SuperOffice always sends."
)
#: What a receiver with a secret resolver answers for any request it cannot verify.
UNVERIFIED = (
    "The signature does not verify with the secret configured for this request's "
    "ContextIdentifier and WebhookName."
)
TOO_OLD = (
    "The event's Timestamp is 1:00:00 old, more than max_age (0:10:00): a replayed request, "
    "or a delivery delayed longer than max_age allows."
)
TOO_NEW = (
    "The event's Timestamp is 1:00:00 in the future, more than max_age (0:10:00): check the "
    "clock of this machine."
)
TENANT = str(example_json("person.created")["ContextIdentifier"])
SENT_AT = parse(BODY).timestamp
MAX_AGE = timedelta(minutes=10)


def by_tenant() -> Receiver:
    """A receiver that knows the secret of the example's tenant only."""
    return Receiver(
        secret=lambda tenant, _name: SECRET if tenant == TENANT else None,
        dispatcher=Dispatcher(),
    )


def checking_age(delay: timedelta) -> Receiver:
    """A receiver with a max_age whose clock reads the example's Timestamp plus *delay*."""
    return Receiver(
        secret=SECRET, dispatcher=Dispatcher(), max_age=MAX_AGE, clock=lambda: SENT_AT + delay
    )


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """The headers of *body* signed with *secret*."""
    return {"X-SuperOffice-Signature": sign(body, secret)}


OTHER_TENANT = json.dumps({**example_json("person.created"), "ContextIdentifier": "Cust9"})

#: receiver, body, headers -> (the reason answered, the error's class, the error's words)
RECEIVER_CASES: dict[
    str,
    tuple[
        Callable[[], Receiver],
        bytes,
        dict[str, str],
        tuple[str, type[SuperOfficeWebhookError], str],
    ],
] = {
    "resolver, wrong secret": (
        by_tenant,
        BODY,
        signed(BODY, "another secret"),
        (UNVERIFIED, InvalidSignatureError, NO_MATCH),
    ),
    "resolver, unknown tenant": (
        by_tenant,
        OTHER_TENANT.encode(),
        signed(OTHER_TENANT.encode()),
        (UNVERIFIED, UnknownTenantError, UNKNOWN_TENANT),
    ),
    "resolver, body naming no tenant": (
        by_tenant,
        b"[]",
        signed(b"[]"),
        (UNVERIFIED, UnknownTenantError, NOT_A_TENANT),
    ),
    "resolver, malformed signature": (
        by_tenant,
        BODY,
        {"X-SuperOffice-Signature": "abc="},
        (UNVERIFIED, InvalidSignatureError, MALFORMED),
    ),
    "resolver, no signature": (
        by_tenant,
        BODY,
        {},
        (NO_SIGNATURE, MissingSignatureError, NO_SIGNATURE),
    ),
    "an old event": (
        lambda: checking_age(timedelta(hours=1)),
        BODY,
        signed(BODY),
        (TOO_OLD, StaleEventError, TOO_OLD),
    ),
    "an event from the future": (
        lambda: checking_age(-timedelta(hours=1)),
        BODY,
        signed(BODY),
        (TOO_NEW, StaleEventError, TOO_NEW),
    ),
}


@pytest.mark.parametrize("case", RECEIVER_CASES)
def test_receiver_rejections(case: str) -> None:
    """Each unverifiable or stale request answers 401 with its exact reason and error."""
    make, body, headers, (reason, error, message) = RECEIVER_CASES[case]
    outcome = make().receive(body, headers)
    assert outcome.status == 401
    assert outcome.reason == reason
    assert type(outcome.error) is error
    assert str(outcome.error) == message


INVALID = "Invalid SuperOffice payload: "

#: bodies the JSON and UTF-8 decoders refuse -> the exact message (no field is named)
UNDECODABLE_CASES: dict[str, tuple[bytes, str]] = {
    "invalid UTF-8": (b'{"Event": "test", "x": "\xff"}', INVALID + "the body is not valid UTF-8."),
    "invalid JSON": (b'{"Event": "test",}', INVALID + "the body is not valid JSON."),
    "a list": (b"[1]", INVALID + "the body must be a JSON object."),
    "NaN": (b'{"Event": "test", "x": NaN}', INVALID + "NaN is not valid JSON."),
    "Infinity": (b'{"Event": "test", "x": -Infinity}', INVALID + "-Infinity is not valid JSON."),
    "a number beyond a float": (
        b'{"Event": "test", "x": 1e400}',
        INVALID + "a number is too large (beyond a 64-bit float).",
    ),
}


@pytest.mark.parametrize("case", UNDECODABLE_CASES)
def test_undecodable_bodies(case: str) -> None:
    """A body that does not decode gets its exact message, which quotes nothing of the body."""
    body, message = UNDECODABLE_CASES[case]
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert type(caught.value) is PayloadError
    assert str(caught.value) == message
    assert caught.value.field is None


def test_a_mapping_nested_too_deeply() -> None:
    """A mapping nested beyond Python's recursion limit gets its exact message too."""
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(PayloadError) as caught:
        parse({"Event": "test", "x": deep})
    assert type(caught.value) is PayloadError
    assert str(caught.value) == INVALID + "the body is nested too deeply."
    assert caught.value.field is None


def person_created(**changes: object) -> dict[str, object]:
    """The documented person.created example with some top-level keys replaced."""
    return {**example_json("person.created"), **changes}


def with_field_values(name: str, **values: object) -> dict[str, object]:
    """The documented *name* example with some ``FieldValues`` replaced."""
    data = example_json(name)
    data["FieldValues"] = {**data["FieldValues"], **values}  # type: ignore[dict-item]
    return data


#: body (bytes, or a decoded object) -> (the field named, the words that say what is wrong
#: and what was expected, the wrong value, which the message must not quote)
PARSE_CASES: dict[str, tuple[bytes | dict[str, object], str, str, str]] = {
    "no Event": (b'{"Entity": "person"}', "Event", "is required but missing", "person"),
    "Event, a number": (b'{"Event": 739}', "Event", "must be a string", "739"),
    "EventId, not a GUID": (
        person_created(EventId="576086e3-5261-426b"),
        "EventId",
        "expected a GUID such as 88f91933-edce-4c1a-8ded-ade8e2f72434",
        "576086e3",
    ),
    "EventId, a number": (
        person_created(EventId=739),
        "EventId",
        "expected a GUID string, got an integer",
        "739",
    ),
    "ContextIdentifier, missing": (
        {k: v for k, v in person_created().items() if k != "ContextIdentifier"},
        "ContextIdentifier",
        "is required but missing",
        "Cust1234",
    ),
    "Values of a deleted row, an array": (
        {**example_json("contact.deleted"), "Values": [739]},
        "Values",
        "expected an object of integers, got an array",
        "739",
    ),
    "Values of a deleted row, a string in the object": (
        {**example_json("contact.deleted"), "Values": {"contact_id": "7391"}},
        "Values",
        "expected an object of integers, got a string",
        "7391",
    ),
    "Timestamp, a number": (
        person_created(Timestamp=739),
        "Timestamp",
        "expected an ISO 8601 date-time, got an integer",
        "739",
    ),
    "Timestamp, not a date": (
        person_created(Timestamp="yesterday"),
        "Timestamp",
        "expected an ISO 8601 date-time such as 2018-04-24T08:01:15.8506935Z",
        "yesterday",
    ),
    "Timestamp without an offset": (
        person_created(Timestamp="2018-04-24T08:01:15"),
        "Timestamp",
        "expected a UTC date-time ending in Z (or with an offset), got one without",
        "2018-04-24T08:01:15",
    ),
    "Timestamp before year 1 in UTC": (
        person_created(Timestamp="0001-01-01T00:00:00+01:00"),
        "Timestamp",
        "the date-time is out of range once converted to UTC",
        "0001-01-01",
    ),
    "Entity, a number": (
        person_created(Entity=739),
        "Entity",
        "expected a string or null, got an integer",
        "739",
    ),
    "EventId, null": (
        person_created(EventId=None),
        "EventId",
        "expected a GUID string, got null",
        "None",
    ),
    "ContextIdentifier, a boolean": (
        person_created(ContextIdentifier=True),
        "ContextIdentifier",
        "expected a string, got a boolean",
        "True",
    ),
    "ContextIdentifier, a number": (
        person_created(ContextIdentifier=739),
        "ContextIdentifier",
        "expected a string, got an integer",
        "739",
    ),
    "FieldValues, an array": (
        person_created(FieldValues=[739]),
        "FieldValues",
        "expected an object, got an array",
        "739",
    ),
    "an id field, a string": (
        with_field_values("person.created", contact_id="7391"),
        "FieldValues.contact_id",
        "expected an integer or null, got a string",
        "7391",
    ),
    "a date field, a number": (
        with_field_values("person.created", updated=739),
        "FieldValues.updated",
        "expected an ISO 8601 date-time, got an integer",
        "739",
    ),
    "a date field, not a date": (
        with_field_values("person.created", updated="yesterday"),
        "FieldValues.updated",
        "expected an ISO 8601 date-time such as 2018-04-24T08:01:15.8506935Z",
        "yesterday",
    ),
    "a value of no JSON type": (
        person_created(PrimaryKey=b"739"),
        "PrimaryKey",
        "expected an integer, got bytes",
        "739",
    ),
    "Changes, an object": (
        person_created(Changes={"person_id": 1}),
        "Changes",
        "expected an array of strings, got an object",
        "person_id",
    ),
    "Changes, a number in the list": (
        person_created(Changes=["person_id", 739]),
        "Changes",
        "expected an array of strings, got an integer",
        "739",
    ),
    "chat id, not digits": (
        with_field_values("chatsession.created", ContactId="21a"),
        "FieldValues.ContactId",
        "expected an integer, a string of digits or null, got a string",
        "21a",
    ),
    "chat id, a number with a fraction": (
        with_field_values("chatsession.created", CustomerId=1.5),
        "FieldValues.CustomerId",
        "expected an integer, a string of digits or null, got a number",
        "1.5",
    ),
    "chat flag, a number": (
        with_field_values("chatsession.created", Consented=739),
        "FieldValues.Consented",
        "expected a boolean or null, got an integer",
        "739",
    ),
    "chat alias, a list": (
        with_field_values("chatsession.created", CustomerAlias=[739]),
        "FieldValues.CustomerAlias",
        "expected an integer, a string or null, got an array",
        "739",
    ),
    "extra-table id, a bad marker": (
        with_field_values("y_table.created", id="[I:six]"),
        "FieldValues.id",
        'expected an integer such as 6 or "[I:6]"',
        "six",
    ),
    "extra-table id, a float": (
        with_field_values("y_table.created", id="[F:6.5]"),
        "FieldValues.id",
        'expected an integer such as 6 or "[I:6]", got a string',
        "6.5",
    ),
    "extra-table date, a bad marker": (
        with_field_values("y_table.created", last_changed="[DT:yesterday]"),
        "FieldValues.last_changed",
        'expected a date-time such as "[DT:09/16/2025 14:22:14.0000000]"',
        "yesterday",
    ),
    "extra-table date, an unknown marker": (
        with_field_values("y_table.created", last_changed="[X:739]"),
        "FieldValues.last_changed",
        'expected a date-time such as "[DT:09/16/2025 14:22:14.0000000]"',
        "739",
    ),
    "unknown event, FieldValues a list": (
        person_created(Event="gadget.created", FieldValues=[739]),
        "FieldValues",
        "expected an object, got an array",
        "739",
    ),
}


@pytest.mark.parametrize("case", PARSE_CASES)
def test_payload_errors(case: str) -> None:
    """A payload error names its field, says what is wrong and what was expected, quotes no value."""
    body, field, reason, value = PARSE_CASES[case]
    with pytest.raises(PayloadError) as caught:
        parse(body)
    assert type(caught.value) is PayloadError
    assert caught.value.field == field
    assert field in str(caught.value)
    assert reason in str(caught.value)
    assert value not in str(caught.value)


#: call -> (the error's class, words its message must contain: the type it got and
#: what to pass instead)
ARGUMENT_CASES: dict[str, tuple[Callable[[], object], type[SuperOfficeWebhookError], str, str]] = {
    "verify, body of the wrong type": (
        lambda: verify(json.loads(BODY), SIGNATURE, SECRET),
        ConfigurationError,
        "dict",
        "Pass the bytes exactly as received",
    ),
    "parse, something else": (
        lambda: parse(7),  # type: ignore[arg-type]
        PayloadError,
        "int",
        "takes the body as bytes, str or a mapping",
    ),
}


@pytest.mark.parametrize("case", ARGUMENT_CASES)
def test_arguments_of_the_wrong_type(case: str) -> None:
    """An argument of the wrong type raises its class, naming the type it got and the one to pass."""
    call, error, got, wanted = ARGUMENT_CASES[case]
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert f"not {got}" in str(caught.value)
    assert wanted in str(caught.value)
