"""The ``superoffice-webhooks`` command line."""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import importlib.metadata
import json
import logging
import os
import re
import sqlite3
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast
from urllib.parse import urlsplit

import attrs

from ._delivery import Worker
from ._dispatch import Dispatcher, default_dispatcher
from ._events import Event, FieldValues, UnknownEvent
from ._explain import explain
from ._factory import make_payload
from ._generated_events import EVENT_CLASSES, PersonEvent
from ._log import logger
from ._parse import parse
from ._receiver import Receiver
from ._verify import sign, verify
from .exceptions import ConfigurationError, PayloadError, VerificationError
from .inbox import Entry, Inbox, RetryPolicy, SQLiteInbox, State, split_id

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["main"]

# --- shared helpers ------------------------------------------------------------------

#: Exit codes, documented in every command's --help.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3

SECRET_ENV = "SUPEROFFICE_WEBHOOK_SECRET"  # noqa: S105  # the name of a variable, not a secret

EXIT_CODES = f"""\
exit codes:
  0  success
  1  the signature does not verify, the body is not a valid notification, or the
     receiver refused a request (4xx)
  2  usage error: a bad option, a missing or empty secret, an unreadable file
  3  network or server error: no answer, a 5xx answer, a port that cannot be bound

The secret may also come from the {SECRET_ENV} environment variable,
which keeps it out of your shell history. Secrets are never printed in full.
"""


class UsageError(Exception):
    """A mistake in the command line; exit status 2."""


def mask(secret: str) -> str:
    """A secret in a form safe to print: its first two characters at most, and its length."""
    shown = secret[:2] if len(secret) >= 8 else ""  # noqa: PLR2004  # short secrets show nothing
    return f"{shown}{'*' * 6} ({len(secret)} characters)"


def _secrets(args: argparse.Namespace) -> list[str]:
    given: list[str] = args.secret or []
    if not given and os.environ.get(SECRET_ENV):
        given = [os.environ[SECRET_ENV]]
    if not given:
        raise UsageError(f"the webhook's secret is needed: pass --secret or set {SECRET_ENV}")
    if not all(given):
        raise UsageError("the secret is empty; an empty secret would accept forged requests")
    return given


def _secret(args: argparse.Namespace) -> str:
    secrets = _secrets(args)
    if len(secrets) > 1:
        raise UsageError("this command takes one --secret")
    return secrets[0]


def _read(path: str | None) -> bytes:
    if path in (None, "-"):
        return sys.stdin.buffer.read()
    try:
        return Path(str(path)).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _event_name(name: str) -> str:
    if name not in EVENT_CLASSES:
        close = get_close_matches(name, list(EVENT_CLASSES), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        msg = f"unknown event {name!r}{hint}; `superoffice-webhooks sample --list` lists them"
        raise UsageError(msg)
    return name


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:  # noqa: PLR2004  # the largest port
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) if value else "(none)"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False, default=str) if value else "{}"
    return str(value)


def _wrap(text: str, bullet: str = "") -> str:
    indent = " " * len(bullet)
    return textwrap.fill(text, 88, initial_indent=bullet, subsequent_indent=indent) + "\n"


def _public(cls: type) -> list[attrs.Attribute[object]]:
    """The fields of an attrs class a reader is meant to see: not the private ones."""
    return [field for field in attrs.fields(cls) if not field.name.startswith("_")]


def pretty(event: Event) -> list[str]:
    """The typed event as aligned ``attribute  value`` lines, field values indented."""
    rows: list[tuple[str, str]] = [(type(event).__name__, event.event)]
    for field in _public(type(event)):
        value = getattr(event, field.name)
        if isinstance(value, FieldValues):
            rows.append((f"  {field.name}", type(value).__name__))
            rows.extend(
                (f"    {inner.name}", _value(getattr(value, inner.name)))
                for inner in _public(type(value))
                if inner.name != "extra" or value.extra
            )
        elif field.name != "extra" or value:
            rows.append((f"  {field.name}", _value(value)))
    width = max(len(name) for name, _ in rows) + 2
    return [f"{name:<{width}}{text}".rstrip() for name, text in rows]


