"""The ``event_received`` signal."""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["event_received"]

#: Sent by the webhook views for every request whose body became an event (also a
#: ``test`` ping), after its handlers ran, with keyword arguments ``event`` (the
#: :class:`~superoffice_webhooks.Event`), ``outcome`` (the
#: :class:`~superoffice_webhooks.Outcome`) and ``request``; the sender is the view class.
event_received = Signal()
