"""The ``event_received`` signal."""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["event_received"]

#: Sent by the webhook views after the handlers of an event ran in the request, whether
#: they succeeded or failed, with keyword arguments ``event`` (the
#: :class:`~superoffice_webhooks.events.Event`), ``outcome`` (the
#: :class:`~superoffice_webhooks.Outcome`: ``outcome.ok`` tells success from failure)
#: and ``request``; the sender is the view class. It is not sent when no handler ran:
#: for rejected requests, ``test`` pings, duplicate deliveries, bodies that could not be
#: read, events handed to a worker (``run_handlers="worker"``, a Celery hand-off), and
#: retries that a :class:`~superoffice_webhooks.Worker` runs later.
event_received = Signal()
