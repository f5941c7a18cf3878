"""contrib.django with a database: the ORM in handlers, DjangoInbox on SQLite and PostgreSQL,
its admin page and the worker command."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from django.test import AsyncClient, Client, override_settings
from django_project.databases import ALIASES, setup, use_test_databases
from live_server import HERE
from webhook_cases import CONSENT_LOGGED, Recorder, fresh, signed

import superoffice_webhooks as sow
from conftest import EXAMPLES, SECRET, example
from superoffice_webhooks.inbox import Entry, Inbox, State

setup()

from django.contrib.auth.models import User  # noqa: E402  # needs Django set up
from django_project import urls  # noqa: E402  # needs Django set up
from django_project.notes.models import Note  # noqa: E402  # as above

from superoffice_webhooks.contrib.django import DjangoInbox  # noqa: E402  # as above
from superoffice_webhooks.contrib.django.models import InboxEntry  # noqa: E402  # as above

# The protocol's own cases, run here against DjangoInbox on each database.
from test_inbox import (  # noqa: E402  # after Django is set up
    Clock,
    entry,
    test_add_records_once_per_tenant_and_event,
    test_an_expired_lease_is_taken_over,
    test_claim_starts_an_attempt_on_a_pending_entry_only,
    test_entries_lists_newest_first_by_state,
    test_purge_deletes_only_old_settled_entries,
    test_renew_keeps_the_entry_from_being_taken_over,
    test_replay_makes_settled_entries_pending_now,
    test_settle_records_done_retry_and_dead,
    test_stats_count_every_state,
    test_take_returns_due_entries_first_due_first,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PROTOCOL_CASES = (
    test_add_records_once_per_tenant_and_event,
    test_an_expired_lease_is_taken_over,
    test_claim_starts_an_attempt_on_a_pending_entry_only,
    test_entries_lists_newest_first_by_state,
    test_purge_deletes_only_old_settled_entries,
    test_renew_keeps_the_entry_from_being_taken_over,
    test_replay_makes_settled_entries_pending_now,
    test_settle_records_done_retry_and_dead,
    test_stats_count_every_state,
    test_take_returns_due_entries_first_due_first,
)


@pytest.fixture(scope="module", autouse=True)
def databases() -> Iterator[None]:
    """SQLite in a temporary directory and a real PostgreSQL server, migrated."""
    with use_test_databases():
        yield


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=ALIASES)
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each database, its inbox table emptied before the test."""
    InboxEntry.objects.using(request.param).all().delete()
    yield request.param
    InboxEntry.objects.using(request.param).all().delete()


@pytest.fixture
def inbox(alias: str, clock: Clock) -> DjangoInbox:
    return DjangoInbox(using=alias, clock=clock)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    urls.recorder.events.clear()
    yield urls.recorder
    urls.recorder.events.clear()


def test_the_protocol_cases_run_here() -> None:
    """This module runs every case of the Inbox protocol that needs no threads."""
    assert len(PROTOCOL_CASES) == 10


def test_django_inbox_is_an_inbox(inbox: DjangoInbox) -> None:
    """DjangoInbox holds the Inbox protocol and says which database it uses."""
    assert isinstance(inbox, Inbox)
    assert repr(inbox) == f"DjangoInbox(using={inbox.using!r})"


def test_an_entry_round_trips_every_field(inbox: DjangoInbox, clock: Clock) -> None:
    """Every field of an entry, a running one with an error too, comes back as it went in."""
    running = entry(
        clock,
        state=State.RUNNING,
        attempts=3,
        owner="w",
        lease_until=clock.now + 30.5,
        last_error="RuntimeError: x",
        body=b"\x00\xff body",
    )
    assert inbox.add(running) is True
    assert inbox.get(running.id) == running
    assert inbox.entries(limit=1) == [running]


def test_times_without_use_tz(clock: Clock) -> None:
    """With USE_TZ = False the times are stored naive, in UTC, and read back the same."""
    InboxEntry.objects.all().delete()
    inbox = DjangoInbox(clock=clock)
    pending = entry(clock, received_at=clock.now - 7.25)
    with override_settings(USE_TZ=False):
        inbox.add(pending)
        assert inbox.get(pending.id) == pending
        assert inbox.stats().oldest_pending_at == clock.now - 7.25
    InboxEntry.objects.all().delete()


