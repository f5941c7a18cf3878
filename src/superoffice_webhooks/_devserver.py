"""The network side of the command line: ``send`` (a small load sender) and ``listen``.

Standard library only: ``urllib`` to post, ``http.server`` to listen. Neither prints a
secret or a body unless asked to.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from ._factory import signed_request

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._events import Event
    from ._receiver import Outcome, Receiver

__all__ = ["HTTPError", "ListenOptions", "listen", "post", "send"]

#: Headers not passed on when forwarding (hop-by-hop, or recomputed by urllib).
_NOT_FORWARDED = frozenset({"host", "content-length", "connection", "transfer-encoding"})


class HTTPError(Exception):
    """The URL could not be reached, or the request failed below HTTP."""


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST and return the status; :class:`HTTPError` when there is no HTTP answer."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  # the command line checks the scheme
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # as above
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HTTPError(str(reason) or type(exc).__name__) from exc


@attrs.frozen
class _Sent:
    number: int
    event_id: str
    #: ``None`` when no answer came; *error* says why.
    status: int | None
    error: str | None
    seconds: float


def send(
    out: TextIO,
    *,
    event: str,
    url: str,
    secret: str,
    count: int,
    concurrency: int,
    timeout: float,
    seed: int | None,
) -> int:
    """POST *count* signed *event*s to *url*; print each answer and a summary; exit code."""

    def one(number: int) -> _Sent:
        body, headers = signed_request(event, secret, seed=None if seed is None else seed + number)
        started = time.perf_counter()
        try:
            status: int | None = post(url, body, headers, timeout)
            error = None
        except HTTPError as exc:
            status, error = None, str(exc)
        event_id = headers.get("X-SuperOffice-EventId", "-")
        return _Sent(number, event_id, status, error, time.perf_counter() - started)

    width = len(str(count))
    out.write(f"Sending {count} signed {event} event(s) to {url} ({concurrency} at a time)\n")
    out.flush()
    started = time.perf_counter()
    results: list[_Sent] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send") as pool:
        futures = [pool.submit(one, number) for number in range(1, count + 1)]
        for done, future in enumerate(as_completed(futures), 1):
            sent = future.result()
            results.append(sent)
            answer = f"failed: {sent.error}" if sent.status is None else _status_text(sent.status)
            out.write(
                f"[{done:>{width}}/{count}] #{sent.number:<{width}} {sent.event_id}  {answer}"
                f"  ({sent.seconds * 1000:.0f} ms)\n"
            )
            out.flush()
    return _summary(out, results, time.perf_counter() - started)


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _summary(out: TextIO, results: list[_Sent], seconds: float) -> int:
    # Statuses start with a digit, so sorted they come before "no answer".
    answers = Counter("no answer" if r.status is None else _status_text(r.status) for r in results)
    parts = [f"{n} x {answer}" for answer, n in sorted(answers.items())]
    out.write(f"\n{len(results)} sent in {seconds:.2f} s: {', '.join(parts)}\n")
    if any(r.status is None or r.status >= 500 for r in results):  # noqa: PLR2004  # 5xx
        return 3
    if any(r.status is not None and not 200 <= r.status < 300 for r in results):  # noqa: PLR2004  # 2xx
        return 1
    return 0


@attrs.frozen(kw_only=True)
class ListenOptions:
    host: str
    port: int
    receiver: Receiver
    describe: Callable[[Event], list[str]]
    masked_secret: str
    path: str | None = None
    forward_to: str | None = None
    max_requests: int | None = None
    show_body: bool = False
    timeout: float = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, options: ListenOptions, out: TextIO) -> None:
        super().__init__((options.host, options.port), _Handler)
        self.options = options
        self.out = out
        self.lock = threading.Lock()
        self.handled = 0

    def say(self, lines: list[str]) -> None:
        with self.lock:
            self.out.write("".join(f"{line}\n" for line in lines))
            self.out.flush()

    def count(self) -> None:
        with self.lock:
            self.handled += 1
            limit = self.options.max_requests
            if limit is not None and self.handled >= limit:
                threading.Thread(target=self.shutdown, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base class's name
        """Silence the default access log; each request is printed by do_POST."""

    def _answer(self, status: int, text: str) -> None:
        payload = f"{text}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        """Say what this is, for a browser pointed at it."""
        try:
            self._answer(405, "superoffice-webhooks listen: POST SuperOffice webhooks here.")
        finally:
            self.server.count()

    def do_POST(self) -> None:
        """Verify, parse and print one webhook request; forward it if asked to."""
        options = self.server.options
        try:
            if options.path is not None and self.path.split("?")[0] != options.path:
                self._answer(404, f"Post to {options.path}.")
                return
            body = self._read_body(options.receiver.max_body_size)
            if body is None:
                return
            outcome = options.receiver.receive(body, dict(self.headers.items()))
            status = outcome.status
            lines = self._describe(outcome)
            if options.show_body:
                lines.append("  body: " + body.decode("utf-8", errors="replace"))
            if options.forward_to is not None and outcome.status == 200:  # noqa: PLR2004  # accepted
                status, forwarded = self._forward(options, body)
                lines.append(forwarded)
            self.server.say(lines)
            self._answer(status, outcome.reason)
        finally:
            self.server.count()

    def _read_body(self, limit: int) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not (length.isascii() and length.isdigit()):
            self.close_connection = True
            self._answer(411, "Send a Content-Length header.")
            return None
        size = int(length)
        if size > limit:
            self.close_connection = True  # the rest of the body stays unread
        return self.rfile.read(min(size, limit + 1))

    def _describe(self, outcome: Outcome) -> list[str]:
        clock = datetime.now().astimezone().strftime("%H:%M:%S")
        if outcome.event is None:
            return [f"{clock}  {outcome.status}  refused: {outcome.reason}"]
        first = f"{clock}  {outcome.status}  {outcome.event.event}"
        if outcome.status != 200:  # noqa: PLR2004  # the reason explains a failure
            first += f"  ({outcome.reason})"
        describe = self.server.options.describe
        return [first, *(f"  {line}" for line in describe(outcome.event))]

    def _forward(self, options: ListenOptions, body: bytes) -> tuple[int, str]:
        target = str(options.forward_to)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        try:
            status = post(target, body, headers, options.timeout)
        except HTTPError as exc:
            return 502, f"  -> forward to {target} failed: {exc}"
        return status, f"  -> forwarded to {target}: {_status_text(status)}"


def listen(out: TextIO, options: ListenOptions) -> int:
    """Serve until Ctrl-C, SIGTERM or ``max_requests``; the exit code (3: the address cannot be
    bound)."""
    try:
        server = _Server(options, out)
    except OSError as exc:
        out.flush()
        sys.stderr.write(f"Cannot listen on {options.host}:{options.port}: {exc.strerror or exc}\n")
        return 3
    # SIGTERM stops us as Ctrl-C does; handled before saying "Listening", so that whoever
    # waits for that can stop us.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if main_thread else None
    host, port = server.server_address[:2]
    try:
        out.write(
            f"Listening on http://{host!s}:{port}{options.path or '/'} "
            f"(secret {options.masked_secret}); Ctrl-C to stop\n"
        )
        if options.forward_to:
            out.write(f"Forwarding verified requests to {options.forward_to}\n")
        out.flush()
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        server.server_close()
    out.write(f"Stopped after {server.handled} request(s).\n")
    out.flush()
    return 0
