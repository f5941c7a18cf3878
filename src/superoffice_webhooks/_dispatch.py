"""Dispatcher: route a parsed event to the handlers registered for its name."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar, overload

import attrs

from ._events import (
    Event,
    PersonChanged,
    PersonConsented,
    PersonCreated,
    PersonDeleted,
    PersonEvent,
    PersonSoftDeleted,
    PersonUnconsented,
    UnknownEvent,
)
from .exceptions import ConfigurationError, HandlerError

__all__ = [
    "DispatchResult",
    "Dispatcher",
    "Handler",
    "Registrar",
    "adispatch",
    "default_dispatcher",
    "dispatch",
    "on",
    "on_any",
]

E = TypeVar("E", bound=Event)
R = TypeVar("R")

#: A handler: a callable taking the event; it may be ``async``.
Handler = Callable[[E], object] | Callable[[E], Awaitable[object]]

_CACHE_LIMIT = 1024


class Registrar(Protocol[E]):
    """What ``on(...)`` returns: a decorator that registers and returns the handler."""

    def __call__(self, handler: Callable[[E], R], /) -> Callable[[E], R]:
        """Register *handler* and return it unchanged."""
        ...


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


def _pattern_of(target: object) -> str:
    if isinstance(target, type) and issubclass(target, Event):
        if target is Event:
            return "*"
        if target.event_name is None:
            msg = (
                f"{target.__name__} stands for no single event name. Register a name or "
                'a pattern instead, e.g. on("person.*").'
            )
            raise ConfigurationError(msg)
        return target.event_name
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


class Dispatcher:
    """Routes events to handlers by event name.

    Register with :meth:`on`. For an event named ``"person.consented"`` the handlers run
    in this order: exact-name handlers, then prefix patterns (``"person.*"``), then
    suffix patterns (``"*.consented"``), then catch-alls (``"*"``); in registration order
    within each group, this dispatcher's own before those of included dispatchers.
    A handler registered under several matching patterns runs once.
    """

    def __init__(self) -> None:
        self._exact: dict[str, list[Callable[..., object]]] = {}
        self._prefix: list[tuple[str, Callable[..., object]]] = []
        self._suffix: list[tuple[str, Callable[..., object]]] = []
        self._any: list[Callable[..., object]] = []
        self._included: list[Dispatcher] = []
        self._parents: list[Dispatcher] = []
        self._cache: dict[str, tuple[tuple[Callable[..., object], ...], bool]] = {}

    # --- registration ---------------------------------------------------------

    @overload
    def on(self, name: Literal["person.created"], /) -> Registrar[PersonCreated]: ...
    @overload
    def on(self, name: Literal["person.changed"], /) -> Registrar[PersonChanged]: ...
    @overload
    def on(self, name: Literal["person.softdeleted"], /) -> Registrar[PersonSoftDeleted]: ...
    @overload
    def on(self, name: Literal["person.deleted"], /) -> Registrar[PersonDeleted]: ...
    @overload
    def on(self, name: Literal["person.consented"], /) -> Registrar[PersonConsented]: ...
    @overload
    def on(self, name: Literal["person.unconsented"], /) -> Registrar[PersonUnconsented]: ...
    @overload
    def on(self, name: Literal["person.*"], /) -> Registrar[PersonEvent | UnknownEvent]: ...
    @overload
    def on(self, event_class: type[E], /) -> Registrar[E]: ...
    @overload
    def on(self, *targets: str | type[Event]) -> Registrar[Event]: ...

    def on(self, *targets: str | type[Event]) -> Registrar[Any]:
        """Register the decorated function for one or more event names, patterns or classes.

        ``"person.consented"`` or :class:`~superoffice_webhooks.PersonConsented` match
        that event; ``"person.*"`` any event whose name starts with ``person.``;
        ``"*.deleted"`` any whose last segment is ``deleted``; ``"*"`` every event.
        Returns the function unchanged.
        """
        if not targets:
            msg = 'on() needs at least one event name, pattern or class, e.g. on("person.*").'
            raise ConfigurationError(msg)
        patterns = [_pattern_of(t) for t in targets]

        def register(handler: Callable[[Any], R]) -> Callable[[Any], R]:
            if not callable(handler):
                msg = f"A handler must be callable, not {type(handler).__name__}."
                raise ConfigurationError(msg)
            for pattern in patterns:
                self._add(pattern, handler)
            return handler

        return register

    def on_any(self, handler: Callable[[Event], R]) -> Callable[[Event], R]:
        """Register *handler* for every event (the same as ``on("*")``)."""
        return self.on("*")(handler)

    def _add(self, pattern: str, handler: Callable[..., object]) -> None:
        if pattern == "*":
            self._any.append(handler)
        elif pattern.endswith(".*"):
            self._prefix.append((pattern[:-1], handler))
        elif pattern.startswith("*."):
            self._suffix.append((pattern[1:], handler))
        else:
            self._exact.setdefault(pattern, []).append(handler)
        self._changed()

    def remove(self, handler: Callable[..., object]) -> None:
        """Unregister *handler* from every name and pattern of this dispatcher.

        :raises ConfigurationError: the handler is not registered here.
        """
        found = handler in self._any
        self._any = [h for h in self._any if h != handler]
        for name, handlers in list(self._exact.items()):
            found |= handler in handlers
            kept = [h for h in handlers if h != handler]
            if kept:
                self._exact[name] = kept
            else:
                del self._exact[name]
        for tier in (self._prefix, self._suffix):
            found |= any(h == handler for _, h in tier)
            tier[:] = [(p, h) for p, h in tier if h != handler]
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
        """Every registered name and pattern, with those of included dispatchers."""
        seen: dict[str, None] = {}
        for dispatcher in (self, *self._descendants()):
            seen.update(dict.fromkeys(dispatcher._exact))
            seen.update(dict.fromkeys(p + "*" for p, _ in dispatcher._prefix))
            seen.update(dict.fromkeys("*" + s for s, _ in dispatcher._suffix))
            if dispatcher._any:
                seen["*"] = None
        return tuple(seen)

    def handlers_for(self, name: str) -> tuple[Callable[..., object], ...]:
        """The handlers an event named *name* would run, in order."""
        return self._resolve(name)[0]

    def _resolve(self, name: str) -> tuple[tuple[Callable[..., object], ...], bool]:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        every = (self, *self._descendants())
        found: list[Callable[..., object]] = []
        for dispatcher in every:
            found.extend(dispatcher._exact.get(name, ()))
        for dispatcher in every:
            found.extend(h for p, h in dispatcher._prefix if name.startswith(p))
        for dispatcher in every:
            found.extend(h for s, h in dispatcher._suffix if name.endswith(s))
        for dispatcher in every:
            found.extend(dispatcher._any)
        # A handler matched twice runs once. Compared with == rather than hashed:
        # handlers need not be hashable, and bound methods are equal, not identical.
        ordered: list[Callable[..., object]] = []
        for handler in found:
            if not any(handler == seen for seen in ordered):
                ordered.append(handler)
        handlers = tuple(ordered)
        has_async = any(inspect.iscoroutinefunction(h) for h in handlers)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[name] = (handlers, has_async)
        return handlers, has_async

    # --- dispatch -------------------------------------------------------------

    def dispatch(self, event: Event) -> DispatchResult:
        """Run every handler registered for *event*, in order.

        Every matching handler runs even if one fails; then the failures are raised
        together as a :class:`~superoffice_webhooks.HandlerError`.

        :raises ConfigurationError: a matching handler is async (use :meth:`adispatch`).
        :raises HandlerError: one or more handlers raised.
        """
        handlers, has_async = self._lookup(event)
        if has_async:
            names = ", ".join(_handler_name(h) for h in handlers if inspect.iscoroutinefunction(h))
            msg = (
                f"Handler {names} is async; dispatch() cannot await it. Use "
                "`await adispatch(event)` (or Receiver.areceive) instead."
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
            if inspect.isawaitable(result):
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

    async def adispatch(self, event: Event) -> DispatchResult:
        """Like :meth:`dispatch`, awaiting async handlers; sync handlers are called as is."""
        handlers, _ = self._lookup(event)
        results: list[object] = []
        errors: list[Exception] = []
        for handler in handlers:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:  # noqa: BLE001  # collected and raised as a group below
                errors.append(exc)
                continue
            results.append(result)
        return self._finish(event, handlers, results, errors)

    def _lookup(self, event: Event) -> tuple[tuple[Callable[..., object], ...], bool]:
        if not isinstance(event, Event):
            msg = f"dispatch() takes an Event (from parse()), not {type(event).__name__}."
            raise ConfigurationError(msg)
        return self._resolve(event.event)

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
