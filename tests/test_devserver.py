"""The network side of the command line, in this process: ``listen`` and ``send``."""

from __future__ import annotations

import http.client
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from superoffice_webhooks import Dispatcher, Event, Receiver
from superoffice_webhooks._cli import pretty
from superoffice_webhooks._devserver import ListenOptions, listen, send
from superoffice_webhooks.testing import signed_request

if TYPE_CHECKING:
    from collections.abc import Iterator

SECRET = "devserver secret"  # noqa: S105  # a test secret
LIMIT = 4096


class Output(io.StringIO):
    """What listen() prints; `ready` is set once it has said where it listens."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def flush(self) -> None:
        super().flush()
        self.ready.set()


class Listening:
    """listen() running in a thread of this process until it has handled *requests*."""

    def __init__(self, receiver: Receiver, requests: int) -> None:
        self.out = Output()
        options = ListenOptions(
            host="127.0.0.1",
            port=0,
            receiver=receiver,
            describe=pretty,
            masked_secret="de****** (16 characters)",
            max_requests=requests,
            show_body=True,
        )
        self.codes: list[int] = []
        # A daemon thread: a test that fails before its last request cannot hang the run.
        self.thread = threading.Thread(
            target=lambda: self.codes.append(listen(self.out, options)), daemon=True
        )
        self.thread.start()
        assert self.out.ready.wait(30), "listen() did not start"
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", self.out.getvalue())
        assert match, self.out.getvalue()
        self.port = int(match[1])

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def post_chunked_headers(
        self, headers: dict[str, str], framing: tuple[str, str] = ("Transfer-Encoding", "chunked")
    ) -> int:
        """A POST's headers only: the server must answer before any body is sent."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest("POST", "/")
            for name, value in {**headers, framing[0]: framing[1]}.items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def finish(self) -> tuple[int, str]:
        self.thread.join(30)
        assert not self.thread.is_alive(), "listen() did not stop after its requests"
        return self.codes[0], self.out.getvalue()


def failing_receiver() -> Receiver:
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    def fail(event: Event) -> None:
        msg = "handler broke"
        raise RuntimeError(msg)

    return Receiver(secret=SECRET, dispatcher=dispatcher, max_body_size=LIMIT)


def test_listen_outside_the_main_thread_shows_bodies_and_failures() -> None:
    """listen() runs in any thread; --show-body prints the body; a failure shows its reason."""
    server = Listening(failing_receiver(), requests=1)
    body, headers = signed_request("person.created", SECRET, seed=5)

    status = server.post(body, dict(headers))
    code, out = server.finish()

    assert status == 500
    assert code == 0
    assert re.search(r"  500  person\.created  \(.*handler", out), out
    assert "  body: " + body.decode() in out
    assert "Stopped after 1 request(s)." in out


def test_listen_wants_a_content_length_and_enforces_the_size_limit() -> None:
    """A chunked POST (no Content-Length) gets 411; a body over the limit gets 413."""
    server = Listening(failing_receiver(), requests=2)
    _, headers = signed_request("test", SECRET)

    chunked = server.post_chunked_headers(dict(headers))
    too_big = server.post(b" " * (LIMIT + 1), dict(headers))
    code, out = server.finish()

    assert (chunked, too_big, code) == (411, 413, 0)
    assert "Stopped after 2 request(s)." in out


def test_listen_wants_a_content_length_in_ascii_digits() -> None:
    """A Content-Length in superscript digits is no length: 411, as for a chunked POST."""
    server = Listening(failing_receiver(), requests=1)
    _, headers = signed_request("test", SECRET)

    status = server.post_chunked_headers(dict(headers), ("Content-Length", "\u00b2"))
    code, _ = server.finish()

    assert (status, code) == (411, 0)


class _OddStatus(BaseHTTPRequestHandler):
    """Answers every POST with 299, a status without a standard phrase."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base class's name
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(299)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def odd_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OddStatus)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(30)


def test_send_prints_a_status_without_a_phrase_as_its_number(odd_server: str) -> None:
    """An answer with a non-standard status is shown as the bare number; 2xx is success."""
    out = io.StringIO()

    code = send(
        out, event="test", url=odd_server, secret=SECRET, count=2, concurrency=1, timeout=30, seed=1
    )

    assert code == 0
    assert out.getvalue().count("  299  (") == 2
    assert "2 x 299\n" in out.getvalue()
