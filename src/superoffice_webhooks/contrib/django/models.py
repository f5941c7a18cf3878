"""The inbox's table: one row per received event (see :class:`.DjangoInbox`)."""

from __future__ import annotations

from django.db import models

from superoffice_webhooks.inbox import State

__all__ = ["InboxEntry"]


class InboxEntry(models.Model):
    """One received event, as :class:`superoffice_webhooks.inbox.Entry` describes it.

    Written and read through :class:`~superoffice_webhooks.contrib.django.DjangoInbox`;
    change rows through it (or the admin's actions), not directly.
    """

    STATES = [(state.value, state.value) for state in State]

    tenant = models.CharField(max_length=255, help_text="The ContextIdentifier.")
    event_id = models.UUIDField(help_text="The EventId.")
    event = models.CharField(max_length=255, help_text="The event name, e.g. person.consented.")
    body = models.BinaryField(help_text="The raw body, as received and verified.")
    state = models.CharField(max_length=16, choices=STATES)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(
        help_text="When it is due (pending) or last changed state."
    )
    owner = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  # None: no attempt runs
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)  # noqa: DJ001  # None: it never failed

    class Meta:
        verbose_name = "inbox entry"
        verbose_name_plural = "inbox entries"
        constraints = [  # noqa: RUF012  # Django reads Meta's attributes as they are
            models.UniqueConstraint(
                fields=["tenant", "event_id"], name="superoffice_webhooks_inbox_key"
            )
        ]
        indexes = [  # noqa: RUF012  # as above
            models.Index(fields=["state", "next_attempt_at"], name="superoffice_wh_inbox_due"),
            models.Index(fields=["state", "lease_until"], name="superoffice_wh_inbox_lease"),
            models.Index(fields=["received_at"], name="superoffice_wh_inbox_received"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant}/{self.event_id}"