# --- the table of commands ----------------------------------------------------------


#: The name or flag of an argument, and the other arguments of ``add_argument``.
_Arg = tuple[str, dict[str, Any]]


def _arg(flag: str, text: str, **options: Any) -> _Arg:
    return flag, {"help": text, **options}


def _flag(flag: str, text: str) -> _Arg:
    return _arg(flag, text, action="store_true")


@attrs.frozen
class _Command:
    """A command: what runs it, its --help texts, its arguments, and its own commands."""

    run: Callable[..., int]
    summary: str
    description: str
    arguments: tuple[_Arg, ...]
    #: Arguments of which exactly one is given.
    exclusive: tuple[_Arg, ...]
    epilog: str | None
    actions: Mapping[str, _Command] | None


#: The commands by name, in the order of --help; :func:`_command` adds them.
_COMMANDS: dict[str, _Command] = {}
_Run = TypeVar("_Run", bound=Callable[..., int])


def _command(
    name: str,
    summary: str,
    description: str,
    *arguments: _Arg,
    exclusive: tuple[_Arg, ...] = (),
    epilog: str | None = EXIT_CODES,
    actions: Mapping[str, _Command] | None = None,
    into: dict[str, _Command] = _COMMANDS,
) -> Callable[[_Run], _Run]:
    """Add the decorated function to *into* as the command *name*."""

    def add(run: _Run) -> _Run:
        into[name] = _Command(run, summary, description, arguments, exclusive, epilog, actions)
        return run

    return add


_SECRET_HELP = "the webhook's Secret{}; default: $" + SECRET_ENV
_SECRET = _arg("--secret", _SECRET_HELP.format(""), action="append", metavar="SECRET")
_ROTATING = " (repeat it for several while rotating)"
_SECRETS = _arg("--secret", _SECRET_HELP.format(_ROTATING), action="append", metavar="SECRET")
_FILE = _arg("file", "the raw body; '-' or nothing reads standard input", nargs="?", metavar="FILE")


# --- commands ------------------------------------------------------------------------


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


@_command(
    "demo",
    "sign, verify, parse and dispatch the documented person events",
    "Sign the documented person events, verify, parse and dispatch them, "
    "and print the typed events. Exits 0 when every step behaved as expected.",
    epilog=None,
)
def _cmd_demo(_args: argparse.Namespace, out: TextIO) -> int:
    write = out.write
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
    # The demo prints the refusal itself; it is no warning for whoever runs the demo.
    logger.disabled = True
    try:
        outcome = receiver.receive(tampered, headers)
    finally:
        logger.disabled = False
    write(f"\nA tampered person.consented body -> {outcome.status}: {outcome.reason}\n")
    write(f"\n{len(seen)} person events dispatched; the tampered one was refused.\n")
    return 0 if len(seen) == len(DEMO_SAMPLES) - 1 and outcome.status == 401 else 1  # noqa: PLR2004


@_command(
    "sign",
    "print the X-SuperOffice-Signature of a body",
    "Sign a body as SuperOffice would: base64 of HMAC-SHA256 over the bytes, keyed "
    "with the secret.",
    _SECRET,
    _flag("--header", "print it as 'X-SuperOffice-Signature: ...'"),
    _FILE,
)
def _cmd_sign(args: argparse.Namespace, out: TextIO) -> int:
    secret = _secret(args)
    signature = sign(_read(args.file), secret)
    out.write(f"X-SuperOffice-Signature: {signature}\n" if args.header else f"{signature}\n")
    return EXIT_OK


@_command(
    "verify",
    "check a body's signature",
    "Check that SIGNATURE is the signature of the body under the secret. Exits 1 when it "
    "is not; `explain` then says why.",
    _SECRETS,
    _arg("--signature", "the X-SuperOffice-Signature value", required=True),
    _FILE,
)
def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    secrets = _secrets(args)
    body = _read(args.file)
    try:
        verify(body, args.signature, secrets)
    except VerificationError as exc:
        sys.stderr.write(
            f"Does not verify: {exc}\nRun `superoffice-webhooks explain` with the same "
            "secret, signature and body to find out why.\n"
        )
        return EXIT_FAILED
    out.write(f"OK: the signature matches the body ({len(body)} bytes).\n")
    return EXIT_OK


