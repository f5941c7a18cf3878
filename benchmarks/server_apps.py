"""The apps ``python -m benchmarks --server`` serves: ours, a constant 200, and the floor.

``asgi`` / ``asgi_constant`` / ``asgi_floor`` run under uvicorn, ``flask_app`` /
``flask_constant`` / ``flask_floor`` under gunicorn. The constant apps read the whole
body, as ours do, and answer 200 with a short plain-text body of about the same size as
ours; they do nothing else. The floor apps do what the constant apps do plus the
in-process benchmark's floor: HMAC-SHA256 + base64 + ``hmac.compare_digest`` of the
signature header, and ``json.loads`` of the body. No receiver can do less and still
verify and read the request, so the floor's ratio is the most any receiver can reach.

The server sends the same signed body again and again, so our apps keep their in-memory
idempotency store with a 1 µs TTL (as ``receive`` does in the in-process benchmark): every
request is claimed, dispatched and completed anew, not answered as a duplicate.

The served ASGI app's no-op handler is async, so it runs on the loop between the claim and
the completion. A sync handler runs in a worker thread; while it does, another delivery of
the same EventId on another connection is in flight and gets 409, which SuperOffice never
sends but this load does. ``asgi_sync_handler`` has the sync handler, for the in-process
``--adapters`` run, which measures what the thread costs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import Receive, Scope, Send, WebhookApp
from superoffice_webhooks.contrib.flask import webhook_view
from superoffice_webhooks.idempotency import AsyncMemoryStore, MemoryStore

from .cases import bare_ok, noop_dispatcher
from .payloads import SECRET
from .server import CONSTANT, PATH

_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
_KEY = SECRET.encode("utf-8")
_SIGNATURE = b"x-superoffice-signature"


def _options(
    dispatcher: sow.Dispatcher | None = None, *, for_async: bool = False
) -> dict[str, Any]:
    """One no-op handler; every delivery of the repeated body handled anew."""
    ttl = timedelta(microseconds=1)
    store = AsyncMemoryStore(MemoryStore(ttl=ttl)) if for_async else MemoryStore(ttl=ttl)
    return {
        "secret": SECRET,
        "dispatcher": dispatcher or noop_dispatcher(),
        "idempotency": store,
    }


async def _async_noop(_: sow.Event) -> None:
    return None


#: A dispatcher with one async no-op handler for ``person.created``.
async_dispatcher = sow.Dispatcher()
async_dispatcher.on("person.created")(_async_noop)

#: Our ASGI adapter, with an async no-op handler.
asgi = WebhookApp(**_options(async_dispatcher, for_async=True))
#: Our ASGI adapter, with a sync no-op handler (run in a worker thread).
asgi_sync_handler = WebhookApp(**_options(for_async=True))


def floor(body: bytes, signature: bytes) -> None:
    """The floor's work on one request; raises if the signature does not match."""
    if not bare_ok(body, _KEY, signature):
        raise AssertionError("the benchmark body's signature did not verify")
    json.loads(body)


async def asgi_constant(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, answer 200 (uvicorn runs it with ``--lifespan off``)."""
    if scope["type"] != "http":
        return
    await _read(receive)
    await _constant_answer(send)


async def asgi_floor(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, do the floor's work, answer 200."""
    if scope["type"] != "http":
        return
    body = await _read(receive)
    signature = next((value for name, value in scope["headers"] if name == _SIGNATURE), b"")
    floor(body, signature)
    await _constant_answer(send)


async def _read(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _constant_answer(send: Send) -> None:
    headers = [(b"content-length", str(len(CONSTANT)).encode()), *_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": CONSTANT})


#: The receiver of our Flask adapter (sync no-op handler).
flask_receiver = sow.Receiver(**_options())
#: Our Flask adapter.
flask_app = flask.Flask("benchmark")
flask_app.add_url_rule(PATH, view_func=webhook_view(flask_receiver), methods=["POST"])

#: The same Flask server answering 200.
flask_constant = flask.Flask("benchmark-constant")


@flask_constant.post(PATH)
def constant() -> flask.Response:
    flask.request.get_data()
    return flask.Response(CONSTANT, status=200, content_type="text/plain; charset=utf-8")


#: The same Flask server doing the floor's work.
flask_floor = flask.Flask("benchmark-floor")


@flask_floor.post(PATH)
def floor_view() -> flask.Response:
    request = flask.request
    signature = request.environ.get("HTTP_X_SUPEROFFICE_SIGNATURE", "")
    floor(request.get_data(), signature.encode("latin-1"))
    return flask.Response(CONSTANT, status=200, content_type="text/plain; charset=utf-8")
