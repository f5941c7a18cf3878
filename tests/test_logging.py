"""What the library logs: failures seen without any logging set up, and nothing a client can forge."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest
from starlette.testclient import TestClient

import superoffice_webhooks as sow
from conftest import SECRET, example
from superoffice_webhooks._log import LIMIT, printable
from superoffice_webhooks.contrib.asgi import WebhookApp


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-SuperOffice-Signature": sow.sign(body, secret)}


def body_with(name: str, **changes: object) -> bytes:
    data = json.loads(example(name))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Cust12345", "Cust12345"),
        ("Cust1\n2024-01-01 ERROR forged", "Cust1\\n2024-01-01 ERROR forged"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("caf\u00e9", "caf\\xe9"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("x" * (LIMIT + 1), "x" * LIMIT + "..."),
    ],
    ids=["plain", "newline", "escape sequence", "non-ASCII", "lone surrogate", "too long"],
)
def test_printable_escapes_and_bounds(value: str, shown: str) -> None:
    """A value from a request is written as one bounded line of ASCII."""
    assert printable(value) == shown
    assert printable(value).isascii()


def test_an_unsigned_ping_cannot_forge_or_flood_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    """A test ping's ContextIdentifier is logged escaped and cut, however it is made."""
    forged = "Cust1\n2024-01-01 00:00:00 ERROR superoffice_webhooks: all events lost"
    huge = "C" * 1000
    receiver = sow.Receiver(secret=SECRET)
    with caplog.at_level(logging.DEBUG, logger="superoffice_webhooks"):
        for tenant in (forged, huge):
            ping = body_with("test", ContextIdentifier=tenant)
            assert receiver.receive(ping, {"X-Hook-Test": "true"}).status == 200

    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert all("\n" not in m for m in messages)
    assert all(len(m) < 2 * LIMIT + 200 for m in messages)


def test_a_large_unsigned_ping_is_not_parsed() -> None:
    """An unsigned "test ping" over the size limit is refused with 401 without being read."""
    big = body_with("test", Padding="x" * 5000)
    receiver = sow.Receiver(secret=SECRET)

    outcome = receiver.receive(big, {"X-Hook-Test": "true"})

    assert (outcome.status, outcome.event) == (401, None)


def test_a_lone_surrogate_in_a_signed_event_name_never_gives_500() -> None:
    """A signed event name with a lone surrogate gets an encodable reason, through an adapter too."""
    data = json.loads(example("person.created"))
    data["Event"] = "custom.\ud800event"
    body = json.dumps(data).encode()  # json escapes the surrogate as \ud800
    receiver = sow.Receiver(secret=SECRET, dispatcher=sow.Dispatcher(), idempotency=None)

    outcome = receiver.receive(body, signed(body))
    async_receiver = sow.AsyncReceiver(secret=SECRET, dispatcher=sow.Dispatcher(), idempotency=None)
    response = TestClient(WebhookApp(async_receiver)).post("/", content=body, headers=signed(body))

    assert outcome.status == 200
    assert outcome.reason == "no handler for custom.\\ud800event"
    assert outcome.reason.encode("utf-8")
    assert (response.status_code, response.text.strip()) == (
        200,
        "no handler for custom.\\ud800event",
    )


def test_unknown_tenants_and_bad_signatures_get_the_same_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a resolver, the 401 reason does not tell which tenants exist; the log has the detail."""
    tenants = {"Cust1": "secret one"}
    receiver = sow.Receiver(
        secret=lambda tenant, _: tenants.get(tenant), dispatcher=sow.Dispatcher()
    )
    known = body_with("person.created", ContextIdentifier="Cust1")
    unknown = body_with("person.created", ContextIdentifier="Cust2")

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        wrong_secret = receiver.receive(known, signed(known, "not the secret"))
        no_tenant = receiver.receive(unknown, signed(unknown, "not the secret"))
        not_json = receiver.receive(b"[]", signed(b"[]", "x"))

    assert {o.status for o in (wrong_secret, no_tenant, not_json)} == {401}
    assert wrong_secret.reason == no_tenant.reason == not_json.reason
    assert isinstance(wrong_secret.error, sow.InvalidSignatureError)
    assert isinstance(no_tenant.error, sow.UnknownTenantError)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "secret resolver returned none" in logged
    assert "does not match" in logged


FAILING_APP = textwrap.dedent(
    """
    import superoffice_webhooks as sow
    from superoffice_webhooks.testing import signed_request

    dispatcher = sow.Dispatcher()

    @dispatcher.on("person.consented")
    def broken(event):
        raise RuntimeError("the CRM mirror is down")

    receiver = sow.Receiver(secret="s", dispatcher=dispatcher)
    for name in ("person.consented", "person.created"):
        body, headers = signed_request(name, "s")
        print(receiver.receive(body, headers).status)
    """
)


def test_a_failing_handler_is_on_stderr_with_no_logging_set_up() -> None:
    """Without any logging configuration, a handler failure prints an ERROR with its traceback; success prints nothing."""
    proc = subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", FAILING_APP],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.stdout.split() == ["500", "200"]
    assert "Handler failed for person.consented event" in proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: the CRM mirror is down" in proc.stderr
    assert "person.created" not in proc.stderr
