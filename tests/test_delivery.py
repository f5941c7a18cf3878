"""Receiver delivery guarantees: duplicates, in-flight claims, retries, ack, hooks, resolvers, max_age."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

import superoffice_webhooks as sow
from conftest import SECRET, example, example_json
from superoffice_webhooks import (
    AsyncReceiver,
    ConfigurationError,
    Dispatcher,
    Event,
    EventInFlightError,
    HandlerError,
    Receiver,
    StaleEventError,
    UnknownTenantError,
)
from superoffice_webhooks.contrib.redis import AsyncRedisStore, RedisStore
from superoffice_webhooks.idempotency import (
    AsyncMemoryStore,
    AsyncSQLiteStore,
    ClaimState,
    IdempotencyStore,
    MemoryStore,
    SQLiteStore,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from conftest import Closer

TIMESTAMP = datetime(2018, 4, 24, 8, 1, 15, 850693, tzinfo=UTC)  # person.created's Timestamp


def body_for(event_id: uuid.UUID | None = None, **changes: object) -> bytes:
    """person.created with its own EventId (and other top-level changes)."""
    data = example_json("person.created")
    data.update({"EventId": str(event_id or uuid.uuid4()), **changes})
    return json.dumps(data).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-SuperOffice-Signature": sow.sign(body, secret)}


class Calls:
    """A dispatcher whose handler records events and fails while `failures` > 0."""

    def __init__(self, failures: int = 0) -> None:
        self.dispatcher = Dispatcher()
        self.events: list[Event] = []
        self.failures = failures
        self.dispatcher.on("person.created")(self.handle)

    def handle(self, event: Event) -> None:
        self.events.append(event)
        if self.failures > 0:
            self.failures -= 1
            msg = "database briefly away"
            raise RuntimeError(msg)


# --- duplicates and retries ----------------------------------------------------------------


def test_duplicate_of_a_handled_event_answers_200_without_handlers() -> None:
    """The second delivery of a handled EventId answers 200 and runs no handler."""
    calls = Calls()
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher)
    body = body_for()

    first = receiver.receive(body, signed(body))
    second = receiver.receive(body, signed(body))

    assert (first.status, second.status) == (200, 200)
    assert len(calls.events) == 1
    assert second.reason == "duplicate of an event already handled"
    assert second.dispatch is None
    assert second.event == first.event


def test_failed_handler_runs_again_on_the_retry() -> None:
    """A handler failure answers 500 and releases the claim; the retry runs the handler again."""
    calls = Calls(failures=1)
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher)
    body = body_for()

    statuses = [receiver.receive(body, signed(body)).status for _ in range(3)]

    assert statuses == [500, 200, 200]
    assert len(calls.events) == 2  # the failure and the successful retry; not the duplicate


def test_concurrent_duplicate_gets_409_and_does_not_run_handlers() -> None:
    """While the first delivery's handler runs, a second delivery answers 409; the retry after gets 200."""
    started, finish = threading.Event(), threading.Event()
    runs: list[Event] = []
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    def slow(event: Event) -> None:
        runs.append(event)
        started.set()
        assert finish.wait(30)

    receiver = Receiver(secret=SECRET, dispatcher=dispatcher)
    body = body_for()
    results: list[sow.Outcome] = []
    first = threading.Thread(target=lambda: results.append(receiver.receive(body, signed(body))))
    first.start()
    assert started.wait(30)

    during = receiver.receive(body, signed(body))
    finish.set()
    first.join(30)
    after = receiver.receive(body, signed(body))

    assert during.status == 409
    assert isinstance(during.error, EventInFlightError)
    assert results[0].status == 200
    assert after.status == 200
    assert after.reason == "duplicate of an event already handled"
    assert len(runs) == 1


def test_test_events_are_never_claimed() -> None:
    """Test pings answer 200 every time and leave nothing in the store."""
    store = MemoryStore()
    receiver = Receiver(secret=SECRET, idempotency=store, dispatcher=Dispatcher())
    body = example("test")

    assert [receiver.receive(body, signed(body)).status for _ in range(2)] == [200, 200]
    assert len(store) == 0


