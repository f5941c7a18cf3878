"""Static typing of the public API: checked by ``mypy --strict``, never run.

Every check sits in a function so that importing this module has no effect. Lines
ending in ``# type: ignore[...]`` are mismatches a type checker must *reject*: with
``warn_unused_ignores`` the check fails if such a mismatch stops being reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, assert_type

import superoffice_webhooks as sow
from superoffice_webhooks.idempotency import AsyncMemoryStore, AsyncSQLiteStore, SQLiteStore

KEY = "webhook key"


def on_documented_names(dispatcher: sow.Dispatcher) -> None:
    """A handler taking the event class of a documented name fits that name."""

    @sow.on("person.consented")
    def consented(e: sow.PersonConsented) -> None:
        assert_type(e, sow.PersonConsented)
        assert_type(e.person_id, int)
        assert_type(e.contact_id, int | None)

    @dispatcher.on("person.created")
    def created(e: sow.PersonCreated) -> None: ...

    @dispatcher.on("person.changed")
    def changed(e: sow.PersonChanged) -> None: ...

    @dispatcher.on("person.softdeleted")
    def softdeleted(e: sow.PersonSoftDeleted) -> None: ...

    @dispatcher.on("person.deleted")
    def deleted(e: sow.PersonDeleted) -> None: ...

    @dispatcher.on("person.unconsented")
    def unconsented(e: sow.PersonUnconsented) -> None: ...

    assert_type(sow.on("person.consented"), sow.Registrar[sow.PersonConsented])
    assert_type(dispatcher.on("person.deleted"), sow.Registrar[sow.PersonDeleted])


def mismatches_are_reported(dispatcher: sow.Dispatcher) -> None:
    """A handler for another event than the name says is a type error."""

    @sow.on("person.consented")  # type: ignore[arg-type]
    def bad(e: sow.PersonCreated) -> None: ...

    @dispatcher.on("person.deleted")  # type: ignore[arg-type]
    def bad_deleted(e: sow.PersonConsented) -> None: ...

    @dispatcher.on(sow.PersonDeleted)  # type: ignore[arg-type]
    def bad_class(e: sow.PersonCreated) -> None: ...

    @dispatcher.on("person.*")  # type: ignore[arg-type]
    def too_narrow_for_pattern(e: sow.PersonCreated) -> None: ...

    @dispatcher.on("*.deleted")  # type: ignore[arg-type]
    def person_for_any_name(e: sow.PersonDeleted) -> None: ...

    @dispatcher.on_any  # type: ignore[arg-type]
    def person_for_every_event(e: sow.PersonEvent) -> None: ...

    def takes_a_string(e: str) -> None: ...

    dispatcher.on("*")(takes_a_string)  # type: ignore[arg-type]


def on_event_class(dispatcher: sow.Dispatcher) -> None:
    """on(EventClass) gives a registrar for that class."""
    assert_type(dispatcher.on(sow.PersonConsented), sow.Registrar[sow.PersonConsented])
    assert_type(sow.on(sow.PersonCreated), sow.Registrar[sow.PersonCreated])

    @dispatcher.on(sow.PersonConsented)
    def by_class(e: sow.PersonConsented) -> int:
        return e.primary_key

    assert_type(by_class, Callable[[sow.PersonConsented], int])


def on_patterns(dispatcher: sow.Dispatcher) -> None:
    """ "person.*" takes handlers of PersonEvent | UnknownEvent (a person event this
    version does not know parses to UnknownEvent); other patterns take Event ones."""
    assert_type(dispatcher.on("person.*"), sow.Registrar[sow.PersonEvent | sow.UnknownEvent])
    assert_type(dispatcher.on("*.deleted"), sow.Registrar[sow.Event])
    assert_type(dispatcher.on("*"), sow.Registrar[sow.Event])
    assert_type(dispatcher.on("contact.created", sow.PersonCreated), sow.Registrar[sow.Event])

    @dispatcher.on("person.*")
    def any_person(e: sow.PersonEvent | sow.UnknownEvent) -> None:
        if isinstance(e, sow.PersonEvent):
            assert_type(e.person_id, int)

    @dispatcher.on("person.*")  # type: ignore[arg-type]
    def forgets_unknown_person_events(e: sow.PersonEvent) -> None: ...

    @dispatcher.on("*.deleted", "contact.created")
    def any_event(e: sow.Event) -> None: ...


def event_handlers_fit_every_name(dispatcher: sow.Dispatcher) -> None:
    """Contravariance: a handler taking Event is accepted for any name or pattern."""

    def takes_event(e: sow.Event) -> str:
        return e.event

    sow.on("person.consented")(takes_event)
    dispatcher.on("person.created")(takes_event)
    dispatcher.on("person.*")(takes_event)
    dispatcher.on(sow.PersonCreated)(takes_event)
    dispatcher.on(sow.Event)(takes_event)
    dispatcher.on("*")(takes_event)
    dispatcher.on("list.category.created")(takes_event)
    dispatcher.on_any(takes_event)
    sow.on_any(takes_event)

    def takes_person_event(e: sow.PersonEvent) -> None: ...

    dispatcher.on("person.consented")(takes_person_event)
    dispatcher.on(sow.PersonDeleted)(takes_person_event)


def decorator_keeps_the_signature(
    dispatcher: sow.Dispatcher,
    # Declared, not defined with `async def`: checkers name a coroutine's type differently.
    async_handler: Callable[[sow.PersonCreated], Coroutine[Any, Any, int]],
) -> None:
    """on(...)(h) has h's own parameter and return types."""

    def returns_int(e: sow.PersonConsented) -> int:
        return e.primary_key

    def person_handler(e: sow.PersonEvent | sow.UnknownEvent) -> bytes:
        return b""

    def takes_event(e: sow.Event) -> str:
        return e.event

    assert_type(sow.on("person.consented")(returns_int), Callable[[sow.PersonConsented], int])
    assert_type(
        dispatcher.on(sow.PersonConsented)(returns_int), Callable[[sow.PersonConsented], int]
    )
    assert_type(
        dispatcher.on("person.*")(person_handler),
        Callable[[sow.PersonEvent | sow.UnknownEvent], bytes],
    )
    assert_type(dispatcher.on("*")(takes_event), Callable[[sow.Event], str])
    assert_type(dispatcher.on_any(takes_event), Callable[[sow.Event], str])
    assert_type(sow.on_any(takes_event), Callable[[sow.Event], str])
    assert_type(
        dispatcher.on("person.created")(async_handler),
        Callable[[sow.PersonCreated], Coroutine[Any, Any, int]],
    )


