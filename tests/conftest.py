"""Shared test helpers: the documented example payloads in tests/data/."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

DATA = Path(__file__).parent / "data"
SECRET = "Something Super Secret"  # noqa: S105  # a test secret
#: The example apps of the docs, which the adapter tests import and serve.
EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"

sys.path.insert(0, str(EXAMPLES))
os.environ["SUPEROFFICE_WEBHOOK_SECRET"] = SECRET  # the examples read their secret from it


def example(name: str) -> bytes:
    """The raw bytes of tests/data/<name>.json, exactly as documented."""
    return (DATA / f"{name}.json").read_bytes()


def example_json(name: str) -> dict[str, object]:
    """tests/data/<name>.json decoded."""
    data: dict[str, object] = json.loads(example(name))
    return data


def example_names() -> list[str]:
    """Every documented example payload, by file stem."""
    return sorted(p.name.removesuffix(".json") for p in DATA.glob("*.json"))


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture(params=["stdlib", "orjson"], scope="module")
def json_parser(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests once per JSON parser parse() can use.

    ``parse()`` tries orjson first when it is installed (the ``fast`` extra) and must
    give the same events and the same errors as with the standard library alone.
    """
    import orjson  # noqa: PLC0415  # in the test extra; only this fixture needs it

    from superoffice_webhooks import _parse  # noqa: PLC0415  # the parser setting is private

    saved = _parse.fast_loads
    _parse.fast_loads = None if request.param == "stdlib" else orjson.loads
    try:
        yield request.param
    finally:
        _parse.fast_loads = saved
