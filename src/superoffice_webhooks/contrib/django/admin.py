"""The admin page of the inbox: received events, their state and errors, and replay."""

from __future__ import annotations

from pprint import pformat
from typing import TYPE_CHECKING

import attrs
from django.contrib import admin, messages
from django.utils.html import format_html

from superoffice_webhooks._parse import parse
from superoffice_webhooks.exceptions import PayloadError
from superoffice_webhooks.inbox import entry_id

from .inbox import DjangoInbox
from .models import InboxEntry

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from django.utils.safestring import SafeString

    _ModelAdmin = admin.ModelAdmin[InboxEntry]
else:
    _ModelAdmin = admin.ModelAdmin  # generic only in the type stubs

__all__ = ["InboxEntryAdmin"]


@admin.register(InboxEntry)
class InboxEntryAdmin(_ModelAdmin):
    """Lists the inbox by state, event and tenant; shows an entry's event as parsed.

    The raw body is never shown: an entry's page shows the event as
    :func:`~superoffice_webhooks.parse` reads it (or why it could not). Entries are
    changed only through the inbox: the *replay* action, or deleting them.
    """

    list_display = (
        "__str__",
        "event",
        "tenant",
        "state",
        "attempts",
        "last_error",
        "received_at",
        "next_attempt_at",
    )
    list_filter = ("state", "event", "tenant")
    search_fields = ("tenant", "event", "=event_id")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    fields = (
        "tenant",
        "event_id",
        "event",
        "state",
        "attempts",
        "last_error",
        "received_at",
        "next_attempt_at",
        "owner",
        "lease_until",
        "parsed_event",
    )
    readonly_fields = fields
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002  # the admin's signature
        """Entries come from SuperOffice, not from the admin."""
        return False

    @admin.display(description="event, as parsed")
    def parsed_event(self, row: InboxEntry) -> SafeString:
        """The event the body holds, field by field; never the raw body."""
        try:
            event = parse(bytes(row.body))
        except PayloadError as exc:
            return format_html("<p>The body could not be read: {}</p>", str(exc))
        shown = pformat(attrs.asdict(event, recurse=True), sort_dicts=False, width=100)
        return format_html("<p>{}</p><pre>{}</pre>", type(event).__name__, shown)

    @admin.action(description="Replay: run the handlers again", permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[InboxEntry]) -> None:
        """Make the chosen done and dead entries pending, for the next worker pass."""
        inbox = DjangoInbox(using=queryset.db)
        chosen = list(queryset.values_list("tenant", "event_id"))
        replayed = sum(inbox.replay(entry_id(tenant, key)) for tenant, key in chosen)
        skipped = len(chosen) - replayed
        self.message_user(
            request, f"{replayed} entr{'y' if replayed == 1 else 'ies'} will run again."
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} entr{'y was' if skipped == 1 else 'ies were'} not replayed: "
                "only done and dead entries can be (the others are waiting or running).",
                level=messages.WARNING,
            )
