"""The command line: ``python -m superoffice_webhooks demo`` and friends."""

from __future__ import annotations

import base64
import hmac
import importlib.metadata
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

import superoffice_webhooks as sow
from conftest import example, example_json
from superoffice_webhooks import _cli
from superoffice_webhooks.testing import make_event, signed_request

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

PERSON_CLASSES = [
    "PersonCreated",
    "PersonChanged",
    "PersonConsented",
    "PersonUnconsented",
    "PersonDeleted",
]


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own interpreter and module
        [sys.executable, "-m", "superoffice_webhooks", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def tampered_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "tampered" in line.lower()]
    assert lines, output
    return lines[0]


def test_demo_in_subprocess() -> None:
    """`python -m superoffice_webhooks demo` exits 0, shows each person event and the 401."""
    proc = run_module("demo")

    assert proc.returncode == 0, proc.stderr
    for name in PERSON_CLASSES:
        assert name in proc.stdout
    assert "401" in tampered_line(proc.stdout)


def test_demo_via_main(capsys: pytest.CaptureFixture[str]) -> None:
    """main(["demo"]) returns 0 and prints the same demo."""
    code = _cli.main(["demo"])

    out = capsys.readouterr().out
    assert code == 0
    for name in PERSON_CLASSES:
        assert name in out
    assert "401" in tampered_line(out)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help prints usage naming the demo command and exits 0."""
    with pytest.raises(SystemExit) as info:
        _cli.main(["--help"])

    assert info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_help_in_subprocess() -> None:
    """`python -m superoffice_webhooks --help` exits 0."""
    proc = run_module("--help")

    assert proc.returncode == 0
    assert "usage" in proc.stdout.lower()


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is a usage error: exit status 2."""
    with pytest.raises(SystemExit) as info:
        _cli.main(["no-such-command"])

    assert info.value.code == 2
    assert "no-such-command" in capsys.readouterr().err


def test_unknown_command_in_subprocess() -> None:
    """`python -m superoffice_webhooks no-such-command` exits 2."""
    proc = run_module("no-such-command")

    assert proc.returncode == 2
    assert proc.stdout == ""


def test_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    """Running without a command is a usage error: exit status 2."""
    with pytest.raises(SystemExit) as info:
        _cli.main([])

    assert info.value.code == 2


# --- sign, verify, parse, sample ------------------------------------------------------

SECRET = "cli secret value"  # noqa: S105  # a test secret


