"""Dispatcher: routing by name, pattern and class; order; failures; async; composition."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import gc
import inspect
import threading
import warnings
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import superoffice_webhooks as sow
from conftest import example
from superoffice_webhooks import ConfigurationError, Dispatcher, Event, HandlerError, _dispatch

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator


def event(name: str) -> Event:
    """The documented example payload *name*, parsed."""
    return sow.parse(example(name))


def named(name: str) -> Event:
    """The person.created example with its ``Event`` name replaced by *name*."""
    return sow.parse(example("person.created").replace(b'"person.created"', f'"{name}"'.encode()))


class Recorder:
    """Makes handlers that append their label (and the event) to a shared list."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[Event] = []

    def handler(self, label: str) -> Callable[[Event], str]:
        def handle(e: Event) -> str:
            self.calls.append(label)
            self.events.append(e)
            return f"result-{label}"

        handle.__qualname__ = f"handle_{label}"
        return handle


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def d() -> Dispatcher:
    return Dispatcher()


# --- registration by name, class and pattern -----------------------------------


def test_on_exact_name(d: Dispatcher, rec: Recorder) -> None:
    """on("person.consented") runs for that event only, with the parsed event."""
    d.on("person.consented")(rec.handler("h"))
    consented = event("person.consented")

    d.dispatch(event("person.created"))
    assert rec.calls == []

    d.dispatch(consented)
    assert rec.calls == ["h"]
    assert rec.events == [consented]
    assert isinstance(rec.events[0], sow.PersonConsented)


def test_on_event_class(d: Dispatcher, rec: Recorder) -> None:
    """on(PersonConsented) runs for events of that class."""
    d.on(sow.PersonConsented)(rec.handler("h"))

    d.dispatch(event("person.unconsented"))
    d.dispatch(event("person.consented"))

    assert rec.calls == ["h"]
    assert d.patterns() == ("PersonConsented",)


def test_on_base_class_matches_its_subclasses(d: Dispatcher, rec: Recorder) -> None:
    """on(PersonEvent) runs for every person event class, and not for other entities."""
    d.on(sow.PersonEvent)(rec.handler("person"))

    d.dispatch(event("person.consented"))
    d.dispatch(event("person.deleted"))
    d.dispatch(event("contact.created"))
    d.dispatch(named("person.renamed"))  # an UnknownEvent, not a PersonEvent

    assert rec.calls == ["person", "person"]


def test_on_family_classes(d: Dispatcher, rec: Recorder) -> None:
    """on(ListItemCreated) and on(ExtraTableEvent) match events whose names no table holds."""
    d.on(sow.ListItemCreated)(rec.handler("list-created"))
    d.on(sow.ExtraTableEvent)(rec.handler("extra"))

    d.dispatch(named("list.category.created"))
    d.dispatch(named("list.110.created"))
    d.dispatch(named("list.category.changed"))
    d.dispatch(named("y_table.created"))
    d.dispatch(named("y_other.deleted"))

    assert rec.calls == ["list-created", "list-created", "extra", "extra"]


def test_class_handlers_run_most_specific_first(d: Dispatcher, rec: Recorder) -> None:
    """Exact names first, then classes along the MRO (most specific first), then patterns."""
    d.on("person.*")(rec.handler("prefix"))
    d.on(sow.PersonEvent)(rec.handler("base"))
    d.on(sow.PersonConsented)(rec.handler("class"))
    d.on("person.consented")(rec.handler("exact"))

    d.dispatch(event("person.consented"))

    assert rec.calls == ["exact", "class", "base", "prefix"]


def test_an_event_subclass_of_your_own_is_routed_by_its_bases(d: Dispatcher, rec: Recorder) -> None:
    """A handler for a class also runs for events of a subclass defined later."""
    d.on(sow.PersonCreated)(rec.handler("created"))
    d.dispatch(event("person.created"))

    @attrs.frozen(kw_only=True)
    class AuditedPersonCreated(sow.PersonCreated):
        pass

    d.dispatch(AuditedPersonCreated(**attrs.asdict(event("person.created"), recurse=False)))

    assert rec.calls == ["created", "created"]