@_command(
    "parse",
    "pretty-print the typed event of a body",
    "Parse a body (without verifying it) and print the typed event, or the error that "
    "names the field at fault (exit 1).",
    _flag("--json", "print the event's wire form (to_dict) instead"),
    _FILE,
)
def _cmd_parse(args: argparse.Namespace, out: TextIO) -> int:
    try:
        event = parse(_read(args.file))
    except PayloadError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_FAILED
    if args.json:
        out.write(_dumps(event.to_dict()))
    else:
        out.write("".join(f"{line}\n" for line in pretty(event)))
    return EXIT_OK


@_command(
    "sample",
    "print a valid example body of any event",
    "Print a valid body of EVENT made up by superoffice_webhooks.testing.make_payload.",
    _arg("event", "an event name, e.g. test", nargs="?", metavar="EVENT"),
    _flag("--list", "list the known event names"),
    _arg("--seed", "make the ids and timestamp reproducible", type=int),
    _flag("--compact", "print compact JSON"),
)
def _cmd_sample(args: argparse.Namespace, out: TextIO) -> int:
    if args.list:
        width = max(map(len, EVENT_CLASSES)) + 2
        out.write("".join(f"{n:<{width}}{c.__name__}\n" for n, c in sorted(EVENT_CLASSES.items())))
        return EXIT_OK
    if args.event is None:
        raise UsageError("name an event (e.g. person.created) or pass --list")
    payload = make_payload(_event_name(args.event), seed=args.seed)
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n"
    out.write(compact if args.compact else _dumps(payload))
    return EXIT_OK


@_command(
    "send",
    "POST signed sample events to a URL",
    "POST COUNT signed EVENT bodies (made up, each with its own EventId) to URL, "
    "CONCURRENCY at a time, printing each answer as it arrives and a summary. Exits 0 "
    "when every answer is 2xx, 1 when the receiver refused one (4xx), 3 when one got "
    "no answer or a 5xx.",
    _arg("event", "an event name, e.g. person.created", metavar="EVENT"),
    _arg("--url", "where to POST, e.g. http://127.0.0.1:8000/", type=_url, required=True),
    _SECRET,
    _arg("--count", "how many requests (default 1)", type=_positive, default=1),
    _arg("--concurrency", "requests at a time (default 1)", type=_positive, default=1),
    _arg("--timeout", "seconds to wait for an answer (default 10)", type=float, default=10.0),
    _arg("--seed", "make the bodies reproducible", type=int),
)
def _cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    from ._devserver import send  # noqa: PLC0415  # networking only when needed

    if args.timeout <= 0:
        raise UsageError("--timeout must be above 0")
    return send(
        out,
        event=_event_name(args.event),
        url=args.url,
        secret=_secret(args),
        count=args.count,
        concurrency=args.concurrency,
        timeout=args.timeout,
        seed=args.seed,
    )


@_command(
    "listen",
    "run a local receiver that prints incoming events",
    "Receive webhooks on HOST:PORT: verify, parse and print every request, and answer "
    "with the status a Receiver gives. With --forward-to, verified requests are passed "
    "on unchanged (signature included) and the answer comes from there (502 when it "
    "cannot be reached). Stops on Ctrl-C or SIGTERM.",
    _SECRETS,
    _arg("--host", "address (default 127.0.0.1)", default="127.0.0.1"),
    _arg("--port", "port (default 8000; 0 picks a free one)", type=_port, default=8000),
    _arg("--path", "accept POSTs only to this path (default: any)"),
    _arg("--forward-to", "pass verified requests on to URL", type=_url, metavar="URL"),
    _arg("--max-requests", "stop after N requests (default: never)", type=_positive, metavar="N"),
    _flag("--show-body", "print each raw body too (personal data!)"),
)
def _cmd_listen(args: argparse.Namespace, out: TextIO) -> int:
    from ._devserver import ListenOptions, listen  # noqa: PLC0415  # as above

    secrets = _secrets(args)
    options = ListenOptions(
        host=args.host,
        port=args.port,
        receiver=Receiver(secret=secrets, dispatcher=Dispatcher()),
        describe=pretty,
        masked_secret=", ".join(map(mask, secrets)),
        path=args.path,
        forward_to=args.forward_to,
        max_requests=args.max_requests,
        show_body=args.show_body,
    )
    return listen(out, options)


