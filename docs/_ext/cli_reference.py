"""The ``cli-reference`` directive: the command line's --help texts, from the parser itself.

The reference is generated when the docs are built, so it cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from superoffice_webhooks import _cli

#: The width the help texts are wrapped to, as in an 88-column terminal.
WIDTH = "88"


def help_texts() -> list[tuple[str, str, str]]:
    """``(command, one-line summary, --help text)`` for the program and each command."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps to the terminal width it sees
    try:
        parser = _cli._parser()
        texts = [("superoffice-webhooks", parser.description or "", parser.format_help())]
        texts.extend(_commands(parser, "superoffice-webhooks"))
        return texts
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[tuple[str, str, str]]:
    """The help of each command of *parser*, and of their own commands (``inbox list``)."""
    texts = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                texts.append((f"{prefix} {name}", summaries[name], sub.format_help()))
                texts.extend(_commands(sub, f"{prefix} {name}"))
    return texts


class CliReference(SphinxDirective):
    """One section per command: its summary and its --help text."""

    def run(self) -> list[nodes.Node]:
        sections: list[nodes.Node] = []
        for command, summary, text in help_texts():
            section = nodes.section(ids=[nodes.make_id(f"command {command}")])
            section += nodes.title(text=command)
            section += nodes.paragraph(text=summary[:1].upper() + summary[1:] + ".")
            section += nodes.literal_block(text, text, language="text")
            self.state.document.note_implicit_target(section)
            sections.append(section)
        return sections


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("cli-reference", CliReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
