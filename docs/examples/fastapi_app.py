"""A FastAPI app with both ways of receiving SuperOffice webhooks."""

import logging
import os
from typing import Annotated

from fastapi import Depends, FastAPI

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.fastapi import SuperOfficeEvent, webhook_router

SECRET = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
logger = logging.getLogger(__name__)
app = FastAPI()

# 1. A router: POST /superoffice/webhook runs the handlers of `dispatcher`.
dispatcher = sow.Dispatcher()


@dispatcher.on("person.consented")
async def consent_given(event: sow.PersonConsented) -> None:
    logger.info("Person %s consented at %s", event.person_id, event.timestamp.isoformat())


app.include_router(webhook_router(secret=SECRET, dispatcher=dispatcher))

# 2. A dependency: your own route gets the verified, typed event.
verified_event = SuperOfficeEvent(secret=SECRET)


@app.post("/superoffice/people")
async def person_changed(event: Annotated[sow.Event, Depends(verified_event)]) -> dict[str, str]:
    if isinstance(event, sow.PersonEvent):
        logger.info("%s for person %s", event.event, event.person_id)
    return {"received": event.event}
