"""The command line of the inbox: ``inbox stats|list|show|replay|purge`` and ``worker``."""

from __future__ import annotations

import importlib
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest
import redis

import superoffice_webhooks as sow
from conftest import SECRET
from superoffice_webhooks import _cli
from superoffice_webhooks.contrib import redis as contrib_redis
from superoffice_webhooks.inbox import (
    Entry,
    InboxStats,
    MemoryInbox,
    SQLiteInbox,
    State,
    entry_id,
)
from superoffice_webhooks.testing import make_payload, signed_request

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

DAY = 86400.0


# --- helpers --------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit status, stdout, stderr)."""
    try:
        code = _cli.main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def receive(path: Path, count: int, *, first_seed: int = 0) -> list[str]:
    """Record *count* signed person.created events with a Receiver (worker mode); their ids."""
    inbox = SQLiteInbox(path)
    receiver = sow.Receiver(secret=SECRET, inbox=inbox, run_handlers="worker")
    ids = []
    try:
        for seed in range(first_seed, first_seed + count):
            body, headers = signed_request("person.created", SECRET, seed=seed)
            outcome = receiver.receive(body, headers)
            assert outcome.status == 200, outcome.reason
            assert outcome.event is not None
            ids.append(entry_id(outcome.event.context_identifier, outcome.event.event_id))
    finally:
        inbox.close()
    return ids


def receive_invalid(path: Path, marker: str = "secret-of-the-body") -> str:
    """Record a signed body that parse() refuses (a string PrimaryKey); its entry id."""
    payload = {**make_payload("person.created", seed=99), "PrimaryKey": marker}
    body = json.dumps(payload).encode()
    inbox = SQLiteInbox(path)
    try:
        receiver = sow.Receiver(secret=SECRET, inbox=inbox, run_handlers="worker")
        outcome = receiver.receive(body, {"X-SuperOffice-Signature": sow.sign(body, SECRET)})
        assert outcome.status == 200
        (dead,) = inbox.entries(State.DEAD)
    finally:
        inbox.close()
    return dead.id


def add(path: Path, state: State, *, age: float = 0.0, error: str | None = None) -> str:
    """Put an entry in *state* straight into the inbox, received (and settled) *age* s ago."""
    body, _ = signed_request("person.created", SECRET, seed=1000)
    event = sow.parse(body)
    when = time.time() - age
    inbox = SQLiteInbox(path)
    try:
        entry = Entry(
            tenant=event.context_identifier,
            event_id=uuid.uuid4(),
            event=event.event,
            body=body,
            state=state,
            attempts=0 if state is State.PENDING else 1,
            received_at=when,
            next_attempt_at=when,
            last_error=error,
        )
        assert inbox.add(entry)
    finally:
        inbox.close()
    return entry.id


def states(path: Path) -> dict[str, State]:
    inbox = SQLiteInbox(path)
    try:
        return {entry.id: entry.state for entry in inbox.entries(limit=1000)}
    finally:
        inbox.close()


def get(path: Path, entry: str) -> Entry:
    inbox = SQLiteInbox(path)
    try:
        found = inbox.get(entry)
    finally:
        inbox.close()
    assert found is not None
    return found


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The path of an SQLite inbox file; the inbox variable is unset, sys.path restored after."""
    monkeypatch.delenv(_cli.INBOX_ENV, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # `worker` may add the current directory
    return tmp_path / "inbox.sqlite3"


def url(path: Path) -> str:
    """The absolute form: ``sqlite:////tmp/.../inbox.sqlite3``."""
    return f"sqlite:///{path}"


# --- the inbox URL ----------------------------------------------------------------------


