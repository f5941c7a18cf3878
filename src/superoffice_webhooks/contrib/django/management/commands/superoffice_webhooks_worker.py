"""``manage.py superoffice_webhooks_worker``: run the handlers of the events in the inbox."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from superoffice_webhooks import Worker
from superoffice_webhooks.contrib.django import conf
from superoffice_webhooks.contrib.django.inbox import DjangoInbox

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(BaseCommand):
    help = (
        "Run the handlers of the webhook events in the inbox: new ones (with "
        "run_handlers='worker'), retries, and those a dead worker left. Stops cleanly on "
        "SIGTERM or SIGINT, after the event that runs."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--database",
            default=None,
            help="The database alias of the inbox, when SUPEROFFICE_WEBHOOKS['OPTIONS'] "
            "names none (default: 'default').",
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=1.0,
            help="Seconds to wait when nothing is due (default 1).",
        )
        parser.add_argument("--once", action="store_true", help="Run what is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002  # the command's signature
        worker = build_worker(options["database"], options["poll_interval"])
        if options["once"]:
            ran = worker.run_once()
            self.stdout.write(f"Ran {ran} inbox entr{'y' if ran == 1 else 'ies'}.")
            return

        def announce(name: str) -> None:
            self.stdout.write(f"{name}: stopping after the running event.")

        self.stdout.write(f"Running the handlers of {worker.delivery.inbox!r}; Ctrl-C stops.")
        with worker.stopping_on_signals(announce):
            worker.run()
        self.stdout.write("Stopped.")


def build_worker(database: str | None, poll_interval: float) -> Worker:
    """A :class:`~superoffice_webhooks.Worker` for the inbox and dispatcher of the setting.

    The inbox is ``SUPEROFFICE_WEBHOOKS['OPTIONS']['inbox']``, else a :class:`DjangoInbox`
    on *database*; the dispatcher, ``retry``, ``lease`` and ``on_failure`` are the
    receiver's, so the worker runs the handlers as the view would.
    """
    options = conf.receiver_options()
    inbox = options.get("inbox")
    if inbox is None:
        inbox = DjangoInbox() if database is None else DjangoInbox(using=database)
    elif database is not None:
        msg = "SUPEROFFICE_WEBHOOKS['OPTIONS'] names the inbox; leave out --database."
        raise CommandError(msg)
    if poll_interval <= 0:
        msg = "--poll-interval must be a positive number of seconds."
        raise CommandError(msg)
    shared = {name: options[name] for name in ("retry", "lease", "on_failure") if name in options}
    return Worker(
        inbox,
        options.get("dispatcher"),
        poll_interval=timedelta(seconds=poll_interval),
        **shared,
    )
