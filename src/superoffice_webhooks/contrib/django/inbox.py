"""An inbox on the project's own database: :class:`DjangoInbox`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Count, F, Min

from superoffice_webhooks.idempotency import seconds
from superoffice_webhooks.inbox import (
    FIELDS,
    Entry,
    Inbox,
    InboxStats,
    Settlement,
    State,
    check_limit,
    entry_values,
    row_entry,
    split_id,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import QuerySet

    from .models import InboxEntry

__all__ = ["DjangoInbox"]

_SETTLED = (State.DONE.value, State.DEAD.value)
_TIMES = ("received_at", "next_attempt_at", "lease_until")


class DjangoInbox(Inbox):
    """An :class:`~superoffice_webhooks.inbox.Inbox` in a table of the project's database.

    Add ``"superoffice_webhooks.contrib.django"`` to ``INSTALLED_APPS`` and run
    ``manage.py migrate``; the table is ``superoffice_webhooks_inboxentry`` and the admin
    lists it. It is as durable as the database, and shared by every process and machine
    that uses it.

    Starting an attempt (:meth:`take`) is one transaction: on PostgreSQL (and other
    databases with ``SELECT ... FOR UPDATE SKIP LOCKED``) concurrent workers lock
    different rows and never wait for each other; on SQLite, which has no row locks, the
    choice and the update are one ``UPDATE`` statement, which SQLite runs under its
    database-wide write lock.

    :param using: the database alias; the default database if omitted.
    :param clock: seconds since the epoch (shared by all processes); for tests.
    """

    def __init__(
        self, *, using: str = DEFAULT_DB_ALIAS, clock: Callable[[], float] = time.time
    ) -> None:
        #: The database alias.
        self.using = using
        self._clock = clock

    def __repr__(self) -> str:
        return f"DjangoInbox(using={self.using!r})"

    # The model is imported at the first call, so that settings can build an inbox
    # before the app registry is ready.
    def _rows(self) -> QuerySet[InboxEntry]:
        from .models import InboxEntry  # noqa: PLC0415  # see above

        return InboxEntry.objects.using(self.using)

    def _key(self, entry_id: str) -> QuerySet[InboxEntry]:
        tenant, event_id = split_id(entry_id)
        return self._rows().filter(tenant=tenant, event_id=event_id)

    def add(self, entry: Entry) -> bool:
        values = entry_values(entry)
        for name in _TIMES:
            values[name] = None if values[name] is None else _when(values[name])
        try:
            with transaction.atomic(using=self.using):
                self._rows().create(**values)
        except IntegrityError:
            return False
        return True

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        key = self._key(entry_id)
        with transaction.atomic(using=self.using):
            return self._start(key.filter(state=State.PENDING.value), key, owner, lease)

    def take(self, owner: str, lease: float) -> Entry | None:
        """Start an attempt on the entry due first: ``PENDING`` and due, or ``RUNNING`` with its lease run out.

        Workers call it between attempts: a connection the database closed meanwhile (a
        restart, an idle timeout) is dropped first, as Django does between requests.
        """
        connections[self.using].close_if_unusable_or_obsolete()
        now = _when(self._clock())
        rows = self._rows()
        # A running entry whose owner's lease ran out, then a pending one.
        running = rows.filter(state=State.RUNNING.value, lease_until__lte=now)
        pending = rows.filter(state=State.PENDING.value, next_attempt_at__lte=now)
        due = (running.order_by("lease_until"), pending.order_by("next_attempt_at"))
        locking = connections[self.using].features.has_select_for_update_skip_locked
        with transaction.atomic(using=self.using):
            if not locking:
                # No row locks (SQLite): take the database's write lock first, as BEGIN
                # IMMEDIATE would, with an UPDATE that matches no row; the choice below
                # and its update then run under it, one taker at a time.
                rows.filter(pk=-1).update(attempts=F("attempts"))
            for candidates in due:
                # With row locks, lock one due row no other taker holds, skipping theirs.
                chosen = candidates.select_for_update(skip_locked=True) if locking else candidates
                pk = chosen.values_list("pk", flat=True).first()
                if pk is not None:
                    one = rows.filter(pk=pk)
                    return self._start(one, one, owner, lease)
        return None

    def _start(
        self, target: QuerySet[InboxEntry], identity: QuerySet[InboxEntry], owner: str, lease: float
    ) -> Entry | None:
        """Start an attempt on the row of *target*, if any; the row as *identity* finds it."""
        updated = target.update(
            state=State.RUNNING.value,
            attempts=F("attempts") + 1,
            owner=owner,
            lease_until=_when(self._clock() + lease),
        )
        return _entry(identity.get()) if updated else None

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        held = self._key(entry_id).filter(state=State.RUNNING.value, owner=owner)
        return held.update(lease_until=_when(self._clock() + lease)) == 1

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        state, due = settlement.state.value, _when(self._clock() + settlement.delay)
        error = {} if settlement.error is None else {"last_error": settlement.error}
        held = self._key(entry_id).filter(state=State.RUNNING.value, owner=owner)
        changed = held.update(
            state=state, next_attempt_at=due, owner=None, lease_until=None, **error
        )
        return changed == 1

    def get(self, entry_id: str) -> Entry | None:
        row = self._key(entry_id).first()
        return None if row is None else _entry(row)

    def entries(self, state: State | None = None, *, limit: int = 100) -> list[Entry]:
        limit = check_limit(limit)
        rows = self._rows() if state is None else self._rows().filter(state=state.value)
        return [_entry(row) for row in rows.order_by("-received_at")[:limit]]

    def stats(self) -> InboxStats:
        rows = self._rows()
        grouped = rows.order_by().values_list("state").annotate(Count("pk"))
        counts = dict.fromkeys(State, 0) | {State(state): count for state, count in grouped}
        oldest = rows.filter(state=State.PENDING.value).aggregate(oldest=Min("received_at"))
        oldest_at = None if oldest["oldest"] is None else _seconds(oldest["oldest"])
        return InboxStats(counts=counts, oldest_pending_at=oldest_at)

    def replay(self, entry_id: str) -> bool:
        return _replay(self._key(entry_id).filter(state__in=_SETTLED), self._clock()) == 1

    def replay_dead(self) -> int:
        return _replay(self._rows().filter(state=State.DEAD.value), self._clock())

    def purge(self, older_than: timedelta) -> int:
        before = _when(self._clock() - seconds(older_than, "older_than"))
        old = self._rows().filter(state__in=_SETTLED, next_attempt_at__lte=before)
        return old.delete()[0]


def _replay(settled: QuerySet[InboxEntry], now: float) -> int:
    return settled.update(state=State.PENDING.value, attempts=0, next_attempt_at=_when(now))


def _when(seconds: float) -> datetime:
    """*seconds* since the epoch as the database takes it: aware UTC, or naive UTC without USE_TZ."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment if settings.USE_TZ else moment.replace(tzinfo=None)


def _seconds(moment: datetime) -> float:
    """A datetime from the database as seconds since the epoch (a naive one is UTC)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def _entry(row: InboxEntry) -> Entry:
    values = [getattr(row, name) for name in FIELDS]
    return row_entry([_seconds(v) if isinstance(v, datetime) else v for v in values])
