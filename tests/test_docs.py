"""The examples in the docs run: Python blocks, pytest examples and CLI transcripts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from superoffice_webhooks import _cli

if TYPE_CHECKING:
    import pytest

DOCS = Path(__file__).parent.parent / "docs"
FILE_NAME = re.compile(r"# (\S+\.py)\n")


def python_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def transcripts(page: str) -> list[list[tuple[str, str]]]:
    """The console blocks marked as transcripts: (command, expected output) pairs."""
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"% transcript:[^\n]*\n```console\n(.*?)```", text, re.DOTALL)
    steps = []
    for block in blocks:
        pairs = re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE)
        steps.append([(command, output) for command, output in pairs])
    return steps


def test_testing_page_snippets_run() -> None:
    """The plain Python blocks of testing.md run, in order, and their asserts hold."""
    blocks = [b for b in python_blocks("testing.md") if not FILE_NAME.match(b)]
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOCS / "testing.md"), "exec"), namespace)  # noqa: S102  # our own docs


def test_testing_page_pytest_example_passes(pytester: pytest.Pytester) -> None:
    """The conftest.py and test file on testing.md pass when run with pytest."""
    files = {
        match[1]: block
        for block in python_blocks("testing.md")
        if (match := FILE_NAME.match(block))
    }
    assert set(files) == {"conftest.py", "test_webhooks.py"}
    for name, source in files.items():
        (pytester.path / name).write_text(source, encoding="utf-8")
    pytester.makeini("[pytest]\nfilterwarnings = error\n")

    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=source_tests(files["test_webhooks.py"]))


def source_tests(source: str) -> int:
    return len(re.findall(r"^def test_", source, re.MULTILINE))


def test_cli_transcripts_are_true(tmp_path: Path) -> None:
    """Every transcript on cli.md prints what the page says, command by command."""
    steps = transcripts("cli.md")
    assert len(steps) == 2
    env = {k: v for k, v in os.environ.items() if k != _cli.SECRET_ENV}
    for block in steps:
        for command, expected in block:
            runnable = re.sub(
                r"^superoffice-webhooks ", f'"{sys.executable}" -m superoffice_webhooks ', command
            )
            runnable = re.sub(r"^python ", f'"{sys.executable}" ', runnable)
            proc = subprocess.run(  # noqa: S602  # commands from our own docs, in a temporary directory
                runnable,
                shell=True,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=env,
            )
            assert proc.stderr == "", command
            assert proc.stdout == expected, command


def test_cli_page_lists_every_command() -> None:
    """The command table on cli.md names every command the parser has."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z]+)` \|", text, re.MULTILINE))
    assert listed == set(_cli._COMMANDS)
    assert "```{cli-reference}" in text


def test_testing_page_lists_every_fixture() -> None:
    """The fixture table on testing.md names every fixture the plugin defines."""
    import _superoffice_webhooks_pytest_plugin as _pytest_plugin  # noqa: PLC0415  # for the test only

    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(superoffice_\w+)` \|", text, re.MULTILINE))
    assert listed == set(_pytest_plugin.__all__)