def test_concurrent_takers_never_share_an_entry(inbox: DjangoInbox, clock: Clock) -> None:
    """Four threads, each with its own connection, take each of 120 entries exactly once."""
    ids = set()
    for _ in range(120):
        e = entry(clock)
        inbox.add(e)
        ids.add(e.id)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take_all(name: str) -> None:
        try:
            while (got := inbox.take(name, 60)) is not None:
                with lock:
                    taken.append(got.id)
        except BaseException as exc:  # noqa: BLE001  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take_all, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(taken) == sorted(ids)
    assert inbox.stats().counts[State.RUNNING] == 120


def test_concurrent_claims_start_one_attempt(inbox: DjangoInbox, clock: Clock) -> None:
    """Eight threads claiming the same entry: exactly one gets it."""
    e = entry(clock)
    inbox.add(e)
    won: list[Entry | None] = []
    start = threading.Barrier(8)

    def claim(name: str) -> None:
        try:
            start.wait()
            won.append(inbox.claim(e.id, name, 60))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 8
    assert len([w for w in won if w is not None]) == 1
    got = inbox.get(e.id)
    assert got is not None
    assert got.attempts == 1


def test_take_skips_rows_another_transaction_has_locked(clock: Clock) -> None:
    """On PostgreSQL, take() passes over a row locked by another worker instead of waiting."""
    InboxEntry.objects.using("postgres").all().delete()
    inbox = DjangoInbox(using="postgres", clock=clock)
    first, second = entry(clock, next_attempt_at=clock.now - 2), entry(clock)
    inbox.add(first)
    inbox.add(second)
    locked, release = threading.Event(), threading.Event()

    def hold_the_first_row() -> None:
        try:
            with transaction.atomic(using="postgres"):
                rows = InboxEntry.objects.using("postgres").select_for_update()
                list(rows.filter(event_id=first.event_id))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_first_row)
    holder.start()
    try:
        assert locked.wait(30)
        taken = inbox.take("w", 60)
    finally:
        release.set()
        holder.join()
    assert taken is not None
    assert taken.id == second.id
    InboxEntry.objects.using("postgres").all().delete()


# --- the ORM in a sync handler under AsyncWebhookView -----------------------------------


def test_async_view_runs_sync_orm_handlers_thread_sensitively(recorder: Recorder) -> None:
    """A sync handler writing a row works under AsyncWebhookView, on the request's connection.

    As under Django's TestCase, the test holds a transaction with a write in it; the handler
    must run in the thread (and on the connection) of the request's sync code to write.
    """
    threads: list[int] = []

    def write(event: sow.Event) -> None:
        threads.append(threading.get_ident())
        Note.objects.create(text=f"handled {event.event_id}")

    recorder.dispatcher.on("person.changed")(write)
    body = fresh(example("person.changed"))
    event_id = json.loads(body)["EventId"]
    try:
        with transaction.atomic():
            Note.objects.create(text="written by the test first")
            response = async_to_sync(AsyncClient().post)(
                "/async/", body, content_type="application/json", headers=signed(body)
            )
            written = Note.objects.filter(text=f"handled {event_id}").count()
            transaction.set_rollback(True)
    finally:
        recorder.dispatcher.remove(write)
    assert response.status_code == 200, response.content
    assert threads == [threading.get_ident()]
    assert written == 1


#: The URLs of the test below, which puts its own view here.
urlpatterns: list[object] = []


def test_an_atomic_request_does_not_roll_back_the_inbox(alias: str) -> None:
    """With ATOMIC_REQUESTS, a handler's failing write does not take the recorded event with it."""
    from django.urls import path  # noqa: PLC0415  # needs Django set up

    from superoffice_webhooks.contrib.django import WebhookView  # noqa: PLC0415  # as above

    first = Note.objects.using(alias).create(text="first")

    def clash(event: sow.Event) -> None:
        Note.objects.using(alias).create(pk=first.pk, text="the same primary key again")

    dispatcher = sow.Dispatcher()
    dispatcher.on_any(clash)
    receiver = sow.Receiver(secret=SECRET, dispatcher=dispatcher, inbox=DjangoInbox(using=alias))
    urlpatterns[:] = [path("atomic/", WebhookView.as_view(receiver=receiver))]
    body = fresh(example("person.changed"))
    settings_dict = connections[alias].settings_dict
    settings_dict["ATOMIC_REQUESTS"] = True
    try:
        with override_settings(ROOT_URLCONF=__name__):
            response = Client().post(
                "/atomic/", body, content_type="application/json", headers=signed(body)
            )
    finally:
        settings_dict["ATOMIC_REQUESTS"] = False
        urlpatterns.clear()
        Note.objects.using(alias).all().delete()

    assert response.status_code == 200, response.content
    (row,) = InboxEntry.objects.using(alias).all()
    assert row.state == State.PENDING.value
    assert "IntegrityError" in (row.last_error or "")