def test_rejected_requests_are_never_claimed() -> None:
    """A request that fails verification leaves no claim, so the genuine one still runs."""
    calls = Calls()
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher)
    body = body_for()

    assert receiver.receive(body, signed(body, "wrong")).status == 401
    assert receiver.receive(body, signed(body)).status == 200
    assert len(calls.events) == 1


def test_idempotency_none_runs_every_delivery() -> None:
    """idempotency=None turns de-duplication off: every delivery runs the handlers."""
    calls = Calls()
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher, idempotency=None)
    body = body_for()

    for _ in range(2):
        assert receiver.receive(body, signed(body)).status == 200
    assert len(calls.events) == 2
    assert receiver.store is None


def test_default_store_is_a_memory_store_per_receiver() -> None:
    """By default each receiver has its own MemoryStore."""
    first, second = Receiver(secret=SECRET), Receiver(secret=SECRET)

    assert isinstance(first.store, MemoryStore)
    assert first.store is not second.store


def test_unexpected_error_releases_the_claim() -> None:
    """A ConfigurationError from dispatch (an async handler in receive) releases the claim."""
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    async def handler(event: Event) -> None:
        pass

    store = MemoryStore()
    receiver = Receiver(secret=SECRET, dispatcher=dispatcher, idempotency=store)
    body = body_for()

    with pytest.raises(ConfigurationError, match="async"):
        receiver.receive(body, signed(body))
    event = sow.parse(body)
    assert store.claim(event.context_identifier, event.event_id, "next") is ClaimState.CLAIMED


# --- failure policy and hook ------------------------------------------------------------------


def test_on_failure_hook_gets_the_event_and_error_on_every_failure() -> None:
    """on_failure is told about each failed attempt, with the event and the HandlerError."""
    told: list[tuple[Event, HandlerError]] = []
    calls = Calls(failures=2)
    receiver = Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        on_failure=lambda event, exc: told.append((event, exc)),
    )
    body = body_for()

    statuses = [receiver.receive(body, signed(body)).status for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert len(told) == 2
    assert all(event == sow.parse(body) for event, _ in told)
    assert all(isinstance(exc, HandlerError) for _, exc in told)
    assert all(exc.event == sow.parse(body) for _, exc in told)


def test_ack_policy_completes_the_event_and_tells_the_hook() -> None:
    """With on_handler_error="ack" a failure answers 200, is told to the hook, and is not re-run."""
    told: list[Event] = []
    calls = Calls(failures=1)
    receiver = Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        on_handler_error="ack",
        on_failure=lambda event, exc: told.append(event),
    )
    body = body_for()

    first = receiver.receive(body, signed(body))
    second = receiver.receive(body, signed(body))

    assert first.status == 200
    assert isinstance(first.error, HandlerError)
    assert second.status == 200
    assert second.reason == "duplicate of an event already handled"
    assert len(calls.events) == 1
    assert told == [sow.parse(body)]


@pytest.mark.parametrize("policy", ["retry", "ack"])
def test_failing_hook_releases_the_claim_and_propagates(policy: str) -> None:
    """If on_failure raises, the claim is released and its error propagates: nothing is lost."""

    def broken_hook(event: Event, exc: HandlerError) -> None:
        msg = "dead-letter table unavailable"
        raise OSError(msg)

    calls = Calls(failures=1)
    receiver = Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        on_handler_error=policy,  # type: ignore[arg-type]  # a parameter of the test
        on_failure=broken_hook,
    )
    body = body_for()

    with pytest.raises(OSError, match="dead-letter"):
        receiver.receive(body, signed(body))
    assert receiver.receive(body, signed(body)).status == 200
    assert len(calls.events) == 2


def test_async_hook_in_receive_is_a_configuration_error() -> None:
    """receive() refuses an async on_failure hook (and releases the claim); so do type checkers."""

    async def hook(event: Event, exc: HandlerError) -> None:
        pass

    calls = Calls(failures=1)
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher, on_failure=hook)  # type: ignore[arg-type]  # the misuse under test
    body = body_for()

    with pytest.raises(ConfigurationError, match="Use an AsyncReceiver"):
        receiver.receive(body, signed(body))
    assert receiver.receive(body, signed(body)).status == 200