def test_class_routing_is_cached_per_class(d: Dispatcher, rec: Recorder) -> None:
    """The same name resolves differently for different classes, and a new handler is seen."""
    d.on(sow.PersonCreated)(rec.handler("created"))
    unknown = sow.UnknownEvent(**attrs.asdict(event("person.created"), recurse=False))
    d.dispatch(event("person.created"))
    d.dispatch(unknown)
    d.on(sow.UnknownEvent)(rec.handler("unknown"))
    d.dispatch(unknown)

    assert rec.calls == ["created", "unknown"]
    assert d.handlers_for("person.created", sow.UnknownEvent) == d.handlers_for("x.y")


def test_prefix_pattern(d: Dispatcher, rec: Recorder) -> None:
    """on("person.*") matches every name starting with "person." and nothing else."""
    d.on("person.*")(rec.handler("h"))

    for name in ("person.created", "person.changed", "person.deleted", "person.consented"):
        d.dispatch(event(name))
    d.dispatch(event("contact.created"))
    d.dispatch(named("personal.created"))
    d.dispatch(named("person"))

    assert [e.event for e in rec.events] == [
        "person.created",
        "person.changed",
        "person.deleted",
        "person.consented",
    ]


def test_prefix_pattern_matches_three_part_names(d: Dispatcher, rec: Recorder) -> None:
    """on("list.*") matches names with more than two parts, e.g. list.category.created."""
    d.on("list.*")(rec.handler("h"))

    d.dispatch(event("list.category.created"))
    d.dispatch(event("list.110.softdeleted"))
    d.dispatch(event("project.created"))

    assert [e.event for e in rec.events] == ["list.category.created", "list.110.softdeleted"]


def test_suffix_pattern(d: Dispatcher, rec: Recorder) -> None:
    """on("*.deleted") matches names whose last segment is "deleted", also 3-part ones."""
    d.on("*.deleted")(rec.handler("h"))

    d.dispatch(event("person.deleted"))
    d.dispatch(event("contact.deleted"))
    d.dispatch(named("list.category.deleted"))
    d.dispatch(named("person.softdeleted"))
    d.dispatch(event("person.created"))
    d.dispatch(named("deleted"))

    assert [e.event for e in rec.events] == [
        "person.deleted",
        "contact.deleted",
        "list.category.deleted",
    ]


def test_catch_all_pattern(d: Dispatcher, rec: Recorder) -> None:
    """on("*") matches every event, known or unknown."""
    d.on("*")(rec.handler("h"))
    names = ["person.created", "contact.created", "list.category.created", "webhook.started"]

    for name in names:
        d.dispatch(event(name))

    assert [e.event for e in rec.events] == names


def test_on_event_base_class_means_catch_all(d: Dispatcher, rec: Recorder) -> None:
    """on(Event) is the same as on("*")."""
    d.on(Event)(rec.handler("h"))

    d.dispatch(event("person.created"))
    d.dispatch(event("quote.approved"))

    assert rec.calls == ["h", "h"]
    assert d.patterns() == ("*",)


def test_on_any(d: Dispatcher, rec: Recorder) -> None:
    """on_any(handler) registers for every event and returns the handler."""
    handler = rec.handler("h")

    assert d.on_any(handler) is handler

    d.dispatch(event("person.created"))
    d.dispatch(event("sale.created"))
    assert rec.calls == ["h", "h"]
    assert d.handlers_for("anything.at.all") == (handler,)


def test_several_names_at_once(d: Dispatcher, rec: Recorder) -> None:
    """on(a, b, C) registers one handler for all of them, mixing names, patterns, classes."""
    d.on("person.created", sow.PersonDeleted, "contact.*")(rec.handler("h"))

    for name in ("person.created", "person.changed", "person.deleted", "contact.changed"):
        d.dispatch(event(name))

    assert [e.event for e in rec.events] == ["person.created", "person.deleted", "contact.changed"]


def test_several_handlers_per_event(d: Dispatcher, rec: Recorder) -> None:
    """Every handler registered for an event runs, in registration order."""
    d.on("person.created")(rec.handler("first"))
    d.on("person.created")(rec.handler("second"))
    d.on("person.created")(rec.handler("third"))

    d.dispatch(event("person.created"))

    assert rec.calls == ["first", "second", "third"]