# --- the admin ---------------------------------------------------------------------------


@pytest.fixture
def staff() -> Iterator[Client]:
    """A client logged in as a superuser."""
    user = User.objects.create_superuser("admin", "admin@example.com", "password")
    client = Client()
    client.force_login(user)
    yield client
    user.delete()


def _record(inbox: DjangoInbox, clock: Clock, body: bytes, **changes: object) -> Entry:
    data = json.loads(body)
    e = entry(
        clock,
        tenant=data["ContextIdentifier"],
        event_id=uuid.UUID(data["EventId"]),
        event=data["Event"],
        body=body,
        **changes,
    )
    inbox.add(e)
    return e


ADMIN = "/admin/superoffice_webhooks/inboxentry/"


def test_admin_lists_entries_with_filters(staff: Client, clock: Clock) -> None:
    """The list shows event, tenant, state, attempts and last error; filters narrow it."""
    InboxEntry.objects.all().delete()
    inbox = DjangoInbox(clock=clock)
    dead = _record(
        inbox,
        clock,
        fresh(example("person.consented")),
        state=State.DEAD,
        attempts=4,
        last_error="RuntimeError: the CRM is down",
    )
    done = _record(inbox, clock, fresh(example("person.created")), state=State.DONE)

    everything = staff.get(ADMIN).content.decode()
    only_dead = staff.get(ADMIN, {"state__exact": "dead"}).content.decode()
    by_event = staff.get(ADMIN, {"event": "person.created"}).content.decode()
    by_tenant = staff.get(ADMIN, {"tenant": "nobody"}).content.decode()

    assert str(dead.event_id) in everything
    assert str(done.event_id) in everything
    assert "RuntimeError: the CRM is down" in only_dead
    assert str(done.event_id) not in only_dead
    assert str(done.event_id) in by_event
    assert str(dead.event_id) not in by_event
    assert str(dead.event_id) not in by_tenant
    for column in ("Event", "Tenant", "State", "Attempts", "Last error", "Received at"):
        assert column in everything
    assert staff.get(f"{ADMIN}add/").status_code == 403
    InboxEntry.objects.all().delete()


def test_admin_shows_the_parsed_event_never_the_raw_body(staff: Client, clock: Clock) -> None:
    """An entry's page shows the event field by field; the body's JSON text is not there."""
    InboxEntry.objects.all().delete()
    inbox = DjangoInbox(clock=clock)
    body = fresh(example("person.consented"))
    _record(inbox, clock, body, state=State.DONE)
    unreadable = _record(
        inbox,
        clock,
        json.dumps({**json.loads(fresh(example("person.created"))), "PrimaryKey": "x"}).encode(),
        state=State.DEAD,
    )
    pk = InboxEntry.objects.get(event="person.consented").pk
    bad_pk = InboxEntry.objects.get(event_id=unreadable.event_id).pk

    page = staff.get(f"{ADMIN}{pk}/change/").content.decode()
    bad_page = staff.get(f"{ADMIN}{bad_pk}/change/").content.decode()

    assert "PersonConsented" in page
    assert "&#x27;primary_key&#x27;: 18" in page
    assert '"PrimaryKey"' not in page
    assert "The body could not be read" in bad_page
    assert "PrimaryKey" in bad_page
    InboxEntry.objects.all().delete()


def test_admin_replay_action(staff: Client, clock: Clock) -> None:
    """'Replay' makes the chosen dead and done entries pending; others are reported, not changed."""
    InboxEntry.objects.all().delete()
    inbox = DjangoInbox(clock=clock)
    dead = _record(inbox, clock, fresh(example("person.created")), state=State.DEAD)
    done = _record(inbox, clock, fresh(example("person.changed")), state=State.DONE)
    chosen = list(InboxEntry.objects.values_list("pk", flat=True))

    def replay() -> str:
        response = staff.post(ADMIN, {"action": "replay", "_selected_action": chosen}, follow=True)
        return response.content.decode()

    first, second = replay(), replay()

    assert "2 entries will run again." in first
    assert "not replayed" not in first
    assert "0 entries will run again." in second
    assert "2 entries were not replayed: only done and dead entries can be" in second
    for e in (dead, done):
        replayed = inbox.get(e.id)
        assert replayed is not None
        assert replayed.state is State.PENDING
    InboxEntry.objects.all().delete()


# --- the worker command ---------------------------------------------------------------------


