"""Shared test helpers: the documented example payloads in tests/data/."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

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
