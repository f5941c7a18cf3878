"""A failing handler is seen in the server's own output, with no logging set up by the app."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from live_server import HERE, post, serve
from webhook_cases import failing_body, signed

from conftest import EXAMPLES

if TYPE_CHECKING:
    from pathlib import Path

SERVERS = {
    "gunicorn": (
        ["gunicorn", "--bind=127.0.0.1:{port}", "--workers=1", "failing_app:flask_app"],
        {},
        "/",
    ),
    "uvicorn": (["uvicorn", "--host=127.0.0.1", "--port={port}", "failing_app:asgi_app"], {}, "/"),
    "runserver": (
        ["django", "runserver", "127.0.0.1:{port}", "--noreload", "--nothreading"],
        {"DJANGO_SETTINGS_MODULE": "django_project.settings"},
        "/sync/",
    ),
}


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_a_failing_handler_is_an_error_with_its_traceback_in_the_output(
    name: str, tmp_path: Path
) -> None:
    """Under gunicorn, uvicorn and runserver a handler failure prints an ERROR with its traceback."""
    args, env, path = SERVERS[name]
    paths = os.pathsep.join([str(HERE), str(EXAMPLES), str(HERE.parent)])  # tests/ too
    body = failing_body()
    with serve(args, tmp_path / f"{name}.log", {**env, "PYTHONPATH": paths}) as server:
        status, _ = post(server.url(path), body, signed(body))
        output = server.wait_for_output("RuntimeError: the handler failed")

    assert status == 500
    assert "Handler failed for person.created event" in output
    assert "Traceback (most recent call last)" in output
    assert "RuntimeError: the handler failed" in output
    assert body.decode() not in output
