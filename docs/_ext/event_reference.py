"""The ``event-reference`` directive: the event tables, from the catalogue the classes come from.

The tables are rendered when the docs are built, so they cannot drift from the classes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: codegen

from codegen.generate import render_docs  # after the path is set


class EventReference(SphinxDirective):
    """Every event in a table, then a section per entity with its classes."""

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        self.state.nested_parse(
            render_docs().splitlines(), self.content_offset, container, match_titles=True
        )
        return container.children


def setup(app: Any) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("event-reference", EventReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
