"""Apps whose handler fails, served by real servers to show where the failure is logged."""

from __future__ import annotations

import os

from flask import Flask
from webhook_cases import Recorder

from superoffice_webhooks import AsyncReceiver
from superoffice_webhooks.contrib.asgi import WebhookApp
from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks

#: Its person handler raises for the failing primary key, as in the other adapter tests.
recorder = Recorder()
SECRET = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]

flask_app = Flask(__name__)
SuperOfficeWebhooks(flask_app, url="/", secret=SECRET, dispatcher=recorder.dispatcher)
asgi_app = WebhookApp(AsyncReceiver(secret=SECRET, dispatcher=recorder.dispatcher))