@_command(
    "explain",
    "say why a signature does not verify",
    "When a signature does not verify, try the usual mistakes and name the one that "
    "fits: a re-serialised body (compact, indented, sorted or .NET-style JSON), a "
    "trailing newline or spaces, a byte order mark, CRLF line ends, a base64-encoded "
    "secret, str(bytes) artefacts, a hex digest or a sha256= prefix, or another header "
    "copied instead of the signature. Exits 0 if the signature verifies, else 1.",
    _SECRET,
    _arg("--signature", "the X-SuperOffice-Signature value received", required=True),
    _FILE,
)
def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    secret = _secret(args)
    body = _read(args.file)
    diagnosis = explain(body, args.signature, secret)
    out.write(f"Secret:    {mask(secret)}\nBody:      {len(body)} bytes\n")
    if diagnosis.verifies:
        out.write("Signature: verifies. Nothing to explain.\n")
        return EXIT_OK
    out.write("Signature: does not verify.\n\n")
    if diagnosis.causes:
        out.write("Likely cause:\n" + "".join(_wrap(cause, "  - ") for cause in diagnosis.causes))
    else:
        out.write(
            _wrap(
                "No single cause found: no simple change to the body, the secret or the "
                f"signature makes it verify ({diagnosis.tried} combinations tried). Most likely "
                "the secret is not the one this request was signed with: check which webhook "
                "sent it and whether its secret was changed. Or the body is not the one that "
                "was signed."
            )
        )
    return EXIT_FAILED


# --- the inbox and the worker --------------------------------------------------------

INBOX_ENV = "SUPEROFFICE_WEBHOOKS_INBOX"

INBOX_EXIT_CODES = f"""\
exit codes:
  0  success
  1  no entry has that id (inbox show, inbox replay), or replay cannot change it
  2  usage error: a bad option, inbox URL, entry id or duration, or a module
     that cannot be imported
  3  network or server error: the inbox cannot be reached or fails

The inbox URL may also come from the {INBOX_ENV} environment variable:
  sqlite:///relative/path.sqlite3   sqlite:////absolute/path.sqlite3
  redis://host:6379/0               rediss://host:6380/0 (TLS; both need the redis extra)
"""

_INBOX = _arg(
    "--inbox",
    f"sqlite:///path.sqlite3 or redis://host:6379/0; default: ${INBOX_ENV}",
    metavar="URL",
)
_ENTRY_ID_HELP = "the entry's id, <tenant>/<EventId>"
_INBOX_ACTIONS: dict[str, _Command] = {}
#: Adds an action of the inbox command; they share its exit codes.
_inbox_action = functools.partial(_command, epilog=INBOX_EXIT_CODES, into=_INBOX_ACTIONS)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
#: The fields `inbox list` shows of each entry (`inbox show` shows all).
_LISTED = ("id", "event", "tenant", "state", "attempts", "received", "next attempt", "last error")
#: The width of the last-error column of `inbox list`; `inbox show` prints it whole.
_ERROR_WIDTH = 60


class InboxFailedError(Exception):
    """The inbox could not be read or written; exit status 3."""


def duration(text: str) -> timedelta:
    """A duration written as a number and a unit: ``90s``, ``15m``, ``12h``, ``7d``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or float(match[1]) == 0:
        msg = f"{text!r} is not a duration above 0: write a number and a unit, e.g. 90s, 15m, 12h or 7d"
        raise argparse.ArgumentTypeError(msg)
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])


def _duration(flag: str, text: str, **options: Any) -> _Arg:
    return _arg(flag, text, type=duration, metavar="DURATION", **options)


def _shown(url: str) -> str:
    """*url* with its password, if any, replaced by asterisks."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1******@", url)


