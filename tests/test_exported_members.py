"""The public API: what superoffice_webhooks exports, and nothing heavy on import."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap

import pytest

import superoffice_webhooks
from superoffice_webhooks import events, exceptions, typing

EXPECTED_PUBLIC_API = {
    "AsyncReceiver",
    "ConfigurationError",
    "DispatchResult",
    "Dispatcher",
    "Event",
    "EventInFlightError",
    "HandlerError",
    "Handoff",
    "InboxError",
    "InboxHandoff",
    "InvalidSignatureError",
    "MissingSignatureError",
    "Outcome",
    "PayloadError",
    "PayloadTooLargeError",
    "Receiver",
    "Registrar",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "UnknownEvent",
    "UnknownTenantError",
    "VerificationError",
    "Worker",
    "adispatch",
    "default_dispatcher",
    "dispatch",
    "on",
    "on_any",
    "parse",
    "sign",
    "verify",
    "verify_and_parse",
}

EXCEPTION_NAMES = {
    "ConfigurationError",
    "EventInFlightError",
    "HandlerError",
    "InboxError",
    "InvalidSignatureError",
    "MissingSignatureError",
    "PayloadError",
    "PayloadTooLargeError",
    "StaleEventError",
    "SuperOfficeWebhookError",
    "UnknownTenantError",
    "VerificationError",
}

#: One class per documented event, a base, a FieldValues class and (with a delete event)
#: a DeletedValues class per entity: the names follow the rule in the event reference.
EVENT_CLASS_NAMES = {
    "ActivityChanged",
    "ActivityCreated",
    "ActivityDeleted",
    "ActivityDeletedValues",
    "ActivityEvent",
    "ActivityFieldValues",
    "AssociateChanged",
    "AssociateCreated",
    "AssociateDeleted",
    "AssociateDeletedValues",
    "AssociateEvent",
    "AssociateFieldValues",
    "ChatSessionChanged",
    "ChatSessionCreated",
    "ChatSessionEvent",
    "ChatSessionFieldValues",
    "ChatSessionMessage",
    "ContactChanged",
    "ContactCreated",
    "ContactDeleted",
    "ContactDeletedValues",
    "ContactEvent",
    "ContactFieldValues",
    "ContactSoftDeleted",
    "DocumentChanged",
    "DocumentCreated",
    "DocumentDeleted",
    "DocumentDeletedValues",
    "DocumentEdited",
    "DocumentEvent",
    "DocumentFieldValues",
    "ExtraTableChanged",
    "ExtraTableCreated",
    "ExtraTableDeleted",
    "ExtraTableEvent",
    "ExtraTableFieldValues",
    "ListItemChanged",
    "ListItemCreated",
    "ListItemEvent",
    "ListItemFieldValues",
    "ListItemSoftDeleted",
    "PersonChanged",
    "PersonConsented",
    "PersonCreated",
    "PersonDeleted",
    "PersonDeletedValues",
    "PersonEvent",
    "PersonFieldValues",
    "PersonSoftDeleted",
    "PersonUnconsented",
    "ProjectChanged",
    "ProjectCreated",
    "ProjectDeleted",
    "ProjectDeletedValues",
    "ProjectEvent",
    "ProjectFieldValues",
    "ProjectMemberChanged",
    "ProjectMemberCreated",
    "ProjectMemberDeleted",
    "ProjectMemberDeletedValues",
    "ProjectMemberEvent",
    "ProjectMemberFieldValues",
    "QuoteApproved",
    "QuoteEvent",
    "QuoteFieldValues",
    "QuoteOrdered",
    "QuoteRejected",
    "QuoteSent",
    "RelationChanged",
    "RelationCreated",
    "RelationDeleted",
    "RelationDeletedValues",
    "RelationEvent",
    "RelationFieldValues",
    "SaleChanged",
    "SaleCompleted",
    "SaleCreated",
    "SaleDeleted",
    "SaleDeletedValues",
    "SaleEvent",
    "SaleFieldValues",
    "SaleLost",
    "SaleSold",
    "SaleStakeholderChanged",
    "SaleStakeholderCreated",
    "SaleStakeholderDeleted",
    "SaleStakeholderDeletedValues",
    "SaleStakeholderEvent",
    "SaleStakeholderFieldValues",
    "TicketChanged",
    "TicketCreated",
    "TicketEvent",
    "TicketFieldValues",
    "WebhookErrors",
    "WebhookEvent",
    "WebhookFieldValues",
    "WebhookStarted",
    "WebhookStopped",
}
EXPECTED_EVENTS_API = EVENT_CLASS_NAMES | {
    "EVENT_CLASSES",
    "DeletedValues",
    "Event",
    "FieldValues",
    "TestEvent",
    "UnknownEvent",
    "WebhookState",
}
EXPECTED_TYPING_API = {
    "AsyncFailureHook",
    "AsyncInvalidPayloadHook",
    "AsyncSecretResolver",
    "FailureHook",
    "Headers",
    "InvalidPayloadHook",
    "Secret",
    "SecretResolver",
    "Secrets",
    "SyncRunner",
}

FRAMEWORKS = ("django", "flask", "starlette", "redis", "celery", "kombu")
TEST_EVENT = {
    "EventId": "4b5ce038-50f2-4796-bdb2-f96908cf31c2",
    "Timestamp": "2018-04-24T08:52:59.0005158Z",
    "Changes": [],
    "Event": "test",
    "PrimaryKey": 0,
    "ContextIdentifier": "Default",
    "ChangedByAssociateId": 316,
    "WebhookName": "Name you provided",
}


def test_event_class_names_follow_the_naming_rule() -> None:
    """Every event class is named entity prefix + CamelCase verb and is exported."""
    for name, cls in events.EVENT_CLASSES.items():
        if name == "test":
            assert cls is events.TestEvent
            continue
        assert cls.__name__ in EVENT_CLASS_NAMES
        verb = name.rsplit(".", 1)[1]
        suffix = "SoftDeleted" if verb == "softdeleted" else verb.capitalize()
        assert cls.__name__.endswith(suffix), (name, cls.__name__)
        assert cls.__name__.lower() == name.replace(".", "")


def test_all_names_exist() -> None:
    """Every name in __all__ is an attribute of the package."""
    for name in superoffice_webhooks.__all__:
        assert hasattr(superoffice_webhooks, name), name


def test_public_api_is_exactly_the_expected_set() -> None:
    """__all__ is exactly the documented public API, without duplicates."""
    assert set(superoffice_webhooks.__all__) == EXPECTED_PUBLIC_API
    assert len(superoffice_webhooks.__all__) == len(EXPECTED_PUBLIC_API)


def test_dir_lists_the_names_loaded_on_first_use() -> None:
    """dir() of the package lists every public name, lazy ones included, and __version__."""
    listed = dir(superoffice_webhooks)
    assert EXPECTED_PUBLIC_API | EXPECTED_EVENTS_API | {"__version__"} <= set(listed)
    assert listed == sorted(set(listed))
    for name in listed:
        assert hasattr(superoffice_webhooks, name), name


def test_events_module_all() -> None:
    """superoffice_webhooks.events exports the event classes, their bases and EVENT_CLASSES."""
    assert set(events.__all__) == EXPECTED_EVENTS_API
    assert len(events.__all__) == len(EXPECTED_EVENTS_API)


@pytest.mark.parametrize("name", sorted(EXPECTED_EVENTS_API))
def test_event_classes_are_importable_from_the_root(name: str) -> None:
    """Each name of superoffice_webhooks.events is also an attribute of the package root."""
    assert getattr(superoffice_webhooks, name) is getattr(events, name)


def test_event_classes_table_is_read_only() -> None:
    """EVENT_CLASSES cannot be changed: parse() and every dispatcher rely on it."""
    with pytest.raises(TypeError):
        events.EVENT_CLASSES["person.consented"] = events.PersonCreated  # type: ignore[index]


def test_typing_module_all() -> None:
    """superoffice_webhooks.typing exports the type aliases, none of them from the root."""
    assert set(typing.__all__) == EXPECTED_TYPING_API
    for name in typing.__all__:
        assert getattr(typing, name) is not None
        assert not hasattr(superoffice_webhooks, name)


def test_handler_alias_is_gone() -> None:
    """The unused Handler alias is not exported anywhere."""
    assert not hasattr(superoffice_webhooks, "Handler")
    assert not hasattr(typing, "Handler")


def test_star_import_gives_the_public_api() -> None:
    """`from superoffice_webhooks import *` binds exactly the public names."""
    namespace: dict[str, object] = {}
    exec("from superoffice_webhooks import *", namespace)  # noqa: S102
    namespace.pop("__builtins__", None)
    assert set(namespace) == EXPECTED_PUBLIC_API


@pytest.mark.parametrize("name", sorted(EXCEPTION_NAMES))
def test_exceptions_importable_from_exceptions_module(name: str) -> None:
    """Each exception is importable from superoffice_webhooks.exceptions as the same class."""
    cls = getattr(exceptions, name)
    assert cls is getattr(superoffice_webhooks, name)
    assert isinstance(cls, type)
    assert issubclass(cls, BaseException)


def test_exceptions_module_all() -> None:
    """superoffice_webhooks.exceptions.__all__ lists exactly the exception classes."""
    assert set(exceptions.__all__) == EXCEPTION_NAMES
    assert EXCEPTION_NAMES <= EXPECTED_PUBLIC_API


@pytest.mark.parametrize("name", sorted(EXCEPTION_NAMES))
def test_every_error_is_a_superoffice_webhook_error(name: str) -> None:
    """Every exported exception subclasses SuperOfficeWebhookError (itself an Exception)."""
    cls = getattr(superoffice_webhooks, name)
    assert issubclass(cls, superoffice_webhooks.SuperOfficeWebhookError)
    assert issubclass(superoffice_webhooks.SuperOfficeWebhookError, Exception)


def test_verification_error_hierarchy() -> None:
    """Missing and invalid signatures are both VerificationErrors; configuration is not."""
    sow = superoffice_webhooks
    assert issubclass(sow.MissingSignatureError, sow.VerificationError)
    assert issubclass(sow.InvalidSignatureError, sow.VerificationError)
    assert not issubclass(sow.MissingSignatureError, sow.InvalidSignatureError)
    assert not issubclass(sow.InvalidSignatureError, sow.MissingSignatureError)
    assert not issubclass(sow.ConfigurationError, sow.VerificationError)
    assert not issubclass(sow.PayloadError, sow.VerificationError)


def test_payload_error_hierarchy() -> None:
    """PayloadTooLargeError is a PayloadError; PayloadError carries a field."""
    sow = superoffice_webhooks
    assert issubclass(sow.PayloadTooLargeError, sow.PayloadError)
    assert not issubclass(sow.PayloadError, sow.VerificationError)
    assert sow.PayloadError("x", field="PrimaryKey").field == "PrimaryKey"
    assert sow.PayloadError("x").field is None


def test_handler_error_is_an_exception_group() -> None:
    """HandlerError is an ExceptionGroup carrying the event, and survives except*."""
    sow = superoffice_webhooks
    assert issubclass(sow.HandlerError, ExceptionGroup)
    assert issubclass(sow.HandlerError, sow.SuperOfficeWebhookError)
    event = sow.parse(TEST_EVENT)
    first, second = ValueError("a"), KeyError("b")
    group = sow.HandlerError("handlers failed", [first, second], event=event)
    assert isinstance(group, ExceptionGroup)
    assert group.exceptions == (first, second)
    assert group.event is event

    caught: list[BaseException] = []

    def handle_value_errors_only() -> None:
        try:
            raise group
        except* ValueError as split:
            caught.append(split)

    with pytest.raises(sow.HandlerError) as info:
        handle_value_errors_only()
    assert len(caught) == 1
    assert isinstance(caught[0], sow.HandlerError)
    assert caught[0].event is event
    assert caught[0].exceptions == (first,)
    assert info.value.exceptions == (second,)
    assert info.value.event is event


def test_version_is_a_string() -> None:
    """__version__ is the installed distribution's version string."""
    version = superoffice_webhooks.__version__
    assert isinstance(version, str)
    assert version
    assert version == importlib.metadata.version("superoffice-webhooks")


