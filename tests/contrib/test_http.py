"""What the adapters share: header fields read from an ASGI scope and a WSGI environ."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

import superoffice_webhooks as sow
from conftest import SECRET, example
from superoffice_webhooks.contrib._http import asgi_headers, declared_length, wsgi_headers
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import webhook_view

if TYPE_CHECKING:
    from collections.abc import MutableMapping


def test_asgi_headers_by_lower_case_name() -> None:
    """Names are lower-cased and both names and values are read as latin-1."""
    fields = [(b"X-SuperOffice-Signature", b"c2ln"), (b"x-note", b"caf\xe9")]

    assert asgi_headers(fields) == {"x-superoffice-signature": "c2ln", "x-note": "caf\xe9"}


def test_asgi_headers_join_a_repeated_name_in_order() -> None:
    """A name sent twice (in any case) becomes one field, its values joined with ", "."""
    fields = [(b"x-superoffice-signature", b"first"), (b"accept", b"*/*")]
    fields.append((b"X-SuperOffice-Signature", b"second"))

    assert asgi_headers(fields) == {"x-superoffice-signature": "first, second", "accept": "*/*"}


def test_wsgi_headers_from_the_environ() -> None:
    """HTTP_* keys and the two content keys become lower-case names; nothing else does."""
    environ = {
        "REQUEST_METHOD": "POST",
        "wsgi.input": io.BytesIO(b""),
        "HTTP_X_SUPEROFFICE_SIGNATURE": "c2ln",
        "HTTP_X_HOOK_TEST": "true",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
        "SERVER_NAME": "localhost",
    }

    assert wsgi_headers(environ) == {
        "x-superoffice-signature": "c2ln",
        "x-hook-test": "true",
        "content-type": "application/json",
        "content-length": "12",
    }


@pytest.mark.parametrize("key", ["CONTENT_TYPE", "CONTENT_LENGTH"])
def test_wsgi_headers_leave_out_empty_content_keys(key: str) -> None:
    """Servers set CONTENT_TYPE and CONTENT_LENGTH to "" when the request has none."""
    assert wsgi_headers({key: "", "HTTP_HOST": "example.com"}) == {"host": "example.com"}


def test_a_repeated_signature_is_malformed_through_asgi() -> None:
    """Two signature fields, each of them right, are one malformed field: 401."""
    body = example("person.consented")
    right = sow.sign(body, SECRET).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"x-superoffice-signature", right), (b"x-superoffice-signature", right)],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(WebhookApp(secret=SECRET)(scope, receive, send))

    assert sent[0]["status"] == 401
    assert b"malformed" in sent[1]["body"]


def test_a_repeated_signature_is_malformed_through_wsgi() -> None:
    """A WSGI server joins a repeated field with ", "; the Flask view answers 401 to it."""
    app = Flask(__name__)
    app.add_url_rule("/so", view_func=webhook_view(secret=SECRET))
    body = example("person.consented")
    right = sow.sign(body, SECRET)

    response = app.test_client().post(
        "/so", data=body, environ_overrides={"HTTP_X_SUPEROFFICE_SIGNATURE": f"{right}, {right}"}
    )

    assert response.status_code == 401
    assert "malformed" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["\u00b2", "1\u00b2", "abc", "-1", ""])
def test_a_content_length_that_is_not_ascii_digits_is_no_length(value: str) -> None:
    """Such a Content-Length is read as none (Python's int() would take some of them)."""
    assert declared_length({"content-length": value}) is None
    assert declared_length({"content-length": f" {len(value)} "}) == len(value)


def test_a_content_length_in_other_digits_is_no_500_through_asgi() -> None:
    """A signed body whose Content-Length is a superscript digit is received, not a 500."""
    body = example("person.consented")
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [
            (b"x-superoffice-signature", sow.sign(body, SECRET).encode()),
            (b"content-length", "\u00b2".encode("latin-1")),
        ],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(WebhookApp(secret=SECRET, idempotency=None)(scope, receive, send))

    assert sent[0]["status"] == 200


def test_a_content_length_in_other_digits_is_no_500_through_wsgi() -> None:
    """A Content-Length in superscript digits is a client's mistake through Flask too: 4xx.

    Werkzeug reads such a body as empty, so its signature does not match.
    """
    app = Flask(__name__)
    app.add_url_rule("/so", view_func=webhook_view(secret=SECRET, idempotency=None))
    body = example("person.consented")

    response = app.test_client().post(
        "/so",
        data=body,
        headers={"X-SuperOffice-Signature": sow.sign(body, SECRET)},
        environ_overrides={"CONTENT_LENGTH": "\u00b2"},
    )

    assert response.status_code == 401