def test_order_exact_prefix_suffix_catch_all(d: Dispatcher, rec: Recorder) -> None:
    """Exact names run first, then prefixes, then suffixes, then "*"; registration order in each."""
    d.on("*")(rec.handler("any-1"))
    d.on("*.consented")(rec.handler("suffix-1"))
    d.on("person.*")(rec.handler("prefix-1"))
    d.on("person.consented")(rec.handler("exact-1"))
    d.on("*")(rec.handler("any-2"))
    d.on("*.consented")(rec.handler("suffix-2"))
    d.on("person.consented")(rec.handler("exact-2"))
    d.on("person.*")(rec.handler("prefix-2"))

    d.dispatch(event("person.consented"))

    assert rec.calls == [
        "exact-1",
        "exact-2",
        "prefix-1",
        "prefix-2",
        "suffix-1",
        "suffix-2",
        "any-1",
        "any-2",
    ]
    assert [h.__qualname__ for h in d.handlers_for("person.consented")] == [
        f"handle_{label}" for label in rec.calls
    ]


def test_handler_under_two_matching_patterns_runs_once(d: Dispatcher, rec: Recorder) -> None:
    """A handler matching through several patterns runs once, at its earliest place."""
    both = rec.handler("both")
    d.on("*")(both)
    prefix = d.on("person.*")(rec.handler("prefix"))
    d.on("person.created", "*.created")(both)
    d.on("person.created")(both)

    result = d.dispatch(event("person.created"))

    assert rec.calls == ["both", "prefix"]
    assert result.handlers == (both, prefix)


def test_on_returns_the_function_unchanged(d: Dispatcher) -> None:
    """The decorator returns the very function it was given."""

    def handler(e: Event) -> None:
        return None

    assert d.on("person.created")(handler) is handler
    assert d.on("person.*", "*")(handler) is handler
    assert d.on(sow.PersonCreated)(handler) is handler


@dataclasses.dataclass
class CallableRecord:
    """A callable handler object that, like every eq dataclass, is unhashable."""

    seen: list[str] = dataclasses.field(default_factory=list)

    def __call__(self, e: Event) -> None:
        self.seen.append(e.event)


def test_unhashable_callable_handler(d: Dispatcher) -> None:
    """Any callable is a handler, also an unhashable one: it runs once and can be removed."""
    handler = CallableRecord()
    d.on("person.created", "person.*")(handler)

    result = d.dispatch(event("person.created"))

    assert handler.seen == ["person.created"]
    assert result.handlers == (handler,)
    d.remove(handler)
    assert d.handlers_for("person.created") == ()


# --- invalid registrations -------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["", "per*son", "*.*x", "**", "*.*", "person.*.*", "*x", "x*", ".*", "*."],
)
def test_invalid_patterns(d: Dispatcher, target: str) -> None:
    """Patterns other than a name, 'prefix.*', '*.suffix' or '*' are rejected."""
    with pytest.raises(ConfigurationError):
        d.on(target)
    assert d.patterns() == ()


@pytest.mark.parametrize("target", [42, None, b"person.created", int, sow.FieldValues])
def test_invalid_targets(d: Dispatcher, target: Any) -> None:
    """Targets other than names, patterns and Event classes are rejected."""
    with pytest.raises(ConfigurationError):
        d.on(target)
    assert d.patterns() == ()


def test_invalid_target_among_valid_ones_registers_nothing(d: Dispatcher) -> None:
    """One bad target makes the whole on(...) call fail before anything is registered."""
    with pytest.raises(ConfigurationError):
        d.on("person.created", "per*son")
    assert d.patterns() == ()


def test_on_without_arguments(d: Dispatcher) -> None:
    """on() with no names is a configuration error."""
    with pytest.raises(ConfigurationError):
        d.on()


def test_non_callable_handler(d: Dispatcher) -> None:
    """Decorating something that is not callable is a configuration error."""
    register: Any = d.on("person.created")
    with pytest.raises(ConfigurationError):
        register(42)
    assert d.handlers_for("person.created") == ()


# --- failures ----------------------------------------------------------------------


def test_all_handlers_run_and_failures_are_grouped(d: Dispatcher, rec: Recorder) -> None:
    """A failing handler does not stop the others; all failures come as one HandlerError."""
    first = ValueError("first")
    second = KeyError("second")

    def fail_first(e: Event) -> None:
        rec.calls.append("fail_first")
        raise first

    def fail_second(e: Event) -> None:
        rec.calls.append("fail_second")
        raise second

    d.on("person.created")(fail_first)
    d.on("person.*")(rec.handler("ok"))
    d.on("*")(fail_second)
    d.on("*")(rec.handler("ok-after"))
    created = event("person.created")

    with pytest.raises(HandlerError) as info:
        d.dispatch(created)

    assert rec.calls == ["fail_first", "ok", "fail_second", "ok-after"]
    err = info.value
    assert isinstance(err, ExceptionGroup)
    assert isinstance(err, sow.SuperOfficeWebhookError)
    assert err.event is created
    assert err.exceptions == (first, second)


