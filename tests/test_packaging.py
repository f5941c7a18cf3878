"""The packaging metadata agrees with the files that build and test the package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
FLOOR = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([0-9][0-9A-Za-z.]*)$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_floors() -> dict[str, str]:
    """The `name>=version` requirements of the package, its extras included."""
    project = PYPROJECT["project"]
    requirements = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    floors = {}
    for requirement in requirements:
        match = FLOOR.match(requirement.split(";")[0].replace(" ", ""))
        if match:
            floors[_name(match[1])] = match[2]
    return floors


def _minimums() -> dict[str, str]:
    """The `name==version` pins of .ci/minimums.txt."""
    pins = {}
    for line in (ROOT / ".ci" / "minimums.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[_name(name)] = version
    return pins


def _release(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_minimums_pin_each_declared_floor() -> None:
    """`make test-min` installs exactly the lowest version pyproject.toml allows for each dependency."""
    floors = _declared_floors()
    pins = _minimums()
    assert floors, "no floors found in pyproject.toml"
    assert {name: _release(v) for name, v in floors.items()} == {
        name: _release(v) for name, v in pins.items()
    }


def test_makefile_installs_groups_that_exist() -> None:
    """Every `--group` the Makefile installs is a dependency group of pyproject.toml."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    used = set(re.findall(r"--group ([a-z-]+)", makefile))
    assert used
    assert used <= set(PYPROJECT["dependency-groups"])


def test_development_tools_are_not_published_extras() -> None:
    """The published extras are the integrations and the test suite, not the project's tools."""
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    assert extras == {"django", "flask", "fastapi", "redis", "celery", "fast", "test"}
