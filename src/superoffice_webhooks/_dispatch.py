"""Dispatcher: route a parsed event to the handlers registered for its name or class."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import attrs

from ._events import Event
from ._threads import to_thread
from .exceptions import ConfigurationError, HandlerError

if TYPE_CHECKING:
    from ._on import On

__all__ = [
    "DispatchResult",
    "Dispatcher",
    "Registrar",
    "adispatch",
    "default_dispatcher",
    "dispatch",
    "on",
    "on_any",
]

E = TypeVar("E", bound=Event)
R = TypeVar("R")

_CACHE_LIMIT = 1024
#: What an event name and class resolve to: its handlers, whether any is a coroutine function, and
#: for each whether adispatch awaits it on the loop.
_Resolved = tuple[tuple[Callable[..., object], ...], bool, tuple[bool, ...]]
#: A state-event subscription name; the body of such an event says ``webhook.<verb>``.
_SUBSCRIPTION_NAME = re.compile(r"webhook\d+\.(?:started|stopped|errors)")


class Registrar(Protocol[E]):
    """What ``on(...)`` returns: a decorator that registers and returns the handler."""

    def __call__(self, handler: Callable[[E], R], /) -> Callable[[E], R]:
        """Register *handler* and return it unchanged."""
        ...


def _awaited_on_loop(handler: Callable[..., object]) -> bool:
    """Whether adispatch awaits *handler* on the loop: a coroutine function, or an
    object whose ``__call__`` is one (a class-based async handler)."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__  # every handler is callable (on() checks)
    )


@attrs.frozen(kw_only=True)
class DispatchResult:
    """What :meth:`Dispatcher.dispatch` did with one event."""

    #: The event that was dispatched.
    event: Event
    #: The handlers that ran, in order.
    handlers: tuple[Callable[..., object], ...]
    #: Their return values (awaited for async handlers), in the same order.
    results: tuple[object, ...]

    @property
    def handled(self) -> bool:
        """``True`` if at least one handler ran."""
        return bool(self.handlers)


