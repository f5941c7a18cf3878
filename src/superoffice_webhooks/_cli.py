"""The ``superoffice-webhooks`` command line."""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from typing import TYPE_CHECKING, TextIO

from ._dispatch import Dispatcher
from ._events import Event, PersonEvent, UnknownEvent
from ._receiver import Receiver
from ._verify import sign

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

DEMO_SECRET = "demo-secret"  # noqa: S105  # a sample value, printed by the demo
DEMO_SAMPLES = (
    "person.created",
    "person.changed",
    "person.consented",
    "person.unconsented",
    "person.deleted",
    "test",
)


def _sample(name: str) -> bytes:
    return files("superoffice_webhooks").joinpath("_samples", f"{name}.json").read_bytes()


def _describe(event: Event) -> str:
    parts = [
        f"event_id={event.event_id}",
        f"timestamp={event.timestamp.isoformat()}",
        f"tenant={event.context_identifier}",
        f"changes={len(event.changes)}",
    ]
    if isinstance(event, PersonEvent):
        parts[2:2] = [f"person_id={event.person_id}", f"contact_id={event.contact_id}"]
    return " ".join(parts)


def demo(out: TextIO | None = None) -> int:
    """Sign, verify, parse and dispatch the documented person events."""
    write = (out or sys.stdout).write
    dispatcher = Dispatcher()
    seen: list[str] = []

    @dispatcher.on("person.*")
    def on_person(event: PersonEvent | UnknownEvent) -> None:
        seen.append(event.event)
        write(f"   handler on_person got {type(event).__name__}: {_describe(event)}\n")

    # The documented samples share placeholder EventIds, which the default idempotency
    # store would take for duplicates; real SuperOffice EventIds are unique.
    receiver = Receiver(secret=DEMO_SECRET, dispatcher=dispatcher, idempotency=None)
    write(f"Signing {len(DEMO_SAMPLES)} documented notifications with secret {DEMO_SECRET!r}\n\n")
    for number, name in enumerate(DEMO_SAMPLES, 1):
        body = _sample(name)
        headers = {"X-SuperOffice-Signature": sign(body, DEMO_SECRET)}
        outcome = receiver.receive(body, headers)
        kind = type(outcome.event).__name__ if outcome.event else "-"
        write(f"{number}. {name:<20} -> {outcome.status} {kind}: {outcome.reason}\n")
    tampered = _sample("person.consented").replace(b'"PrimaryKey": 18', b'"PrimaryKey": 19')
    headers = {"X-SuperOffice-Signature": sign(_sample("person.consented"), DEMO_SECRET)}
    outcome = receiver.receive(tampered, headers)
    write(f"\nA tampered person.consented body -> {outcome.status}: {outcome.reason}\n")
    write(f"\n{len(seen)} person events dispatched; the tampered one was refused.\n")
    return 0 if len(seen) == len(DEMO_SAMPLES) - 1 and outcome.status == 401 else 1  # noqa: PLR2004


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="superoffice-webhooks",
        description="Verify, parse and dispatch SuperOffice CRM webhooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="sign, verify, parse and dispatch the documented person events",
        description="Sign the documented person events, verify, parse and dispatch them, "
        "and print the typed events. Exits 0 when every step behaved as expected.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2  # pragma: no cover  # argparse rejects unknown commands first
