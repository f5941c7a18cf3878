"""FastAPI: a router that receives SuperOffice webhooks, or a dependency for your own route.

::

    from superoffice_webhooks.contrib.fastapi import SuperOfficeEvent, webhook_router

    app.include_router(webhook_router(secret=SECRET))  # POST /superoffice/webhook

    verified_event = SuperOfficeEvent(secret=SECRET)

    @app.post("/superoffice/consents")
    async def consents(event: Annotated[sow.Event, Depends(verified_event)]) -> None: ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from starlette.requests import Request  # noqa: TC002  # FastAPI reads the annotation at runtime
from starlette.routing import Route

from superoffice_webhooks._events import Event

from ._http import asgi_headers, collect, consumed, make_receiver
from .asgi import WebhookApp

if TYPE_CHECKING:
    from superoffice_webhooks._receiver import Receiver

__all__ = ["SuperOfficeEvent", "webhook_router"]

DEFAULT_PATH = "/superoffice/webhook"


def webhook_router(
    receiver: Receiver | None = None,
    *,
    path: str = DEFAULT_PATH,
    name: str = "superoffice_webhook",
    **receiver_options: Any,
) -> APIRouter:
    """An ``APIRouter`` with one route at *path* that receives webhooks.

    The route is a :class:`~superoffice_webhooks.contrib.asgi.WebhookApp`: pass a ready
    :class:`~superoffice_webhooks.Receiver` or its keyword options (``secret=``,
    ``dispatcher=``, ...). Include it with ``app.include_router(router)``; a ``prefix``
    is put in front of *path*. The route is left out of the OpenAPI schema.
    """
    router = APIRouter()
    router.routes.append(
        Route(path, WebhookApp(receiver, **receiver_options), name=name, include_in_schema=False)
    )
    return router


class SuperOfficeEvent:
    """A dependency giving your route the verified, typed event of a webhook request.

    ::

        verified_event = SuperOfficeEvent(secret=SECRET)

        @app.post("/superoffice/webhook")
        async def webhook(event: Annotated[sow.Event, Depends(verified_event)]) -> None:
            ...

    Whenever the receiver would answer by itself, the route does not run and
    ``HTTPException`` carries the receiver's status and reason: 413, 401,
    400 (also for a body something read first), and 200 for SuperOffice's ``test``
    ping. No handlers are dispatched: your route is the handler.
    """

    def __init__(self, receiver: Receiver | None = None, **receiver_options: Any) -> None:
        #: The receiver that verifies and parses each request.
        self.receiver = make_receiver(receiver, receiver_options)

    async def __call__(self, request: Request) -> Event:
        """Verify and parse the request's body into its event."""
        headers = asgi_headers(request.scope["headers"])
        try:
            body = await collect(request.stream(), headers, self.receiver)
        except RuntimeError:  # Starlette's "Stream consumed": read before, and not kept
            body = consumed()
        accepted = await self.receiver.aaccept(body, headers) if isinstance(body, bytes) else body
        if isinstance(accepted, Event):
            return accepted
        raise HTTPException(accepted.status, detail=accepted.reason)
