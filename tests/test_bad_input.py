"""The bad-input matrix: every malformed request a public endpoint may get, and its answer.

Each row is one request, sent three ways: straight to a :class:`Receiver`, through the
ASGI adapter with Starlette's test client, and through the Flask adapter with Flask's
test client. All three must give the row's status and error. The same rows make the
table in docs/bad-input.md (a test keeps the two in step), and every log record written
meanwhile is checked for the secret, the signatures and the bodies' personal data.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from flask import Flask
from starlette.testclient import TestClient

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks
from superoffice_webhooks.testing import make_payload

if TYPE_CHECKING:
    from collections.abc import Callable

SECRET = "bad input matrix secret"  # noqa: S105  # a test secret
OTHER_SECRET = "some other secret"  # noqa: S105  # a test secret
HEADER = "X-SuperOffice-Signature"
LIMIT = 1024 * 1024  # the default: the nested rows need room
#: Personal data in every body; it must never reach a log record or an answer.
CANARY = "Canary-Personal-Data-7f3a"
DOC = Path(__file__).parent.parent / "docs" / "bad-input.md"
#: The answer to a signed body that parse() refuses: kept (on_invalid_payload="keep"), not refused.
KEPT = 200

Headers = list[tuple[str, str | bytes]]


def payload(**changes: object) -> dict[str, Any]:
    """A valid person.created payload carrying CANARY, with top-level *changes*."""
    data = make_payload("person.created", seed=8)
    data["FieldValues"]["firstname"] = CANARY  # type: ignore[index]  # a dict
    data.update(changes)
    return data


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def valid() -> bytes:
    return body_of(payload())


def with_timestamp(text: str) -> bytes:
    return body_of(payload(Timestamp=text))


def raw_replace(key: str, raw: str) -> bytes:
    """A valid body whose *key* has the raw JSON text *raw* (not expressible via json.dumps)."""
    data = payload(**{key: "\x00placeholder"})
    return json.dumps(data).replace('"\\u0000placeholder"', raw).encode()


def signed(body: bytes) -> Headers:
    return [("Content-Type", "application/json"), (HEADER, sow.sign(body, SECRET))]


def without(name: str) -> Callable[[bytes], Headers]:
    return lambda body: [(k, v) for k, v in signed(body) if k != name]


def signature(make: Callable[[str], str | bytes]) -> Callable[[bytes], Headers]:
    """Headers whose signature is make(the right signature)."""
    return lambda body: [
        ("Content-Type", "application/json"),
        (HEADER, make(sow.sign(body, SECRET))),
    ]


def content_type(value: str) -> Callable[[bytes], Headers]:
    return lambda body: [("Content-Type", value), (HEADER, sow.sign(body, SECRET))]


@attrs.frozen
class Row:
    """One request of the matrix: the docs' wording, what is sent and the answer expected."""

    input: str
    body: bytes
    status: int
    error: str  # the class of Outcome.error, or "-"
    headers: Callable[[bytes], Headers] = signed

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.input.lower()).strip("-")[:60]


NESTED = 100_000
RIGHT = "A" * 43 + "="

