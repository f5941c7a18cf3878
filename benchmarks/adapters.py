"""``python -m benchmarks --adapters``: the server apps called in-process, per request.

The apps of :mod:`benchmarks.server_apps` (ours, the constant 200 and the floor, for
ASGI and for Flask) are called directly, without a server or a socket: the ASGI apps
with a scope, a ``receive`` that hands over the 1.5 KB body in one message and a
``send`` that keeps nothing; the Flask apps as WSGI callables with a fresh environ per
request. Our ASGI app's handler is async and nothing in the apps waits, so each ASGI call
runs to its end in one step, without an event loop. The "ASGI, sync handler" row has a
sync handler, which runs in a worker thread: its three apps are run to their end on one
event loop kept for the whole run, so that row's constant includes the loop's own cost
per call. The rounds of :func:`benchmarks.timing.measure` interleave the three
apps, and the cost of ours and of the floor is reported as time per request beyond
the constant app's, which is what the server benchmark's ratios are made of, without
the load generator's noise.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import attrs

from . import server_apps
from .server import CONSTANT, PATH
from .timing import measure

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .payloads import Payload
    from .timing import Runner, Timing


@attrs.frozen
class AdapterResult:
    """One framework's apps, in nanoseconds per request."""

    label: str
    ours: float
    constant: float
    floor: float

    @property
    def ours_extra(self) -> float:
        """What our adapter costs per request beyond the constant app."""
        return self.ours - self.constant

    @property
    def floor_extra(self) -> float:
        """What the floor's work costs per request beyond the constant app."""
        return self.floor - self.constant


def _asgi_call(
    app: Callable[..., Coroutine[Any, Any, None]], p: Payload
) -> tuple[Callable[[], Coroutine[Any, Any, None]], list[bytes]]:
    """A function starting one request of *p* to *app*, and the list its answer goes to."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "headers": [(k.lower().encode(), v.encode()) for k, v in p.headers.items()],
    }
    message = {"type": "http.request", "body": p.body, "more_body": False}
    answer: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return message

    async def send(sent: dict[str, Any]) -> None:
        if sent["type"] == "http.response.body":
            answer.append(sent["body"])

    return lambda: app(scope, receive, send), answer


def _asgi_runner(app: Callable[..., Coroutine[Any, Any, None]], p: Payload) -> Runner:
    call, answer = _asgi_call(app, p)

    def run() -> object:
        answer.clear()
        try:
            call().send(None)
        except StopIteration:
            return b"".join(answer)
        raise AssertionError("the app waited for something")

    return run


def _looped_runner(loop: asyncio.AbstractEventLoop) -> Callable[[Any, Payload], Runner]:
    """Like :func:`_asgi_runner`, for apps that wait: each request runs on *loop*."""

    def runner_for(app: Callable[..., Coroutine[Any, Any, None]], p: Payload) -> Runner:
        call, answer = _asgi_call(app, p)

        def run() -> object:
            answer.clear()
            loop.run_until_complete(call())
            return b"".join(answer)

        return run

    return runner_for


def _wsgi_runner(app: Callable[..., Any], p: Payload) -> Runner:
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(p.body)),
        **{
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in p.headers.items()
            if k.lower() != "content-length"
        },
    }
    environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE")
    body = p.body

    def start_response(status: str, *_: object) -> None:
        if not status.startswith("200"):
            raise AssertionError(f"answered {status}")

    def run() -> object:
        request = {**environ, "wsgi.input": io.BytesIO(body)}
        return b"".join(app(request, start_response))

    return run


def run(p: Payload, *, rounds: int, budget_ns: int) -> list[AdapterResult]:
    """Time the three apps of each framework on *p*; every answer must be the constant."""
    with asyncio.Runner() as loop_runner:
        return _run(p, loop_runner.get_loop(), rounds=rounds, budget_ns=budget_ns)


def _run(
    p: Payload, loop: asyncio.AbstractEventLoop, *, rounds: int, budget_ns: int
) -> list[AdapterResult]:
    frameworks: dict[str, tuple[Callable[[Any, Payload], Runner], Any, Any, Any]] = {
        "ASGI": (
            _asgi_runner,
            server_apps.asgi,
            server_apps.asgi_constant,
            server_apps.asgi_floor,
        ),
        "ASGI, sync handler": (
            _looped_runner(loop),
            server_apps.asgi_sync_handler,
            server_apps.asgi_constant,
            server_apps.asgi_floor,
        ),
        "Flask (WSGI)": (
            _wsgi_runner,
            server_apps.flask_app,
            server_apps.flask_constant,
            server_apps.flask_floor,
        ),
    }
    results = []
    for label, (runner_for, ours, constant, floor) in frameworks.items():
        runners = {
            "ours": runner_for(ours, p),
            "constant": runner_for(constant, p),
            "floor": runner_for(floor, p),
        }
        for name, runner in runners.items():
            if runner() != CONSTANT:
                raise AssertionError(f"{label} {name} did not answer {CONSTANT!r}")
        timings: dict[str, Timing] = measure(
            runners, dict.fromkeys(runners, "constant"), rounds=rounds, budget_ns=budget_ns
        )
        results.append(
            AdapterResult(label, timings["ours"].ns, timings["constant"].ns, timings["floor"].ns)
        )
    return results


def print_results(results: list[AdapterResult]) -> None:
    print(
        f"\n  {'app (in-process)':<18} {'constant µs':>12} {'ours µs':>9} {'floor µs':>9}"
        f" {'ours - constant':>16} {'floor - constant':>17}"
    )
    for r in results:
        print(
            f"  {r.label:<18} {r.constant / 1e3:>12.1f} {r.ours / 1e3:>9.1f} {r.floor / 1e3:>9.1f}"
            f" {r.ours_extra / 1e3:>16.1f} {r.floor_extra / 1e3:>17.1f}"
        )