def _open_inbox(url: str | None, *, create: bool) -> tuple[Inbox, tuple[type[Exception], ...]]:
    """The inbox at *url* (or ``$SUPEROFFICE_WEBHOOKS_INBOX``), and the errors its store raises."""
    url = url or os.environ.get(INBOX_ENV, "")
    if not url:
        msg = f"name the inbox: pass --inbox URL or set {INBOX_ENV}, e.g. sqlite:///inbox.sqlite3"
        raise UsageError(msg)
    scheme, _, rest = url.partition("://")
    if scheme in ("redis", "rediss"):
        return _redis_inbox(url)
    if scheme != "sqlite":
        raise UsageError(
            f"{_shown(url)!r} is not an inbox URL: write sqlite:///relative/path.sqlite3, "
            "sqlite:////absolute/path.sqlite3 or redis://host:6379/0"
        )
    path = rest[1:] if rest.startswith("/") else ""
    if not path or "?" in path:
        raise UsageError(
            f"{url!r} is not an SQLite inbox URL: write three slashes, then the path "
            "(sqlite:///relative/path.sqlite3 or sqlite:////absolute/path.sqlite3), no options"
        )
    if not create and not Path(path).is_file():
        msg = f"there is no inbox at {path}: check --inbox (a Receiver with this inbox creates it)"
        raise UsageError(msg)
    try:
        return SQLiteInbox(path), (sqlite3.Error,)
    except sqlite3.Error as exc:
        raise UsageError(f"cannot open the SQLite inbox {path}: {exc}") from exc


def _redis_inbox(url: str) -> tuple[Inbox, tuple[type[Exception], ...]]:
    try:
        redis = importlib.import_module("redis")
        factory = importlib.import_module("superoffice_webhooks.contrib.redis").RedisInbox.from_url
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            "a redis:// inbox needs superoffice_webhooks.contrib.redis.RedisInbox and the "
            f"redis package: pip install 'superoffice-webhooks[redis]' ({exc})"
        ) from exc
    try:
        inbox = cast("Inbox", factory(url))
    except (ValueError, ConfigurationError) as exc:
        raise UsageError(f"{_shown(url)!r} is not a Redis URL the inbox can use: {exc}") from exc
    return inbox, (redis.RedisError,)


@contextlib.contextmanager
def _opened(url: str | None, *, create: bool = False) -> Iterator[Inbox]:
    """The inbox, closed afterwards; its store's errors become :class:`InboxFailedError`."""
    inbox, failures = _open_inbox(url, create=create)
    try:
        yield inbox
    except failures as exc:
        raise InboxFailedError(f"the inbox failed: {type(exc).__name__}: {exc}") from exc
    finally:
        close = getattr(inbox, "close", None)
        if close is not None:
            close()


def _utc(seconds: float | None) -> str:
    """A time as UTC ISO 8601 to the second, or ``-``."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def _span(seconds: float) -> str:
    """A length of time in its largest unit, to a tenth: ``7d``, ``1.5h``, ``90s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{round(seconds / size, 1):g}{unit}"
    return f"{max(seconds, 0):.0f}s"


def _entries(count: int, kind: str) -> str:
    return f"{count} {kind} {'entry' if count == 1 else 'entries'}"


def _fields(entry: Entry) -> dict[str, str]:
    """An entry's metadata as `inbox show` prints it: never its body."""
    return {
        "id": entry.id,
        "event": entry.event or "-",
        "tenant": entry.tenant,
        "event id": str(entry.event_id),
        "state": entry.state.value,
        "attempts": str(entry.attempts),
        "received": _utc(entry.received_at),
        # Only a pending entry has a next attempt.
        "next attempt": _utc(entry.next_attempt_at) if entry.state is State.PENDING else "-",
        "owner": entry.owner or "-",
        "lease until": _utc(entry.lease_until),
        "last error": entry.last_error or "-",
        "body": f"{len(entry.body)} bytes",
    }


