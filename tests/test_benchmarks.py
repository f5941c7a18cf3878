"""Smoke tests of the benchmark suite: its code paths run and measure the right thing.

Only the pipelines that need nothing beyond the package's dependencies run here (the
peers live in the ``bench`` extra). Nothing here asserts a time.
"""

from __future__ import annotations

import importlib.util
import json
from typing import TYPE_CHECKING

import attrs
import pytest

import superoffice_webhooks as sow
from benchmarks import adapters, inbox, inbox_apps, server_apps
from benchmarks.cases import CASES, FLOOR, FLOOR_HMAC, OWN, Case, StdlibJson
from benchmarks.payloads import SECRET, medium, payload, payloads
from benchmarks.run import main
from benchmarks.server import CONSTANT, PAIRS, _lua_string, check, client_load, serve
from benchmarks.timing import Timing, paired_difference
from superoffice_webhooks import _parse, sign
from superoffice_webhooks.inbox import SQLiteInbox

if TYPE_CHECKING:
    from pathlib import Path

PAYLOADS = payloads()
OWN_NAMES = ",".join(case.name for case in OWN)


def test_payload_sizes() -> None:
    """The three bodies are about 0.4 KB, 1.5 KB and 64 KB, and each one parses."""
    sizes = {p.label: p.size for p in PAYLOADS}
    assert 300 <= sizes["0.4 KB"] <= 500
    assert 1400 <= sizes["1.5 KB"] <= 2000
    assert 64 * 1024 <= sizes["64 KB"] <= 66 * 1024


@pytest.mark.parametrize("case", OWN, ids=[c.name for c in OWN])
def test_pipeline_agrees_with_the_library(case: Case) -> None:
    """Every pipeline under test produces the library's own result for every body."""
    for p in PAYLOADS:
        assert case.agrees(case.build(p)(), p), (case.name, p.label)


@pytest.mark.parametrize("case", OWN, ids=[c.name for c in OWN])
def test_agreement_check_can_fail(case: Case) -> None:
    """The agreement check rejects a result that is not the expected one."""
    assert not case.agrees({"Event": "person.created"}, PAYLOADS[1])
    assert not case.agrees(None, PAYLOADS[1])


