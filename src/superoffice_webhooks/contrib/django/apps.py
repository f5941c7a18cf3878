"""The Django app: add ``"superoffice_webhooks.contrib.django"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules

from superoffice_webhooks._receiver import AsyncReceiver
from superoffice_webhooks.exceptions import ConfigurationError

from . import conf

__all__ = ["SuperOfficeWebhooksConfig", "check_settings"]


class SuperOfficeWebhooksConfig(AppConfig):
    """The checks of ``SUPEROFFICE_WEBHOOKS``, handler discovery, and the inbox model."""

    name = "superoffice_webhooks.contrib.django"
    label = "superoffice_webhooks"
    verbose_name = "SuperOffice webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register :func:`check_settings`; import each installed app's ``webhooks`` module.

        As the admin imports ``admin.py``, so that the ``@on`` handlers in
        ``<app>/webhooks.py`` are registered before the first request, whatever else
        imports them. ``SUPEROFFICE_WEBHOOKS["AUTODISCOVER"] = False`` turns it off.
        """
        checks.register(check_settings)
        if conf.autodiscover():
            autodiscover_modules("webhooks")


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:  # noqa: ARG001  # the check framework's signature
    """Check that ``SUPEROFFICE_WEBHOOKS`` makes a working receiver.

    ``superoffice_webhooks.E001``: no secret; ``E002``: the dispatcher cannot be
    imported; ``E003``: the setting is malformed; ``E004``: the receiver refuses the
    options; ``W001``: unsigned requests are accepted.
    """
    try:
        conf.build_receiver()
    except conf.SettingsError as exc:
        return [checks.Error(str(exc), id=exc.check_id)]
    except ConfigurationError as exc:
        # Options for an AsyncWebhookView (an async store, async hooks) make no Receiver.
        try:
            conf.build_receiver(None, AsyncReceiver)
        except ConfigurationError:
            return [checks.Error(str(exc), id="superoffice_webhooks.E004")]
    if not conf.receiver_options().get("allow_unsigned"):
        return []
    return [
        checks.Warning(
            "SUPEROFFICE_WEBHOOKS accepts unsigned requests (allow_unsigned=True): anybody "
            "can send you events.",
            hint="Give the SuperOffice webhook a Secret and set SUPEROFFICE_WEBHOOKS['SECRET'].",
            id="superoffice_webhooks.W001",
        )
    ]
