"""Static typing of the adapters' public API: checked by ``mypy --strict``, never run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, assert_type

from django.http import HttpResponseBase
from fastapi import APIRouter, Depends, FastAPI, Request

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.django import AsyncWebhookView, WebhookView
from superoffice_webhooks.contrib.fastapi import SuperOfficeEvent, webhook_router
from superoffice_webhooks.contrib.flask import (
    SuperOfficeWebhooks,
    WebhookViewFunction,
    webhook_view,
)

if TYPE_CHECKING:
    from flask import Flask

KEY = "webhook key"


def django_views(receiver: sow.Receiver) -> None:
    """as_view takes a receiver or Receiver options and gives a view function."""
    assert_type(WebhookView.as_view(), Callable[..., HttpResponseBase])
    assert_type(
        AsyncWebhookView.as_view(secret=KEY, max_body_size=10), Callable[..., HttpResponseBase]
    )
    WebhookView.as_view(receiver)
    WebhookView.as_view(receiver=receiver)


def flask_extension(app: Flask, dispatcher: sow.Dispatcher) -> None:
    """@webhooks.on keeps the typed overloads of Dispatcher.on."""
    webhooks = SuperOfficeWebhooks(app, url=None, dispatcher=dispatcher, secret=KEY)
    assert_type(webhooks.dispatcher, sow.Dispatcher)
    assert_type(webhooks.on("person.consented"), sow.Registrar[sow.PersonConsented])
    assert_type(webhooks.receiver(app), sow.Receiver)
    assert_type(webhooks.view, WebhookViewFunction)
    assert_type(webhook_view(secret=KEY), WebhookViewFunction)

    @webhooks.on("person.consented")
    def consented(e: sow.PersonConsented) -> None: ...

    @webhooks.on("person.created")  # type: ignore[arg-type]
    def wrong(e: sow.PersonConsented) -> None: ...


def asgi_and_fastapi(app: FastAPI, receiver: sow.AsyncReceiver, sync: sow.Receiver) -> None:
    """The ASGI app, the router and the dependency have precise types."""
    assert_type(WebhookApp(receiver).receiver, sow.AsyncReceiver)
    WebhookApp(sync)  # type: ignore[arg-type]  # an async adapter takes an AsyncReceiver
    assert_type(webhook_router(secret=KEY, path="/hook"), APIRouter)
    dependency = SuperOfficeEvent(secret=KEY)

    async def route(event: Annotated[sow.Event, Depends(dependency)]) -> str:
        return event.event

    async def call(request: Request) -> None:
        assert_type(await dependency(request), sow.Event)

    app.post("/hook")(route)
    _: Any = call
