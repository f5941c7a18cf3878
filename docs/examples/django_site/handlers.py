"""The webhook handlers, registered on the dispatcher named in SUPEROFFICE_WEBHOOKS."""

import logging

import superoffice_webhooks as sow

logger = logging.getLogger(__name__)
dispatcher = sow.Dispatcher()


@dispatcher.on("person.consented")
def consent_given(event: sow.PersonConsented) -> None:
    logger.info("Person %s consented at %s", event.person_id, event.timestamp.isoformat())