ROWS = [
    # --- the signature header
    Row(
        "No `X-SuperOffice-Signature` header",
        valid(),
        401,
        "MissingSignatureError",
        without(HEADER),
    ),
    Row("Empty signature header", valid(), 401, "MissingSignatureError", signature(lambda s: "")),
    Row(
        "Signature header twice, right value first (ASGI: two headers; WSGI: joined with a comma)",
        valid(),
        401,
        "InvalidSignatureError",
        lambda body: [*signed(body), (HEADER, RIGHT)],
    ),
    Row(
        "Signature header twice, the right value both times",
        valid(),
        401,
        "InvalidSignatureError",
        lambda body: [*signed(body), (HEADER, sow.sign(body, SECRET))],
    ),
    Row(
        "Signature with a space inside",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s[:20] + " " + s[20:]),
    ),
    Row(
        "Signature with a trailing tab",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s + "\t"),
    ),
    Row(
        "Header name in lower case (`x-superoffice-signature`)",
        valid(),
        200,
        "-",
        lambda body: [(HEADER.lower(), sow.sign(body, SECRET))],
    ),
    Row(
        "Header name in upper case",
        valid(),
        200,
        "-",
        lambda body: [(HEADER.upper(), sow.sign(body, SECRET))],
    ),
    Row(
        "Signature that is not base64 (44 characters)",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: "!" * 44),
    ),
    Row(
        "Signature in URL-safe base64 (`-` and `_`)",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: "-_" + s[2:]),
    ),
    Row(
        "Base64 of 16 bytes (too short for HMAC-SHA256)",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s[:22] + "=="),
    ),
    Row(
        "Base64 of 48 bytes (too long)",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s[:43] + s[:21]),
    ),
    Row(
        "Right signature without its `=` padding",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s.rstrip("=")),
    ),
    Row(
        "Non-ASCII bytes in the signature header",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: s[:40].encode() + b"\xe9\xe9=="),
    ),
    Row(
        "Signature made with another secret",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: sow.sign(valid(), OTHER_SECRET)),
    ),
    Row(
        "Signature of another body",
        valid(),
        401,
        "InvalidSignatureError",
        signature(lambda s: sow.sign(b"{}", SECRET)),
    ),
    # --- the body, correctly signed
    Row("Empty body", b"", KEPT, "PayloadError"),
    Row(
        "Body that is not UTF-8",
        valid().replace(CANARY.encode(), b"\xff\xfe" + CANARY.encode()),
        KEPT,
        "PayloadError",
    ),
    Row("UTF-8 byte order mark before the JSON", b"\xef\xbb\xbf" + valid(), 200, "-"),
    Row("UTF-16 body", valid().decode().encode("utf-16"), KEPT, "PayloadError"),
    Row("JSON array at the top", body_of([CANARY]), KEPT, "PayloadError"),
    Row("JSON string at the top", body_of(CANARY), KEPT, "PayloadError"),
    Row("JSON number at the top", b"4711", KEPT, "PayloadError"),
    Row("JSON `null` at the top", b"null", KEPT, "PayloadError"),
    Row(f"Arrays nested {NESTED:,} deep", b"[" * NESTED + b"]" * NESTED, KEPT, "PayloadError"),
    Row(
        f"Objects nested {NESTED:,} deep in an unknown key",
        raw_replace("Custom", '{"a":' * NESTED + "1" + "}" * NESTED),
        KEPT,
        "PayloadError",
    ),
    Row(
        "Integer of 5,000 digits (over Python's limit for int())",
        raw_replace("PrimaryKey", "9" * 5000),
        KEPT,
        "PayloadError",
    ),
    Row("`PrimaryKey` beyond 64 bits", raw_replace("PrimaryKey", "9" * 30), 200, "-"),
    Row(
        "Number too large for a float (`1e400`)",
        raw_replace("Custom", "1e400"),
        KEPT,
        "PayloadError",
    ),
    Row("`NaN`", raw_replace("Custom", "NaN"), KEPT, "PayloadError"),
    Row("`Infinity`", raw_replace("PrimaryKey", "-Infinity"), KEPT, "PayloadError"),
    Row(
        "Duplicate keys (the last one wins, as in `json.loads`)",
        valid()[:-1] + b', "PrimaryKey": 4711}',
        200,
        "-",
    ),
    Row(
        '`PrimaryKey` as a string (`"12"`)', body_of(payload(PrimaryKey="12")), KEPT, "PayloadError"
    ),
    Row(
        "`PrimaryKey` as a float (`12.0`)", body_of(payload(PrimaryKey=12.0)), KEPT, "PayloadError"
    ),
    Row("`PrimaryKey` as `true`", body_of(payload(PrimaryKey=True)), KEPT, "PayloadError"),
    Row("`Event` unknown (`custom.thing`)", body_of(payload(Event="custom.thing")), 200, "-"),
    Row(
        "`Event` missing",
        body_of({k: v for k, v in payload().items() if k != "Event"}),
        KEPT,
        "PayloadError",
    ),
    Row(
        "`EventId` missing",
        body_of({k: v for k, v in payload().items() if k != "EventId"}),
        KEPT,
        "PayloadError",
    ),
    Row("`EventId` not a GUID", body_of(payload(EventId=CANARY)), KEPT, "PayloadError"),
    *(
        Row(
            f"`Timestamp` with {n} fractional digits",
            with_timestamp("2024-05-06T07:08:09" + ("." + "123456789"[:n] if n else "") + "Z"),
            200,
            "-",
        )
        for n in range(10)
    ),
    Row(
        "`Timestamp` with an offset (`+02:00`)",
        with_timestamp("2024-05-06T07:08:09.1234567+02:00"),
        200,
        "-",
    ),
    Row(
        "`Timestamp` without a zone",
        with_timestamp("2024-05-06T07:08:09.1234567"),
        KEPT,
        "PayloadError",
    ),
    Row("`Timestamp` in month 13", with_timestamp("2024-13-06T07:08:09Z"), KEPT, "PayloadError"),
    Row("`Timestamp` year 0", with_timestamp("0000-01-01T00:00:00Z"), KEPT, "PayloadError"),
    Row(
        "`Timestamp` before year 1 in UTC (`0001-01-01T00:00:00+01:00`)",
        with_timestamp("0001-01-01T00:00:00+01:00"),
        KEPT,
        "PayloadError",
    ),
    Row(
        "`Timestamp` after year 9999 in UTC (`9999-12-31T23:59:59-01:00`)",
        with_timestamp("9999-12-31T23:59:59-01:00"),
        KEPT,
        "PayloadError",
    ),
    Row("`Timestamp` not a date (`yesterday`)", with_timestamp("yesterday"), KEPT, "PayloadError"),
    Row(
        f"Body over `max_body_size` ({LIMIT + 1:,} bytes)",
        valid()[:-1] + b" " * (LIMIT + 1 - len(valid())) + b"}",
        413,
        "PayloadTooLargeError",
    ),
    Row("`Content-Type: text/plain`", valid(), 200, "-", content_type("text/plain")),
    Row(
        "`Content-Type: application/x-www-form-urlencoded`",
        valid(),
        200,
        "-",
        content_type("application/x-www-form-urlencoded"),
    ),
    Row("No `Content-Type`", valid(), 200, "-", without("Content-Type")),
]
IDS = [row.id for row in ROWS]


