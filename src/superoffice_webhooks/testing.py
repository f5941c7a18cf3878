"""Helpers for testing webhook handlers: signed requests, event factories, a test client.

Everything here is plain Python and needs no test framework; the pytest fixtures built on it
(``superoffice_webhook_client``, ``superoffice_events``, ...) come with the package's pytest
plugin, which pytest loads by itself once the package is installed.

>>> from superoffice_webhooks.testing import make_event, signed_request
>>> event = make_event("person.consented", seed=1)
>>> body, headers = signed_request(event, "test secret")
"""

from __future__ import annotations

import asyncio
import inspect
import io
import sys
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal, Self, TypeVar, overload

import attrs

from ._dispatch import Dispatcher, default_dispatcher
from ._events import Event
from ._factory import EventLike, make_event, make_field_values, make_payload, signed_request
from ._verify import sign
from .exceptions import ConfigurationError

__all__ = [
    "EventRecorder",
    "WebhookClient",
    "WebhookResponse",
    "make_event",
    "make_field_values",
    "make_payload",
    "sign",
    "signed_request",
]

T = TypeVar("T")


class EventRecorder(Sequence[Event]):
    """Records every event a dispatcher dispatches, while it is attached.

    Use it as a context manager, or call :meth:`attach` and :meth:`detach`::

        with EventRecorder() as events:
            receiver.receive(body, headers)
        assert events.names == ["person.created"]

    The recorder is a catch-all handler, so it runs after your handlers, and records the
    event even when one of them fails.
    """

    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        #: The dispatcher whose events are recorded.
        self.dispatcher = default_dispatcher if dispatcher is None else dispatcher
        #: The recorded events, in the order they were dispatched.
        self.events: list[Event] = []

    def _record(self, event: Event) -> None:
        self.events.append(event)  # atomic, so handlers on several threads may call it

    def attach(self) -> None:
        """Start recording."""
        self.dispatcher.on_any(self._record)

    def detach(self) -> None:
        """Stop recording; what was recorded stays."""
        self.dispatcher.remove(self._record)

    def __enter__(self) -> Self:
        self.attach()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.detach()

    @property
    def names(self) -> list[str]:
        """The names of the recorded events, in order."""
        return [event.event for event in self.events]

    def of(self, name_or_class: str | type[Event]) -> list[Any]:
        """The recorded events of one name, or instances of one class."""
        if isinstance(name_or_class, str):
            return [e for e in self.events if e.event == name_or_class]
        return [e for e in self.events if isinstance(e, name_or_class)]

    def clear(self) -> None:
        """Forget what was recorded."""
        self.events.clear()

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        return self.events[index]

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"EventRecorder({self.names!r})"


@attrs.frozen
class WebhookResponse:
    """What the application answered."""

    #: The HTTP status code.
    status: int
    #: The response headers (names as the application spelled them).
    headers: Mapping[str, str]
    #: The response body.
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")


def _kind_of(app: object) -> Literal["wsgi", "asgi", "django"]:
    client_module = sys.modules.get("django.test.client")
    if client_module is not None and isinstance(app, client_module.Client):
        return "django"
    call = vars(type(app)).get("__call__") or getattr(type(app), "__call__", None)  # noqa: B004  # the class's __call__, to see whether it is async
    is_async = inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)
    return "asgi" if is_async else "wsgi"


