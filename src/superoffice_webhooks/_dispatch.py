"""Dispatcher: route a parsed event to the handlers registered for its name."""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

import attrs

from ._events import Event
from .exceptions import ConfigurationError, HandlerError

if TYPE_CHECKING:
    from . import _generated_events as _ge
    from ._events import TestEvent, UnknownEvent

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
#: What a name resolves to: its handlers, whether any is a coroutine function, and
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
        self._cache: dict[str, _Resolved] = {}

    # --- registration ---------------------------------------------------------

    # fmt: off
    # --- generated on() overloads: begin (python -m superoffice_webhooks._generate)
    @overload
    def on(self, name: Literal["test"], /) -> Registrar[TestEvent]: ...
    @overload
    def on(self, name: Literal["activity.created"], /) -> Registrar[_ge.ActivityCreated]: ...
    @overload
    def on(self, name: Literal["activity.changed"], /) -> Registrar[_ge.ActivityChanged]: ...
    @overload
    def on(self, name: Literal["activity.deleted"], /) -> Registrar[_ge.ActivityDeleted]: ...
    @overload
    def on(self, name: Literal["associate.created"], /) -> Registrar[_ge.AssociateCreated]: ...
    @overload
    def on(self, name: Literal["associate.changed"], /) -> Registrar[_ge.AssociateChanged]: ...
    @overload
    def on(self, name: Literal["associate.deleted"], /) -> Registrar[_ge.AssociateDeleted]: ...
    @overload
    def on(self, name: Literal["chatsession.created"], /) -> Registrar[_ge.ChatSessionCreated]: ...
    @overload
    def on(self, name: Literal["chatsession.message"], /) -> Registrar[_ge.ChatSessionMessage]: ...
    @overload
    def on(self, name: Literal["chatsession.changed"], /) -> Registrar[_ge.ChatSessionChanged]: ...
    @overload
    def on(self, name: Literal["contact.created"], /) -> Registrar[_ge.ContactCreated]: ...
    @overload
    def on(self, name: Literal["contact.changed"], /) -> Registrar[_ge.ContactChanged]: ...
    @overload
    def on(self, name: Literal["contact.deleted"], /) -> Registrar[_ge.ContactDeleted]: ...
    @overload
    def on(self, name: Literal["contact.softdeleted"], /) -> Registrar[_ge.ContactSoftDeleted]: ...
    @overload
    def on(self, name: Literal["document.created"], /) -> Registrar[_ge.DocumentCreated]: ...
    @overload
    def on(self, name: Literal["document.changed"], /) -> Registrar[_ge.DocumentChanged]: ...
    @overload
    def on(self, name: Literal["document.deleted"], /) -> Registrar[_ge.DocumentDeleted]: ...
    @overload
    def on(self, name: Literal["document.edited"], /) -> Registrar[_ge.DocumentEdited]: ...
    @overload
    def on(self, name: Literal["person.created"], /) -> Registrar[_ge.PersonCreated]: ...
    @overload
    def on(self, name: Literal["person.changed"], /) -> Registrar[_ge.PersonChanged]: ...
    @overload
    def on(self, name: Literal["person.softdeleted"], /) -> Registrar[_ge.PersonSoftDeleted]: ...
    @overload
    def on(self, name: Literal["person.deleted"], /) -> Registrar[_ge.PersonDeleted]: ...
    @overload
    def on(self, name: Literal["person.consented"], /) -> Registrar[_ge.PersonConsented]: ...
    @overload
    def on(self, name: Literal["person.unconsented"], /) -> Registrar[_ge.PersonUnconsented]: ...
    @overload
    def on(self, name: Literal["project.created"], /) -> Registrar[_ge.ProjectCreated]: ...
    @overload
    def on(self, name: Literal["project.changed"], /) -> Registrar[_ge.ProjectChanged]: ...
    @overload
    def on(self, name: Literal["project.deleted"], /) -> Registrar[_ge.ProjectDeleted]: ...
    @overload
    def on(self, name: Literal["projectmember.created"], /) -> Registrar[_ge.ProjectMemberCreated]: ...
    @overload
    def on(self, name: Literal["projectmember.changed"], /) -> Registrar[_ge.ProjectMemberChanged]: ...
    @overload
    def on(self, name: Literal["projectmember.deleted"], /) -> Registrar[_ge.ProjectMemberDeleted]: ...
    @overload
    def on(self, name: Literal["quote.approved"], /) -> Registrar[_ge.QuoteApproved]: ...
    @overload
    def on(self, name: Literal["quote.rejected"], /) -> Registrar[_ge.QuoteRejected]: ...
    @overload
    def on(self, name: Literal["quote.sent"], /) -> Registrar[_ge.QuoteSent]: ...
    @overload
    def on(self, name: Literal["quote.ordered"], /) -> Registrar[_ge.QuoteOrdered]: ...
    @overload
    def on(self, name: Literal["relation.created"], /) -> Registrar[_ge.RelationCreated]: ...
    @overload
    def on(self, name: Literal["relation.changed"], /) -> Registrar[_ge.RelationChanged]: ...
    @overload
    def on(self, name: Literal["relation.deleted"], /) -> Registrar[_ge.RelationDeleted]: ...
    @overload
    def on(self, name: Literal["sale.created"], /) -> Registrar[_ge.SaleCreated]: ...
    @overload
    def on(self, name: Literal["sale.changed"], /) -> Registrar[_ge.SaleChanged]: ...
    @overload
    def on(self, name: Literal["sale.deleted"], /) -> Registrar[_ge.SaleDeleted]: ...
    @overload
    def on(self, name: Literal["sale.sold"], /) -> Registrar[_ge.SaleSold]: ...
    @overload
    def on(self, name: Literal["sale.lost"], /) -> Registrar[_ge.SaleLost]: ...
    @overload
    def on(self, name: Literal["sale.completed"], /) -> Registrar[_ge.SaleCompleted]: ...
    @overload
    def on(self, name: Literal["salestakeholder.created"], /) -> Registrar[_ge.SaleStakeholderCreated]: ...
    @overload
    def on(self, name: Literal["salestakeholder.changed"], /) -> Registrar[_ge.SaleStakeholderChanged]: ...
    @overload
    def on(self, name: Literal["salestakeholder.deleted"], /) -> Registrar[_ge.SaleStakeholderDeleted]: ...
    @overload
    def on(self, name: Literal["ticket.created"], /) -> Registrar[_ge.TicketCreated]: ...
    @overload
    def on(self, name: Literal["ticket.changed"], /) -> Registrar[_ge.TicketChanged]: ...
    @overload
    def on(self, name: Literal["list.amountclass.created", "list.associate.created", "list.business.created", "list.category.created", "list.comptr.created", "list.contint.created", "list.country.created", "list.credited.created", "list.currency.created", "list.deliveryterms.created", "list.deliverytype.created", "list.doctmpl.created", "list.extapp.created", "list.intent.created", "list.mrmrs.created", "list.paymentterms.created", "list.paymenttype.created", "list.persint.created", "list.perspos.created", "list.pmembtype.created", "list.priceunit.created", "list.priority.created", "list.prob.created", "list.productcategory.created", "list.productfamily.created", "list.producttype.created", "list.projstatus.created", "list.projtype.created", "list.quoteapprreason.created", "list.quotedenyreason.created", "list.reason.created", "list.reasonsold.created", "list.reasonstalled.created", "list.rejectreason.created", "list.relationdefinition.created", "list.saletype.created", "list.saletypecat.created", "list.salutation.created", "list.searchcat.created", "list.source.created", "list.stakeholderrole.created", "list.subscriptionunit.created", "list.tags.created", "list.task.created", "list.taskmenu.created", "list.udlist.created", "list.consentpurpose.created", "list.consentsource.created", "list.legalbase.created", "list.pricelist.created", "list.saletypestagelink.created", "list.ejcategory.created", "list.ticketpriority.created", "list.ticketstatus.created", "list.tickettype.created", "list.usergroup.created", "list.udlistdefinition.created"], /) -> Registrar[_ge.ListItemCreated]: ...
    @overload
    def on(self, name: Literal["list.amountclass.changed", "list.associate.changed", "list.business.changed", "list.category.changed", "list.comptr.changed", "list.contint.changed", "list.country.changed", "list.credited.changed", "list.currency.changed", "list.deliveryterms.changed", "list.deliverytype.changed", "list.doctmpl.changed", "list.extapp.changed", "list.intent.changed", "list.mrmrs.changed", "list.paymentterms.changed", "list.paymenttype.changed", "list.persint.changed", "list.perspos.changed", "list.pmembtype.changed", "list.priceunit.changed", "list.priority.changed", "list.prob.changed", "list.productcategory.changed", "list.productfamily.changed", "list.producttype.changed", "list.projstatus.changed", "list.projtype.changed", "list.quoteapprreason.changed", "list.quotedenyreason.changed", "list.reason.changed", "list.reasonsold.changed", "list.reasonstalled.changed", "list.rejectreason.changed", "list.relationdefinition.changed", "list.saletype.changed", "list.saletypecat.changed", "list.salutation.changed", "list.searchcat.changed", "list.source.changed", "list.stakeholderrole.changed", "list.subscriptionunit.changed", "list.tags.changed", "list.task.changed", "list.taskmenu.changed", "list.udlist.changed", "list.consentpurpose.changed", "list.consentsource.changed", "list.legalbase.changed", "list.pricelist.changed", "list.saletypestagelink.changed", "list.ejcategory.changed", "list.ticketpriority.changed", "list.ticketstatus.changed", "list.tickettype.changed", "list.usergroup.changed", "list.udlistdefinition.changed"], /) -> Registrar[_ge.ListItemChanged]: ...
    @overload
    def on(self, name: Literal["list.amountclass.softdeleted", "list.associate.softdeleted", "list.business.softdeleted", "list.category.softdeleted", "list.comptr.softdeleted", "list.contint.softdeleted", "list.country.softdeleted", "list.credited.softdeleted", "list.currency.softdeleted", "list.deliveryterms.softdeleted", "list.deliverytype.softdeleted", "list.doctmpl.softdeleted", "list.extapp.softdeleted", "list.intent.softdeleted", "list.mrmrs.softdeleted", "list.paymentterms.softdeleted", "list.paymenttype.softdeleted", "list.persint.softdeleted", "list.perspos.softdeleted", "list.pmembtype.softdeleted", "list.priceunit.softdeleted", "list.priority.softdeleted", "list.prob.softdeleted", "list.productcategory.softdeleted", "list.productfamily.softdeleted", "list.producttype.softdeleted", "list.projstatus.softdeleted", "list.projtype.softdeleted", "list.quoteapprreason.softdeleted", "list.quotedenyreason.softdeleted", "list.reason.softdeleted", "list.reasonsold.softdeleted", "list.reasonstalled.softdeleted", "list.rejectreason.softdeleted", "list.relationdefinition.softdeleted", "list.saletype.softdeleted", "list.saletypecat.softdeleted", "list.salutation.softdeleted", "list.searchcat.softdeleted", "list.source.softdeleted", "list.stakeholderrole.softdeleted", "list.subscriptionunit.softdeleted", "list.tags.softdeleted", "list.task.softdeleted", "list.taskmenu.softdeleted", "list.udlist.softdeleted", "list.consentpurpose.softdeleted", "list.consentsource.softdeleted", "list.legalbase.softdeleted", "list.pricelist.softdeleted", "list.saletypestagelink.softdeleted", "list.ejcategory.softdeleted", "list.ticketpriority.softdeleted", "list.ticketstatus.softdeleted", "list.tickettype.softdeleted", "list.usergroup.softdeleted", "list.udlistdefinition.softdeleted"], /) -> Registrar[_ge.ListItemSoftDeleted]: ...
    @overload
    def on(self, name: Literal["webhook.started"], /) -> Registrar[_ge.WebhookStarted]: ...
    @overload
    def on(self, name: Literal["webhook.stopped"], /) -> Registrar[_ge.WebhookStopped]: ...
    @overload
    def on(self, name: Literal["webhook.errors"], /) -> Registrar[_ge.WebhookErrors]: ...
    @overload
    def on(self, name: Literal["activity.*"], /) -> Registrar[_ge.ActivityEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["associate.*"], /) -> Registrar[_ge.AssociateEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["chatsession.*"], /) -> Registrar[_ge.ChatSessionEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["contact.*"], /) -> Registrar[_ge.ContactEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["document.*"], /) -> Registrar[_ge.DocumentEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["person.*"], /) -> Registrar[_ge.PersonEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["project.*"], /) -> Registrar[_ge.ProjectEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["projectmember.*"], /) -> Registrar[_ge.ProjectMemberEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["quote.*"], /) -> Registrar[_ge.QuoteEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["relation.*"], /) -> Registrar[_ge.RelationEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["sale.*"], /) -> Registrar[_ge.SaleEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["salestakeholder.*"], /) -> Registrar[_ge.SaleStakeholderEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["ticket.*"], /) -> Registrar[_ge.TicketEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["list.*"], /) -> Registrar[_ge.ListItemEvent | UnknownEvent]: ...
    @overload
    def on(self, name: Literal["webhook.*"], /) -> Registrar[_ge.WebhookEvent | UnknownEvent]: ...
    # --- generated on() overloads: end
    # fmt: on
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

    def _resolve(self, name: str) -> _Resolved:
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
        on_loop = tuple(_awaited_on_loop(h) for h in handlers)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        resolved = self._cache[name] = (handlers, has_async, on_loop)
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
        run_sync: Callable[[Callable[[], object]], Awaitable[object]] = asyncio.to_thread,
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
