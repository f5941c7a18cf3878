"""A Flask app that receives SuperOffice webhooks at POST /superoffice/webhook."""

import logging
import os

from flask import Flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks

logger = logging.getLogger(__name__)

app = Flask(__name__)
app.config["SUPEROFFICE_WEBHOOKS_SECRET"] = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
webhooks = SuperOfficeWebhooks(app)  # adds the route POST /superoffice/webhook


@webhooks.on("person.consented")
def consent_given(event: sow.PersonConsented) -> None:
    logger.info("Person %s consented at %s", event.person_id, event.timestamp.isoformat())