def test_relative_absolute_and_environment_urls(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """sqlite:///relative, sqlite:////absolute and $SUPEROFFICE_WEBHOOKS_INBOX name one inbox."""
    receive(db, 2)
    monkeypatch.chdir(db.parent)

    relative = run(capsys, "inbox", "stats", "--inbox", f"sqlite:///{db.name}")
    absolute = run(capsys, "inbox", "stats", "--inbox", url(db))
    monkeypatch.setenv(_cli.INBOX_ENV, f"sqlite:///{db.name}")
    environment = run(capsys, "inbox", "stats")

    assert url(db).startswith("sqlite:////")
    assert relative == absolute == environment
    assert relative[0] == 0
    assert "pending  2" in relative[1]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "pass --inbox URL or set SUPEROFFICE_WEBHOOKS_INBOX"),
        ("inbox.sqlite3", "is not an inbox URL"),
        ("postgres://user:hunter2@db/x", "'postgres://user:******@db/x' is not an inbox URL"),
        ("sqlite://inbox.sqlite3", "write three slashes, then the path"),
        ("sqlite:///", "write three slashes, then the path"),
        ("sqlite:///inbox.sqlite3?mode=ro", "no options"),
        ("sqlite:///no/such/inbox.sqlite3", "there is no inbox at no/such/inbox.sqlite3"),
    ],
)
def test_a_wrong_url_is_a_usage_error(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: str | None,
    message: str,
) -> None:
    """A missing or wrong inbox URL exits 2 with a message saying what to write; no password."""
    monkeypatch.chdir(db.parent)
    code, out, err = run(capsys, "inbox", "stats", *(["--inbox", given] if given else []))

    assert code == 2
    assert message in err
    assert "hunter2" not in err
    assert "Traceback" not in err
    assert out == ""


