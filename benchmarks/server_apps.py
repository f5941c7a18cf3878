"""The apps ``python -m benchmarks --server`` serves: ours, and the same server answering 200.

``asgi`` / ``asgi_constant`` run under uvicorn, ``flask`` / ``flask_constant`` under
gunicorn. The constant apps read the whole body, as ours do, and answer 200 with a
short plain-text body of about the same size as ours; they do nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flask

from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import webhook_view

from .cases import noop_dispatcher
from .payloads import SECRET
from .server import CONSTANT, PATH

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]


#: Our ASGI adapter, one no-op handler.
asgi = WebhookApp(secret=SECRET, dispatcher=noop_dispatcher())


async def asgi_constant(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Read the body, answer 200 (uvicorn runs it with ``--lifespan off``)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-length", str(len(CONSTANT)).encode()), *_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": CONSTANT})


#: Our Flask adapter, one no-op handler.
flask_app = flask.Flask("benchmark")
flask_app.add_url_rule(
    PATH, view_func=webhook_view(secret=SECRET, dispatcher=noop_dispatcher()), methods=["POST"]
)

#: The same Flask server answering 200.
flask_constant = flask.Flask("benchmark-constant")


@flask_constant.post(PATH)
def constant() -> flask.Response:
    flask.request.get_data()
    return flask.Response(CONSTANT, status=200, content_type="text/plain; charset=utf-8")