def test_except_star_keeps_handler_error_and_event(d: Dispatcher) -> None:
    """except* splits a HandlerError into HandlerErrors that still carry the event."""

    def value_error(e: Event) -> None:
        raise ValueError("v")

    def key_error(e: Event) -> None:
        raise KeyError("k")

    d.on("*")(value_error)
    d.on("*")(key_error)
    created = event("person.created")
    caught: list[BaseException] = []

    try:
        d.dispatch(created)
    except* ValueError as group:
        caught.append(group)
    except* KeyError as group:
        caught.append(group)

    assert len(caught) == 2
    for part, kind in zip(caught, (ValueError, KeyError), strict=True):
        assert isinstance(part, HandlerError)
        assert part.event is created
        assert len(part.exceptions) == 1
        assert isinstance(part.exceptions[0], kind)


def test_derive_keeps_class_and_event(d: Dispatcher) -> None:
    """HandlerError.subgroup() (used by except*) returns a HandlerError with the event."""
    created = event("person.created")
    err = HandlerError("failed", [ValueError("a"), KeyError("b")], event=created)

    sub = err.subgroup(KeyError)

    assert isinstance(sub, HandlerError)
    assert sub.event is created
    assert [type(e) for e in sub.exceptions] == [KeyError]


def test_base_exception_propagates_immediately(d: Dispatcher, rec: Recorder) -> None:
    """KeyboardInterrupt is not collected: it escapes at once and later handlers do not run."""

    def interrupt(e: Event) -> None:
        rec.calls.append("interrupt")
        raise KeyboardInterrupt

    d.on("person.created")(rec.handler("before"))
    d.on("person.created")(interrupt)
    d.on("person.created")(rec.handler("after"))

    with pytest.raises(KeyboardInterrupt):
        d.dispatch(event("person.created"))

    assert rec.calls == ["before", "interrupt"]


def test_base_exception_propagates_from_adispatch(d: Dispatcher, rec: Recorder) -> None:
    """adispatch lets KeyboardInterrupt escape as well, without running later handlers."""

    async def interrupt(e: Event) -> None:
        rec.calls.append("interrupt")
        raise KeyboardInterrupt

    d.on("*")(interrupt)
    d.on("*")(rec.handler("after"))

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(d.adispatch(event("person.created")))

    assert rec.calls == ["interrupt"]


# --- results -----------------------------------------------------------------------


def test_dispatch_result(d: Dispatcher, rec: Recorder) -> None:
    """dispatch returns the event, the handlers that ran and their results, in order."""
    exact = d.on("person.created")(rec.handler("exact"))
    catch_all = d.on("*")(rec.handler("any"))
    created = event("person.created")

    result = d.dispatch(created)

    assert isinstance(result, sow.DispatchResult)
    assert result.event is created
    assert result.handlers == (exact, catch_all)
    assert result.results == ("result-exact", "result-any")
    assert result.handled is True


def test_no_handler_means_not_handled(d: Dispatcher, rec: Recorder) -> None:
    """An event nobody registered for gives an empty, unhandled result."""
    d.on("contact.*")(rec.handler("contact"))

    result = d.dispatch(event("person.created"))

    assert result.handled is False
    assert result.handlers == ()
    assert result.results == ()
    assert rec.calls == []


# --- sync vs async -----------------------------------------------------------------


def test_sync_dispatch_refuses_async_handler_before_running_any(
    d: Dispatcher, rec: Recorder
) -> None:
    """dispatch with a matching async handler raises ConfigurationError and runs nothing."""
    awaited: list[str] = []

    async def async_handler(e: Event) -> None:
        awaited.append("async")

    d.on("person.created")(rec.handler("sync-before"))
    d.on("person.*")(async_handler)
    d.on("*")(rec.handler("sync-after"))

    with pytest.raises(ConfigurationError):
        d.dispatch(event("person.created"))

    assert rec.calls == []
    assert awaited == []