def test_areceive_awaits_async_hook_and_store(tmp_path: Path, closing: Closer) -> None:
    """areceive awaits an async hook and an async SQLite store, and keeps the guarantees."""
    told: list[Event] = []

    async def hook(event: Event, exc: HandlerError) -> None:
        told.append(event)

    calls = Calls(failures=1)
    receiver = AsyncReceiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        idempotency=closing(AsyncSQLiteStore(tmp_path / "claims.sqlite3")),
        on_failure=hook,
    )
    body = body_for()

    async def three() -> list[int]:
        return [(await receiver.areceive(body, signed(body))).status for _ in range(3)]

    assert asyncio.run(three()) == [500, 200, 200]
    assert len(calls.events) == 2
    assert told == [sow.parse(body)]


def test_areceive_with_async_redis_store(redis_url: str, redis_prefix: str) -> None:
    """areceive with an AsyncRedisStore handles once and answers duplicates with 200."""
    calls = Calls()
    body = body_for()

    async def deliveries() -> list[int]:
        store = AsyncRedisStore.from_url(redis_url, prefix=redis_prefix)
        receiver = AsyncReceiver(secret=SECRET, dispatcher=calls.dispatcher, idempotency=store)
        try:
            return [(await receiver.areceive(body, signed(body))).status for _ in range(2)]
        finally:
            await store.client.aclose()

    assert asyncio.run(deliveries()) == [200, 200]
    assert len(calls.events) == 1


def test_async_store_in_a_receiver_is_a_configuration_error(
    tmp_path: Path, closing: Closer
) -> None:
    """A Receiver refuses an async store when it is made, pointing to AsyncReceiver."""
    store = closing(AsyncSQLiteStore(tmp_path / "c.sqlite3"))

    with pytest.raises(
        ConfigurationError, match="AsyncSQLiteStore is an async store: give it to an AsyncReceiver"
    ):
        Receiver(secret=SECRET, idempotency=store)  # type: ignore[arg-type]  # the misuse under test


def test_sync_store_in_an_async_receiver_is_a_configuration_error(
    tmp_path: Path, closing: Closer
) -> None:
    """An AsyncReceiver refuses a sync store when it is made, naming the async stores."""
    store = closing(SQLiteStore(tmp_path / "c.sqlite3"))

    with pytest.raises(ConfigurationError, match=r"AsyncSQLiteStore.*not SQLiteStore"):
        AsyncReceiver(secret=SECRET, idempotency=store)  # type: ignore[arg-type]  # the misuse under test


def test_an_async_receiver_remembers_events_in_memory_by_default() -> None:
    """An AsyncReceiver's default store is an AsyncMemoryStore: a duplicate is not handled again."""
    calls = Calls()
    receiver = AsyncReceiver(secret=SECRET, dispatcher=calls.dispatcher)
    body = body_for()

    async def twice() -> list[str]:
        return [(await receiver.areceive(body, signed(body))).reason for _ in range(2)]

    assert isinstance(receiver.store, AsyncMemoryStore)
    assert asyncio.run(twice()) == [
        "handled by 1 handler(s)",
        "duplicate of an event already handled",
    ]
    assert len(calls.events) == 1


