"""The inbox's table: one row per received event (see :class:`.DjangoInbox`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from superoffice_webhooks.inbox import State

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

__all__ = ["InboxEntry"]


class InboxEntry(models.Model):
    """One received event, as :class:`superoffice_webhooks.inbox.Entry` describes it.

    Written and read through :class:`~superoffice_webhooks.contrib.django.DjangoInbox`;
    change rows through it (or the admin's actions), not directly.
    """

    STATES = tuple((state.value, state.value) for state in State)

    tenant: models.CharField[str, str] = models.CharField(
        max_length=255, help_text="The ContextIdentifier."
    )
    event_id: models.UUIDField[uuid.UUID, uuid.UUID] = models.UUIDField(help_text="The EventId.")
    event: models.CharField[str, str] = models.CharField(
        max_length=255, help_text="The event name, e.g. person.consented."
    )
    body: models.BinaryField[bytes, bytes | memoryview] = models.BinaryField(
        help_text="The raw body, as received and verified."
    )
    state: models.CharField[str, str] = models.CharField(max_length=16, choices=STATES)
    attempts: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(default=0)
    received_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    next_attempt_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(
        help_text="When it is due (pending) or last changed state."
    )
    owner: models.CharField[str | None, str | None] = models.CharField(  # noqa: DJ001  # None: no attempt runs
        max_length=255, null=True, blank=True
    )
    lease_until: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    last_error: models.TextField[str | None, str | None] = models.TextField(null=True, blank=True)  # noqa: DJ001  # None: it never failed

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
