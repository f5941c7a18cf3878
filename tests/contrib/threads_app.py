"""The app the thread tests serve under uvicorn: a sync handler that waits for another request.

The handler for ``person.created`` waits until ``GET /ping`` has been answered, and fails
if that does not happen while it waits. Run on the event loop's thread, it would block
the loop, so ``/ping`` could not be answered until it gave up: the webhook gets 500.
Run in a worker thread, ``/ping`` is answered while it waits: the webhook gets 200.
"""

from __future__ import annotations

import asyncio
import os
import threading

from fastapi import FastAPI

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.fastapi import webhook_router

SECRET = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
#: How long the handler waits for /ping, and /ping for the handler, before giving up.
WAIT = 5.0

started = threading.Event()
pinged = threading.Event()
dispatcher = sow.Dispatcher()


@dispatcher.on("person.created")
def wait_for_ping(event: sow.PersonCreated) -> None:
    started.set()
    if not pinged.wait(WAIT):
        msg = "no other request was answered while this handler ran"
        raise RuntimeError(msg)


app = FastAPI()
app.include_router(webhook_router(secret=SECRET, dispatcher=dispatcher))
app.mount("/asgi", WebhookApp(secret=SECRET, dispatcher=dispatcher))


@app.get("/ping")
async def ping() -> dict[str, bool]:
    """Answer once the handler has started, and let it finish."""
    handler_started = await asyncio.to_thread(started.wait, WAIT)
    pinged.set()
    return {"handler_started": handler_started}
