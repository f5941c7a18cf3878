"""Shared test helpers: the documented example payloads in tests/data/, and a Redis server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from collections.abc import Iterator


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class Closer(Protocol):
    """The type of the ``closing`` fixture."""

    def __call__(self, thing: C, /) -> C: ...


#: Hypothesis profiles: "default" for the normal run, "long" (10^5 cases per property)
#: for ``make fuzz-long``; SUPEROFFICE_WEBHOOKS_HYPOTHESIS_PROFILE picks one.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "long",
    max_examples=100_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: "mutation" for ``make mutation``, which runs the tests once per mutant: few cases (a
#: mutant that a property can catch is caught within its first few), the same ones every
#: run and for every mutant (no example database), so the score can be reproduced.
settings.register_profile(
    "mutation", max_examples=10, deadline=None, derandomize=True, database=None
)
_MUTATION_RUN = "MUTANT_UNDER_TEST" in os.environ  # set by mutmut
settings.load_profile(
    os.environ.get(
        "SUPEROFFICE_WEBHOOKS_HYPOTHESIS_PROFILE", "mutation" if _MUTATION_RUN else "default"
    )
)


if os.environ.get("MUTANT_UNDER_TEST") == "stats":  # mutmut's pass that maps code to tests

    @pytest.fixture(autouse=True)
    def _converter_built_for_each_test() -> None:
        """Build the converter anew, so that each test runs the code that builds for a class.

        mutmut runs a mutant only against the tests that called the mutated function in
        this pass, all in one process. The converter builds a class's functions the first
        time it meets the class and keeps them, so without this only the first test that
        parsed a class would be run against a mutant of the building code.
        """
        import importlib  # noqa: PLC0415  # only in this pass

        from superoffice_webhooks import _converter, _parse  # noqa: PLC0415  # as above

        importlib.reload(_converter)
        _parse._engine.cache_clear()  # it holds the converter's functions


def examples(count: int) -> int:
    """*count* cases for a property that asks for a number of its own; 10 under mutmut."""
    return 10 if _MUTATION_RUN else count


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


REDIS_URL_VARIABLE = "SUPEROFFICE_WEBHOOKS_TEST_REDIS_URL"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_redis(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    """Ping *url* until it answers; fail after 20 seconds or when *process* has exited."""
    import redis  # noqa: PLC0415  # only the Redis tests need it

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                client.ping()
            except redis.ConnectionError:
                if process is not None and process.poll() is not None:
                    pytest.fail(f"redis-server exited with status {process.returncode}")
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server at {url} did not answer within 20 seconds")
                time.sleep(0.05)
            else:
                return
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server: $SUPEROFFICE_WEBHOOKS_TEST_REDIS_URL, or a redis-server started here."""
    url = os.environ.get(REDIS_URL_VARIABLE)
    if url:
        wait_for_redis(url)
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "The Redis tests need a real Redis server. Install redis-server (Debian/Ubuntu: "
            f"apt-get install redis-server; macOS: brew install redis) or set {REDIS_URL_VARIABLE} "
            "to the URL of a server the tests may write to."
        )
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  # a fixed command line
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_for_redis(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis  # noqa: PLC0415  # only the Redis tests need it

    prefix = f"superoffice-webhooks-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def closing() -> Iterator[Closer]:
    """``closing(thing)`` returns *thing* and closes it after the test (SQLite connections)."""
    things: list[Closable] = []

    def keep(thing: C) -> C:
        things.append(thing)
        return thing

    yield keep
    for thing in reversed(things):
        thing.close()


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


#: If set, each fault scenario appends its figures to this file as a JSON line.
FAULT_REPORT_VARIABLE = "SUPEROFFICE_WEBHOOKS_FAULT_REPORT"


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """A dict of figures; appended to $SUPEROFFICE_WEBHOOKS_FAULT_REPORT after the test."""
    figures: dict[str, object] = {}
    yield figures
    path = os.environ.get(FAULT_REPORT_VARIABLE)
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"test": request.node.name, **figures}) + "\n")