def test_unknown_attribute_raises_attribute_error() -> None:
    """An unknown module attribute is an AttributeError (module __getattr__ does not hide it)."""
    with pytest.raises(AttributeError):
        _ = superoffice_webhooks.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name",
    sorted((EXPECTED_PUBLIC_API | EXPECTED_EVENTS_API) - {"EVENT_CLASSES", "default_dispatcher"}),
)
def test_public_objects_are_defined_in_the_package(name: str) -> None:
    """Exported classes and functions come from the package itself."""
    obj = getattr(superoffice_webhooks, name)
    assert obj.__module__.split(".")[0] == "superoffice_webhooks"


def test_import_does_not_pull_in_web_frameworks() -> None:
    """Importing superoffice_webhooks in a fresh interpreter imports no framework or redis."""
    code = (
        "import json, sys, superoffice_webhooks\n"
        f"names = {list(FRAMEWORKS)!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in names)\n"
        "print(json.dumps({'loaded': loaded, 'ok': 'superoffice_webhooks' in sys.modules}))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["loaded"] == []


#: What importing the package leaves for later: the parsing engine and the event classes
#: (first parse), the receiver, worker and inbox (first use), asyncio (first async call).
LATER = (
    "asyncio",
    "cattrs",
    "superoffice_webhooks._converter",
    "superoffice_webhooks._generated_events",
    "superoffice_webhooks._receiver",
    "superoffice_webhooks._delivery",
    "superoffice_webhooks.inbox",
)


def test_import_leaves_the_heavy_parts_for_later() -> None:
    """A fresh import loads none of LATER; a parse, a Receiver and adispatch load them all."""
    code = textwrap.dedent(
        f"""
        import json, sys
        import superoffice_webhooks as sow
        later = {list(LATER)!r}
        first = [m for m in later if m in sys.modules]
        event = sow.parse({json.dumps(TEST_EVENT)!r})
        sow.Receiver(allow_unsigned=True)
        import asyncio
        asyncio.run(sow.Dispatcher().adispatch(event))
        print(json.dumps([first, [m for m in later if m not in sys.modules]]))
        """
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == [[], []]


EXPECTED_TESTING_API = {
    "EventRecorder",
    "WebhookClient",
    "WebhookResponse",
    "make_event",
    "make_field_values",
    "make_payload",
    "sign",
    "signed_request",
}


def test_testing_module_api() -> None:
    """superoffice_webhooks.testing exports exactly its documented names, all defined."""
    from superoffice_webhooks import testing  # noqa: PLC0415  # the module under test

    assert set(testing.__all__) == EXPECTED_TESTING_API
    assert len(testing.__all__) == len(EXPECTED_TESTING_API)
    for name in testing.__all__:
        assert getattr(testing, name).__module__.startswith("superoffice_webhooks"), name


def test_testing_module_imports_no_framework() -> None:
    """Importing superoffice_webhooks.testing (and the CLI) pulls in no framework or pytest."""
    code = (
        "import json, sys, superoffice_webhooks.testing, superoffice_webhooks._cli\n"
        f"names = {[*FRAMEWORKS, 'pytest']!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in names)))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []


def test_idempotency_module_all() -> None:
    """superoffice_webhooks.idempotency exports the store protocols and the bundled stores."""
    from superoffice_webhooks import idempotency  # noqa: PLC0415  # the module under test

    assert set(idempotency.__all__) == {
        "DEFAULT_LEASE",
        "DEFAULT_TTL",
        "AsyncIdempotencyStore",
        "AsyncMemoryStore",
        "AsyncSQLiteStore",
        "ClaimState",
        "IdempotencyStore",
        "MemoryStore",
        "SQLiteStore",
    }
    for name in idempotency.__all__:
        assert hasattr(idempotency, name), name


def test_inbox_module_all() -> None:
    """superoffice_webhooks.inbox exports the inbox protocol, its records and the bundled inboxes."""
    from superoffice_webhooks import inbox  # noqa: PLC0415  # the module under test

    assert set(inbox.__all__) == {
        "DEFAULT_LEASE",
        "DEFAULT_RETRY",
        "Entry",
        "Inbox",
        "InboxStats",
        "MemoryInbox",
        "RetryPolicy",
        "SQLiteInbox",
        "Settlement",
        "State",
        "entry_id",
        "split_id",
    }
    for name in inbox.__all__:
        assert hasattr(inbox, name), name