def joined(headers: Headers) -> dict[str, str]:
    """Headers as a WSGI server presents them: one value per name, repeats joined by ", "."""
    result: dict[str, str] = {}
    for name, value in headers:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        key = next((k for k in result if k.lower() == name.lower()), name)
        result[key] = f"{result[key]}, {text}" if key in result else text
    return result


def receiver() -> sow.Receiver:
    return sow.Receiver(**_options())


def async_receiver() -> sow.AsyncReceiver:
    return sow.AsyncReceiver(**_options())


def _options() -> dict[str, Any]:
    dispatcher = sow.Dispatcher()
    dispatcher.on_any(lambda event: None)
    return {"secret": SECRET, "dispatcher": dispatcher, "max_body_size": LIMIT}


def error_name(error: object) -> str:
    return "-" if error is None else type(error).__name__


@pytest.fixture
def records() -> Any:
    """Every log record written during the test, from any logger, at any level."""
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    package = logging.getLogger("superoffice_webhooks")
    levels = root.level, package.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    package.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(handler)
    root.setLevel(levels[0])
    package.setLevel(levels[1])


def assert_nothing_leaked(records: list[logging.LogRecord], row: Row, answer: bytes = b"") -> None:
    """No record (message, args, traceback) nor the answer holds a secret, signature or CANARY."""
    secrets = [SECRET, OTHER_SECRET, CANARY]
    signatures = [
        v.decode("latin-1") if isinstance(v, bytes) else v
        for k, v in row.headers(row.body)
        if k.lower() == HEADER.lower() and len(v) > 4
    ]
    formatter = logging.Formatter()
    for record in records:
        text = " ".join(
            [
                record.getMessage(),
                repr(record.args),
                formatter.formatException(record.exc_info) if record.exc_info else "",
                record.exc_text or "",
            ]
        )
        for needle in [*secrets, *signatures]:
            assert needle not in text, f"{record.name} logged a secret, signature or personal data"
    for needle in [*secrets, *signatures]:
        assert needle.encode("latin-1", "replace") not in answer


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_receiver(row: Row, records: list[logging.LogRecord]) -> None:
    """Receiver.receive answers the row's status with the row's error."""
    outcome = receiver().receive(row.body, joined(row.headers(row.body)))
    assert (outcome.status, error_name(outcome.error)) == (row.status, row.error)
    assert records  # the answer was logged, so the audit below has something to read
    assert_nothing_leaked(records, row, outcome.reason.encode())


