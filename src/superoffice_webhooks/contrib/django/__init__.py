"""Django: a CSRF-exempt webhook view, settings, system checks, an ``event_received`` signal,
discovery of ``webhooks.py`` handler modules, and an inbox on the project's database
(:class:`DjangoInbox`, its admin page and the ``superoffice_webhooks_worker`` command).

``urls.py``::

    from superoffice_webhooks.contrib.django import WebhookView

    urlpatterns = [path("superoffice/webhook/", WebhookView.as_view())]

``settings.py``::

    INSTALLED_APPS = [..., "superoffice_webhooks.contrib.django"]  # system checks
    SUPEROFFICE_WEBHOOKS = {"SECRET": os.environ["SUPEROFFICE_WEBHOOK_SECRET"]}

The views and the signal import nothing from the settings until the first request.
"""

from .inbox import DjangoInbox
from .signals import event_received
from .views import AsyncWebhookView, WebhookView

__all__ = ["AsyncWebhookView", "DjangoInbox", "WebhookView", "event_received"]