@pytest.mark.parametrize("value", ["sqlite", 42, object()])
def test_idempotency_option_is_checked(value: object) -> None:
    """An idempotency value that is not a store, "memory" or None raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="idempotency"):
        Receiver(secret=SECRET, idempotency=value)  # type: ignore[arg-type]  # wrong on purpose


# --- secret resolvers ---------------------------------------------------------------------------

TENANTS = {"Cust1": "secret of tenant one", "Cust2": "secret of tenant two"}


def tenant_body(tenant: str, webhook: str = "crm-sync") -> bytes:
    return body_for(ContextIdentifier=tenant, WebhookName=webhook)


def test_resolver_picks_each_tenants_secret() -> None:
    """Each tenant's request verifies with that tenant's secret; the resolver sees tenant and name."""
    asked: list[tuple[str, str]] = []

    def resolve(tenant: str, webhook: str) -> str | None:
        asked.append((tenant, webhook))
        return TENANTS.get(tenant)

    receiver = Receiver(secret=resolve, dispatcher=Dispatcher())
    one, two = tenant_body("Cust1"), tenant_body("Cust2", "other hook")

    assert receiver.receive(one, signed(one, TENANTS["Cust1"])).status == 200
    assert receiver.receive(two, signed(two, TENANTS["Cust2"])).status == 200
    assert asked == [("Cust1", "crm-sync"), ("Cust2", "other hook")]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_same_event_id_under_two_tenants_runs_both(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, closing: Closer
) -> None:
    """Two tenants' events with one EventId both run; a duplicate within a tenant does not."""
    store: IdempotencyStore
    if backend == "memory":
        store = MemoryStore()
    elif backend == "sqlite":
        store = closing(SQLiteStore(tmp_path / "claims.sqlite3"))
    else:
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        store = RedisStore.from_url(url, prefix=prefix)
        closing(store.client)
    calls = Calls()
    receiver = Receiver(secret=TENANTS.get, dispatcher=calls.dispatcher, idempotency=store)
    event_id = uuid.uuid4()
    one = body_for(event_id, ContextIdentifier="Cust1")
    two = body_for(event_id, ContextIdentifier="Cust2")

    first = receiver.receive(one, signed(one, TENANTS["Cust1"]))
    second = receiver.receive(two, signed(two, TENANTS["Cust2"]))
    again = receiver.receive(one, signed(one, TENANTS["Cust1"]))

    assert (first.reason, second.reason) == ("handled by 1 handler(s)", "handled by 1 handler(s)")
    assert [(e.context_identifier, e.event_id) for e in calls.events] == [
        ("Cust1", event_id),
        ("Cust2", event_id),
    ]
    assert (again.status, again.reason) == (200, "duplicate of an event already handled")


def test_areceive_same_event_id_under_two_tenants_runs_both(
    tmp_path: Path, closing: Closer
) -> None:
    """areceive with an async store keys claims by tenant too."""
    calls = Calls()
    store = closing(AsyncSQLiteStore(tmp_path / "claims.sqlite3"))
    receiver = AsyncReceiver(secret=_resolve, dispatcher=calls.dispatcher, idempotency=store)
    event_id = uuid.uuid4()
    one = body_for(event_id, ContextIdentifier="Cust1")
    two = body_for(event_id, ContextIdentifier="Cust2")

    async def deliveries() -> list[str]:
        return [
            (await receiver.areceive(body, signed(body, TENANTS[tenant]))).reason
            for body, tenant in [(one, "Cust1"), (two, "Cust2"), (two, "Cust2")]
        ]

    reasons = asyncio.run(deliveries())

    assert [e.context_identifier for e in calls.events] == ["Cust1", "Cust2"]
    assert reasons[2] == "duplicate of an event already handled"
    assert reasons[0] == reasons[1] != reasons[2]


def test_resolver_body_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a resolver, the JSON read to find the tenant is the one the event is parsed from."""
    from superoffice_webhooks import _parse, _receiver  # noqa: PLC0415  # patched below

    decoded: list[bytes] = []
    load_json = _parse.load_json

    def counting(body: bytes | str) -> object:
        decoded.append(body if isinstance(body, bytes) else body.encode())
        return load_json(body)

    monkeypatch.setattr(_receiver, "load_json", counting)
    monkeypatch.setattr(_parse, "load_json", counting)
    monkeypatch.setattr(_parse, "fast_loads", None)
    receiver = Receiver(secret=TENANTS.get, dispatcher=Dispatcher())
    body = tenant_body("Cust1")

    outcome = receiver.receive(body, signed(body, TENANTS["Cust1"]))

    assert (outcome.status, decoded) == (200, [body])
    assert outcome.event == sow.parse(body)


def nested(depth: int) -> list[object]:
    """A list *depth* levels deep."""
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [10, 600, 800])
def test_resolver_takes_what_a_single_secret_takes(depth: int) -> None:
    """A body nested deeply under an unknown key is taken with a resolver as with one secret."""
    body = body_for(ContextIdentifier="Cust1", Custom=nested(depth))
    single = Receiver(secret=TENANTS["Cust1"], dispatcher=Dispatcher())
    resolving = Receiver(secret=TENANTS.get, dispatcher=Dispatcher())

    by_secret = single.receive(body, signed(body, TENANTS["Cust1"]))
    by_resolver = resolving.receive(body, signed(body, TENANTS["Cust1"]))

    assert (by_secret.status, by_resolver.status) == (200, 200)
    assert by_resolver.event == by_secret.event
    assert by_resolver.event is not None
    assert by_resolver.event.to_json() == by_secret.event.to_json()  # type: ignore[union-attr]


def test_areceive_refuses_an_unsigned_request_before_asking_the_resolver() -> None:
    """areceive with a resolver answers an unsigned request 401 without calling the resolver."""
    asked: list[str] = []

    async def resolve(tenant: str, webhook: str) -> str:
        asked.append(tenant)
        return TENANTS[tenant]

    receiver = AsyncReceiver(secret=resolve, dispatcher=Dispatcher())
    body = tenant_body("Cust1")

    outcome = asyncio.run(receiver.areceive(body, {}))

    assert (outcome.status, type(outcome.error), asked) == (401, sow.MissingSignatureError, [])


def test_resolver_wrong_tenants_secret_is_401() -> None:
    """A request signed with another tenant's secret answers 401."""
    receiver = Receiver(secret=TENANTS.get, dispatcher=Dispatcher())
    body = tenant_body("Cust1")

    outcome = receiver.receive(body, signed(body, TENANTS["Cust2"]))

    assert outcome.status == 401
    assert isinstance(outcome.error, sow.InvalidSignatureError)


