"""The command line: ``python -m superoffice_webhooks demo`` and friends."""

from __future__ import annotations

import subprocess
import sys

import pytest

from superoffice_webhooks import _cli

PERSON_CLASSES = [
    "PersonCreated",
    "PersonChanged",
    "PersonConsented",
    "PersonUnconsented",
    "PersonDeleted",
]


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own interpreter and module
        [sys.executable, "-m", "superoffice_webhooks", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tampered_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "tampered" in line.lower()]
    assert lines, output
    return lines[0]


def test_demo_in_subprocess() -> None:
    """`python -m superoffice_webhooks demo` exits 0, shows each person event and the 401."""
    proc = run_module("demo")

    assert proc.returncode == 0, proc.stderr
    for name in PERSON_CLASSES:
        assert name in proc.stdout
    assert "401" in tampered_line(proc.stdout)


def test_demo_via_main(capsys: pytest.CaptureFixture[str]) -> None:
    """main(["demo"]) returns 0 and prints the same demo."""
    code = _cli.main(["demo"])

    out = capsys.readouterr().out
    assert code == 0
    for name in PERSON_CLASSES:
        assert name in out
    assert "401" in tampered_line(out)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help prints usage naming the demo command and exits 0."""
    with pytest.raises(SystemExit) as info:
        _cli.main(["--help"])

    assert info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_help_in_subprocess() -> None:
    """`python -m superoffice_webhooks --help` exits 0."""
    proc = run_module("--help")

    assert proc.returncode == 0
    assert "usage" in proc.stdout.lower()


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is a usage error: exit status 2."""
    with pytest.raises(SystemExit) as info:
        _cli.main(["no-such-command"])

    assert info.value.code == 2
    assert "no-such-command" in capsys.readouterr().err


def test_unknown_command_in_subprocess() -> None:
    """`python -m superoffice_webhooks no-such-command` exits 2."""
    proc = run_module("no-such-command")

    assert proc.returncode == 2
    assert proc.stdout == ""


def test_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    """Running without a command is a usage error: exit status 2."""
    with pytest.raises(SystemExit) as info:
        _cli.main([])

    assert info.value.code == 2
