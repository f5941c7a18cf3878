"""FastAPI: a router that receives SuperOffice webhooks, or a dependency for your own route.

::

    from superoffice_webhooks.contrib.fastapi import SuperOfficeEvent, webhook_router

    app.include_router(webhook_router(secret=SECRET))  # POST /superoffice/webhook, in OpenAPI

    verified_event = SuperOfficeEvent(secret=SECRET)

    @app.post("/superoffice/consents")
    async def consents(event: Annotated[sow.Event, Depends(verified_event)]) -> None: ...
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from starlette.requests import Request  # noqa: TC002  # FastAPI reads the annotation at runtime
from starlette.responses import PlainTextResponse

from superoffice_webhooks._events import Event
from superoffice_webhooks._receiver import AsyncReceiver

from ._http import asgi_headers, collect, consumed, make_receiver, text

if TYPE_CHECKING:
    from superoffice_webhooks._receiver import Outcome

__all__ = ["SuperOfficeEvent", "webhook_router"]

DEFAULT_PATH = "/superoffice/webhook"


#: What SuperOffice POSTs, for the OpenAPI schema: the route reads it as raw bytes,
#: whose signature it checks, and never has FastAPI parse it.
_NOTIFICATION_SCHEMA: dict[str, Any] = {
    "title": "SuperOffice webhook notification",
    "description": (
        "The JSON body SuperOffice sends for one event. The route verifies the "
        "X-SuperOffice-Signature header over these exact bytes, then parses them."
    ),
    "type": "object",
    "required": ["EventId", "Timestamp", "Event", "PrimaryKey", "ContextIdentifier"],
    "properties": {
        "EventId": {"type": "string", "format": "uuid"},
        "Timestamp": {"type": "string", "format": "date-time"},
        "Changes": {"type": "array", "items": {"type": "string"}},
        "Event": {"type": "string", "examples": ["person.consented"]},
        "PrimaryKey": {"type": "integer"},
        "Entity": {"type": "string", "examples": ["person"]},
        "ContextIdentifier": {"type": "string", "examples": ["Cust12345"]},
        "ChangedByAssociateId": {"type": "integer"},
        "WebhookName": {"type": "string"},
        "FieldValues": {"type": "object"},
        "Values": {"type": "object"},
    },
    "additionalProperties": True,
}

#: The answers the route gives, for the OpenAPI schema (see the status policy).
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Handled, recorded in the inbox, a duplicate, a test ping, no handler "
        "for the event, or a signed body that cannot be read and was kept."
    },
    400: {
        "description": "The body is not a valid notification (and was not kept), or was read before."
    },
    401: {"description": "The signature is missing or wrong, or the tenant is unknown."},
    409: {"description": "Another delivery of this EventId is running its handlers."},
    413: {"description": "The body is larger than the receiver's max_body_size."},
    500: {"description": "A handler raised; SuperOffice will retry."},
    503: {"description": "The inbox could not record the event; SuperOffice will retry."},
}

_OPENAPI_EXTRA: dict[str, Any] = {
    "parameters": [
        {
            "name": "X-SuperOffice-Signature",
            "in": "header",
            "required": False,
            "description": "Base64 HMAC-SHA256 of the body with the webhook's secret.",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _NOTIFICATION_SCHEMA}},
    },
}


def webhook_router(
    receiver: AsyncReceiver | None = None,
    *,
    path: str = DEFAULT_PATH,
    name: str = "superoffice_webhook",
    **receiver_options: Any,
) -> APIRouter:
    """An ``APIRouter`` with one POST route at *path* that receives webhooks.

    Pass a ready :class:`~superoffice_webhooks.AsyncReceiver` or its keyword options
    (``secret=``, ``dispatcher=``, ...). The route is a FastAPI path operation: include
    it with ``app.include_router(router, prefix=..., dependencies=[...], tags=[...])``
    and those apply; it is in the OpenAPI schema with its request body and answers.
    It reads the raw body itself (FastAPI never parses it), as
    :class:`~superoffice_webhooks.contrib.asgi.WebhookApp` does, and answers with the
    receiver's status and a plain-text reason. Sync handlers run in a worker thread.
    """
    webhook_receiver = make_receiver(AsyncReceiver, receiver, receiver_options)

    async def receive_webhook(request: Request) -> PlainTextResponse:
        headers, body = await _read(request, webhook_receiver)
        outcome = (
            await webhook_receiver.areceive(body, headers) if isinstance(body, bytes) else body
        )
        return PlainTextResponse(text(outcome), status_code=outcome.status)

    router = APIRouter()
    router.add_api_route(
        path,
        receive_webhook,
        methods=["POST"],
        name=name,
        summary="Receive a SuperOffice webhook",
        description=(
            "Verifies the signature, parses the notification and runs its handlers. "
            "SuperOffice treats every status but 200 as a failed delivery and retries it."
        ),
        response_class=PlainTextResponse,
        responses=_RESPONSES,
        openapi_extra=copy.deepcopy(_OPENAPI_EXTRA),  # FastAPI puts it in the schema as is
    )
    return router


async def _read(
    request: Request, receiver: AsyncReceiver
) -> tuple[dict[str, str], bytes | Outcome]:
    """The request's headers and its raw body, or the answer to give without reading it."""
    headers = asgi_headers(request.scope["headers"])
    try:
        body = await collect(request.stream(), headers, receiver)
    except RuntimeError:  # Starlette's "Stream consumed": read before, and not kept
        body = consumed()
    return headers, body


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
    ping and for a signed body that cannot be read (kept by the receiver's
    ``on_invalid_payload``). No handlers are dispatched: your route is the handler.
    """

    def __init__(self, receiver: AsyncReceiver | None = None, **receiver_options: Any) -> None:
        #: The receiver that verifies and parses each request.
        self.receiver = make_receiver(AsyncReceiver, receiver, receiver_options)

    async def __call__(self, request: Request) -> Event:
        """Verify and parse the request's body into its event."""
        headers, body = await _read(request, self.receiver)
        accepted = await self.receiver.aaccept(body, headers) if isinstance(body, bytes) else body
        if isinstance(accepted, Event):
            return accepted
        raise HTTPException(accepted.status, detail=accepted.reason)