def parse_and_dispatch(dispatcher: sow.Dispatcher, body: bytes) -> None:
    """parse() gives Event; dispatch() gives DispatchResult."""
    assert_type(sow.parse(body), sow.Event)
    assert_type(sow.parse(body.decode()), sow.Event)
    assert_type(sow.parse({"Event": "test"}), sow.Event)
    assert_type(sow.verify_and_parse(body, "signature", KEY), sow.Event)
    assert_type(sow.verify(body, None, [KEY, b"old key"]), None)
    assert_type(sow.sign(body, KEY), str)

    result = dispatcher.dispatch(sow.parse(body))
    assert_type(result, sow.DispatchResult)
    assert_type(result.handled, bool)
    assert_type(result.event, sow.Event)
    assert_type(result.results, tuple[object, ...])
    assert_type(sow.dispatch(result.event), sow.DispatchResult)
    assert_type(asyncio.run(sow.adispatch(result.event)), sow.DispatchResult)
    assert_type(asyncio.run(dispatcher.adispatch(result.event)), sow.DispatchResult)
    assert_type(dispatcher.handlers_for("person.created"), tuple[Callable[..., object], ...])
    assert_type(dispatcher.patterns(), tuple[str, ...])
    assert_type(sow.default_dispatcher, sow.Dispatcher)

    dispatcher.dispatch(body)  # type: ignore[arg-type]
    sow.parse(42)  # type: ignore[arg-type]


def receiver_and_outcome(dispatcher: sow.Dispatcher, body: bytes) -> None:
    """Receiver options and Outcome attributes have precise types."""
    receiver = sow.Receiver(secret=KEY, dispatcher=dispatcher)
    sow.Receiver(secret=[KEY, b"old key"], max_body_size=4096, on_handler_error="ack")
    sow.Receiver(allow_unsigned=True, ack_unverified_test=False)
    sow.Receiver(secret=KEY, on_handler_error="ignore")  # type: ignore[arg-type]
    sow.Receiver(KEY)  # type: ignore[call-arg]

    outcome = receiver.receive(body, {"X-SuperOffice-Signature": "signature"})
    assert_type(outcome, sow.Outcome)
    assert_type(outcome.status, int)
    assert_type(outcome.reason, str)
    assert_type(outcome.ok, bool)
    assert_type(outcome.event, sow.Event | None)
    assert_type(outcome.dispatch, sow.DispatchResult | None)
    assert_type(outcome.error, sow.SuperOfficeWebhookError | None)
    _ = receiver.areceive  # type: ignore[attr-defined]  # an AsyncReceiver's method