def test_resolver_rotation_list_accepts_old_and_new() -> None:
    """A resolver returning [old, new] accepts signatures under either, and no other."""
    receiver = Receiver(secret=lambda tenant, name: ["old", "new"], dispatcher=Dispatcher())
    bodies = [tenant_body("Cust1") for _ in range(3)]

    assert receiver.receive(bodies[0], signed(bodies[0], "old")).status == 200
    assert receiver.receive(bodies[1], signed(bodies[1], "new")).status == 200
    assert receiver.receive(bodies[2], signed(bodies[2], "other")).status == 401


@pytest.mark.parametrize("result", [None, "", b"", []])
def test_resolver_without_secret_is_unknown_tenant(result: object) -> None:
    """None or an empty result is an unknown tenant: 401, never 'everything verifies'."""
    receiver = Receiver(secret=lambda tenant, name: result, dispatcher=Dispatcher())  # type: ignore[arg-type, return-value]  # the result under test
    body = tenant_body("Cust9")

    outcome = receiver.receive(body, signed(body, "anything"))

    assert outcome.status == 401
    assert isinstance(outcome.error, UnknownTenantError)
    assert "ContextIdentifier" in outcome.reason


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"ContextIdentifier": 5, "WebhookName": "x"}', b'{"Event": "x"}'],
)
def test_resolver_body_without_tenant_fields_is_401(body: bytes) -> None:
    """A body without string ContextIdentifier and WebhookName cannot be verified: 401, no resolver call."""
    asked: list[str] = []
    receiver = Receiver(secret=lambda t, n: asked.append(t) or "s", dispatcher=Dispatcher())  # type: ignore[func-returns-value]  # records, then answers

    outcome = receiver.receive(body, signed(body, "s"))

    assert outcome.status == 401
    assert isinstance(outcome.error, UnknownTenantError)
    assert asked == []


def test_resolver_not_called_without_signature() -> None:
    """An unsigned request is refused (MissingSignatureError) before the resolver is asked."""
    asked: list[str] = []
    receiver = Receiver(secret=lambda t, n: asked.append(t) or "s", dispatcher=Dispatcher())  # type: ignore[func-returns-value]  # records, then answers

    outcome = receiver.receive(tenant_body("Cust1"), {})

    assert outcome.status == 401
    assert isinstance(outcome.error, sow.MissingSignatureError)
    assert asked == []


def test_resolver_errors_propagate() -> None:
    """An exception in the resolver is a server error: it propagates instead of becoming a 401."""

    def resolve(tenant: str, webhook: str) -> str:
        msg = "tenant database down"
        raise ConnectionError(msg)

    receiver = Receiver(secret=resolve, dispatcher=Dispatcher())
    body = tenant_body("Cust1")

    with pytest.raises(ConnectionError, match="tenant database"):
        receiver.receive(body, signed(body, "s"))


