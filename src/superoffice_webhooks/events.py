"""The event classes: one per documented SuperOffice event, their bases, and the name table.

:func:`~superoffice_webhooks.parse` gives an instance of one of them. Each is also
importable from the package root (``from superoffice_webhooks import PersonConsented``).
The reference page lists them all with their ``FieldValues`` and ``Values``.
"""

from . import _generated_events
from ._events import DeletedValues, Event, FieldValues, TestEvent, UnknownEvent, WebhookState
from ._generated_events import *  # noqa: F403  # one class per documented event, listed in its __all__

__all__ = ["DeletedValues", "Event", "FieldValues", "TestEvent", "UnknownEvent", "WebhookState"]
__all__ += _generated_events.__all__  # EVENT_CLASSES and one class per documented event