def _entry_dict(entry: Entry) -> dict[str, object]:
    """An entry's metadata, for --json: never its body."""
    return {
        "id": entry.id,
        "event": entry.event,
        "tenant": entry.tenant,
        "event_id": str(entry.event_id),
        "state": entry.state.value,
        "attempts": entry.attempts,
        "received_at": _iso(entry.received_at),
        "next_attempt_at": _iso(entry.next_attempt_at) if entry.state is State.PENDING else None,
        "owner": entry.owner,
        "lease_until": _iso(entry.lease_until),
        "last_error": entry.last_error,
        "body_size": len(entry.body),
    }


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)) for row in rows)
    return "".join(line.rstrip() + "\n" for line in lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _entry_id(value: str) -> str:
    try:
        split_id(value)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from exc
    return value


def _missing(entry_id: str) -> int:
    sys.stderr.write(
        f"No entry {entry_id} in the inbox; `superoffice-webhooks inbox list` lists them.\n"
    )
    return EXIT_FAILED


@_inbox_action(
    "stats",
    "count the entries in each state",
    "Count the entries in each state (pending, running, done, dead) and say when the "
    "oldest pending one was received.",
    _INBOX,
    _flag("--json", "print the counts as JSON"),
)
def _inbox_stats(inbox: Inbox, args: argparse.Namespace, out: TextIO) -> int:
    stats = inbox.stats()
    oldest = stats.oldest_pending_at
    age = None if oldest is None else time.time() - oldest
    if args.json:
        shown = {
            "counts": {state.value: stats.counts[state] for state in State},
            "dead": stats.dead,
            "oldest_pending_at": _iso(oldest),
            "oldest_pending_age_seconds": age,
        }
        out.write(_dumps(shown))
        return EXIT_OK
    out.write(_table([(state.value, str(stats.counts[state])) for state in State]))
    if oldest is not None and age is not None:
        out.write(f"\nOldest pending entry: received {_utc(oldest)}, {_span(age)} ago.\n")
    if stats.dead:
        out.write(
            f"\n{stats.dead} dead: `superoffice-webhooks inbox list --state dead` lists them, "
            "`inbox replay` runs them again.\n"
        )
    return EXIT_OK


@_inbox_action(
    "list",
    "list entries, the most recently received first",
    "List entries, the most recently received first: id, event, tenant, state, "
    "attempts, when received and when due (UTC), and the last error.",
    _INBOX,
    _arg("--state", "only entries in this state", choices=[state.value for state in State]),
    _arg("--limit", "at most N (default 100)", type=_positive, default=100, metavar="N"),
    _flag("--json", "print the entries as JSON"),
)
def _inbox_list(inbox: Inbox, args: argparse.Namespace, out: TextIO) -> int:
    state = None if args.state is None else State(args.state)
    entries = inbox.entries(state, limit=args.limit)
    if args.json:
        out.write(_dumps([_entry_dict(entry) for entry in entries]))
        return EXIT_OK
    if not entries:
        out.write(f"No {args.state} entries.\n" if args.state else "The inbox is empty.\n")
        return EXIT_OK
    rows = [tuple(name.upper() for name in _LISTED)]
    for entry in entries:
        fields = _fields(entry)
        fields["last error"] = _clip(fields["last error"], _ERROR_WIDTH)
        rows.append(tuple(fields[name] for name in _LISTED))
    out.write(_table(rows))
    return EXIT_OK


@_inbox_action(
    "show",
    "show one entry and its event",
    "Show one entry and its event as parsed, or the error that keeps its body from "
    "parsing. The raw body (personal data) is printed only with --raw.",
    _INBOX,
    _arg("id", _ENTRY_ID_HELP, metavar="ID"),
    _flag("--json", "print the entry and event as JSON"),
    _flag("--raw", "print the body as received, too"),
)
def _inbox_show(inbox: Inbox, args: argparse.Namespace, out: TextIO) -> int:
    entry = inbox.get(_entry_id(args.id))
    if entry is None:
        return _missing(args.id)
    event: Event | None = None
    problem: str | None = None
    try:
        event = parse(entry.body)
    except PayloadError as exc:
        problem = str(exc)
    if args.json:
        shown = _entry_dict(entry)
        shown["parsed"] = None if event is None else event.to_dict()
        shown["parse_error"] = problem
        if args.raw:
            shown["body"] = entry.body.decode("utf-8", "replace")
        out.write(_dumps(shown))
        return EXIT_OK
    out.write(_table(list(_fields(entry).items())))
    if event is not None:
        out.write("\nThe event, as parsed:\n" + _dumps(event.to_dict()))
    else:
        out.write(f"\nThe body does not parse: {problem}\n")
    if args.raw:
        out.write("\nThe body, as received:\n" + entry.body.decode("utf-8", "replace") + "\n")
    elif event is None:
        out.write("`--raw` prints the body (it may hold personal data).\n")
    return EXIT_OK


@_inbox_action(
    "replay",
    "make a done or dead entry pending again",
    "Make a done or dead entry pending again, due now: the next worker pass runs its "
    "handlers. --all-dead replays every dead entry.",
    _INBOX,
    exclusive=(
        _arg("id", _ENTRY_ID_HELP, nargs="?", metavar="ID"),
        _flag("--all-dead", "replay every dead entry"),
    ),
)
def _inbox_replay(inbox: Inbox, args: argparse.Namespace, out: TextIO) -> int:
    if args.all_dead:
        count = inbox.replay_dead()
        out.write(f"Replayed {_entries(count, 'dead')}; the next worker pass runs them.\n")
        return EXIT_OK
    entry = inbox.get(_entry_id(args.id))
    if entry is None:
        return _missing(args.id)
    if not inbox.replay(args.id):
        sys.stderr.write(
            f"Entry {args.id} is {entry.state.value}: only done and dead entries are replayed "
            "(a worker runs pending and running ones anyway).\n"
        )
        return EXIT_FAILED
    out.write(f"Replayed {args.id}; the next worker pass runs it.\n")
    return EXIT_OK


@_inbox_action(
    "purge",
    "delete done and dead entries",
    "Delete the done and dead entries that settled more than DURATION ago. Pending "
    "and running entries are never deleted.",
    _INBOX,
    _duration("--older-than", "e.g. 90s, 15m, 12h or 7d", required=True),
)
def _inbox_purge(inbox: Inbox, args: argparse.Namespace, out: TextIO) -> int:
    count = inbox.purge(args.older_than)
    span = _span(args.older_than.total_seconds())
    out.write(f"Deleted {_entries(count, 'done or dead')} settled more than {span} ago.\n")
    return EXIT_OK


@_command(
    "inbox",
    "look into the inbox: stats, list, show, replay, purge",
    "Look into the inbox a Receiver records events in: count them, list and show them, "
    "replay what failed, delete what is done. `inbox ACTION --help` describes each.",
    epilog=INBOX_EXIT_CODES,
    actions=_INBOX_ACTIONS,
)
def _cmd_inbox(args: argparse.Namespace, out: TextIO) -> int:
    with _opened(args.inbox) as inbox:
        return _INBOX_ACTIONS[args.action].run(inbox, args, out)


def _import(name: str) -> ModuleType:
    if not _MODULE.fullmatch(name):
        raise UsageError(f"{name!r} is not a module name such as myapp.webhooks")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        msg = f"cannot import {name}: {exc}. Is its directory the current one, or on PYTHONPATH?"
        raise UsageError(msg) from exc


def _dispatcher(args: argparse.Namespace) -> Dispatcher:
    """Import the handlers' modules and return the dispatcher whose handlers the worker runs."""
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)  # as `python -m` does, so that the app's modules import
    for name in args.imports:
        _import(name)
    dispatcher = default_dispatcher
    if args.dispatcher is not None:
        module, _, attribute = args.dispatcher.partition(":")
        named = getattr(_import(module), attribute or "-", None)
        if not isinstance(named, Dispatcher):
            msg = f"--dispatcher {args.dispatcher} is not a Dispatcher: write MODULE:ATTRIBUTE"
            raise UsageError(msg)
        dispatcher = named
    if not dispatcher.patterns():
        raise UsageError(
            "no handler is registered, so every event would be marked done unhandled: "
            "--import the modules that register them with @superoffice_webhooks.on, or "
            "name your Dispatcher with --dispatcher MODULE:ATTRIBUTE"
        )
    return dispatcher