def test_async_handler_for_other_events_does_not_block_sync_dispatch(
    d: Dispatcher, rec: Recorder
) -> None:
    """Only matching handlers count: an async handler for other names is no obstacle."""

    async def async_handler(e: Event) -> None:
        return None

    d.on("contact.created")(async_handler)
    d.on("person.created")(rec.handler("sync"))

    assert d.dispatch(event("person.created")).handled
    assert rec.calls == ["sync"]


def test_sync_handler_returning_coroutine(d: Dispatcher, rec: Recorder) -> None:
    """A sync handler returning a coroutine fails with ConfigurationError; the coroutine is closed."""
    made: list[Coroutine[Any, Any, None]] = []

    async def work(e: Event) -> None:
        rec.calls.append("awaited")

    def sneaky(e: Event) -> Coroutine[Any, Any, None]:
        coro = work(e)
        made.append(coro)
        return coro

    d.on("person.created")(sneaky)
    d.on("person.created")(rec.handler("after"))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(HandlerError) as info:
            d.dispatch(event("person.created"))
        assert len(made) == 1
        assert inspect.getcoroutinestate(made[0]) == inspect.CORO_CLOSED
        made.clear()
        gc.collect()

    assert [type(e) for e in info.value.exceptions] == [ConfigurationError]
    assert rec.calls == ["after"]
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_adispatch_runs_async_and_sync_handlers_in_order(d: Dispatcher, rec: Recorder) -> None:
    """adispatch awaits async handlers, calls sync ones, keeps order and results."""

    async def async_exact(e: Event) -> str:
        await asyncio.sleep(0)
        rec.calls.append("async-exact")
        return "from-async"

    d.on("*")(rec.handler("sync-any"))
    d.on("person.created")(async_exact)
    d.on("person.*")(rec.handler("sync-prefix"))
    created = event("person.created")

    result = asyncio.run(d.adispatch(created))

    assert rec.calls == ["async-exact", "sync-prefix", "sync-any"]
    assert result.event is created
    assert result.results == ("from-async", "result-sync-prefix", "result-sync-any")
    assert result.handled


def test_adispatch_collects_failures(d: Dispatcher, rec: Recorder) -> None:
    """adispatch runs every handler and raises the failures together, in order."""
    sync_failure = ValueError("sync")
    async_failure = RuntimeError("async")

    async def async_fail(e: Event) -> None:
        rec.calls.append("async_fail")
        raise async_failure

    def sync_fail(e: Event) -> None:
        rec.calls.append("sync_fail")
        raise sync_failure

    d.on("person.created")(async_fail)
    d.on("person.*")(rec.handler("ok"))
    d.on("*")(sync_fail)
    created = event("person.created")

    with pytest.raises(HandlerError) as info:
        asyncio.run(d.adispatch(created))

    assert rec.calls == ["async_fail", "ok", "sync_fail"]
    assert info.value.exceptions == (async_failure, sync_failure)
    assert info.value.event is created


def test_adispatch_without_handlers(d: Dispatcher) -> None:
    """adispatch of an event nobody handles is an unhandled result."""
    result = asyncio.run(d.adispatch(event("person.created")))

    assert not result.handled


def test_adispatch_runs_sync_handlers_in_a_worker_thread(d: Dispatcher) -> None:
    """Sync handlers run off the loop's thread, async ones on it; both see context vars."""
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    seen: dict[str, tuple[int, str]] = {}

    def sync_handler(e: Event) -> str:
        seen["sync"] = (threading.get_ident(), request_id.get())
        return "sync"

    async def async_handler(e: Event) -> str:
        seen["async"] = (threading.get_ident(), request_id.get())
        return "async"

    d.on("person.created")(sync_handler)
    d.on("person.created")(async_handler)

    async def main() -> tuple[int, sow.DispatchResult]:
        request_id.set("r-1")
        return threading.get_ident(), await d.adispatch(event("person.created"))

    loop_thread, result = asyncio.run(main())

    assert result.results == ("sync", "async")
    assert seen["async"] == (loop_thread, "r-1")
    assert seen["sync"][0] != loop_thread
    assert seen["sync"][1] == "r-1"