async def _resolve(tenant: str, webhook: str) -> str | None:
    await asyncio.sleep(0)
    return TENANTS.get(tenant)


def test_async_resolver_with_areceive() -> None:
    """An AsyncReceiver awaits an async resolver; a Receiver refuses it with ConfigurationError."""
    body = tenant_body("Cust2")
    receiver = AsyncReceiver(secret=_resolve, dispatcher=Dispatcher())
    sync_receiver = Receiver(secret=_resolve, dispatcher=Dispatcher())  # type: ignore[arg-type]  # the misuse under test

    assert asyncio.run(receiver.areceive(body, signed(body, TENANTS["Cust2"]))).status == 200
    with pytest.raises(ConfigurationError, match="secret resolver is async"):
        sync_receiver.receive(body, signed(body, TENANTS["Cust2"]))


def test_sync_resolver_in_an_async_receiver_is_a_configuration_error() -> None:
    """An AsyncReceiver refuses a sync resolver at its first request, saying to make it async."""
    receiver = AsyncReceiver(secret=TENANTS.get, dispatcher=Dispatcher())  # type: ignore[arg-type]  # the misuse under test
    body = tenant_body("Cust2")

    with pytest.raises(
        ConfigurationError, match="secret resolver of an AsyncReceiver must be async"
    ):
        asyncio.run(receiver.areceive(body, signed(body, TENANTS["Cust2"])))


def test_resolver_unknown_tenant_still_acknowledges_the_test_ping() -> None:
    """A test ping for a tenant the resolver does not know yet still gets 200 (ack_unverified_test)."""
    receiver = Receiver(secret=lambda t, n: None, dispatcher=Dispatcher())
    body = example("test")

    outcome = receiver.receive(body, {"X-Hook-Test": "true", **signed(body, "new secret")})

    assert outcome.status == 200
    assert isinstance(outcome.event, sow.TestEvent)


# --- replay window ----------------------------------------------------------------------------


def at(moment: datetime) -> Receiver:
    return Receiver(
        secret=SECRET, dispatcher=Dispatcher(), max_age=timedelta(minutes=10), clock=lambda: moment
    )


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (timedelta(0), 200),
        (timedelta(minutes=10), 200),
        (timedelta(minutes=-10), 200),
        (timedelta(minutes=10, seconds=1), 401),
        (timedelta(minutes=-10, seconds=-1), 401),
        (timedelta(days=3), 401),
    ],
)
def test_max_age_both_directions(offset: timedelta, status: int) -> None:
    """Events older or further in the future than max_age answer 401; others 200."""
    body = body_for()

    outcome = at(TIMESTAMP + offset).receive(body, signed(body))

    assert outcome.status == status
    if status == 401:
        assert isinstance(outcome.error, StaleEventError)
        assert ("old" in outcome.reason) is (offset > timedelta(0))
        assert ("future" in outcome.reason) is (offset < timedelta(0))


def test_stale_event_is_not_claimed() -> None:
    """A stale event runs no handler and leaves no claim behind."""
    calls = Calls()
    store = MemoryStore()
    receiver = Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        idempotency=store,
        max_age=timedelta(minutes=1),
        clock=lambda: TIMESTAMP + timedelta(hours=1),
    )
    body = body_for()

    assert receiver.receive(body, signed(body)).status == 401
    assert calls.events == []
    assert len(store) == 0


def test_max_age_off_by_default() -> None:
    """Without max_age an event from 2018 is accepted."""
    body = body_for()

    assert Receiver(secret=SECRET, dispatcher=Dispatcher()).receive(body, signed(body)).ok


def test_test_ping_is_not_subject_to_max_age() -> None:
    """A test ping is acknowledged whatever its Timestamp: it runs no handler to replay."""
    body = example("test")

    assert at(TIMESTAMP + timedelta(days=3000)).receive(body, signed(body)).status == 200