@contextlib.contextmanager
def _logging_to_stderr(level: str) -> Iterator[None]:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    before = root.level, logger.level
    root.addHandler(handler)
    # The package's own level too, so that --log-level holds whatever was set before.
    root.setLevel(level)
    logger.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        logger.setLevel(before[1])


@_command(
    "worker",
    "run the handlers of the events in an inbox",
    "Run the handlers of the inbox's due events (new ones, retries, and those of "
    "workers that died) until SIGTERM or Ctrl-C, which let the running event finish; "
    "a second one exits at once. The modules named by --import register handlers with "
    "@superoffice_webhooks.on; --dispatcher names a Dispatcher instead. Logs go to "
    "standard error.",
    _INBOX,
    _arg(
        "--import",
        "a module that registers handlers (repeat for several)",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
    ),
    _arg("--dispatcher", "run this Dispatcher's handlers instead", metavar="MODULE:ATTR"),
    _duration(
        "--lease",
        "how soon a dead worker's event is taken over (default 30s)",
        default=timedelta(seconds=30),
    ),
    _duration(
        "--poll", "how long to wait when nothing is due (default 1s)", default=timedelta(seconds=1)
    ),
    _arg(
        "--max-attempts",
        "an event is dead after N failed attempts (default: retried for 24h)",
        type=_positive,
        metavar="N",
    ),
    _arg(
        "--log-level",
        "what to log to standard error (default INFO)",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="INFO",
    ),
    epilog=INBOX_EXIT_CODES,
)
def _cmd_worker(args: argparse.Namespace, _out: TextIO) -> int:
    if args.lease < timedelta(seconds=1):
        raise UsageError("--lease must be at least 1s")
    with _logging_to_stderr(args.log_level):
        dispatcher = _dispatcher(args)
        with _opened(args.inbox, create=True) as inbox:
            retry = RetryPolicy(max_attempts=args.max_attempts)
            worker = Worker(
                inbox, dispatcher, retry=retry, lease=args.lease, poll_interval=args.poll
            )
            logger.info(
                "Worker started: inbox %s, handlers for %s; SIGTERM or Ctrl-C stops it.",
                _shown(args.inbox or os.environ[INBOX_ENV]),
                ", ".join(dispatcher.patterns()),
            )
            with worker.stopping_on_signals():
                worker.run()
            logger.info("Worker stopped.")
    return EXIT_OK


