"""The package's logger, and how values taken from requests are written to it."""

from __future__ import annotations

import logging

__all__ = ["logger", "printable"]

#: Every record of the package goes here. It has no handler of its own: with no logging
#: set up at all, Python's last-resort handler prints warnings and errors (with their
#: tracebacks) to stderr, so that failures are seen under any server.
logger = logging.getLogger("superoffice_webhooks")

#: The most characters of one value taken from a request that a record or a reason holds.
LIMIT = 100


def printable(value: object) -> str:
    """*value* cut to ``LIMIT`` characters, with control characters, non-ASCII characters and
    lone surrogates written as escapes: it can neither forge a log line nor fail to encode."""
    text = str(value)
    shown = text[:LIMIT].encode("unicode_escape").decode("ascii")
    return shown if len(text) <= LIMIT else f"{shown}..."