def test_naive_clock_is_a_configuration_error() -> None:
    """A clock returning a naive datetime raises ConfigurationError, not TypeError."""
    receiver = Receiver(
        secret=SECRET,
        max_age=timedelta(minutes=1),
        clock=lambda: datetime(2018, 4, 24),  # noqa: DTZ001  # naive on purpose
    )
    body = body_for()

    with pytest.raises(ConfigurationError, match="timezone-aware"):
        receiver.receive(body, signed(body))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_age", timedelta(0)),
        ("max_age", 600),
        ("clock", "now"),
        ("on_failure", "log it"),
        ("handoff", object()),
    ],
)
def test_delivery_options_are_checked(option: str, value: object) -> None:
    """Wrong values for the delivery options raise ConfigurationError naming the option."""
    with pytest.raises(ConfigurationError, match=option):
        Receiver(secret=SECRET, **{option: value})  # type: ignore[arg-type]  # wrong on purpose


class ListHandoff:
    """A Handoff that keeps submitted events in a list, or refuses them like a broker that is down."""

    def __init__(self, store: SQLiteStore, *, down: bool = False) -> None:
        self.store = store
        self.down = down
        self.submitted: list[tuple[Event, str]] = []

    def submit(self, event: Event, token: str) -> None:
        if self.down:
            msg = "broker unreachable"
            raise ConnectionError(msg)
        self.submitted.append((event, token))


def test_handoff_answers_200_and_keeps_the_claim(tmp_path: Path, closing: Closer) -> None:
    """With a hand-off the receiver runs no handler, answers 200 and leaves the claim in flight."""
    calls = Calls()
    handoff = ListHandoff(closing(SQLiteStore(tmp_path / "claims.sqlite3")))
    receiver = Receiver(secret=SECRET, dispatcher=calls.dispatcher, handoff=handoff)
    body = body_for()

    first = receiver.receive(body, signed(body))
    second = receiver.receive(body, signed(body))

    assert first.status == 200
    assert first.reason == "queued for a background worker"
    assert second.status == 409  # queued, not yet handled by the worker
    assert calls.events == []
    ((event, token),) = handoff.submitted
    assert event == sow.parse(body)
    assert handoff.store.complete(event.context_identifier, event.event_id, token) is True
    assert receiver.receive(body, signed(body)).reason == "duplicate of an event already handled"


def test_handoff_failure_releases_the_claim(tmp_path: Path, closing: Closer) -> None:
    """When the hand-off cannot enqueue, its error propagates and the claim is released."""
    handoff = ListHandoff(closing(SQLiteStore(tmp_path / "claims.sqlite3")), down=True)
    receiver = Receiver(secret=SECRET, handoff=handoff)
    body = body_for()

    with pytest.raises(ConnectionError, match="broker"):
        receiver.receive(body, signed(body))
    event = sow.parse(body)
    assert (
        handoff.store.claim(event.context_identifier, event.event_id, "retry") is ClaimState.CLAIMED
    )


# --- areceive: hand-off, no store, sync hooks, expired claims -----------------------------


def test_an_async_receiver_refuses_a_store_based_handoff(tmp_path: Path, closing: Closer) -> None:
    """An AsyncReceiver hands events off only through an inbox; a store-based Handoff is refused."""
    handoff = ListHandoff(closing(SQLiteStore(tmp_path / "claims.sqlite3")))

    with pytest.raises(ConfigurationError, match="hands events off through an inbox"):
        AsyncReceiver(secret=SECRET, handoff=handoff)  # type: ignore[arg-type]  # the misuse under test


def test_a_handoff_brings_its_store(tmp_path: Path, closing: Closer) -> None:
    """A receiver with a store-based hand-off uses its store; another store alongside is refused."""
    handoff = ListHandoff(closing(SQLiteStore(tmp_path / "claims.sqlite3")))

    assert Receiver(secret=SECRET, handoff=handoff).store is handoff.store
    with pytest.raises(ConfigurationError, match="hand-off's store"):
        Receiver(secret=SECRET, handoff=handoff, idempotency=MemoryStore())


def test_an_interrupted_async_delivery_releases_its_claim() -> None:
    """An AsyncReceiver whose handler is interrupted releases the claim and lets it propagate."""
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    async def interrupted(event: Event) -> None:
        raise KeyboardInterrupt

    receiver = AsyncReceiver(secret=SECRET, dispatcher=dispatcher)
    body = body_for()

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(receiver.areceive(body, signed(body)))
    event = sow.parse(body)
    assert isinstance(receiver.store, AsyncMemoryStore)
    assert (
        receiver.store.sync.claim(event.context_identifier, event.event_id, "retry")
        is ClaimState.CLAIMED
    )