async def sync_and_async_receivers(body: bytes, tmp: str) -> None:
    """Each receiver takes the collaborators of its kind; the other kind is a type error."""

    def resolve(tenant: str, name: str) -> str | None:
        return KEY

    async def aresolve(tenant: str, name: str) -> str | None:
        return KEY

    def hook(event: sow.Event, error: sow.HandlerError) -> None: ...

    async def ahook(event: sow.Event, error: sow.HandlerError) -> None: ...

    def keep(body: bytes, error: sow.PayloadError) -> None: ...

    async def akeep(body: bytes, error: sow.PayloadError) -> None: ...

    sow.Receiver(secret=resolve, on_failure=hook, on_invalid_payload=keep)
    sow.Receiver(idempotency=SQLiteStore(tmp), secret=KEY)
    sow.Receiver(secret=aresolve)  # type: ignore[arg-type]
    sow.Receiver(secret=KEY, on_failure=ahook)  # type: ignore[arg-type]
    sow.Receiver(secret=KEY, on_invalid_payload=akeep)  # type: ignore[arg-type]
    sow.Receiver(secret=KEY, idempotency=AsyncSQLiteStore(tmp))  # type: ignore[arg-type]

    receiver = sow.AsyncReceiver(secret=aresolve, on_failure=ahook, on_invalid_payload=akeep)
    sow.AsyncReceiver(secret=KEY, idempotency=AsyncMemoryStore())
    sow.AsyncReceiver(secret=resolve)  # type: ignore[arg-type]
    sow.AsyncReceiver(secret=KEY, on_failure=hook)  # type: ignore[arg-type]
    sow.AsyncReceiver(secret=KEY, on_invalid_payload=keep)  # type: ignore[arg-type]
    sow.AsyncReceiver(secret=KEY, idempotency=SQLiteStore(tmp))  # type: ignore[arg-type]

    assert_type(await receiver.areceive(body, {}), sow.Outcome)
    assert_type(await receiver.aaccept(body, {}), sow.Event | sow.Outcome)
    _ = receiver.receive  # type: ignore[attr-defined]  # a Receiver's method


def exception_attributes(
    payload: sow.PayloadError, too_large: sow.PayloadTooLargeError, failed: sow.HandlerError
) -> None:
    """PayloadError.field is str | None; HandlerError carries its event and exceptions."""
    assert_type(payload.field, str | None)
    assert_type(too_large.field, str | None)
    assert_type(failed.event, sow.Event)
    for exc in failed.exceptions:
        # An Exception (mypy simplifies the union) or a nested group (pyright keeps it).
        checked: Exception = exc
        wrong: ValueError = exc  # type: ignore[assignment]
        _ = checked, wrong


def handler_error_is_an_exception_group(err: sow.HandlerError) -> ExceptionGroup[Exception]:
    """HandlerError can be used wherever an ExceptionGroup is expected."""
    return err


def every_error_is_a_library_error(
    a: sow.ConfigurationError,
    b: sow.MissingSignatureError,
    c: sow.InvalidSignatureError,
    d: sow.PayloadTooLargeError,
    e: sow.HandlerError,
) -> list[sow.SuperOfficeWebhookError]:
    """Every exception class derives from SuperOfficeWebhookError."""
    return [a, b, c, d, e]


def verification_errors(b: sow.MissingSignatureError, c: sow.InvalidSignatureError) -> None:
    """Both signature errors are VerificationErrors."""
    errors: list[sow.VerificationError] = [b, c]
    assert_type(errors, list[sow.VerificationError])


def receiver_accept(receiver: sow.Receiver, body: bytes) -> None:
    """accept() gives the event or the outcome to answer with."""
    assert_type(receiver.accept(body, {}), sow.Event | sow.Outcome)