def test_adispatch_with_run_sync(d: Dispatcher, rec: Recorder) -> None:
    """run_sync is given each sync handler as a function of no arguments; async ones skip it."""
    given: list[Callable[[], object]] = []

    async def run_inline(function: Callable[[], object]) -> object:
        given.append(function)
        return function()

    async def async_handler(e: Event) -> str:
        rec.calls.append("async")
        return "async"

    d.on("person.created")(rec.handler("first"))
    d.on("person.created")(async_handler)
    d.on("*")(rec.handler("last"))

    result = asyncio.run(d.adispatch(event("person.created"), run_sync=run_inline))

    assert rec.calls == ["first", "async", "last"]
    assert result.results == ("result-first", "async", "result-last")
    assert len(given) == 2


def test_adispatch_collects_failures_from_worker_threads(d: Dispatcher, rec: Recorder) -> None:
    """A sync handler failing in its thread is collected like any other failure."""
    failure = ValueError("in a thread")

    def fail(e: Event) -> None:
        raise failure

    d.on("person.created")(fail)
    d.on("person.created")(rec.handler("after"))

    with pytest.raises(HandlerError) as info:
        asyncio.run(d.adispatch(event("person.created")))

    assert info.value.exceptions == (failure,)
    assert rec.calls == ["after"]


def test_adispatch_awaits_on_the_loop_what_a_sync_handler_returns(d: Dispatcher) -> None:
    """A sync handler's coroutine is awaited, and runs on the loop's thread."""
    ran_on: list[int] = []

    async def work(e: Event) -> str:
        ran_on.append(threading.get_ident())
        return "worked"

    def returns_a_coroutine(e: Event) -> Coroutine[Any, Any, str]:
        return work(e)

    d.on("person.created")(returns_a_coroutine)

    async def main() -> tuple[int, sow.DispatchResult]:
        return threading.get_ident(), await d.adispatch(event("person.created"))

    loop_thread, result = asyncio.run(main())

    assert result.results == ("worked",)
    assert ran_on == [loop_thread]


class _AsyncCallable:
    """A class-based async handler: its __call__ is a coroutine function."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    async def __call__(self, _: Event) -> str:
        self.threads.append(threading.get_ident())
        return "called"


def test_adispatch_awaits_async_callables_and_partials_on_the_loop(d: Dispatcher) -> None:
    """An object with async __call__, or a partial of a coroutine function, skips run_sync."""
    handler = _AsyncCallable()

    async def tagged(tag: str, e: Event) -> str:
        handler.threads.append(threading.get_ident())
        return tag

    d.on("person.created")(handler)
    d.on("person.created")(functools.partial(tagged, "partial"))

    async def refuse(function: Callable[[], object]) -> object:
        raise AssertionError("an async handler was given to run_sync")

    async def main() -> tuple[int, sow.DispatchResult]:
        result = await d.adispatch(event("person.created"), run_sync=refuse)
        return threading.get_ident(), result

    loop_thread, result = asyncio.run(main())

    assert result.results == ("called", "partial")
    assert handler.threads == [loop_thread, loop_thread]


# --- remove / include ------------------------------------------------------------


def test_remove_from_every_pattern(d: Dispatcher, rec: Recorder) -> None:
    """remove(handler) unregisters it from all names and patterns; others stay."""
    gone = rec.handler("gone")
    kept = rec.handler("kept")
    d.on("person.created", "person.*", "*.created", "*", sow.PersonEvent)(gone)
    d.on("person.created")(kept)
    d.dispatch(event("person.created"))  # fill any lookup cache first
    rec.calls.clear()

    d.remove(gone)

    d.dispatch(event("person.created"))
    d.dispatch(event("contact.created"))
    assert rec.calls == ["kept"]
    assert d.handlers_for("person.created") == (kept,)
    assert d.patterns() == ("person.created",)


def test_remove_unknown_handler(d: Dispatcher, rec: Recorder) -> None:
    """Removing a handler that is not registered is a configuration error."""
    with pytest.raises(ConfigurationError):
        d.remove(rec.handler("never-registered"))

    gone = d.on("*")(rec.handler("once"))
    d.remove(gone)
    with pytest.raises(ConfigurationError):
        d.remove(gone)


def test_include_runs_other_handlers_after_own_in_each_tier(d: Dispatcher, rec: Recorder) -> None:
    """Included handlers run after this dispatcher's own within each tier."""
    other = Dispatcher()
    other.on("*")(rec.handler("other-any"))
    other.on("person.created")(rec.handler("other-exact"))
    d.on("*")(rec.handler("own-any"))
    other.on("person.*")(rec.handler("other-prefix"))
    d.on("person.*")(rec.handler("own-prefix"))
    d.on("person.created")(rec.handler("own-exact"))

    d.include(other)
    d.dispatch(event("person.created"))

    assert rec.calls == [
        "own-exact",
        "other-exact",
        "own-prefix",
        "other-prefix",
        "own-any",
        "other-any",
    ]


