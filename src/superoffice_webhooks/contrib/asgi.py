"""A pure ASGI app that receives SuperOffice webhooks; mount it in Starlette, FastAPI, ...

::

    from superoffice_webhooks.contrib.asgi import WebhookApp

    app = WebhookApp(secret=os.environ["SUPEROFFICE_WEBHOOK_SECRET"])  # serve it directly
    starlette_app.mount("/superoffice/webhook", app)  # or mount it

It imports no framework: the request's raw bytes and headers go to
:meth:`AsyncReceiver.areceive <superoffice_webhooks.AsyncReceiver.areceive>`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from superoffice_webhooks._receiver import AsyncReceiver
from superoffice_webhooks.exceptions import ConfigurationError

from ._http import (
    ALLOW,
    CONTENT_TYPE,
    NOT_ALLOWED,
    asgi_headers,
    collect,
    make_receiver,
    text,
)

if TYPE_CHECKING:
    from superoffice_webhooks._receiver import Outcome

__all__ = ["Receive", "Scope", "Send", "WebhookApp"]

#: The ASGI connection scope.
Scope = MutableMapping[str, Any]
#: The ASGI ``receive`` callable.
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
#: The ASGI ``send`` callable.
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _DisconnectedError(Exception):
    """The client went away before the body was read."""


class WebhookApp:
    """An ASGI 3 application answering SuperOffice's webhook POSTs.

    Pass a ready :class:`~superoffice_webhooks.AsyncReceiver`, or the keyword options of
    one (``secret=``, ``dispatcher=``, ``max_body_size=``, ...). Handlers may be async;
    sync ones run in a worker thread.

    Answers 405 to anything but POST, 413 without reading when ``Content-Length`` is over
    the receiver's ``max_body_size`` (and stops reading a body that grows past it), 400
    when the body is shorter than its ``Content-Length`` (something read it first), and
    otherwise the receiver's status. Every answer is a short plain-text reason.
    Lifespan events are acknowledged, so it can also be served on its own.
    """

    def __init__(self, receiver: AsyncReceiver | None = None, **receiver_options: Any) -> None:
        #: The receiver every request goes to.
        self.receiver = make_receiver(AsyncReceiver, receiver, receiver_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            msg = f"WebhookApp serves HTTP requests, not {scope['type']!r} connections."
            raise ConfigurationError(msg)
        if scope["method"] != "POST":
            await _answer(send, NOT_ALLOWED, _ALLOW)
            return
        headers = asgi_headers(scope["headers"])
        try:
            body = await collect(_chunks(receive), headers, self.receiver)
        except _DisconnectedError:
            return
        await _answer(
            send, await self.receiver.areceive(body, headers) if isinstance(body, bytes) else body
        )


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _DisconnectedError
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


_TEXT = (b"content-type", CONTENT_TYPE.encode())
_ALLOW = ((ALLOW[0].lower().encode(), ALLOW[1].encode()),)


async def _answer(
    send: Send, outcome: Outcome, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = text(outcome)
    headers = [(b"content-length", b"%d" % len(body)), _TEXT, *extra]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
