"""Coverage-guided fuzzing of parse() and Receiver.receive() with atheris (libFuzzer).

Three targets:

``parse``
    Arbitrary bytes to :func:`parse`: an event or :class:`PayloadError`, nothing else;
    whatever parses must round-trip through ``to_json``.
``receive-signed``
    Arbitrary bytes, correctly signed, to :meth:`Receiver.receive`, so the fuzzer gets
    past verification: 200 or 400, never an exception.
``receive-raw``
    Arbitrary bytes with an arbitrary signature header (and maybe ``X-Hook-Test``): never
    an exception, never a handler run; only a test ping may get 200.

Run from the repository root, bounded by time or by runs (libFuzzer options after ``--``)::

    python -m fuzz parse -- -max_total_time=60
    python -m fuzz receive-signed -- -runs=100000

The seed corpus is the documented payloads in tests/data/. libFuzzer prints
``Done N runs in S second(s)`` at the end; a crash prints the input and saves it as
``crash-<sha1>`` in the current directory.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import superoffice_webhooks as sow
    from superoffice_webhooks import PayloadError, Receiver, parse, sign

SECRET = "fuzzing secret"  # noqa: S105  # a test secret
CORPUS = Path(__file__).parent.parent / "tests" / "data"
handled: list[sow.Event] = []
dispatcher = sow.Dispatcher()
dispatcher.on_any(handled.append)
receiver = Receiver(secret=SECRET, dispatcher=dispatcher, idempotency=None)
# The receiver logs a warning for every request it refuses, which Python prints to standard
# error when no logging is set up: a line per fuzz input. A handler of our own keeps quiet.
logging.getLogger("superoffice_webhooks").addHandler(logging.NullHandler())


def fuzz_parse(data: bytes) -> None:
    """parse: an event that round-trips, or PayloadError."""
    try:
        event = parse(data)
    except PayloadError:
        return
    if parse(event.to_json()) != event:
        msg = "the event does not round-trip through to_json"
        raise AssertionError(msg)


def fuzz_receive_signed(data: bytes) -> None:
    """Receiver.receive with a correct signature: 200 or 400."""
    outcome = receiver.receive(data, {"X-SuperOffice-Signature": sign(data, SECRET)})
    if outcome.status not in (200, 400):
        msg = f"a signed body got {outcome.status}"
        raise AssertionError(msg)
    handled.clear()


def fuzz_receive_raw(data: bytes) -> None:
    """Receiver.receive with a signature made of fuzz: no handler ever runs."""
    provider = atheris.FuzzedDataProvider(data)
    headers = {"X-SuperOffice-Signature": provider.ConsumeUnicodeNoSurrogates(48)}
    if provider.ConsumeBool():
        headers["X-Hook-Test"] = "true"
    outcome = receiver.receive(provider.ConsumeBytes(provider.remaining_bytes()), headers)
    if handled or outcome.dispatch is not None:
        msg = "an unverified request reached a handler"
        raise AssertionError(msg)
    if outcome.status not in (200, 401) or (outcome.ok and outcome.event is None):
        msg = f"an unverified request got {outcome.status}"
        raise AssertionError(msg)


TARGETS = {
    "parse": fuzz_parse,
    "receive-signed": fuzz_receive_signed,
    "receive-raw": fuzz_receive_raw,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("libfuzzer", nargs="*", help="libFuzzer options, after --")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as corpus:  # libFuzzer adds what it finds
        for path in CORPUS.glob("*.json"):
            shutil.copy(path, corpus)
        atheris.Setup([sys.argv[0], *args.libfuzzer, corpus], TARGETS[args.target])
        atheris.Fuzz()


if __name__ == "__main__":
    main()