@pytest.mark.parametrize("row", [r for r in ROWS if r.error == "PayloadError"])
def test_receiver_rejecting(row: Row, records: list[logging.LogRecord]) -> None:
    """With on_invalid_payload="reject", a signed body that parse() refuses gets 400."""
    dispatcher = sow.Dispatcher()
    rejecting = sow.Receiver(
        secret=SECRET, dispatcher=dispatcher, max_body_size=LIMIT, on_invalid_payload="reject"
    )
    outcome = rejecting.receive(row.body, joined(row.headers(row.body)))
    assert (row.status, outcome.status, error_name(outcome.error)) == (KEPT, 400, "PayloadError")
    assert_nothing_leaked(records, row, outcome.reason.encode())


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_asgi(row: Row, records: list[logging.LogRecord]) -> None:
    """The ASGI adapter, through Starlette's test client, answers as the Receiver does."""
    raw = [
        (k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in row.headers(row.body)
    ]
    with TestClient(WebhookApp(async_receiver())) as client:
        response = client.post("/", content=row.body, headers=raw)
    assert response.status_code == row.status
    assert_nothing_leaked(records, row, response.content)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_flask(row: Row, records: list[logging.LogRecord]) -> None:
    """The Flask adapter, through Flask's test client, answers as the Receiver does."""
    app = Flask(__name__)
    webhooks = SuperOfficeWebhooks(app, url="/", secret=SECRET, max_body_size=LIMIT)
    webhooks.dispatcher.on_any(lambda event: None)
    headers = [
        (k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in row.headers(row.body)
    ]
    response = app.test_client().post("/", data=row.body, headers=headers)
    assert response.status_code == row.status
    assert_nothing_leaked(records, row, response.data)


def test_docs_table_lists_every_row() -> None:
    """docs/bad-input.md has one table row per matrix row, with the same status and error."""
    table = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith("| Input")
    ]
    expected = [
        [row.input, str(row.status), "—" if row.error == "-" else f"`{row.error}`"] for row in ROWS
    ]
    assert table == expected


def test_duplicate_keys_last_wins() -> None:
    """With a key twice, the last value is the one used (json.loads' rule)."""
    body = valid()[:-1] + b', "PrimaryKey": 4711}'
    outcome = receiver().receive(body, joined(signed(body)))
    assert outcome.event is not None
    assert outcome.event.primary_key == 4711


def test_timestamps_become_utc() -> None:
    """Any number of fractional digits and any offset give an aware UTC datetime (microseconds)."""
    for row in ROWS:
        if row.input.startswith("`Timestamp`") and row.error == "-":
            event = sow.parse(row.body)
            assert event.timestamp.utcoffset() is not None
            assert event.timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]  # checked above
    assert sow.parse(with_timestamp("2024-05-06T07:08:09.1234567+02:00")).timestamp.hour == 5
