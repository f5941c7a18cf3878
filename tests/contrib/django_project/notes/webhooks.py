"""Handlers of an installed app, registered with ``@sow.on``; nothing imports this module.

The webhook app discovers it when Django starts, as the admin discovers ``admin.py``.
"""

import superoffice_webhooks as sow

from .models import Note

#: The event name this module handles; a name of its own, so no other test meets it.
EVENT = "note.discovered"


@sow.on(EVENT)
def write_note(event: sow.Event) -> None:
    Note.objects.create(text=f"{event.event} {event.event_id}")
