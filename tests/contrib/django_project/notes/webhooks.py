"""Handlers of an installed app; nothing imports this module.

The webhook app discovers it when Django starts, as the admin discovers ``admin.py``. A
project's ``webhooks.py`` would use ``@sow.on``; this one registers on a dispatcher of its
own, so that other tests' use of the default dispatcher is not disturbed.
"""

import superoffice_webhooks as sow

from .models import Note

#: The handlers of this module.
dispatcher = sow.Dispatcher()


@dispatcher.on("person.created")
def write_note(event: sow.Event) -> None:
    Note.objects.create(text=f"{event.event} {event.event_id}")