def test_a_file_that_is_not_a_database_is_a_usage_error(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not an SQLite database exits 2: cannot open it."""
    db.write_bytes(b"this is not a database, only some text that is long enough" * 20)

    code, _, err = run(capsys, "inbox", "list", "--inbox", url(db))

    assert code == 2
    assert f"cannot open the SQLite inbox {db}" in err


def test_a_failing_inbox_exits_3(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An inbox whose store fails (here a trigger plays a full disk) exits 3 and names the error."""
    add(db, State.DEAD)
    with sqlite3.connect(db) as other:
        other.execute(
            "CREATE TRIGGER full BEFORE UPDATE ON superoffice_webhooks_inbox "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    other.close()

    code, out, err = run(capsys, "inbox", "replay", "--all-dead", "--inbox", url(db))

    assert code == 3
    assert err == "the inbox failed: IntegrityError: database or disk is full\n"
    assert out == ""
    assert set(states(db).values()) == {State.DEAD}


def test_a_redis_url_without_the_redis_inbox_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """redis:// and rediss:// without contrib.redis.RedisInbox importable: exit 2, how to install it."""
    monkeypatch.setitem(sys.modules, "superoffice_webhooks.contrib.redis", None)

    for scheme in ("redis", "rediss"):
        code, _, err = run(capsys, "inbox", "stats", "--inbox", f"{scheme}://127.0.0.1:6379/0")

        assert code == 2
        assert "pip install 'superoffice-webhooks[redis]'" in err
        assert "RedisInbox" in err


class StandInRedisInbox(MemoryInbox):
    """Takes the place of contrib.redis.RedisInbox where that is not there yet."""

    urls: list[str] = []  # noqa: RUF012  # the URLs from_url was given, for the test
    failing = False

    @classmethod
    def from_url(cls, url: str) -> StandInRedisInbox:
        if "bad" in url:
            msg = "invalid database number"
            raise ValueError(msg)
        cls.urls.append(url)
        return cls()

    def stats(self) -> InboxStats:
        if self.failing:
            msg = "Error 111 connecting to 127.0.0.1:1. Connection refused."
            raise redis.ConnectionError(msg)
        return super().stats()


@pytest.fixture
def redis_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[StandInRedisInbox]]:
    monkeypatch.setattr(contrib_redis, "RedisInbox", StandInRedisInbox, raising=False)
    StandInRedisInbox.urls = []
    yield StandInRedisInbox
    StandInRedisInbox.failing = False


def test_a_redis_url_goes_to_redis_inbox_from_url(
    redis_inbox: type[StandInRedisInbox], capsys: pytest.CaptureFixture[str]
) -> None:
    """The URL is handed unchanged to RedisInbox.from_url; a URL it refuses exits 2."""
    good = run(capsys, "inbox", "stats", "--inbox", "rediss://:pw@127.0.0.1:6380/3")
    bad = run(capsys, "inbox", "stats", "--inbox", "redis://:pw@127.0.0.1:6379/bad")

    assert good[0] == 0
    assert "pending  0" in good[1]
    assert redis_inbox.urls == ["rediss://:pw@127.0.0.1:6380/3"]
    assert bad[0] == 2
    assert "'redis://:******@127.0.0.1:6379/bad' is not a Redis URL" in bad[2]
    assert "invalid database number" in bad[2]


def test_a_redis_error_exits_3(
    redis_inbox: type[StandInRedisInbox], capsys: pytest.CaptureFixture[str]
) -> None:
    """A Redis server that cannot be reached exits 3 with Redis's error."""
    redis_inbox.failing = True

    code, _, err = run(capsys, "inbox", "stats", "--inbox", "redis://127.0.0.1:1/0")

    assert code == 3
    assert "the inbox failed: ConnectionError: Error 111" in err


# --- stats, list, show ------------------------------------------------------------------


def test_stats_counts_each_state_and_the_oldest_pending(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inbox stats` counts per state, says how old the oldest pending entry is and the dead."""
    receive(db, 2)
    add(db, State.PENDING, age=2 * 3600)
    add(db, State.DONE)
    receive_invalid(db)

    code, out, _ = run(capsys, "inbox", "stats", "--inbox", url(db))
    as_json = run(capsys, "inbox", "stats", "--inbox", url(db), "--json")

    assert code == 0
    assert out.splitlines()[:4] == ["pending  3", "running  0", "done     1", "dead     1"]
    assert ", 2h ago." in out
    assert "1 dead: `superoffice-webhooks inbox list --state dead`" in out
    stats = json.loads(as_json[1])
    assert stats["counts"] == {"pending": 3, "running": 0, "done": 1, "dead": 1}
    assert stats["dead"] == 1
    assert 2 * 3600 <= stats["oldest_pending_age_seconds"] < 3 * 3600
    assert stats["oldest_pending_at"].endswith("+00:00")


def test_stats_of_an_empty_inbox(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty inbox: every count 0, no oldest entry, nothing dead; JSON nulls."""
    SQLiteInbox(db).close()

    code, out, _ = run(capsys, "inbox", "stats", "--inbox", url(db))
    as_json = json.loads(run(capsys, "inbox", "stats", "--inbox", url(db), "--json")[1])

    assert code == 0
    assert out == "pending  0\nrunning  0\ndone     0\ndead     0\n"
    assert as_json["oldest_pending_at"] is None
    assert as_json["oldest_pending_age_seconds"] is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-2, "0s"), (5, "5s"), (90, "1.5m"), (7200, "2h"), (7 * DAY, "7d"), (DAY + 3600, "1d")],
)
def test_spans_are_written_in_their_largest_unit(seconds: float, text: str) -> None:
    """Ages and durations print in their largest unit, to a tenth."""
    assert _cli._span(seconds) == text


def test_list_shows_a_table_newest_first(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inbox list`: one row per entry, newest first, UTC times, the due time of pending ones."""
    old = add(db, State.DEAD, age=3600, error="RuntimeError: " + "x" * 200)
    new = receive(db, 1)[0]

    code, out, _ = run(capsys, "inbox", "list", "--inbox", url(db))

    assert code == 0
    header, first, second = out.splitlines()
    assert header.split() == [
        "ID", "EVENT", "TENANT", "STATE", "ATTEMPTS", "RECEIVED", "NEXT", "ATTEMPT", "LAST", "ERROR",
    ]  # fmt: skip
    tenant = new.split("/")[0]
    assert first.split()[:5] == [new, "person.created", tenant, "pending", "0"]
    assert first.split()[5].endswith("Z")
    assert first.split()[6].endswith("Z")
    assert first.split()[7] == "-"
    assert second.split()[:5] == [old, "person.created", tenant, "dead", "1"]
    assert second.split()[6] == "-"
    assert second.endswith("x...")
    assert len(second.split(None, 7)[7]) == 60


def test_list_filters_limits_and_prints_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--state keeps one state, --limit N the N newest; --json has every field but the body."""
    ids = receive(db, 3)
    dead = receive_invalid(db)

    only_dead = run(capsys, "inbox", "list", "--inbox", url(db), "--state", "dead")[1]
    limited = json.loads(
        run(capsys, "inbox", "list", "--inbox", url(db), "--limit", "2", "--json")[1]
    )
    pending = json.loads(
        run(capsys, "inbox", "list", "--inbox", url(db), "--state", "pending", "--json")[1]
    )

    assert [line.split()[0] for line in only_dead.splitlines()[1:]] == [dead]
    assert [row["id"] for row in limited] == [dead, ids[2]]
    assert {row["id"] for row in pending} == set(ids)
    row = pending[0]
    assert set(row) == {
        "id", "event", "tenant", "event_id", "state", "attempts", "received_at",
        "next_attempt_at", "owner", "lease_until", "last_error", "body_size",
    }  # fmt: skip
    assert row["state"] == "pending"
    assert row["next_attempt_at"].endswith("+00:00")
    assert row["body_size"] > 0


def test_list_of_nothing_says_so(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty inbox, or no entry in the state asked for, is said in words."""
    receive(db, 1)

    assert run(capsys, "inbox", "list", "--inbox", url(db), "--state", "dead")[1] == (
        "No dead entries.\n"
    )
    db.unlink()
    SQLiteInbox(db).close()
    assert run(capsys, "inbox", "list", "--inbox", url(db))[1] == "The inbox is empty.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "'0' is not a whole number of at least 1"),
        (["--limit", "\u00b2"], "'\u00b2' is not a whole number of at least 1"),
        (["--state", "lost"], "invalid choice: 'lost'"),
    ],
)
def test_list_options_are_checked(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A --limit below 1 or not in ASCII digits, or an unknown --state, exits 2."""
    code, _, err = run(capsys, "inbox", "list", "--inbox", url(db), *args)

    assert code == 2
    assert message in err


def test_show_prints_the_entry_and_the_parsed_event(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inbox show ID`: the entry's metadata, then the event as parsed (to_dict)."""
    (entry,) = receive(db, 1)

    code, out, _ = run(capsys, "inbox", "show", entry, "--inbox", url(db))

    assert code == 0
    metadata, _, event = out.partition("\nThe event, as parsed:\n")
    rows = dict(line.split("  ", 1) for line in metadata.splitlines())
    assert rows["id"].strip() == entry
    assert rows["state"].strip() == "pending"
    assert rows["next attempt"].strip().endswith("Z")
    assert rows["owner"].strip() == "-"
    body, _ = signed_request("person.created", SECRET, seed=0)
    assert rows["body"].strip() == f"{len(body)} bytes"
    assert json.loads(event) == sow.parse(body).to_dict()


def test_show_a_running_entry_names_its_owner(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A running entry shows its owner and lease; it has no next attempt."""
    (entry,) = receive(db, 1)
    inbox = SQLiteInbox(db)
    try:
        inbox.claim(entry, "host:1:abcd", 30)
    finally:
        inbox.close()

    out = run(capsys, "inbox", "show", entry, "--inbox", url(db))[1]

    rows = {line[:14].strip(): line[14:] for line in out.split("\n\n")[0].splitlines()}
    assert rows["state"] == "running"
    assert rows["owner"] == "host:1:abcd"
    assert rows["lease until"].endswith("Z")
    assert rows["next attempt"] == "-"


def test_show_a_body_that_does_not_parse(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unparsable body: its PayloadError and size, never its bytes unless --raw."""
    dead = receive_invalid(db, marker="personal-value-1234")

    code, out, _ = run(capsys, "inbox", "show", dead, "--inbox", url(db))
    raw = run(capsys, "inbox", "show", dead, "--inbox", url(db), "--raw")[1]

    assert code == 0
    assert "The body does not parse: Invalid SuperOffice payload: PrimaryKey" in out
    assert "`--raw` prints the body" in out
    assert "personal-value-1234" not in out
    assert "\nThe body, as received:\n{" in raw
    assert "personal-value-1234" in raw


def test_show_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`show --json`: the metadata, the parsed event or the parse error; the body only with --raw."""
    (good,) = receive(db, 1)
    bad = receive_invalid(db, marker="personal-value-1234")

    parsed = json.loads(run(capsys, "inbox", "show", good, "--inbox", url(db), "--json")[1])
    failed_text = run(capsys, "inbox", "show", bad, "--inbox", url(db), "--json")[1]
    failed = json.loads(failed_text)
    raw = json.loads(run(capsys, "inbox", "show", bad, "--inbox", url(db), "--json", "--raw")[1])

    assert parsed["id"] == good
    assert parsed["parsed"] == sow.parse(get(db, good).body).to_dict()
    assert parsed["parse_error"] is None
    assert "body" not in parsed
    assert failed["parsed"] is None
    assert "PrimaryKey" in failed["parse_error"]
    assert "personal-value-1234" not in failed_text
    assert "personal-value-1234" in raw["body"]


@pytest.mark.parametrize("action", ["show", "replay"])
def test_unknown_and_malformed_ids(
    db: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """An id not in the inbox exits 1; one that is not <tenant>/<EventId> exits 2 (split_id's message)."""
    receive(db, 1)
    unknown = f"Cust1/{uuid.uuid4()}"

    missing = run(capsys, "inbox", action, unknown, "--inbox", url(db))
    malformed = run(capsys, "inbox", action, "Cust1-not-an-id", "--inbox", url(db))

    assert missing[0] == 1
    assert f"No entry {unknown} in the inbox" in missing[2]
    assert malformed[0] == 2
    assert (
        "'Cust1-not-an-id' is not an inbox entry id: expected '<tenant>/<EventId>'" in malformed[2]
    )


# --- replay and purge -------------------------------------------------------------------


def test_replay_one_entry(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inbox replay ID` makes a dead entry pending again; a pending one exits 1, unchanged."""
    dead = add(db, State.DEAD, error="RuntimeError: down")
    (pending,) = receive(db, 1)

    replayed = run(capsys, "inbox", "replay", dead, "--inbox", url(db))
    refused = run(capsys, "inbox", "replay", pending, "--inbox", url(db))

    assert replayed[:2] == (0, f"Replayed {dead}; the next worker pass runs it.\n")
    assert get(db, dead).state is State.PENDING
    assert refused[0] == 1
    assert f"Entry {pending} is pending: only done and dead entries are replayed" in refused[2]


def test_replay_all_dead(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inbox replay --all-dead` makes every dead entry pending and says how many."""
    dead = [add(db, State.DEAD, error="RuntimeError: down") for _ in range(2)]
    done = add(db, State.DONE)

    two = run(capsys, "inbox", "replay", "--all-dead", "--inbox", url(db))
    add(db, State.DEAD)
    one = run(capsys, "inbox", "replay", "--all-dead", "--inbox", url(db))

    assert two[:2] == (0, "Replayed 2 dead entries; the next worker pass runs them.\n")
    assert one[1] == "Replayed 1 dead entry; the next worker pass runs them.\n"
    found = states(db)
    assert [found[entry] for entry in dead] == [State.PENDING, State.PENDING]
    assert found[done] is State.DONE


@pytest.mark.parametrize("args", [[], ["--all-dead", "Cust1/576086e3-5261-426b-a84b-26ca7f5b65e8"]])
def test_replay_needs_an_id_or_all_dead(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """`inbox replay` takes an id or --all-dead, not neither, not both: exit 2."""
    code, _, err = run(capsys, "inbox", "replay", *args, "--inbox", url(db))

    assert code == 2
    assert "--all-dead" in err


def test_purge_deletes_old_done_and_dead_only(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`purge --older-than 7d` deletes done and dead entries settled before then, nothing else."""
    old_done = add(db, State.DONE, age=8 * DAY)
    old_dead = add(db, State.DEAD, age=8 * DAY)
    old_pending = add(db, State.PENDING, age=8 * DAY)
    recent_done = add(db, State.DONE, age=6 * DAY)

    code, out, _ = run(capsys, "inbox", "purge", "--older-than", "7d", "--inbox", url(db))
    again = run(capsys, "inbox", "purge", "--older-than", "144h", "--inbox", url(db))[1]

    assert code == 0
    assert out == "Deleted 2 done or dead entries settled more than 7d ago.\n"
    assert set(states(db)) == {old_pending}
    assert again == "Deleted 1 done or dead entry settled more than 6d ago.\n"
    assert {old_done, old_dead, recent_done}.isdisjoint(states(db))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 7 * DAY), ("1.5h", 5400), (" 2m ", 120)],
)
def test_durations(text: str, seconds: float) -> None:
    """Durations are a number and one of s, m, h, d."""
    assert _cli.duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["7", "0s", "0.0h", "d", "7w", "-1s", "1d2h", ""])
def test_bad_durations_exit_2(db: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    """A duration without a unit, of zero, or otherwise unreadable is a usage error."""
    code, _, err = run(capsys, "inbox", "purge", f"--older-than={text}", "--inbox", url(db))

    assert code == 2
    assert "e.g. 90s, 15m, 12h or 7d" in err


@pytest.mark.parametrize("action", ["stats", "list", "show", "replay", "purge"])
def test_every_inbox_action_has_help_with_exit_codes(
    capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """`inbox ACTION --help` exits 0, takes --inbox and documents the exit codes and URLs."""
    code, out, _ = run(capsys, "inbox", action, "--help")

    assert code == 0
    assert out.startswith(f"usage: superoffice-webhooks inbox {action}")
    assert "--inbox URL" in out
    assert "3  network or server error" in out
    assert "sqlite:////absolute/path.sqlite3" in out


# --- worker: usage, in this process ----------------------------------------------------------


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleWriter]:
    """Write modules into a directory on sys.path; they are forgotten after the test."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    writer = ModuleWriter(folder)
    yield writer
    for name in writer.names:
        sys.modules.pop(name, None)


class ModuleWriter:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: list[str] = []

    def __call__(self, source: str) -> str:
        """Write *source* as a module of a name of its own; return the name."""
        name = f"handlers_{uuid.uuid4().hex}"
        (self.folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        self.names.append(name)
        return name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no handler is registered"),
        (["--import", "1abc"], "'1abc' is not a module name"),
        (["--import", "no_such_module_here"], "No module named 'no_such_module_here'"),
        (["--dispatcher", "superoffice_webhooks"], "is not a Dispatcher: write MODULE:ATTRIBUTE"),
        (["--dispatcher", "superoffice_webhooks:parse"], "is not a Dispatcher"),
        (["--dispatcher", "superoffice_webhooks:nothing"], "is not a Dispatcher"),
        (["--lease", "0.5s", "--import", "json"], "--lease must be at least 1s"),
        (["--max-attempts", "0", "--import", "json"], "'0' is not a whole number"),
        (["--log-level", "LOUD", "--import", "json"], "invalid choice: 'LOUD'"),
    ],
)
def test_worker_usage_errors(
    db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    """Worker options that cannot work exit 2 with a message, before any event runs."""
    monkeypatch.setattr(sow.default_dispatcher, "patterns", tuple)  # as if nothing registered
    receive(db, 1)

    code, _, err = run(capsys, "worker", "--inbox", url(db), *args)

    assert code == 2
    assert message in err
    assert set(states(db).values()) == {State.PENDING}


def test_worker_with_a_dispatcher_without_handlers_refuses_to_start(
    db: Path, capsys: pytest.CaptureFixture[str], modules: ModuleWriter
) -> None:
    """A named Dispatcher with no handler would mark every event done unhandled: exit 2."""
    name = modules("import superoffice_webhooks as sow\nhooks = sow.Dispatcher()\n")

    code, _, err = run(capsys, "worker", "--inbox", url(db), "--dispatcher", f"{name}:hooks")

    assert code == 2
    assert "no handler is registered" in err


STOPPING_DISPATCHER = """
import os, signal
import superoffice_webhooks as sow

hooks = sow.Dispatcher()
seen = []

@hooks.on("person.created")
def record(event):
    seen.append(event.event_id)
    if len(seen) == {count}:
        os.kill(os.getpid(), signal.SIGTERM)
"""


def test_worker_in_this_process_runs_the_named_dispatcher_until_sigterm(
    db: Path, capsys: pytest.CaptureFixture[str], modules: ModuleWriter
) -> None:
    """`worker --dispatcher M:A` runs its handlers; SIGTERM stops it after the event: exit 0."""
    ids = receive(db, 3)
    name = modules(STOPPING_DISPATCHER.replace("{count}", "3"))
    before = signal.getsignal(signal.SIGTERM)

    code, out, err = run(
        capsys, "worker", "--inbox", url(db), "--dispatcher", f"{name}:hooks", "--poll", "0.1s"
    )

    assert code == 0
    assert out == ""
    assert len(sys.modules[name].seen) == 3
    assert states(db) == dict.fromkeys(ids, State.DONE)
    assert "Worker started: inbox sqlite:///" in err
    assert "handlers for person.created" in err
    assert "SIGTERM: finishing the running event" in err
    assert err.rstrip().endswith("Worker stopped.")
    assert signal.getsignal(signal.SIGTERM) is before


def test_worker_imports_from_the_current_directory_and_logs_at_the_level_asked(
    db: Path,
    capsys: pytest.CaptureFixture[str],
    modules: ModuleWriter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--import finds modules in the current directory, as `python -m` does; --log-level WARNING is quiet."""
    ids = receive(db, 1)
    name = modules(STOPPING_DISPATCHER.replace("{count}", "1") + "sow.on_any(record)\n")
    monkeypatch.chdir(modules.folder)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(modules.folder)])
    monkeypatch.setenv(_cli.INBOX_ENV, url(db))
    try:
        code, _, err = run(capsys, "worker", "--import", name, "--log-level", "WARNING")
    finally:
        sow.default_dispatcher.remove(sys.modules[name].record)

    assert code == 0
    assert sys.path[0] == str(modules.folder)
    assert states(db) == dict.fromkeys(ids, State.DONE)
    assert "Worker started" not in err


# --- worker: a real process ---------------------------------------------------------------

HANDLERS = """
import os, time
from pathlib import Path
import superoffice_webhooks as sow

FOLDER = Path(os.environ["HANDLED_IN"])

@sow.on("person.created")
def record(event):
    if (FOLDER / "slow").exists():
        (FOLDER / "started").write_text(str(event.event_id))
        deadline = time.monotonic() + 30
        while not (FOLDER / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    with open(FOLDER / "handled.txt", "a") as out:
        out.write(f"{event.event_id}\\n")
"""


class WorkerProcess:
    """`superoffice-webhooks worker` in a subprocess, its standard error read as it comes."""

    def __init__(self, folder: Path, db: Path, *args: str) -> None:
        (folder / "webhook_handlers.py").write_text(HANDLERS, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != _cli.INBOX_ENV}
        env.update(
            PYTHONPATH=os.pathsep.join([str(folder), env.get("PYTHONPATH", "")]),
            HANDLED_IN=str(folder),
            SUPEROFFICE_WEBHOOKS_INBOX=url(db),
        )
        self.folder = folder
        self.proc = subprocess.Popen(  # noqa: S603  # our own interpreter and module
            [sys.executable, "-m", "superoffice_webhooks", "worker", "--import",
             "webhook_handlers", "--poll", "0.1s", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        # A watchdog, so that a worker that never stops cannot hang the test run.
        self.watchdog = threading.Timer(90, self.proc.kill)
        self.watchdog.start()
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self.reader = threading.Thread(target=self._read)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for_log(self, text: str) -> None:
        """Read standard error until a line holds *text* (at most 30 s)."""
        while True:
            line = self.lines.get(timeout=30)
            self.stderr.append(line)
            if text in line:
                return

    def handled(self) -> list[str]:
        path = self.folder / "handled.txt"
        return path.read_text().split() if path.exists() else []

    def wait_until(self, done: Callable[[], bool]) -> None:
        """Poll *done* every 50 ms for up to 30 s."""
        deadline = time.monotonic() + 30
        while not done():
            assert time.monotonic() < deadline, "".join(self.stderr)
            if self.proc.poll() is not None:
                pytest.fail(f"the worker exited: {self.finish()}")
            time.sleep(0.05)

    def finish(self) -> tuple[int, str]:
        """Wait for the worker to exit; its status and all it wrote to standard error."""
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()  # until the worker exits (the watchdog bounds it)
        self.proc.wait(60)
        self.reader.join(60)  # standard error is the reader's alone
        while not self.lines.empty():
            self.stderr.append(self.lines.get())
        assert out == ""
        return self.proc.returncode, "".join(self.stderr)

    def stop(self) -> None:
        self.watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(60)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(db: Path, *args: str) -> WorkerProcess:
        started.append(WorkerProcess(tmp_path, db, *args))
        return started[-1]

    yield start
    for one in started:
        one.stop()


def test_worker_process_handles_every_event_and_stops_on_sigterm(
    db: Path, worker: Callable[..., WorkerProcess]
) -> None:
    """A worker process runs the handlers of every recorded event; SIGTERM: exit 0, all done."""
    ids = receive(db, 5)
    proc = worker(db)

    proc.wait_until(lambda: len(proc.handled()) >= 5)
    more = receive(db, 2, first_seed=5)  # recorded while the worker runs
    proc.wait_until(lambda: len(proc.handled()) >= 7)
    proc.proc.send_signal(signal.SIGTERM)
    code, err = proc.finish()

    assert code == 0, err
    assert sorted(proc.handled()) == sorted(i.split("/")[1] for i in ids + more)
    assert states(db) == dict.fromkeys(ids + more, State.DONE)
    assert "INFO superoffice_webhooks: Worker started" in err
    assert "Worker stopped." in err
    assert "FieldValues" not in err  # no body in the logs


def test_sigterm_lets_a_slow_handler_finish(
    db: Path, tmp_path: Path, worker: Callable[..., WorkerProcess]
) -> None:
    """SIGTERM while a handler runs: it finishes, its entry ends DONE (not RUNNING), exit 0."""
    (tmp_path / "slow").touch()
    (entry,) = receive(db, 1)
    proc = worker(db, "--lease", "1s")

    proc.wait_until((tmp_path / "started").exists)
    proc.proc.send_signal(signal.SIGTERM)
    proc.wait_for_log("SIGTERM: finishing the running event")
    (tmp_path / "release").touch()
    code, err = proc.finish()

    assert code == 0, err
    assert proc.handled() == [entry.split("/")[1]]
    found = get(db, entry)
    assert (found.state, found.attempts) == (State.DONE, 1)


def test_a_second_signal_exits_at_once(
    db: Path, tmp_path: Path, worker: Callable[..., WorkerProcess]
) -> None:
    """A second signal while a handler still runs exits 130 at once; the lease brings it back."""
    (tmp_path / "slow").touch()
    (entry,) = receive(db, 1)
    proc = worker(db)

    proc.wait_until((tmp_path / "started").exists)
    proc.proc.send_signal(signal.SIGTERM)
    proc.wait_for_log("SIGTERM: finishing the running event")
    proc.proc.send_signal(signal.SIGINT)
    code, err = proc.finish()

    assert code == 130, err
    assert "SIGINT again: exiting now" in err
    assert proc.handled() == []
    found = get(db, entry)
    assert (found.state, found.attempts) == (State.RUNNING, 1)