def test_quick_run_writes_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny --quick run prints the table and writes every pipeline's figures as JSON."""
    argv = ["--quick", "--rounds", "3", "--budget-ms", "0.05", "--only", OWN_NAMES]
    assert main([*argv, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    data = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert data["mode"] == "quick"
    assert data["rounds"] == 3
    assert data["skipped"] == {}
    rows = {(r["case"], r["size"]): r for r in data["results"]}
    assert set(rows) == {(c.name, p.label) for c in OWN for p in PAYLOADS}
    for (name, size), row in rows.items():
        assert row["ns_per_event"] > 0
        assert row["events_per_s"] > 0
        assert row["ratio"] > 0
        assert row["baseline"] == (FLOOR_HMAC if name == "verify" else FLOOR)
        assert f"{size} body" in out
    assert all(rows[FLOOR, p.label]["ratio"] == 1.0 for p in PAYLOADS)
    checked = {(t["case"], t["size"]) for t in data["targets"]}
    assert ("verify_and_parse+dispatch", "1.5 KB") in checked
    assert ("receive", "64 KB") in checked
    assert all(isinstance(t["met"], bool) for t in data["targets"])
    chart = tmp_path / "latest.png"
    if importlib.util.find_spec("matplotlib") is None:
        assert not chart.exists()
        assert "No chart: matplotlib is not installed" in out
    else:
        assert chart.read_bytes().startswith(b"\x89PNG")


def test_memory_run(tmp_path: Path) -> None:
    """--memory reports a retained size per body and traced memory at checkpoints."""
    assert main(["--memory", "--events", "40", "--retained", "50", "--output", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "memory.json").read_text(encoding="utf-8"))
    assert set(data["retained_bytes_per_event"]) == {p.label for p in PAYLOADS}
    retained = data["retained_bytes_per_event"]
    assert 0 < retained["0.4 KB"] < retained["1.5 KB"] < retained["64 KB"]
    checkpoints = data["receive"]["checkpoints"]
    assert [c["events"] for c in checkpoints] == list(range(4, 41, 4))
    assert all(c["peak"] >= c["current"] > 0 for c in checkpoints)


def test_unknown_case_is_refused() -> None:
    """--only with a name that is not a case stops with the list of known names."""
    with pytest.raises(SystemExit, match="unknown case"):
        main(["--only", "nonsense"])


FAST = [c for c in CASES if c.name.endswith("[fast]")]


@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
def test_fast_pipelines_agree_with_the_library(case: Case) -> None:
    """The [fast] pipelines (orjson, in the test extra) produce the library's own result."""
    for p in PAYLOADS:
        assert case.agrees(case.build(p)(), p), (case.name, p.label)


def test_stdlib_cases_pin_the_standard_parser() -> None:
    """A stdlib case parses without orjson while it runs, and restores the setting after."""
    seen: list[object] = []
    runner = StdlibJson(lambda: seen.append(_parse.fast_loads))
    before = _parse.fast_loads
    assert before is not None  # orjson is in the test extra
    runner()
    with runner.pinned() as run:
        run()
    assert seen == [None, None]
    assert _parse.fast_loads is before


def test_server_run_with_the_python_client(tmp_path: Path) -> None:
    """--server --quick serves both pairs on 127.0.0.1 and writes requests/s and ratios."""
    argv = ["--server", "--quick", "--python-client", "--output", str(tmp_path)]
    assert main(argv) == 0
    data = json.loads((tmp_path / "server.json").read_text(encoding="utf-8"))
    assert data["load"].startswith("Python client")
    assert [r["server"] for r in data["results"]] == [p.label for p in PAIRS]
    for row in data["results"]:
        assert row["ours_requests_per_s"] > 0
        assert row["constant_requests_per_s"] > 0
        assert row["ratio_min"] <= row["ratio"] <= row["ratio_max"]
        assert row["floor_requests_per_s"] > 0
        assert row["floor_ratio"] > 0


def test_adapters_run_writes_the_costs(tmp_path: Path) -> None:
    """--adapters calls the server apps in-process and writes their cost per request."""
    argv = ["--adapters", "--quick", "--rounds", "3", "--output", str(tmp_path)]
    assert main(argv) == 0
    data = json.loads((tmp_path / "adapters.json").read_text(encoding="utf-8"))
    assert [r["app"] for r in data["results"]] == ["ASGI", "ASGI, sync handler", "Flask (WSGI)"]
    assert data["adapter_target_us"] == 5.0
    for row in data["results"]:
        assert row["constant_us"] > 0
        assert row["receive_us"] > 0
        assert row["constant_receive_us"] > 0
        for key in ("ours_extra_us", "floor_extra_us", "adapter_us"):
            assert isinstance(row[key], float)
        assert row["adapter_met"] == (row["adapter_us"] <= 5.0)


def test_paired_difference_is_taken_within_rounds() -> None:
    """The paired difference is the median of per-round differences, not of medians."""
    a = Timing(ns=0, ratio=1, ratio_q1=1, ratio_q3=1, samples=(10.0, 100.0, 30.0))
    b = Timing(ns=0, ratio=1, ratio_q1=1, ratio_q3=1, samples=(9.0, 95.0, 28.0))
    assert paired_difference(a, b) == 2.0


def test_adapter_receive_runners_answer_like_the_apps() -> None:
    """The receive-only runners give the answer the apps send, and a refusal is not it."""
    p = payload("1.5 KB", medium())
    for runners in (
        adapters._asgi_runners(server_apps.asgi, p, adapters._in_one_step),
        adapters._flask_runners(p),
    ):
        assert adapters._answer(runners["receive"]()) == CONSTANT
        assert adapters._answer(runners["constant+receive"]()) == CONSTANT
    refused = attrs.evolve(p, headers={**p.headers, "X-Superoffice-Signature": "bad"})
    answer = adapters._answer(adapters._flask_runners(refused)["receive"]())
    assert isinstance(answer, sow.Outcome)
    assert answer.status == 401


def test_adapter_runner_refuses_a_wrong_answer() -> None:
    """An app that does not answer the constant 200 stops the adapter benchmark."""
    p = payload("1.5 KB", medium())
    refused = attrs.evolve(p, headers={**p.headers, "X-Superoffice-Signature": "bad"})
    with pytest.raises(AssertionError, match="answered 401"):
        adapters._wsgi_runner(server_apps.flask_app, refused)()
    assert adapters._asgi_runner(server_apps.asgi, refused)() != CONSTANT


def test_server_check_refuses_a_wrong_answer() -> None:
    """The server check fails when the answer is not the delivered 200 (a bad signature)."""
    good = PAYLOADS[1]
    wrong = sign(b"another body", SECRET)
    headers = {**good.headers, "X-Superoffice-Signature": wrong}
    tampered = type(good)(good.label, good.body, wrong, headers)
    with serve(PAIRS[0].ours) as port:
        check(port, good)
        with pytest.raises(AssertionError, match="401"):
            check(port, tampered)


def test_wrk_script_quotes_the_body() -> None:
    """The body goes into wrk's Lua script as a long string; one that would end it is refused."""
    assert _lua_string('{"a": "b"}') == '[====[{"a": "b"}]====]'
    with pytest.raises(ValueError, match="]====]"):
        _lua_string("x]====]y")


def test_inbox_run_writes_servers_and_costs(tmp_path: Path) -> None:
    """--inbox --quick serves both apps per server, drains the inbox and writes the costs."""
    argv = ["--inbox", "--quick", "--rounds", "3", "--budget-ms", "0.2"]
    assert main([*argv, "--output", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "inbox.json").read_text(encoding="utf-8"))
    assert [r["server"] for r in data["servers"]] == [f.label for f in inbox.FRAMEWORKS]
    for row in data["servers"]:
        for app in ("memory_inline", "sqlite_inbox_worker"):
            assert row[app]["requests_per_s"] > 0
            assert 0 < row[app]["p50_ms"] <= row[app]["p99_ms"]
        assert row["ratio_min"] <= row["ratio"] <= row["ratio_max"]
        assert row["recorded"] == 3 * 400  # a warm-up round and two measured rounds
    steps = {s["name"]: s for s in data["in_process"]["results"]}
    assert set(steps) == {*inbox.IN_PROCESS, inbox.WORKER}
    assert steps["record, SQLiteInbox"]["baseline"] == "new event"
    assert all(s["us"] > 0 for s in steps.values())


def test_new_requests_are_new_events() -> None:
    """Each request of the inbox load has its own EventId and a signature that verifies."""
    requests = inbox.new_requests(PAYLOADS[1], 3)
    ids = {sow.parse(body).event_id for body, _ in requests}
    assert len(ids) == 3
    for body, headers in requests:
        sow.verify(body, headers["X-Superoffice-Signature"], SECRET)
        assert headers["X-Superoffice-Eventid"] == str(sow.parse(body).event_id)


def test_inbox_load_refuses_a_duplicate_answer(tmp_path: Path) -> None:
    """The inbox load fails when an answer is not the expected one (a duplicate)."""
    framework = inbox.FRAMEWORKS[0]
    requests = inbox.new_requests(PAYLOADS[1], 2)
    path = tmp_path / "inbox.sqlite3"
    with serve(framework.inbox, {inbox_apps.INBOX_ENV: str(path)}) as port:
        load = client_load(port, requests, connections=1, answer=inbox.RECORDED)
        assert load.requests_per_s > 0
        with pytest.raises(AssertionError, match="duplicate"):
            client_load(port, requests, connections=1, answer=inbox.RECORDED)
        assert inbox.drain(path, 2) >= 0


def test_drain_fails_when_events_are_missing(tmp_path: Path) -> None:
    """drain() gives up with the counts when the inbox never holds the expected events."""
    path = tmp_path / "inbox.sqlite3"
    SQLiteInbox(path).close()
    with pytest.raises(AssertionError, match="did not drain to 1 done"):
        inbox.drain(path, 1, timeout=0.1)


def test_import_run_writes_the_times(tmp_path: Path) -> None:
    """--import times both imports in fresh interpreters and writes their medians and ratio."""
    assert main(["--import", "--rounds", "3", "--output", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "imports.json").read_text(encoding="utf-8"))
    assert data["rounds"] == 3
    assert set(data["median_ms"]) == {"superoffice_webhooks", "attrs + cattrs"}
    assert all(ms > 0 for ms in data["median_ms"].values())
    assert data["ratio"] > 0
    assert data["met"] == (data["ratio"] <= data["target_ratio"])