def test_include_is_live(d: Dispatcher, rec: Recorder) -> None:
    """Handlers registered on (or removed from) an included dispatcher later are seen."""
    other = Dispatcher()
    d.include(other)
    d.on("*")(rec.handler("own"))
    d.dispatch(event("person.created"))  # resolve once before other changes

    late = other.on("person.created")(rec.handler("late"))
    d.dispatch(event("person.created"))
    assert rec.calls == ["own", "late", "own"]

    other.remove(late)
    rec.calls.clear()
    d.dispatch(event("person.created"))
    assert rec.calls == ["own"]


def test_include_is_live_through_several_levels(d: Dispatcher, rec: Recorder) -> None:
    """A handler added to a grandchild dispatcher reaches the top one."""
    middle = Dispatcher()
    bottom = Dispatcher()
    d.include(middle)
    middle.include(bottom)
    assert not d.dispatch(event("person.created")).handled

    bottom.on("person.created")(rec.handler("deep"))

    assert d.dispatch(event("person.created")).handled
    assert rec.calls == ["deep"]


def test_include_cycles_are_rejected(d: Dispatcher) -> None:
    """Including self, or a dispatcher that already includes this one, is an error."""
    b = Dispatcher()
    c = Dispatcher()
    d.include(b)
    b.include(c)

    with pytest.raises(ConfigurationError):
        d.include(d)
    with pytest.raises(ConfigurationError):
        b.include(d)
    with pytest.raises(ConfigurationError):
        c.include(d)


def test_include_requires_a_dispatcher(d: Dispatcher) -> None:
    """include() of anything but a Dispatcher is a configuration error."""
    other: Any = object()
    with pytest.raises(ConfigurationError):
        d.include(other)


def test_patterns_lists_own_and_included(d: Dispatcher, rec: Recorder) -> None:
    """patterns() lists every registered name and pattern, once, with included ones."""
    other = Dispatcher()
    d.on("person.created", "person.*")(rec.handler("a"))
    d.on("*.deleted")(rec.handler("b"))
    other.on("contact.created", "person.created")(rec.handler("c"))
    other.on("*")(rec.handler("d"))
    other.on(sow.ListItemEvent)(rec.handler("e"))
    d.include(other)

    found = d.patterns()

    assert sorted(found) == sorted(
        ["person.created", "person.*", "*.deleted", "contact.created", "*", "ListItemEvent"]
    )
    assert len(found) == len(set(found))
    assert Dispatcher().patterns() == ()


def test_patterns_are_in_registration_order(d: Dispatcher, rec: Recorder) -> None:
    """patterns() lists what was registered in that order, included dispatchers last."""
    other = Dispatcher()
    other.on("contact.created")(rec.handler("c"))
    d.include(other)
    d.on("*")(rec.handler("a"))
    d.on(sow.PersonEvent, "person.*")(rec.handler("b"))
    d.on("person.created", "*")(rec.handler("d"))

    assert d.patterns() == ("*", "PersonEvent", "person.*", "person.created", "contact.created")


def test_handlers_for(d: Dispatcher, rec: Recorder) -> None:
    """handlers_for(name) lists the handlers an event of that name would run, in order."""
    any_ = d.on("*")(rec.handler("any"))
    exact = d.on("person.deleted")(rec.handler("exact"))
    suffix = d.on("*.deleted")(rec.handler("suffix"))
    person = d.on(sow.PersonEvent)(rec.handler("person"))

    assert d.handlers_for("person.deleted") == (exact, person, suffix, any_)
    assert d.handlers_for("person.deleted", sow.UnknownEvent) == (exact, suffix, any_)
    assert d.handlers_for("contact.deleted") == (suffix, any_)
    assert d.handlers_for("contact.created") == (any_,)
    assert rec.calls == []


