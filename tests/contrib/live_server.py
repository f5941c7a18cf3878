"""Run a real server (gunicorn, uvicorn) on 127.0.0.1 for a test, and talk to it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.server import free_port, stop
from conftest import EXAMPLES

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

HERE = Path(__file__).parent
START_TIMEOUT = 30.0  # seconds for a server to accept connections
REQUEST_TIMEOUT = 10.0


class Server:
    """A server process listening on ``127.0.0.1:port``; its output goes to *log*."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> str:
        """The output once it contains *text* (or as it is after *timeout* seconds)."""
        deadline = time.monotonic() + timeout
        while text not in (output := self.output()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return output


@contextlib.contextmanager
def serve(args: list[str], log: Path, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Start ``python -m <args>`` with ``{port}`` filled in; stop it when done."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(EXAMPLES)]),
        **(env or {}),
    }
    command = [sys.executable, "-m", *(a.format(port=port) for a in args)]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603  # our own command line
            command, stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=HERE
        )
    server = Server(process, port, log)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        stop(process)


def _wait_until_listening(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"The server exited with {server.process.returncode}:\n{server.output()}"
            raise RuntimeError(msg)
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), 0.5),
        ):
            return
        time.sleep(0.05)
    msg = f"The server did not listen within {START_TIMEOUT} s:\n{server.output()}"
    raise RuntimeError(msg)


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """POST *body* over a socket; the status and body of the answer."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  # http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310  # same
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