def on_every_documented_entity(dispatcher: sow.Dispatcher) -> None:
    """Names of every entity give their class; entity patterns give base | UnknownEvent."""
    assert_type(dispatcher.on("contact.created"), sow.Registrar[sow.ContactCreated])
    assert_type(dispatcher.on("sale.sold"), sow.Registrar[sow.SaleSold])
    assert_type(dispatcher.on("quote.approved"), sow.Registrar[sow.QuoteApproved])
    assert_type(dispatcher.on("chatsession.message"), sow.Registrar[sow.ChatSessionMessage])
    assert_type(dispatcher.on("ticket.changed"), sow.Registrar[sow.TicketChanged])
    assert_type(dispatcher.on("webhook.errors"), sow.Registrar[sow.WebhookErrors])
    assert_type(dispatcher.on("test"), sow.Registrar[sow.TestEvent])
    assert_type(dispatcher.on("list.category.created"), sow.Registrar[sow.ListItemCreated])
    assert_type(dispatcher.on("list.tags.softdeleted"), sow.Registrar[sow.ListItemSoftDeleted])
    assert_type(dispatcher.on("list.110.created"), sow.Registrar[sow.Event])
    assert_type(dispatcher.on("y_table.created"), sow.Registrar[sow.Event])
    assert_type(dispatcher.on("window.closed"), sow.Registrar[sow.Event])
    assert_type(dispatcher.on("sale.*"), sow.Registrar[sow.SaleEvent | sow.UnknownEvent])
    assert_type(dispatcher.on("list.*"), sow.Registrar[sow.ListItemEvent | sow.UnknownEvent])
    assert_type(dispatcher.on("webhook.*"), sow.Registrar[sow.WebhookEvent | sow.UnknownEvent])


def typed_parts_of_new_events(dispatcher: sow.Dispatcher) -> None:
    """The new events' FieldValues, Values and properties have precise types."""

    @sow.on("sale.sold")
    def sold(e: sow.SaleSold) -> None:
        assert_type(e.sale_id, int)
        assert_type(e.field_values, sow.SaleFieldValues | None)
        assert_type(e.values, sow.SaleDeletedValues | None)

    @dispatcher.on("sale.deleted")
    def sale_deleted(e: sow.SaleDeleted) -> None:
        if e.values is not None:
            assert_type(e.values.sale_id, int | None)
            assert_type(e.values.associate_id, int | None)

    @dispatcher.on("contact.*")
    def any_contact(e: sow.ContactEvent | sow.UnknownEvent) -> None: ...


def typed_parts_of_family_events(dispatcher: sow.Dispatcher) -> None:
    """Chat, state, list and extra-table events have precise types too."""

    @dispatcher.on("chatsession.created")
    def chat(e: sow.ChatSessionCreated) -> None:
        if e.field_values is not None:
            assert_type(e.field_values.contact_id, int | None)
            assert_type(e.field_values.consented, bool | None)
            assert_type(e.field_values.customer_alias, int | str | None)

    @dispatcher.on("webhook.errors")
    def state(e: sow.WebhookErrors) -> None:
        assert_type(e.webhook_id, int)
        assert_type(e.state, sow.WebhookState | None)

    @dispatcher.on("list.category.changed")
    def list_item(e: sow.ListItemChanged) -> None:
        assert_type(e.list_name, str)
        assert_type(e.list_id, int | None)

    def extra_table(e: sow.ExtraTableCreated) -> None:
        assert_type(e.table, str)
        assert_type(e.columns, Mapping[str, object])
        if e.field_values is not None:
            assert_type(e.field_values.last_changed, datetime | None)


def new_mismatches_are_reported(dispatcher: sow.Dispatcher) -> None:
    """Handlers for another event, or too narrow for a pattern, are type errors."""

    @dispatcher.on("contact.created")  # type: ignore[arg-type]
    def wrong_entity(e: sow.PersonCreated) -> None: ...

    @dispatcher.on("sale.sold")  # type: ignore[arg-type]
    def wrong_verb(e: sow.SaleLost) -> None: ...

    @dispatcher.on("sale.*")  # type: ignore[arg-type]
    def forgets_unknown_sale_events(e: sow.SaleEvent) -> None: ...

    @dispatcher.on("y_table.created")  # type: ignore[arg-type]
    def extra_tables_are_events_to_the_checker(e: sow.ExtraTableCreated) -> None: ...


def on_base_and_family_classes(dispatcher: sow.Dispatcher) -> None:
    """on(a base or family class) gives a registrar for that class and its subclasses."""
    assert_type(dispatcher.on(sow.PersonEvent), sow.Registrar[sow.PersonEvent])
    assert_type(dispatcher.on(sow.ListItemCreated), sow.Registrar[sow.ListItemCreated])
    assert_type(dispatcher.on(sow.ExtraTableEvent), sow.Registrar[sow.ExtraTableEvent])

    @dispatcher.on(sow.ExtraTableEvent)
    def any_extra_table_row(e: sow.ExtraTableEvent) -> None:
        assert_type(e.table, str)

    @dispatcher.on(sow.PersonEvent)  # type: ignore[arg-type]
    def too_narrow_for_the_class(e: sow.PersonConsented) -> None: ...