def _add_commands(
    parser: argparse.ArgumentParser, commands: Mapping[str, _Command], dest: str
) -> None:
    subparsers = parser.add_subparsers(dest=dest, required=True, metavar=dest.upper())
    for name, command in commands.items():
        sub = subparsers.add_parser(
            name,
            help=command.summary,
            description=command.description,
            epilog=command.epilog,
            # The epilogs are laid out by hand; demo has none, so argparse wraps its text.
            formatter_class=argparse.RawDescriptionHelpFormatter
            if command.epilog
            else argparse.HelpFormatter,
        )
        for flag, options in command.arguments:
            sub.add_argument(flag, **options)
        if command.exclusive:
            group = sub.add_mutually_exclusive_group(required=True)
            for flag, options in command.exclusive:
                group.add_argument(flag, **options)
        if command.actions:
            _add_commands(sub, command.actions, "action")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="superoffice-webhooks",
        description="Verify, parse and dispatch SuperOffice CRM webhooks; sign, send and "
        "receive test requests; explain signatures that do not verify.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    version = importlib.metadata.version("superoffice-webhooks")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version}", help="print the version"
    )
    _add_commands(parser, _COMMANDS, "command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command].run(args, sys.stdout)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog} {args.command}: error: {exc}\n")
    except InboxFailedError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_NETWORK
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): say nothing more, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