class WebhookClient:
    """Posts signed webhook requests through a web application, without a server.

    *app* is a WSGI application (Flask, Django's ``get_wsgi_application()``, ...), an
    ASGI application (FastAPI, Starlette, Django's ``get_asgi_application()``, ...) or a
    ``django.test.Client``. *kind* says which, when guessing is not enough.

    An ASGI application runs on one event loop of its own, on a worker thread, for the
    client's whole life: before the first request the client runs the app's lifespan
    startup, and :meth:`close` (or leaving a ``with`` block) runs its shutdown and ends the
    loop. So clients and pools the app makes at startup or at first use (an async Redis
    client, a database pool) serve every request. An app without lifespan support (Django's
    ASGI handler) is served without it, as servers do.
    """

    def __init__(
        self,
        app: object,
        *,
        secret: str | bytes,
        path: str = "/",
        kind: Literal["auto", "wsgi", "asgi", "django"] = "auto",
    ) -> None:
        if kind == "auto":
            kind = _kind_of(app)
        if kind not in ("wsgi", "asgi", "django"):
            msg = f"kind must be 'auto', 'wsgi', 'asgi' or 'django', not {kind!r}."
            raise ConfigurationError(msg)
        if not callable(app) and kind != "django":
            msg = (
                "WebhookClient needs a WSGI or ASGI application or a django.test.Client, "
                f"not {type(app).__name__}."
            )
            raise ConfigurationError(msg)
        self.app = app
        self.secret = secret
        self.path = path
        self.kind: Literal["wsgi", "asgi", "django"] = kind
        self._asgi: _AsgiLoop | None = None
        self._asgi_lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Run the ASGI app's lifespan shutdown and end its event loop.

        Nothing to do for WSGI apps, for Django's test client, or before the first request.
        A later request starts the app again.
        """
        with self._asgi_lock:
            running, self._asgi = self._asgi, None
        if running is not None:
            running.close()

    def send(
        self,
        event: EventLike,
        /,
        *,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
        seed: int | None = None,
        **overrides: Any,
    ) -> WebhookResponse:
        """Sign and post *event* (as in :func:`signed_request`); return the response."""
        body, signed = signed_request(event, self.secret, seed=seed, headers=headers, **overrides)
        return self.send_raw(body, signed, path=path)

    def send_raw(
        self, body: bytes, headers: Mapping[str, str], *, path: str | None = None
    ) -> WebhookResponse:
        """Post *body* with exactly *headers* (nothing is signed or added)."""
        target = self.path if path is None else path
        if self.kind == "django":
            return _post_django(self.app, target, body, headers)
        if self.kind == "asgi":
            with self._asgi_lock:
                if self._asgi is None:
                    self._asgi = _AsgiLoop(self.app)
                running = self._asgi
            return running.run(_post_asgi(self.app, target, body, headers, running.state))
        return _post_wsgi(self.app, target, body, headers)


_ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}


def _split_path(path: str) -> tuple[str, str]:
    path, _, query = path.partition("?")
    return path or "/", query


def _post_wsgi(app: Any, path: str, body: bytes, headers: Mapping[str, str]) -> WebhookResponse:
    path_info, query = _split_path(path)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key != "CONTENT_LENGTH":
            environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: object) -> Any:
        started[:] = [(status, response_headers)]
        return lambda _data: None  # the legacy write(); nothing uses it here

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, response_headers = started[0]
    return WebhookResponse(int(status.split()[0]), dict(response_headers), content)


async def _post_asgi(
    app: Any, path: str, body: bytes, headers: Mapping[str, str], state: Mapping[str, Any]
) -> WebhookResponse:
    path_info, query = _split_path(path)
    scope = {
        "type": "http",
        "asgi": _ASGI_VERSION,
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path_info,
        "raw_path": path_info.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in {**headers, "Content-Length": str(len(body))}.items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": dict(state),  # what the lifespan put there, as a shallow copy (ASGI spec)
    }
    request = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()
    status = 500
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, object]:
        if request:
            return request.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", ()):
                response_headers[name.decode("latin-1")] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return WebhookResponse(status, response_headers, b"".join(chunks))


class _AsgiLoop:
    """An event loop on a thread of its own, with an ASGI app's lifespan running in it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        #: The lifespan's state; each request's scope gets a shallow copy of it.
        self.state: dict[str, Any] = {}
        # Made here, so that coroutines can be handed to the loop before its thread runs it.
        self.loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self._to_app: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[Mapping[str, Any] | None] = asyncio.Queue()
        self._lifespan: asyncio.Task[None] | None = None  # while the app supports it
        self.thread = threading.Thread(target=self._serve, name="superoffice-webhooks-asgi")
        self.thread.daemon = True
        self.thread.start()
        try:
            self.run(self._startup())
        except BaseException:
            self._stop()
            raise

    def _serve(self) -> None:
        # The runner (as asyncio.run) cancels what the app leaves running and closes the loop.
        with asyncio.Runner(loop_factory=lambda: self.loop) as runner:
            runner.run(self._stopping.wait())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        try:
            self.run(self._shutdown())
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stopping.set)
        self.thread.join()

    async def _run_lifespan(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        finally:
            self._from_app.put_nowait(None)  # the app has ended

    async def _startup(self) -> None:
        task = asyncio.create_task(self._run_lifespan())
        task.add_done_callback(_retrieve_exception)
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message is None or message["type"] not in _STARTUP_ANSWERS:
            # As uvicorn does by default: an app that raises, ends or answers something
            # else has no lifespan support (Django's ASGI handler raises), and is served.
            return
        await _lifespan_answer("startup", message, task)
        self._lifespan = task

    async def _shutdown(self) -> None:
        if self._lifespan is not None:
            await self._to_app.put({"type": "lifespan.shutdown"})
            await _lifespan_answer("shutdown", await self._from_app.get(), self._lifespan)


_STARTUP_ANSWERS = ("lifespan.startup.complete", "lifespan.startup.failed")


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    """Mark the lifespan's exception as seen: it is raised where it matters, or ignored."""
    if not task.cancelled():
        task.exception()


async def _lifespan_answer(
    phase: str, message: Mapping[str, Any] | None, task: asyncio.Task[None]
) -> None:
    """Check the app's answer to lifespan.<phase>; raise what went wrong in it."""
    if message is not None and message["type"] == f"lifespan.{phase}.complete":
        return
    await asyncio.wait([task])
    task.result()  # the app's own exception, if it raised one
    if message is None:
        return  # it ended without a word, as an app may at shutdown
    detail = f": {message['message']}" if message.get("message") else ""
    msg = (
        f"The application's lifespan {phase} failed{detail}. Fix its {phase} code; the "
        "webhook client runs it as a server would."
    )
    raise ConfigurationError(msg)


def _post_django(
    client: Any, path: str, body: bytes, headers: Mapping[str, str]
) -> WebhookResponse:
    extra = {name.lower(): value for name, value in headers.items()}
    extra.pop("content-length", None)
    content_type = extra.pop("content-type", "application/octet-stream")
    response = client.post(path, data=body, content_type=content_type, headers=extra)
    return WebhookResponse(response.status_code, dict(response.headers), response.content)
