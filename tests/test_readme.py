"""The README's example runs as written."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import superoffice_webhooks as sow
from conftest import example
from superoffice_webhooks.inbox import SQLiteInbox, State

if TYPE_CHECKING:
    import pytest

README = Path(__file__).parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_example_verifies_parses_and_dispatches(capsys: pytest.CaptureFixture[str]) -> None:
    """The README example, given a signed person.consented request, runs its handler."""
    block = _python_blocks()[0]
    body = example("person.consented")
    headers = {"X-SuperOffice-Signature": sow.sign(body, "the webhook's Secret")}
    namespace: dict[str, object] = {"body": body, "headers": headers}
    try:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102  # our own README
    finally:
        sow.default_dispatcher.remove(namespace["consent_given"])  # type: ignore[arg-type]
    outcome = namespace["outcome"]
    assert isinstance(outcome, sow.Outcome)
    assert outcome.status == 200
    assert isinstance(namespace["event"], sow.PersonConsented)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["person 18 consented at 2018-04-24 08:01:15.850693+00:00"] * 2


def test_readme_durable_setup_records_and_runs_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's production setup records a signed event in the inbox and a worker runs it."""
    _, block = _python_blocks()
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"sow": sow}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102  # our own README
    worker, inbox, receiver = namespace["worker"], namespace["inbox"], namespace["receiver"]
    assert isinstance(worker, sow.Worker)
    assert isinstance(inbox, SQLiteInbox)
    assert isinstance(receiver, sow.Receiver)
    try:
        body = example("person.created")
        headers = {"X-SuperOffice-Signature": sow.sign(body, "the webhook's Secret")}
        assert receiver.receive(body, headers).status == 200
        # The request runs the handlers, or the worker does when it took the entry first.
        deadline = time.monotonic() + 30
        while inbox.entries()[0].state is not State.DONE and time.monotonic() < deadline:
            time.sleep(0.01)
        (entry,) = inbox.entries()
        assert entry.state is State.DONE
    finally:
        worker.stop(timeout=10)
        inbox.close()
    assert (tmp_path / "webhooks.sqlite3").exists()


def test_readme_names_the_test_command_ci_runs() -> None:
    """The README shows exactly one test command between the markers CI reads."""
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    commands = [line for line in section.splitlines() if line.startswith("make ")]
    assert len(commands) == 1
    assert commands[0].split()[:2] == ["make", "test"]
