"""A Starlette app with the webhook ASGI app mounted at /superoffice/webhook."""

import logging
import os

from starlette.applications import Starlette
from starlette.routing import Mount

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp

logger = logging.getLogger(__name__)
dispatcher = sow.Dispatcher()


@dispatcher.on("person.consented")
async def consent_given(event: sow.PersonConsented) -> None:
    logger.info("Person %s consented at %s", event.person_id, event.timestamp.isoformat())


webhook = WebhookApp(secret=os.environ["SUPEROFFICE_WEBHOOK_SECRET"], dispatcher=dispatcher)
app = Starlette(routes=[Mount("/superoffice/webhook", app=webhook)])