def test_dispatch_requires_an_event(d: Dispatcher) -> None:
    """dispatch() and adispatch() of something that is not an Event are errors."""
    not_event: Any = {"Event": "person.created"}
    with pytest.raises(ConfigurationError):
        d.dispatch(not_event)
    with pytest.raises(ConfigurationError):
        asyncio.run(d.adispatch(not_event))


@given(
    prefix=st.lists(st.sampled_from(["person", "list", "category", "x"]), min_size=1, max_size=2),
    name=st.lists(
        st.sampled_from(["person", "list", "category", "x", "deleted", "personx"]),
        min_size=1,
        max_size=4,
    ),
)
def test_pattern_matching_follows_segments(prefix: list[str], name: list[str]) -> None:
    """'a.b.*' matches names starting with 'a.b.'; '*.b' matches names ending in '.b'."""
    d = Dispatcher()

    def by_prefix(e: Event) -> None:
        return None

    def by_suffix(e: Event) -> None:
        return None

    d.on(".".join(prefix) + ".*")(by_prefix)
    d.on("*." + prefix[-1])(by_suffix)
    full = ".".join(name)

    found = d.handlers_for(full)

    assert (by_prefix in found) == (name[: len(prefix)] == prefix and len(name) > len(prefix))
    assert (by_suffix in found) == (len(name) > 1 and name[-1] == prefix[-1])


# --- the default dispatcher ---------------------------------------------------------


@pytest.fixture
def registered() -> Iterator[list[Callable[..., object]]]:
    """Handlers put here are removed from the default dispatcher after the test."""
    handlers: list[Callable[..., object]] = []
    yield handlers
    for handler in handlers:
        sow.default_dispatcher.remove(handler)


def test_module_level_functions_use_default_dispatcher(
    registered: list[Callable[..., object]], rec: Recorder
) -> None:
    """sow.on, sow.on_any and sow.dispatch work on sow.default_dispatcher."""
    handler = sow.on("person.created")(rec.handler("module"))
    registered.append(handler)
    catch_all = sow.on_any(rec.handler("module-any"))
    registered.append(catch_all)
    created = event("person.created")

    assert handler in sow.default_dispatcher.handlers_for("person.created")
    result = sow.dispatch(created)

    assert rec.calls == ["module", "module-any"]
    assert result.handlers == (handler, catch_all)


def test_module_level_adispatch(registered: list[Callable[..., object]], rec: Recorder) -> None:
    """sow.adispatch awaits async handlers registered with sow.on."""

    async def handler(e: Event) -> str:
        rec.calls.append("async")
        return "done"

    registered.append(sow.on("person.deleted")(handler))

    result = asyncio.run(sow.adispatch(event("person.deleted")))

    assert rec.calls == ["async"]
    assert result.results == ("done",)


def test_including_the_same_dispatcher_twice_runs_its_handlers_once(
    d: Dispatcher, rec: Recorder
) -> None:
    """include() of a dispatcher already included changes nothing: its handlers run once."""
    other = Dispatcher()
    other.on("person.created")(rec.handler("other"))

    d.include(other)
    d.include(other)
    d.dispatch(event("person.created"))

    assert rec.calls == ["other"]


def test_many_distinct_event_names_still_find_their_handlers(d: Dispatcher, rec: Recorder) -> None:
    """Past the lookup cache's size, handlers are still found for old and new names."""
    d.on("person.created")(rec.handler("exact"))
    d.on("*")(rec.handler("any"))
    d.dispatch(event("person.created"))

    for number in range(_dispatch._CACHE_LIMIT + 1):
        assert len(d.handlers_for(f"custom.{number}")) == 1
    d.dispatch(event("person.created"))
    d.dispatch(named("custom.0"))

    assert rec.calls == ["exact", "any", "exact", "any", "any"]


class _Awaitable:
    """An awaitable that is not a coroutine (as a Future or a Task is)."""

    def __await__(self) -> Iterator[None]:
        yield None


def test_a_sync_handler_returning_a_non_coroutine_awaitable_is_an_error(d: Dispatcher) -> None:
    """dispatch() refuses any awaitable a handler returns, not only coroutines."""
    d.on("person.created")(lambda _e: _Awaitable())

    with pytest.raises(HandlerError) as info:
        d.dispatch(event("person.created"))

    (error,) = info.value.exceptions
    assert isinstance(error, ConfigurationError)
    assert "returned an awaitable" in str(error)
