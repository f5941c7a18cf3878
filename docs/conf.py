"""Sphinx configuration for the superoffice-webhooks documentation."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import superoffice_webhooks
from superoffice_webhooks import events
from superoffice_webhooks import typing as sow_typing

# -- Project --------------------------------------------------------------------

project = "superoffice-webhooks"
author = "superoffice-webhooks contributors"
copyright = "superoffice-webhooks contributors"

release = metadata.version("superoffice-webhooks")
version = release

# -- General configuration ------------------------------------------------------

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "cli_reference",  # docs/_ext: the CLI reference, generated from the argument parser
    "event_reference",  # docs/_ext: the event tables, from codegen/catalogue.py
]

myst_enable_extensions = [
    "colon_fence",
    "deflist",
]
myst_heading_anchors = 3

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# -- autodoc --------------------------------------------------------------------

autodoc_typehints = "signature"
autodoc_member_order = "bysource"
add_module_names = False

# -- Nitpicky references --------------------------------------------------------

# The docs build without network access, so there are no intersphinx inventories
# to link standard-library types to. Ignore the ones in our signatures rather than
# fail the nitpicky build.
nitpick_ignore = [
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "datetime.datetime"),
    ("py:class", "datetime.timedelta"),
    ("py:class", "timedelta"),
    ("py:class", "uuid.UUID"),
    ("py:class", "UUID"),
    ("py:class", "os.PathLike"),
    # The optional engines' classes; their docs are not linked offline.
    ("py:class", "redis.Redis"),
    ("py:class", "redis.asyncio.Redis"),
    ("py:class", "celery.Celery"),
]
nitpick_ignore_regex = [
    # The web frameworks' own classes in the adapters' signatures (no inventories offline).
    ("py:class", r"(flask|django|fastapi|starlette)\..*"),
    ("py:class", r"Flask|HttpResponseBase|HttpRequest|APIRouter|Request|Response"),
    # Sphinx splits the empty argument list of `Callable[[], float]` into a bogus target.
    ("py:class", r"Callable\[\[\]"),
    # Type variables in the signatures of the handler types; not documented objects.
    ("py:class", r"superoffice_webhooks\._dispatch\.[ER]"),
    ("py:class", r"superoffice_webhooks\.(testing|_factory)\.[EFT]"),
]

# -- HTML -----------------------------------------------------------------------

html_theme = "furo"
html_title = f"superoffice-webhooks {release}"
html_theme_options = {
    "top_of_page_buttons": [],
}

# -- References to private module paths -----------------------------------------

#: Public name -> the module the docs document it in.
_PUBLIC = {
    **dict.fromkeys(superoffice_webhooks.__all__, "superoffice_webhooks"),
    **dict.fromkeys(events.__all__, "superoffice_webhooks.events"),
    **dict.fromkeys(sow_typing.__all__, "superoffice_webhooks.typing"),
}
_PRIVATE_PATH = re.compile(
    r"(?:superoffice_webhooks\.(?:_\w+|exceptions|typing)|_ge)\.(?P<name>\w+)(?P<rest>(?:\.\w+)*)"
)


def _public_target(target: str) -> str | None:
    """Map ``superoffice_webhooks._events.Event.to_dict`` to ``superoffice_webhooks.events.Event.to_dict``.

    The public classes live in private modules, so type hints and inherited
    bases name them by their defining module; the docs document them where
    users import them from: the package root, ``events`` or ``typing``.
    """
    match = _PRIVATE_PATH.fullmatch(target)
    if match is None or match["name"] not in _PUBLIC:
        return None
    return f"{_PUBLIC[match['name']]}.{match['name']}{match['rest']}"


def _resolve_private(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    public = _public_target(node.get("reftarget", ""))
    if public is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def setup(app: Any) -> None:
    app.connect("missing-reference", _resolve_private)
