"""``python -m benchmarks --adapters``: the server apps called in-process, per request.

The apps of :mod:`benchmarks.server_apps` (ours, the constant 200 and the floor, for
ASGI and for Flask) are called directly, without a server or a socket: the ASGI apps
with a scope, a ``receive`` that hands over the 1.5 KB body in one message and a
``send`` that keeps the answer's body; the Flask apps as WSGI callables with a fresh environ per
request. Our ASGI app's handler is async and nothing in the apps waits, so each ASGI call
runs to its end in one step, without an event loop. The "ASGI, sync handler" row has a
sync handler, which runs in a worker thread: its runners are run to their end on one
event loop kept for the whole run, so that row's constant includes the loop's own cost
per call. The rounds of :func:`benchmarks.timing.measure` interleave the three
apps, and the cost of ours and of the floor is reported as time per request beyond
the constant app's, which is what the server benchmark's ratios are made of, without
the load generator's noise.

Two more runners in the same rounds measure what the adapter adds beyond the receiver:
``receive`` calls our app's own receiver directly (``AsyncReceiver.areceive`` for ASGI,
``Receiver.receive`` for Flask) with the body and the header mapping the adapter would
build; ``constant + receive`` answers one request with the constant app and then calls
the receiver, in one call. The receiver is slower after a framework has handled a
request than in a tight loop of its own (under Flask about twice as slow, most likely
because its code and data have left the processor's caches), so the adapter's own cost is ours minus
``constant + receive``, taken within each round: the framework's and the receiver's
work are then paid under the same conditions, and what is left is the adapter's code.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import attrs

from superoffice_webhooks import Outcome

from . import server_apps
from .server import CONSTANT, PATH
from .timing import measure, paired_difference

if TYPE_CHECKING:
    from superoffice_webhooks.contrib.asgi import WebhookApp

    from .payloads import Payload
    from .timing import Runner, Timing

#: What an adapter may add per request beyond the framework and the receiver, in µs.
ADAPTER_TARGET_US = 5.0


@attrs.frozen
class AdapterResult:
    """One framework's apps, in nanoseconds per request (medians over the rounds)."""

    label: str
    ours: float
    constant: float
    floor: float
    #: Our app's receiver called directly, without the framework or the adapter.
    receive: float
    #: The constant app's request, then the receiver, in one call.
    constant_receive: float
    #: What our app costs per request beyond the constant app (paired within rounds).
    ours_extra: float
    #: What the floor's work costs per request beyond the constant app (paired).
    floor_extra: float
    #: What the adapter adds beyond the framework and the receiver: ours minus
    #: ``constant + receive`` (paired).
    adapter: float

    @classmethod
    def of(cls, label: str, timings: dict[str, Timing]) -> AdapterResult:
        ours, constant = timings["ours"], timings["constant"]
        return cls(
            label,
            ours.ns,
            constant.ns,
            timings["floor"].ns,
            timings["receive"].ns,
            timings["constant+receive"].ns,
            paired_difference(ours, constant),
            paired_difference(timings["floor"], constant),
            paired_difference(ours, timings["constant+receive"]),
        )


AnyCoroutine = Coroutine[Any, Any, Any]
#: Runs a coroutine to its end and returns its result.
Driver = Callable[[AnyCoroutine], object]


def _in_one_step(coroutine: AnyCoroutine) -> object:
    """The result of *coroutine*, which must end without waiting for anything."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: object = done.value
        return result
    coroutine.close()
    raise AssertionError("the app waited for something")


def _asgi_call(
    app: Callable[..., AnyCoroutine], p: Payload
) -> tuple[Callable[[], AnyCoroutine], list[bytes]]:
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


def _asgi_runner(
    app: Callable[..., AnyCoroutine], p: Payload, drive: Driver = _in_one_step
) -> Runner:
    """One request of *p* to the ASGI *app*, run to its end by *drive*; returns the answer."""
    call, answer = _asgi_call(app, p)

    def run() -> object:
        answer.clear()
        drive(call())
        return b"".join(answer)

    return run


def _headers(p: Payload) -> dict[str, str]:
    """The header mapping the adapters give the receiver: every field, lower-case names."""
    return {name.lower(): value for name, value in p.headers.items()}


def _asgi_runners(ours: WebhookApp, p: Payload, drive: Driver) -> dict[str, Runner]:
    receiver, body, headers = ours.receiver, p.body, _headers(p)
    constant, _ = _asgi_call(server_apps.asgi_constant, p)

    async def constant_then_receive() -> Outcome:
        await constant()
        return await receiver.areceive(body, headers)

    return {
        "ours": _asgi_runner(ours, p, drive),
        "constant": _asgi_runner(server_apps.asgi_constant, p, drive),
        "floor": _asgi_runner(server_apps.asgi_floor, p, drive),
        "receive": lambda: drive(receiver.areceive(body, headers)),
        "constant+receive": lambda: drive(constant_then_receive()),
    }


def _flask_runners(p: Payload) -> dict[str, Runner]:
    receiver, body, headers = server_apps.flask_receiver, p.body, _headers(p)
    constant = _wsgi_runner(server_apps.flask_constant, p)

    def constant_then_receive() -> Outcome:
        constant()
        return receiver.receive(body, headers)

    return {
        "ours": _wsgi_runner(server_apps.flask_app, p),
        "constant": constant,
        "floor": _wsgi_runner(server_apps.flask_floor, p),
        "receive": lambda: receiver.receive(body, headers),
        "constant+receive": constant_then_receive,
    }


def _answer(result: object) -> object:
    """A runner's result as the body of the answer: an :class:`Outcome` becomes its text."""
    if isinstance(result, Outcome):
        return f"{result.reason}\n".encode() if result.ok else result
    return result


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
    """Time the runners of each framework on *p*; every answer must be the constant's."""
    with asyncio.Runner() as loop_runner:
        loop = loop_runner.get_loop()
        frameworks = {
            "ASGI": _asgi_runners(server_apps.asgi, p, _in_one_step),
            "ASGI, sync handler": _asgi_runners(
                server_apps.asgi_sync_handler, p, loop.run_until_complete
            ),
            "Flask (WSGI)": _flask_runners(p),
        }
        results = []
        for label, runners in frameworks.items():
            for name, runner in runners.items():
                if _answer(runner()) != CONSTANT:
                    raise AssertionError(f"{label} {name} did not answer {CONSTANT!r}")
            timings = measure(
                runners, dict.fromkeys(runners, "constant"), rounds=rounds, budget_ns=budget_ns
            )
            results.append(AdapterResult.of(label, timings))
        return results


def print_results(results: list[AdapterResult]) -> None:
    print(
        f"\n  {'app (in-process)':<18} {'constant':>9} {'ours':>7} {'floor':>7} {'receive':>8}"
        f" {'constant+receive':>17} {'ours-constant':>14} {'floor-constant':>15} {'adapter':>8}"
    )
    for r in results:
        print(
            f"  {r.label:<18} {r.constant / 1e3:>9.1f} {r.ours / 1e3:>7.1f} {r.floor / 1e3:>7.1f}"
            f" {r.receive / 1e3:>8.1f} {r.constant_receive / 1e3:>17.1f}"
            f" {r.ours_extra / 1e3:>14.1f} {r.floor_extra / 1e3:>15.1f} {r.adapter / 1e3:>8.1f}"
        )
    print(
        "\n  µs per request, medians over the rounds; the differences are taken within each round."
        "\n  adapter: ours - (constant + receive), what the adapter adds beyond the framework's"
        f"\n  own handling and Receiver.receive (the target is at most {ADAPTER_TARGET_US:g} µs)."
    )