def test_worker_command_once_runs_due_entries(inbox: DjangoInbox, alias: str) -> None:
    """--once runs what is due with the setting's dispatcher, on the named database."""
    recorder = Recorder()
    body = fresh(example("person.deleted"))
    inbox.add(_entry_of(body))
    out = io.StringIO()
    setting = {"SECRET": SECRET, "DISPATCHER": recorder.dispatcher}
    with override_settings(SUPEROFFICE_WEBHOOKS=setting):
        call_command("superoffice_webhooks_worker", "--once", "--database", alias, stdout=out)
        call_command("superoffice_webhooks_worker", "--once", "--database", alias, stdout=out)
    assert out.getvalue().splitlines() == ["Ran 1 inbox entry.", "Ran 0 inbox entries."]
    assert [type(e) for e in recorder.events] == [sow.PersonDeleted]
    got = DjangoInbox(using=alias).get(_entry_of(body).id)
    assert got is not None
    assert got.state is State.DONE


def test_worker_command_takes_the_inbox_from_the_setting(alias: str) -> None:
    """The inbox named in OPTIONS is used; --database next to it is refused."""
    recorder = Recorder()
    inbox = DjangoInbox(using=alias)
    inbox.add(_entry_of(fresh(example("person.created"))))
    setting = {"SECRET": SECRET, "DISPATCHER": recorder.dispatcher, "OPTIONS": {"inbox": inbox}}
    out = io.StringIO()
    with override_settings(SUPEROFFICE_WEBHOOKS=setting):
        call_command("superoffice_webhooks_worker", "--once", stdout=out)
        with pytest.raises(CommandError, match="leave out --database"):
            call_command("superoffice_webhooks_worker", "--once", "--database", alias)
    assert out.getvalue() == "Ran 1 inbox entry.\n"
    assert len(recorder.events) == 1


def test_worker_command_refuses_a_bad_poll_interval() -> None:
    """--poll-interval must be positive."""
    with pytest.raises(CommandError, match="--poll-interval"):
        call_command("superoffice_webhooks_worker", "--poll-interval", "0")


def _entry_of(body: bytes) -> Entry:
    data = json.loads(body)
    return Entry(
        tenant=data["ContextIdentifier"],
        event_id=uuid.UUID(data["EventId"]),
        event=data["Event"],
        body=body,
        state=State.PENDING,
        received_at=1.0,
        next_attempt_at=1.0,
    )


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_worker_command_runs_until_signalled(
    tmp_path: Path, stop_with: signal.Signals, alias: str
) -> None:
    """`manage.py superoffice_webhooks_worker` runs the handlers, then stops on SIGTERM/SIGINT."""
    body = fresh(example("person.consented"))
    inbox = DjangoInbox(using=alias)
    inbox.add(_entry_of(body))
    env = {"DJANGO_SETTINGS_MODULE": "django_project.settings"}
    with serve_worker(tmp_path / "worker.log", alias, env) as worker:
        assert CONSENT_LOGGED in worker.wait_for_output(CONSENT_LOGGED, timeout=60)
        done = _settled(inbox, _entry_of(body).id)
        worker.process.send_signal(stop_with)
        assert worker.process.wait(timeout=60) == 0
    assert done is not None
    assert done.state is State.DONE
    assert f"{stop_with.name}: stopping after the running event." in worker.output()
    assert worker.output().rstrip().endswith("Stopped.")


def _settled(inbox: DjangoInbox, key: str) -> Entry | None:
    """The entry once it is no longer pending or running (or as it is after 60 seconds)."""
    deadline = time.monotonic() + 60
    while (got := inbox.get(key)) is not None and got.state in (State.PENDING, State.RUNNING):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return got


class _Process:
    """A process whose output goes to *log*."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> str:
        """The output once it contains *text*, or once the process ended or *timeout* passed."""
        deadline = time.monotonic() + timeout
        while text not in (output := self.output()) and time.monotonic() < deadline:
            if self.process.poll() is not None:
                return self.output()
            time.sleep(0.05)
        return output


@contextlib.contextmanager
def serve_worker(log: Path, alias: str, env: dict[str, str]) -> Iterator[_Process]:
    """`python -m django superoffice_webhooks_worker` in a process of its own."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(EXAMPLES), str(HERE.parent)]),
        **env,
    }
    command = [sys.executable, "-m", "django", "superoffice_webhooks_worker"]
    command += ["--database", alias, "--poll-interval", "0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603  # our own command line
            command, stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=HERE
        )
    try:
        yield _Process(process, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