def test_areceive_without_a_store_awaits_the_hook() -> None:
    """areceive with idempotency=None runs every delivery and awaits the on_failure hook."""
    told: list[Event] = []
    calls = Calls(failures=1)

    async def hook(event: Event, _exc: HandlerError) -> None:
        told.append(event)

    receiver = AsyncReceiver(
        secret=SECRET, dispatcher=calls.dispatcher, idempotency=None, on_failure=hook
    )
    body = body_for()

    async def three() -> list[int]:
        return [(await receiver.areceive(body, signed(body))).status for _ in range(3)]

    assert asyncio.run(three()) == [500, 200, 200]
    assert len(calls.events) == 3
    assert told == [sow.parse(body)]


def test_sync_hook_in_an_async_receiver_is_a_configuration_error() -> None:
    """An AsyncReceiver refuses a sync on_failure hook (and releases the claim)."""
    calls = Calls(failures=1)
    receiver = AsyncReceiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        on_failure=lambda _event, _exc: None,  # type: ignore[arg-type,return-value]  # the misuse under test
    )
    body = body_for()

    with pytest.raises(
        ConfigurationError, match="on_failure hook of an AsyncReceiver must be async"
    ):
        asyncio.run(receiver.areceive(body, signed(body)))
    assert isinstance(receiver.store, AsyncMemoryStore)
    event = sow.parse(body)
    assert (
        receiver.store.sync.claim(event.context_identifier, event.event_id, "next")
        is ClaimState.CLAIMED
    )


class _Awaitable:
    """An awaitable that is not a coroutine, as a hook returning a Future gives."""

    def __await__(self) -> Iterator[None]:
        yield None


def test_hook_returning_an_awaitable_in_receive_is_a_configuration_error() -> None:
    """receive() refuses an on_failure hook that returns any awaitable, not only a coroutine."""
    calls = Calls(failures=1)
    receiver = Receiver(
        secret=SECRET,
        dispatcher=calls.dispatcher,
        on_failure=lambda _event, _exc: _Awaitable(),  # type: ignore[arg-type]  # the misuse under test
    )
    body = body_for()

    with pytest.raises(ConfigurationError, match="Use an AsyncReceiver"):
        receiver.receive(body, signed(body))


def test_a_claim_that_expires_during_the_handlers_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Handlers outliving the store's lease still answer 200, with a warning to lengthen it."""
    now = [1000.0]
    store = MemoryStore(lease=timedelta(seconds=30), clock=lambda: now[0])
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    def slow(event: Event) -> None:
        now[0] += 31  # the lease runs out while the handler works

    receiver = Receiver(secret=SECRET, dispatcher=dispatcher, idempotency=store)
    body = body_for()

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        outcome = receiver.receive(body, signed(body))

    assert outcome.status == 200
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "expired before its handlers finished" in record.getMessage()
    assert "longer lease" in record.getMessage()


def test_a_claim_that_expires_during_async_handlers_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An AsyncReceiver's handlers outliving the lease also answer 200 and warn to lengthen it."""
    now = [1000.0]
    store = AsyncMemoryStore(MemoryStore(lease=timedelta(seconds=30), clock=lambda: now[0]))
    dispatcher = Dispatcher()

    @dispatcher.on("person.created")
    async def slow(event: Event) -> None:
        now[0] += 31  # the lease runs out while the handler works

    receiver = AsyncReceiver(secret=SECRET, dispatcher=dispatcher, idempotency=store)
    body = body_for()

    with caplog.at_level(logging.WARNING, logger="superoffice_webhooks"):
        outcome = asyncio.run(receiver.areceive(body, signed(body)))

    assert outcome.status == 200
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "expired before its handlers finished" in record.getMessage()


def test_max_age_uses_the_system_clock_by_default() -> None:
    """Without a clock, max_age compares the Timestamp with the current UTC time."""
    receiver = Receiver(secret=SECRET, max_age=timedelta(minutes=5))
    fresh = body_for(Timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    old = body_for()  # the documented 2018 Timestamp

    assert receiver.receive(fresh, signed(fresh)).status == 200
    assert receiver.receive(old, signed(old)).status == 401