def run_cli(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m superoffice_webhooks ARGS` with bytes on stdin; text out."""
    environ = {k: v for k, v in os.environ.items() if k != _cli.SECRET_ENV}
    proc = subprocess.run(  # noqa: S603  # our own interpreter and module
        [sys.executable, "-m", "superoffice_webhooks", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**environ, **(env or {})},
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


def assert_secret_hidden(proc: subprocess.CompletedProcess[str], secret: str = SECRET) -> None:
    assert secret not in proc.stdout
    assert secret not in proc.stderr


@pytest.fixture
def body_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_bytes(example("person.consented"))
    return path


def test_sign_prints_the_signature(body_file: Path) -> None:
    """`sign` prints exactly what sow.sign computes, alone or as a header line."""
    expected = sow.sign(body_file.read_bytes(), SECRET)

    assert run_cli("sign", "--secret", SECRET, str(body_file)).stdout == f"{expected}\n"
    header = run_cli("sign", "--secret", SECRET, "--header", str(body_file))
    assert header.stdout == f"X-SuperOffice-Signature: {expected}\n"


def test_sign_reads_stdin_and_the_secret_from_the_environment() -> None:
    """Without FILE the body comes from stdin; without --secret from the variable."""
    proc = run_cli("sign", "-", stdin=b"{}", env={_cli.SECRET_ENV: SECRET})

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{sow.sign(b'{}', SECRET)}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sign", "-"], "--secret or set SUPEROFFICE_WEBHOOK_SECRET"),
        (["sign", "--secret", "", "-"], "empty"),
        (["sign", "--secret", SECRET, "no/such/file.json"], "cannot read no/such/file.json"),
        (["verify", "--secret", SECRET, "-"], "--signature"),
        (["sample", "person.craeted"], "did you mean person.created"),
        (["sample"], "--list"),
        (["send", "test", "--url", "file:///etc/passwd", "--secret", SECRET], "http://"),
        (
            ["send", "test", "--url", "http://127.0.0.1:9/", "--secret", SECRET, "--count", "0"],
            "--count",
        ),
        (["listen", "--secret", SECRET, "--forward-to", "ftp://example.org/"], "http://"),
        (["listen", "--secret", SECRET, "--max-requests", "0"], "--max-requests"),
        (["listen", "--secret", SECRET, "--port", "70000"], "'70000' is not a port number"),
        (["listen", "--secret", SECRET, "--port", "-1"], "'-1' is not a port number"),
        (["explain", "--secret", "a", "--secret", "b", "--signature", "x", "-"], "one --secret"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    """Mistakes on the command line exit 2 with a message that says what to do."""
    proc = run_cli(*args, stdin=b"{}")

    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_send_wants_a_timeout_above_0() -> None:
    """`send --timeout 0` exits 2 and says the timeout must be above 0."""
    url = "http://127.0.0.1:9/"
    proc = run_cli("send", "test", "--url", url, "--secret", SECRET, "--timeout", "0")

    assert proc.returncode == 2
    assert "--timeout must be above 0" in proc.stderr


@pytest.mark.parametrize("command", [None, *_cli._COMMANDS])
def test_every_command_has_help_with_exit_codes(command: str | None) -> None:
    """`COMMAND --help` exits 0; every command but demo documents the exit codes."""
    proc = run_cli(*([command] if command else []), "--help")

    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: superoffice-webhooks")
    if command != "demo":
        assert "exit codes:" in proc.stdout
        assert "3  network or server error" in proc.stdout


def test_verify_accepts_a_valid_signature(body_file: Path) -> None:
    """`verify` exits 0 for the right signature, also among several secrets."""
    signature = sow.sign(body_file.read_bytes(), SECRET)

    proc = run_cli(
        "verify", "--secret", "old", "--secret", SECRET, "--signature", signature, str(body_file)
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK")
    assert_secret_hidden(proc)


@pytest.mark.parametrize("signature", [sow.sign(b"other", SECRET), "not base64"])
def test_verify_rejects_a_wrong_signature(body_file: Path, signature: str) -> None:
    """`verify` exits 1 for a wrong or malformed signature and points to `explain`."""
    proc = run_cli("verify", "--secret", SECRET, "--signature", signature, str(body_file))

    assert proc.returncode == 1
    assert "explain" in proc.stderr
    assert proc.stdout == ""
    assert_secret_hidden(proc)


def test_parse_pretty_prints_the_typed_event() -> None:
    """`parse` names the class and shows the typed fields, field values indented."""
    proc = run_cli("parse", stdin=example("person.created"))

    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["PersonCreated", "person.created"]
    assert ["primary_key", "1467783"] in [line.split() for line in lines]
    assert ["deleted_date", "-"] in [line.split() for line in lines]
    assert ["field_values", "PersonFieldValues"] in [line.split() for line in lines]
    assert any(line.startswith("    contact_id") for line in lines)


def test_parse_shows_no_private_fields() -> None:
    """`parse` shows the fields a reader uses, none of the classes' private bookkeeping."""
    proc = run_cli("parse", stdin=example("sale.deleted"))

    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert "registered" in names
    assert [name for name in names if name.startswith("_")] == []


def test_version_is_the_installed_one(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the program's name and the installed version, and exits 0."""
    with pytest.raises(SystemExit) as exited:
        _cli.main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == (
        f"superoffice-webhooks {importlib.metadata.version('superoffice-webhooks')}\n"
    )


def test_parse_json_gives_the_wire_form(body_file: Path) -> None:
    """`parse --json` prints to_dict(), which parses back to the same event."""
    proc = run_cli("parse", "--json", "-", stdin=body_file.read_bytes())

    assert proc.returncode == 0, proc.stderr
    assert sow.parse(proc.stdout) == sow.parse(body_file.read_bytes())


def test_parse_names_the_bad_field() -> None:
    """`parse` exits 1 with the PayloadError that names the field."""
    payload = {**example_json("person.consented"), "PrimaryKey": "18"}

    proc = run_cli("parse", stdin=json.dumps(payload).encode())

    assert proc.returncode == 1
    assert "PrimaryKey" in proc.stderr


def test_sample_lists_every_known_event() -> None:
    """`sample --list` names every event in EVENT_CLASSES with its class."""
    proc = run_cli("sample", "--list")

    listed = dict(line.split() for line in proc.stdout.splitlines())
    assert listed == {name: cls.__name__ for name, cls in sow.EVENT_CLASSES.items()}


def test_sample_prints_a_valid_reproducible_body() -> None:
    """`sample NAME --seed N` prints make_payload's body; the same on every run."""
    proc = run_cli("sample", "person.consented", "--seed", "3")

    assert proc.returncode == 0, proc.stderr
    assert sow.parse(proc.stdout) == make_event("person.consented", seed=3)


@pytest.mark.parametrize("name", sorted(sow.EVENT_CLASSES))
def test_sample_knows_every_event(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`sample` works for every known event, indented or compact (in-process: there are many)."""
    assert _cli.main(["sample", name, "--seed", "3"]) == 0
    event = sow.parse(capsys.readouterr().out)
    assert event == make_event(name, seed=3)
    assert _cli.main(["sample", name, "--seed", "3", "--compact"]) == 0
    assert capsys.readouterr().out == f"{event.to_json()}\n"


# --- send and listen over 127.0.0.1 -----------------------------------------------------


def free_port() -> int:
    """A port nothing listens on (bound, read and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Listener:
    """`superoffice-webhooks listen` in a subprocess, on a free port it picks itself."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(  # noqa: S603  # our own interpreter and module
            [sys.executable, "-m", "superoffice_webhooks", "listen", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # A watchdog, so that a listener that never prints cannot hang the test run.
        self.watchdog = threading.Timer(60, self.proc.kill)
        self.watchdog.start()
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert match, first + self.proc.stderr.read() if self.proc.stderr else first
        self.port = int(match[1])
        self.url = f"http://127.0.0.1:{self.port}/"

    def finish(self) -> tuple[int, str]:
        """Wait for the listener to stop by itself; its exit code and the rest of its output."""
        out, _ = self.proc.communicate(timeout=30)
        return self.proc.returncode, out

    def stop(self) -> None:
        self.watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def listener() -> Iterator[Callable[..., Listener]]:
    started: list[Listener] = []

    def start(*args: str) -> Listener:
        started.append(Listener(*args))
        return started[-1]

    yield start
    for one in started:
        one.stop()


def test_send_to_listen(listener: Callable[..., Listener]) -> None:
    """`send` posts signed events that `listen` verifies and prints; a wrong secret gets 401."""
    server = listener("--secret", SECRET, "--max-requests", "5")

    sent = run_cli(
        "send", "person.created", "--url", server.url, "--secret", SECRET,
        "--count", "4", "--concurrency", "2", "--seed", "10",
    )  # fmt: skip
    refused = run_cli("send", "person.deleted", "--url", server.url, "--secret", "not the secret")
    code, out = server.finish()

    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.count("  200 OK  (") == 4
    assert "4 sent in" in sent.stdout
    assert "4 x 200 OK" in sent.stdout
    ids = [str(make_event("person.created", seed=10 + n).event_id) for n in range(1, 5)]
    for event_id in ids:
        assert event_id in sent.stdout
        assert event_id in out
    assert out.count("  200  person.created") == 4
    assert refused.returncode == 1
    assert "401 Unauthorized" in refused.stdout
    assert "401  refused: The signature does not match" in out
    assert code == 0
    assert "Stopped after 5 request(s)." in out
    for proc_out in (sent.stdout, refused.stdout, out):
        assert SECRET not in proc_out


def test_listen_forwards_verified_requests(listener: Callable[..., Listener]) -> None:
    """With --forward-to, a verified request is passed on, signature and all."""
    target = listener("--secret", SECRET, "--max-requests", "1")
    proxy = listener("--secret", SECRET, "--max-requests", "1", "--forward-to", target.url)

    sent = run_cli("send", "person.changed", "--url", proxy.url, "--secret", SECRET, "--seed", "1")
    _, proxy_out = proxy.finish()
    _, target_out = target.finish()

    assert sent.returncode == 0, sent.stdout
    event_id = str(make_event("person.changed", seed=2).event_id)
    assert f"-> forwarded to {target.url}: 200 OK" in proxy_out
    assert event_id in target_out
    assert "  200  person.changed" in target_out


def test_listen_answers_502_when_the_forward_target_is_down(
    listener: Callable[..., Listener],
) -> None:
    """A forward target that does not answer gives 502, which `send` counts as exit 3."""
    dead = f"http://127.0.0.1:{free_port()}/"
    proxy = listener("--secret", SECRET, "--max-requests", "1", "--forward-to", dead)

    sent = run_cli("send", "test", "--url", proxy.url, "--secret", SECRET)
    _, out = proxy.finish()

    assert sent.returncode == 3
    assert "502 Bad Gateway" in sent.stdout
    assert f"-> forward to {dead} failed" in out


def test_listen_refuses_other_methods_and_paths(listener: Callable[..., Listener]) -> None:
    """GET gets 405; with --path, POSTs elsewhere get 404 and the right path 200."""
    server = listener("--secret", SECRET, "--path", "/hook", "--max-requests", "3")

    def status(request: urllib.request.Request) -> int:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # our loopback URL
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    body, headers = signed_request("test", SECRET)
    get = status(urllib.request.Request(server.url))  # noqa: S310  # as above
    elsewhere = status(urllib.request.Request(server.url + "other", body, headers))  # noqa: S310
    right = status(urllib.request.Request(server.url + "hook", body, headers))  # noqa: S310
    code, _ = server.finish()

    assert (get, elsewhere, right, code) == (405, 404, 200, 0)


def test_listen_stops_on_sigterm(listener: Callable[..., Listener]) -> None:
    """SIGTERM stops the listener cleanly: exit 0 and a last line."""
    server = listener("--secret", SECRET)

    server.proc.send_signal(signal.SIGTERM)
    code, out = server.finish()

    assert code == 0
    assert out.strip().endswith("Stopped after 0 request(s).")


def test_listen_on_a_busy_port_exits_3() -> None:
    """A port that cannot be bound is exit 3 with a message."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = run_cli("listen", "--secret", SECRET, "--port", str(port))

    assert proc.returncode == 3
    assert f"Cannot listen on 127.0.0.1:{port}" in proc.stderr


def test_send_without_a_server_exits_3() -> None:
    """Nothing listening: each request fails, the summary says so, exit 3."""
    proc = run_cli(
        "send", "test", "--url", f"http://127.0.0.1:{free_port()}/", "--secret", SECRET,
        "--count", "2", "--timeout", "5",
    )  # fmt: skip

    assert proc.returncode == 3
    assert proc.stdout.count("failed:") == 2
    assert "2 x no answer" in proc.stdout


# --- explain -------------------------------------------------------------------------------

PAYLOAD = example_json("person.created")
COMPACT = json.dumps(PAYLOAD, separators=(",", ":")).encode()
INDENTED = json.dumps(PAYLOAD, indent=2).encode()
BOM = b"\xef\xbb\xbf"
B64_SECRET = base64.b64encode(SECRET.encode()).decode()


def sig(body: bytes, secret: str = SECRET) -> str:
    return sow.sign(body, secret)


# (received body, signature, secret given to explain, words the cause must contain)
EXPLAIN_CASES: dict[str, tuple[bytes, str, str, str]] = {
    "compact re-serialised": (json.dumps(PAYLOAD, indent=4).encode(), sig(COMPACT), SECRET, "compact JSON"),
    "indented re-serialised": (COMPACT, sig(INDENTED), SECRET, "indented by 2 spaces"),
    "sorted keys": (COMPACT, sig(json.dumps(PAYLOAD, separators=(",", ":"), sort_keys=True).encode()), SECRET, "sorted keys"),
    ".NET indentation": (COMPACT, sig(INDENTED.replace(b"\n", b"\r\n")), SECRET, ".NET-style"),
    "json.dumps default": (COMPACT, sig(json.dumps(PAYLOAD).encode()), SECRET, "json.dumps default"),
    "newline added to body": (INDENTED + b"\n", sig(INDENTED), SECRET, "trailing newline that was not signed"),
    "newline lost from body": (INDENTED, sig(INDENTED + b"\n"), SECRET, "lost its trailing newline"),
    "newline in secret": (INDENTED, sig(INDENTED), SECRET + "\n", "secret has leading or trailing whitespace"),
    "spaces in secret": (INDENTED, sig(INDENTED), SECRET + "  ", "secret has leading or trailing whitespace"),
    "quoted secret": (INDENTED, sig(INDENTED), f'"{SECRET}"', "quotes"),
    "base64 secret given": (INDENTED, sig(INDENTED), B64_SECRET, "decode it"),
    "signed with base64 secret": (INDENTED, sig(INDENTED, B64_SECRET), SECRET, "base64 encoding of the secret"),
    "str(bytes) body": (str(INDENTED).encode(), sig(INDENTED), SECRET, "Python bytes literal"),
    "str(bytes) signature": (INDENTED, str(sig(INDENTED).encode()), SECRET, "signature is written as a Python bytes literal"),
    "EventId header": (INDENTED, str(PAYLOAD["EventId"]), SECRET, "X-SuperOffice-EventId"),
    "Event header": (INDENTED, "person.created", SECRET, "X-SuperOffice-Event header"),
    "docs placeholder": (INDENTED, "X1FmmRIXuzH8o0MDanva1lnuNZXoix6M0US1S64s+e8=", SECRET, "placeholder signature"),
    "BOM added": (BOM + INDENTED, sig(INDENTED), SECRET, "byte order mark (BOM) that was not signed"),
    "BOM stripped": (INDENTED, sig(BOM + INDENTED), SECRET, "byte order mark (BOM) that was stripped"),
    "CRLF received": (INDENTED.replace(b"\n", b"\r\n"), sig(INDENTED), SECRET, "the body has CRLF"),
    "LF received": (INDENTED, sig(INDENTED.replace(b"\n", b"\r\n")), SECRET, "the signed body has CRLF"),
    "hex digest": (INDENTED, hmac.new(SECRET.encode(), INDENTED, "sha256").hexdigest(), SECRET, "hex digest"),
    "sha256= prefix": (INDENTED, "sha256=" + sig(INDENTED), SECRET, "'sha256=' prefix"),
    "URL-safe base64": (INDENTED, base64.urlsafe_b64encode(hmac.digest(SECRET.encode(), INDENTED, "sha256")).decode().rstrip("="), SECRET, "URL-safe or unpadded"),
    "signature with newline": (INDENTED, sig(INDENTED) + "\n", SECRET, "signature has whitespace"),
    "empty body": (b"", sig(INDENTED), SECRET, "body is empty"),
    "str(bytes) secret": (INDENTED, sig(INDENTED), str(SECRET.encode()), "secret is the text of a Python bytes literal"),
    "User-Agent header": (INDENTED, "NetServer-Webhook/1.0", SECRET, "User-Agent header"),
    "body like a bytes literal": (b"b'not' a literal'", sig(INDENTED), SECRET, "No single cause found"),
    "another secret": (INDENTED, sig(INDENTED, "a different secret"), SECRET, "No single cause found"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EXPLAIN_CASES))
def test_explain_names_the_cause(case: str, tmp_path: Path) -> None:
    """`explain` exits 1 and names the cause; it never prints the secret or the body."""
    body, signature, secret, cause = EXPLAIN_CASES[case]
    path = tmp_path / "received.json"
    path.write_bytes(body)

    proc = run_cli("explain", "--secret", secret, "--signature", signature, str(path))

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Signature: does not verify." in proc.stdout
    assert cause in " ".join(proc.stdout.split()), proc.stdout
    assert_secret_hidden(proc, secret.strip().strip('"'))
    assert "Cust1234" not in proc.stdout


def test_explain_with_a_good_signature_has_nothing_to_explain() -> None:
    """A signature that verifies: exit 0 and says so."""
    proc = run_cli("explain", "--secret", SECRET, "--signature", sig(INDENTED), stdin=INDENTED)

    assert proc.returncode == 0
    assert "Nothing to explain" in proc.stdout
    assert_secret_hidden(proc)


def test_explain_with_a_blank_secret_finds_no_cause() -> None:
    """A secret of spaces only: nothing verifies (not even the stripped, empty key), no cause."""
    proc = run_cli("explain", "--secret", "   ", "--signature", sig(INDENTED), stdin=INDENTED)

    assert proc.returncode == 1, proc.stderr
    assert "Signature: does not verify." in proc.stdout
    assert "No single cause found" in proc.stdout


# --- interrupted and closed output ----------------------------------------------------------


def test_ctrl_c_exits_130_without_a_traceback() -> None:
    """Ctrl-C (SIGINT) while a command runs exits 130, quietly."""
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        proc = subprocess.Popen(  # noqa: S603  # our own interpreter and module
            [sys.executable, "-m", "superoffice_webhooks", "send", "test", "--url", url,
             "--secret", SECRET, "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("Sending 1 signed test event(s)")
            proc.send_signal(signal.SIGINT)
        finally:
            silent.close()  # the pending request fails at once, so the command can return
            out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert err == ""
    assert "sent in" not in out


def test_ctrl_c_in_this_process_returns_130(capsys: pytest.CaptureFixture[str]) -> None:
    """The same in-process: SIGINT to the main thread while `send` waits returns 130."""
    main_thread = threading.get_ident()
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"

        def interrupt_once_connected() -> None:
            connection, _ = silent.accept()  # main() is now waiting for the answer
            signal.pthread_kill(main_thread, signal.SIGINT)
            connection.close()  # the pending request fails at once, so send() can return

        thread = threading.Thread(target=interrupt_once_connected)
        thread.start()
        try:
            code = _cli.main(["send", "test", "--url", url, "--secret", SECRET, "--timeout", "30"])
        finally:
            thread.join(60)

    assert code == 130
    assert "sent in" not in capsys.readouterr().out


def test_a_closed_output_pipe_exits_1_without_a_traceback() -> None:
    """Output to a pipe nobody reads (`... | head`) ends the command with status 1, quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "superoffice_webhooks", "sample", "--list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        os.close(write_end)

    assert proc.returncode == 1
    assert proc.stderr == b""


def test_parse_shows_unknown_keys_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`parse` prints keys the class does not know in an `extra` line, as JSON."""
    path = tmp_path / "body.json"
    path.write_text(json.dumps({**example_json("person.created"), "Custom": {"a": 1}}))

    assert _cli.main(["parse", str(path)]) == 0

    lines = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert ["extra", '{"Custom": {"a": 1}}'] in lines


def test_demo_describes_unknown_person_events_without_person_ids() -> None:
    """The demo's description of an unknown person.* event has its ids but no person columns."""
    event = make_event(sow.UnknownEvent, event="person.merged", seed=4)

    text = _cli._describe(event)

    assert f"event_id={event.event_id}" in text
    assert "changes=0" in text
    assert "person_id" not in text