def _handler_name(handler: Callable[..., object]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


def _typed(on: Callable[..., Registrar[Any]]) -> On:
    """*on* as type checkers see it: typed by event name, class and pattern (``_on.pyi``)."""
    return cast("On", on)


def _target_of(target: object) -> str | type[Event]:
    """*target* checked: a name, a pattern, or an event class (``Event`` itself is ``"*"``)."""
    if isinstance(target, type) and issubclass(target, Event):
        return "*" if target is Event else target
    if isinstance(target, str) and _SUBSCRIPTION_NAME.fullmatch(target):
        verb = target.rsplit(".", 1)[1]
        msg = (
            f"SuperOffice sends the state events you subscribe to as {target!r} with the "
            f"name 'webhook.{verb}' in the body, which is what handlers are matched on: "
            f"use on('webhook.{verb}') (event.webhook_id tells the webhooks apart)."
        )
        raise ConfigurationError(msg)
    if not isinstance(target, str) or not target:
        msg = (
            "on() takes event names (e.g. 'person.consented'), patterns ('person.*', "
            f"'*.deleted', '*') or event classes, not {target!r}."
        )
        raise ConfigurationError(msg)
    stars = target.count("*")
    if stars == 0 or target == "*":
        return target
    if stars == 1 and (target.endswith(".*") or target.startswith("*.")) and len(target) > 2:  # noqa: PLR2004
        return target
    msg = f"Invalid event pattern {target!r}: use an exact name, 'prefix.*', '*.suffix' or '*'."
    raise ConfigurationError(msg)


def _rank(target: str | type[Event], name: str, mro: tuple[type, ...]) -> int | None:
    """Where handlers of *target* run for an event *name* of a class with *mro*, or ``None``
    if they do not: exact names, then classes from the most specific, then prefix patterns,
    then suffix patterns, then ``"*"``."""
    if not isinstance(target, str):
        return 1 + mro.index(target) if target in mro else None
    if target == "*":
        return len(mro) + 3
    if target.endswith(".*"):
        return len(mro) + 1 if name.startswith(target[:-1]) else None
    if target.startswith("*."):
        return len(mro) + 2 if name.endswith(target[1:]) else None
    return 0 if target == name else None


class Dispatcher:
    """Routes events to handlers by event name or class.

    Register with :meth:`on`. For a :class:`~superoffice_webhooks.events.PersonConsented`
    event the handlers run in this order: exact-name handlers (``"person.consented"``),
    then class handlers from the most specific class to the least (``PersonConsented``,
    then ``PersonEvent``), then prefix patterns (``"person.*"``), then suffix patterns
    (``"*.consented"``), then catch-alls (``"*"``); in registration order within each
    group, this dispatcher's own before those of included dispatchers. A handler
    registered under several matching names, classes or patterns runs once.
    """

    def __init__(self) -> None:
        # (checked target, handler) pairs, in registration order.
        self._routes: list[tuple[str | type[Event], Callable[..., object]]] = []
        self._included: list[Dispatcher] = []
        self._parents: list[Dispatcher] = []
        # Event class -> event name -> what they resolve to.
        self._cache: dict[type[Event], dict[str, _Resolved]] = {}

    # --- registration ---------------------------------------------------------

    @_typed
    def on(self, *targets: str | type[Event]) -> Registrar[Any]:
        """Register the decorated function for one or more event names, patterns or classes.

        ``"person.consented"`` matches that event; ``"person.*"`` any event whose name
        starts with ``person.``; ``"*.deleted"`` any whose last segment is ``deleted``;
        ``"*"`` every event. An event class matches its events and those of its
        subclasses: :class:`~superoffice_webhooks.events.PersonConsented` the
        ``person.consented`` event, :class:`~superoffice_webhooks.events.PersonEvent`
        every documented person event, :class:`~superoffice_webhooks.events.ListItemCreated`
        the item-added event of any list, :class:`~superoffice_webhooks.events.Event` every event.
        Returns the function unchanged.
        """
        if not targets:
            msg = 'on() needs at least one event name, pattern or class, e.g. on("person.*").'
            raise ConfigurationError(msg)
        checked = [_target_of(t) for t in targets]

        def register(handler: Callable[[Any], R]) -> Callable[[Any], R]:
            if not callable(handler):
                msg = f"A handler must be callable, not {type(handler).__name__}."
                raise ConfigurationError(msg)
            self._routes.extend((target, handler) for target in checked)
            self._changed()
            return handler

        return register

    def on_any(self, handler: Callable[[Event], R]) -> Callable[[Event], R]:
        """Register *handler* for every event (the same as ``on("*")``)."""
        return self.on("*")(handler)

    def remove(self, handler: Callable[..., object]) -> None:
        """Unregister *handler* from every name, class and pattern of this dispatcher.

        :raises ConfigurationError: the handler is not registered here.
        """
        found = any(h == handler for _, h in self._routes)
        self._routes = [(t, h) for t, h in self._routes if h != handler]
        if not found:
            msg = f"{_handler_name(handler)} is not registered on this dispatcher."
            raise ConfigurationError(msg)
        self._changed()

    def include(self, other: Dispatcher) -> None:
        """Also run *other*'s handlers, now and as it changes (compose per-module routers)."""
        if not isinstance(other, Dispatcher):
            msg = f"include() takes a Dispatcher, not {type(other).__name__}."
            raise ConfigurationError(msg)
        if other is self or self in other._descendants():
            msg = "Including this dispatcher would create a cycle."
            raise ConfigurationError(msg)
        if other not in self._included:
            self._included.append(other)
            other._parents.append(self)
            self._changed()

    def _descendants(self) -> list[Dispatcher]:
        found: list[Dispatcher] = []
        for child in self._included:
            found.append(child)
            found.extend(child._descendants())
        return found

    def _changed(self) -> None:
        self._cache.clear()
        for parent in self._parents:
            parent._changed()

    # --- lookup ---------------------------------------------------------------

    def patterns(self) -> tuple[str, ...]:
        """Every registered name, pattern and class name, once, in the order they were
        registered: this dispatcher's, then those of included dispatchers."""
        targets = (t for d in (self, *self._descendants()) for t, _ in d._routes)
        return tuple(dict.fromkeys(t if isinstance(t, str) else t.__name__ for t in targets))

    def handlers_for(
        self, name: str, event_class: type[Event] | None = None
    ) -> tuple[Callable[..., object], ...]:
        """The handlers an event named *name* would run, in order.

        The event is of *event_class*, or else of the class :func:`~superoffice_webhooks.parse`
        gives that name.
        """
        if event_class is None:
            from ._parse import event_class as class_of  # noqa: PLC0415  # dispatch needs no parser

            event_class = class_of(name)
        return self._resolve(name, event_class)[0]

    def _resolve(self, name: str, cls: type[Event]) -> _Resolved:
        mro = cls.__mro__
        matched = [
            (rank, handler)
            for dispatcher in (self, *self._descendants())
            for target, handler in dispatcher._routes
            if (rank := _rank(target, name, mro)) is not None
        ]
        # A stable sort keeps registration order, this dispatcher's first, within a rank.
        found = [handler for _, handler in sorted(matched, key=lambda pair: pair[0])]
        # A handler matched twice runs once. Compared with == rather than hashed:
        # handlers need not be hashable, and bound methods are equal, not identical.
        ordered: list[Callable[..., object]] = []
        for handler in found:
            if not any(handler == seen for seen in ordered):
                ordered.append(handler)
        handlers = tuple(ordered)
        has_async = any(inspect.iscoroutinefunction(h) for h in handlers)
        on_loop = tuple(_awaited_on_loop(h) for h in handlers)
        by_name = self._cache.setdefault(cls, {})
        if len(by_name) >= _CACHE_LIMIT:
            by_name.clear()
        resolved = by_name[name] = (handlers, has_async, on_loop)
        return resolved

    # --- dispatch -------------------------------------------------------------

    def dispatch(self, event: Event) -> DispatchResult:
        """Run every handler registered for *event*, in order.

        Every matching handler runs even if one fails; then the failures are raised
        together as a :class:`~superoffice_webhooks.HandlerError`.

        :raises ConfigurationError: a matching handler is async (use :meth:`adispatch`).
        :raises HandlerError: one or more handlers raised.
        """
        handlers, has_async, _ = self._lookup(event)
        if has_async:
            names = ", ".join(_handler_name(h) for h in handlers if inspect.iscoroutinefunction(h))
            msg = (
                f"Handler {names} is async; dispatch() cannot await it. Use "
                "`await adispatch(event)` (or an AsyncReceiver) instead."
            )
            raise ConfigurationError(msg)
        results: list[object] = []
        errors: list[Exception] = []
        for handler in handlers:
            try:
                result = handler(event)
            except Exception as exc:  # noqa: BLE001  # collected and raised as a group below
                errors.append(exc)
                continue
            if result is not None and inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                msg = (
                    f"Handler {_handler_name(handler)} returned an awaitable; dispatch() "
                    "cannot await it. Use `await adispatch(event)` instead."
                )
                errors.append(ConfigurationError(msg))
                continue
            results.append(result)
        return self._finish(event, handlers, results, errors)

    async def adispatch(
        self,
        event: Event,
        *,
        run_sync: Callable[[Callable[[], object]], Awaitable[object]] = to_thread,
    ) -> DispatchResult:
        """Like :meth:`dispatch`, awaiting async handlers and running sync ones off the loop.

        A coroutine function (or an object whose ``__call__`` is one) is awaited on the
        event loop. Any other handler is called off the loop: *run_sync* is given a
        function of no arguments that calls it, and returns an awaitable of its result.
        The default, ``asyncio.to_thread``, runs it in a worker thread with a copy of
        the context variables; Django code passes
        ``lambda f: sync_to_async(f, thread_sensitive=True)()``. So a slow or blocking
        handler never holds up the loop. An awaitable a sync handler returns is awaited
        on the loop. Handlers still run one after another, in order.

        :raises ConfigurationError: *event* is not an Event.
        :raises HandlerError: one or more handlers raised.
        """
        handlers, _, on_loop = self._lookup(event)
        results: list[object] = []
        errors: list[Exception] = []
        for handler, awaited in zip(handlers, on_loop, strict=True):
            try:
                if awaited:
                    result = await handler(event)  # type: ignore[misc]  # a coroutine function
                else:
                    result = await run_sync(functools.partial(handler, event))
                    if inspect.isawaitable(result):
                        result = await result
            except Exception as exc:  # noqa: BLE001  # collected and raised as a group below
                errors.append(exc)
                continue
            results.append(result)
        return self._finish(event, handlers, results, errors)

    def _lookup(self, event: Event) -> _Resolved:
        if not isinstance(event, Event):
            msg = f"dispatch() takes an Event (from parse()), not {type(event).__name__}."
            raise ConfigurationError(msg)
        by_name = self._cache.get(type(event))
        if by_name is not None:
            cached = by_name.get(event.event)
            if cached is not None:
                return cached
        return self._resolve(event.event, type(event))

    @staticmethod
    def _finish(
        event: Event,
        handlers: tuple[Callable[..., object], ...],
        results: list[object],
        errors: list[Exception],
    ) -> DispatchResult:
        if errors:
            msg = f"{len(errors)} of {len(handlers)} handler(s) failed for {event.event} event"
            raise HandlerError(msg, errors, event=event)
        return DispatchResult(event=event, handlers=handlers, results=tuple(results))


#: The dispatcher behind the module-level ``on``, ``dispatch`` and ``adispatch``.
default_dispatcher = Dispatcher()
#: ``@on(...)`` on the default dispatcher.
on = default_dispatcher.on
#: ``on_any`` on the default dispatcher.
on_any = default_dispatcher.on_any
#: ``dispatch(event)`` on the default dispatcher.
dispatch = default_dispatcher.dispatch
#: ``await adispatch(event)`` on the default dispatcher.
adispatch = default_dispatcher.adispatch
