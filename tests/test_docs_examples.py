"""The Python examples of the docs pages run as written.

Each page's ```python blocks run in order in one namespace, the way a reader would paste
them; ``>>>`` blocks run as doctests. The namespace holds what the pages assume exists
around them: a signed request, a ``Response`` class, and the application's own objects
(a table of failed events, a tenant directory). testing.md and cli.md have tests of
their own (tests/test_docs.py); the adapter pages include example apps that the adapter
tests serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import doctest
import json
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import superoffice_webhooks as sow
from conftest import example
from superoffice_webhooks import idempotency
from superoffice_webhooks import inbox as inbox_module
from superoffice_webhooks.inbox import SQLiteInbox

if TYPE_CHECKING:
    from collections.abc import Iterator

DOCS = Path(__file__).parent.parent / "docs"
SECRET = "the webhook's Secret"  # noqa: S105  # the docs' placeholder secret
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def python_blocks(page: str) -> list[str]:
    """The ```python blocks of *page*, dedented."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [textwrap.dedent(m.group(2)) for m in BLOCK.finditer(text)]


class Request:
    """The little a view needs of a request: the raw body and the headers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers = {"X-SuperOffice-Signature": sow.sign(body, SECRET)}


class AsyncRequest:
    """A request whose body is read with ``await request.body()``, as in Starlette."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.headers = Request(raw).headers

    async def body(self) -> bytes:
        return self.raw


class Response:
    """A framework's response, reduced to its status."""

    def __init__(self, status: int) -> None:
        self.status = status


class Table:
    """An application table the examples insert into."""

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def insert(self, **row: object) -> None:
        self.rows.append(row)


class Tenants:
    """An application's directory of tenants and their webhook secrets."""

    def webhook_secret(self, tenant: str) -> str | None:
        return SECRET if tenant == "Cust1234" else None


def run_page(page: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run every Python block of *page* in *namespace*; doctest blocks must match."""
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    parser = doctest.DocTestParser()
    for number, block in enumerate(python_blocks(page), 1):
        name = f"{page} block {number}"
        if block.lstrip().startswith(">>>"):
            test = parser.get_doctest(block, namespace, name, str(DOCS / page), 0)
            result = runner.run(test, clear_globs=False)
            assert result.failed == 0, f"{name} printed something else"
        else:
            exec(compile(block, name, "exec"), namespace)  # noqa: S102  # our own docs
    return namespace


@pytest.fixture
def namespace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What the pages take as given, and the handlers they register removed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPEROFFICE_WEBHOOK_SECRET", SECRET)
    names: dict[str, Any] = {
        "sow": sow,
        "json": json,
        "SECRET": SECRET,
        "Response": Response,
        "failed_events": Table(),
        "tenants": Tenants(),
        "new_secret": SECRET,
        "old_secret": "last year's Secret",
        "dispatcher": sow.Dispatcher(),
    }
    yield names
    for value in list(names.values()):  # workers the page started, then the inboxes
        if isinstance(value, sow.Worker):
            value.stop(timeout=10)
    for value in list(names.values()):
        if isinstance(value, SQLiteInbox):
            value.close()
    for value in list(names.values()):  # the handlers the page registered with @sow.on
        if callable(value):
            with contextlib.suppress(sow.ConfigurationError):  # not a registered handler
                sow.default_dispatcher.remove(value)


def test_index_example(namespace: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The front page's view answers a signed person.consented with 200 and runs the handler."""
    run_page("index.md", namespace)
    response = namespace["superoffice_webhook"](Request(example("person.consented")))
    assert response.status == 200
    assert capsys.readouterr().out.startswith("18 None 2018-04-24 08:01:15.850693+00:00")


def test_quickstart_examples(namespace: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The quickstart verifies, parses and dispatches a signed request, and its views answer."""
    body = example("person.consented")
    namespace["request"] = Request(body)
    namespace["refreshed"] = refreshed = []

    async def refresh_person(person_id: int) -> None:
        refreshed.append(person_id)

    namespace["refresh_person"] = refresh_person
    run_page("quickstart.md", namespace)
    assert isinstance(namespace["event"], sow.PersonConsented)
    assert namespace["result"].handled
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "person 18 consented at 2018-04-24 08:01:15.850693+00:00",
        "person.consented: person 18",
    ]
    outcome = asyncio.run(namespace["superoffice_webhook"](AsyncRequest(example("person.changed"))))
    assert outcome.status == 200
    assert refreshed == [1467783]


def test_concepts_examples(namespace: dict[str, Any]) -> None:
    """The concepts page's doctests print what it says; its router and except* code run."""
    namespace["body"] = example("person.created")
    namespace["DatabaseError"] = ConnectionError
    namespace["event"] = sow.parse(example("person.consented"))

    run_page("concepts.md", namespace)

    assert namespace["dispatcher"].handlers_for("person.consented") == (
        namespace["record_consent"],
    )
    assert namespace["receiver"].dispatcher is namespace["dispatcher"]


def test_delivery_examples(namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The delivery page builds each receiver it shows, and its hooks behave as described."""
    opened: list[idempotency.SQLiteStore | SQLiteInbox] = []

    class RecordedSQLiteStore(idempotency.SQLiteStore):
        """The page's SQLiteStore, kept so that the test can close its connection."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    class RecordedSQLiteInbox(inbox_module.SQLiteInbox):
        """The page's SQLiteInbox, kept so that the test can close its connection."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(idempotency, "SQLiteStore", RecordedSQLiteStore)
    monkeypatch.setattr(inbox_module, "SQLiteInbox", RecordedSQLiteInbox)
    try:
        run_page("delivery.md", namespace)
    finally:
        namespace["worker"].stop(timeout=10)
        for store in opened:
            store.close()

    receiver = namespace["receiver"]
    assert receiver.handoff is namespace["handoff"]
    event = sow.parse(example("person.consented"))
    namespace["dead_letter"](event, sow.HandlerError("failed", [RuntimeError("x")], event=event))
    (row,) = namespace["failed_events"].rows
    assert row["event_id"] == str(event.event_id)
    assert sow.parse(str(row["payload"])) == event
    assert namespace["secret_for"]("Cust1234", "hook") == SECRET
    assert namespace["secret_for"]("Cust9999", "hook") is None
    assert (Path.cwd() / "webhooks.sqlite3").exists()
