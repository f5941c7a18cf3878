"""Django: a CSRF-exempt webhook view, settings, system checks and an ``event_received`` signal.

``urls.py``::

    from superoffice_webhooks.contrib.django import WebhookView

    urlpatterns = [path("superoffice/webhook/", WebhookView.as_view())]

``settings.py``::

    INSTALLED_APPS = [..., "superoffice_webhooks.contrib.django"]  # system checks
    SUPEROFFICE_WEBHOOKS = {"SECRET": os.environ["SUPEROFFICE_WEBHOOK_SECRET"]}

The views and the signal import nothing from the settings until the first request.
"""

from .signals import event_received
from .views import AsyncWebhookView, WebhookView

__all__ = ["AsyncWebhookView", "WebhookView", "event_received"]
