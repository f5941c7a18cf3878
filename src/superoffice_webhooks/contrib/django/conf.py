"""The ``SUPEROFFICE_WEBHOOKS`` setting, read when first needed and again when it changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast, overload

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver as on_signal
from django.utils.module_loading import import_string

from superoffice_webhooks._dispatch import Dispatcher
from superoffice_webhooks._receiver import AsyncReceiver, Receiver
from superoffice_webhooks.contrib._http import R, check_options
from superoffice_webhooks.exceptions import ConfigurationError

__all__ = ["SETTING", "SettingsError", "autodiscover", "build_receiver", "receiver_options"]

#: The name of the setting.
SETTING = "SUPEROFFICE_WEBHOOKS"
_KEYS = frozenset({"SECRET", "SECRETS", "DISPATCHER", "OPTIONS", "AUTODISCOVER"})
_cache: dict[tuple[type, int], tuple[Mapping[str, Any], Receiver | AsyncReceiver]] = {}


class SettingsError(ConfigurationError):
    """The ``SUPEROFFICE_WEBHOOKS`` setting cannot make a receiver; *check_id* says why."""

    def __init__(self, message: str, *, check_id: str) -> None:
        super().__init__(message)
        #: The system check id, e.g. ``"superoffice_webhooks.E001"``.
        self.check_id = check_id


def receiver_options(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Receiver keyword options the setting gives, updated with *overrides*.

    :raises SettingsError: the setting is malformed (E003) or its dispatcher cannot be
        imported (E002).
    """
    raw = getattr(settings, SETTING, {})
    if not isinstance(raw, Mapping):
        raise _malformed(f"{SETTING} must be a dict, not {type(raw).__name__}.")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise _malformed(
            f"{SETTING} has unknown key(s) {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(_KEYS))}."
        )
    if "SECRET" in raw and "SECRETS" in raw:
        raise _malformed(
            f"Set {SETTING}['SECRET'] or ['SECRETS'] (a list while rotating), not both."
        )
    if not isinstance(raw.get("AUTODISCOVER", True), bool):
        raise _malformed(f"{SETTING}['AUTODISCOVER'] must be True or False.")
    extra = raw.get("OPTIONS", {})
    if not isinstance(extra, Mapping):
        raise _malformed(f"{SETTING}['OPTIONS'] must be a dict of Receiver options.")
    options = dict(extra)
    for key in ("SECRET", "SECRETS"):  # one of them at most (checked above)
        if key in raw:
            options["secret"] = raw[key]
    if "DISPATCHER" in raw:
        options["dispatcher"] = _dispatcher(raw["DISPATCHER"])
    options.update(overrides or {})
    return options


def autodiscover() -> bool:
    """Whether to import each installed app's ``webhooks`` module (``AUTODISCOVER``, default on).

    A malformed setting counts as on here; the system checks report it (E003).
    """
    raw = getattr(settings, SETTING, {})
    return not isinstance(raw, Mapping) or raw.get("AUTODISCOVER") is not False


@overload
def build_receiver(overrides: Mapping[str, Any] | None = None) -> Receiver: ...
@overload
def build_receiver(overrides: Mapping[str, Any] | None, kind: type[R]) -> R: ...
def build_receiver(
    overrides: Mapping[str, Any] | None = None, kind: type[R] | None = None
) -> Receiver | R:
    """A :class:`~superoffice_webhooks.Receiver` (or *kind*, e.g.
    :class:`~superoffice_webhooks.AsyncReceiver`) from the setting and *overrides*.

    :raises SettingsError: no secret (E001), or see :func:`receiver_options`.
    :raises ConfigurationError: the Receiver refuses the options.
    """
    options = receiver_options(overrides)
    if options.get("secret") is None and not options.get("allow_unsigned"):
        msg = (
            f"No webhook secret: set {SETTING} = {{'SECRET': ...}} to the Secret of the "
            "SuperOffice webhook (e.g. from an environment variable), or pass "
            "WebhookView.as_view(secret=...)."
        )
        raise SettingsError(msg, check_id="superoffice_webhooks.E001")
    cls = kind or Receiver
    check_options(cls, options)
    return cls(**options)


def cached_receiver(kind: type[R], overrides: Mapping[str, Any]) -> R:
    """:func:`build_receiver` once per *kind* and *overrides* object, until the setting changes."""
    key = (kind, id(overrides))
    entry = _cache.get(key)
    if entry is None or entry[0] is not overrides:
        entry = (overrides, build_receiver(overrides, kind))
        _cache[key] = entry
    return cast("R", entry[1])


@on_signal(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:  # noqa: ARG001  # the signal's other arguments
    if setting == SETTING:
        _cache.clear()


def _dispatcher(value: object) -> Dispatcher:
    try:
        found = import_string(value) if isinstance(value, str) else value
    except ImportError as exc:
        msg = (
            f"{SETTING}['DISPATCHER'] = {value!r} cannot be imported ({exc}); give the "
            "dotted path of a Dispatcher, e.g. 'myapp.webhooks.dispatcher'."
        )
        raise SettingsError(msg, check_id="superoffice_webhooks.E002") from exc
    if not isinstance(found, Dispatcher):
        msg = (
            f"{SETTING}['DISPATCHER'] must name a superoffice_webhooks.Dispatcher, "
            f"not a {type(found).__name__}."
        )
        raise SettingsError(msg, check_id="superoffice_webhooks.E002")
    return found


def _malformed(message: str) -> SettingsError:
    return SettingsError(message, check_id="superoffice_webhooks.E003")
