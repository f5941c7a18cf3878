"""A Flask app written from docs/flask.md: checked by ``mypy --strict`` and pyright, never run."""

from __future__ import annotations

from typing import assert_type

from flask import Blueprint, Flask

import superoffice_webhooks as sow
from superoffice_webhooks.contrib.flask import (
    SuperOfficeWebhooks,
    WebhookViewFunction,
    webhook_view,
)

KEY = "webhook key"


def readme_pattern() -> Flask:
    """@sow.on handlers with the extension on an app, its view routed by Flask."""
    app = Flask(__name__)
    app.config["SUPEROFFICE_WEBHOOKS_SECRET"] = KEY
    webhooks = SuperOfficeWebhooks(app)

    @sow.on("person.consented")
    def consent_given(event: sow.PersonConsented) -> None: ...

    @webhooks.on("person.*")
    def person_changed(event: sow.PersonEvent | sow.UnknownEvent) -> None: ...

    assert_type(webhooks.receiver(app).max_body_size, int)
    return app


def app_factory(webhooks: SuperOfficeWebhooks) -> Flask:
    """init_app in a factory; the view routed in a blueprint and a plain view beside it."""
    app = Flask(__name__)
    webhooks.init_app(app)
    integrations = Blueprint("integrations", __name__, url_prefix="/integrations")
    integrations.add_url_rule("/superoffice", view_func=webhooks.view)
    app.register_blueprint(integrations)
    view = webhook_view(secret=KEY, dispatcher=sow.Dispatcher())
    assert_type(view, WebhookViewFunction)
    app.add_url_rule("/superoffice", view_func=view)
    app.post("/superoffice/other")(webhook_view(sow.Receiver(secret=KEY)))
    return app


def app_factory_extension() -> SuperOfficeWebhooks:
    """The extension made without an app, for init_app; url=None routes nothing."""
    return SuperOfficeWebhooks(url=None, max_body_size=64 * 1024)


def own_view(app: Flask) -> None:
    """A view of the user's own passing Flask's request.headers to the receiver, as the quickstart does."""
    from flask import request  # noqa: PLC0415  # as a view module would import it

    receiver = sow.Receiver(secret=KEY)

    @app.post("/superoffice/own")
    def webhook() -> tuple[str, int]:
        outcome = receiver.receive(request.get_data(), request.headers)
        return outcome.reason, outcome.status
