"""The catalogue of documented SuperOffice events: the one table the event classes come from.

Everything typed about an event lives here: the entity, its verbs, its ``FieldValues``
keys with their types, and the id keys of its delete ``Values``. The module
``_generated_events`` (the classes), the ``Literal`` overloads of ``Dispatcher.on`` and
the reference page ``docs/events.md`` are written from this table by
``python -m superoffice_webhooks._generate``; a test fails when they are out of date.

Naming rule: an event class is the entity's ``prefix`` followed by the verb in CamelCase
(``sale`` + ``sold`` -> ``SaleSold``, ``salestakeholder`` + ``deleted`` ->
``SaleStakeholderDeleted``, ``softdeleted`` -> ``SoftDeleted``). Each entity also gets
``<prefix>Event`` (the base of its events), ``<prefix>FieldValues`` and, when it has a
delete event with documented ids, ``<prefix>DeletedValues``.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["ENTITIES", "KINDS", "LIST_NAMES", "Entity", "Key", "Verb", "snake"]

#: The types a ``FieldValues`` key can have. Each maps to an annotation (and, for the
#: lenient kinds, a structure hook) in ``_generate``.
KINDS = frozenset(
    {
        "int",  # a JSON integer
        "datetime",  # an ISO 8601 string; 0001-01-01T00:00:00 is None
        "bool",  # a JSON boolean (0 and 1 accepted too)
        "lenient_int",  # an integer, or a string of digits ("21")
        "int_or_str",  # an integer or a string, kept as sent
        "encoded_int",  # an integer, or CultureDataFormatter "[I:6]"
        "encoded_datetime",  # an ISO string, or CultureDataFormatter "[DT:MM/dd/yyyy ...]"
    }
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(wire_name: str) -> str:
    """The attribute name for a wire key: ``activeInterests`` -> ``active_interests``."""
    return _CAMEL_BOUNDARY.sub("_", wire_name).lower()


@attrs.frozen
class Key:
    """One documented ``FieldValues`` key."""

    #: The key as SuperOffice sends it (the spelling of the reference examples).
    wire: str
    #: One of :data:`KINDS`.
    kind: str = "int"
    #: Other documented spellings of the same key, accepted on input.
    aliases: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        return snake(self.wire)


@attrs.frozen
class Verb:
    """One event of an entity: the last segment of its name, and what it means."""

    name: str
    doc: str

    @property
    def class_suffix(self) -> str:
        return "SoftDeleted" if self.name == "softdeleted" else self.name.capitalize()


@attrs.frozen
class Entity:
    """One entity and its events."""

    #: The event-name prefix and ``Entity`` value: ``"contact"``. For the families it is
    #: the pattern the names follow: ``"list.<name|id>"``, ``"y_<table>"``, ``"webhook"``.
    name: str
    #: CamelCase class-name prefix: ``"Contact"``.
    prefix: str
    #: One line for docstrings and the reference page.
    doc: str
    verbs: tuple[Verb, ...]
    #: The documented ``FieldValues`` keys.
    keys: tuple[Key, ...] = ()
    #: The documented id keys of the delete ``Values`` (both shapes where docs disagree).
    deleted_values: tuple[str, ...] = ()
    #: The name of the property giving ``PrimaryKey`` (``"contact_id"``), if documented.
    id_attr: str | None = None
    #: ``"fixed"`` (names ``<name>.<verb>``), ``"list"``, ``"extra_table"`` or ``"state"``.
    family: str = "fixed"
    #: A hand-written base in ``_events`` adding properties, if any.
    mixin: str | None = None

    def event_name(self, verb: Verb) -> str:
        return f"{self.name}.{verb.name}"

    def class_name(self, verb: Verb) -> str:
        return self.prefix + verb.class_suffix


def _keys(spec: str, **kinds: str) -> tuple[Key, ...]:
    """Keys from a space-separated list; every key is an ``int`` unless named in *kinds*."""
    return tuple(Key(w, kinds.get(w, "int")) for w in spec.split())


_DT = "datetime"
_CREATED = Verb("created", "a row was added")
_CHANGED = Verb("changed", "a row was updated")
_DELETED = Verb("deleted", "a row was deleted; its ids are in ``values``")
_CRUD = (_CREATED, _CHANGED, _DELETED)

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "activity",
        "Activity",
        "an activity (a row of the appointment table: meeting, call, task)",
        _CRUD,
        _keys(
            "activeDate associate_id contact_id do_by document_id endDate "
            "modified_appointment_fields mother_id person_id private project_id sale_id "
            "status task_idx type updated userdef2_id userdef_id",
            activeDate=_DT,
            do_by=_DT,
            endDate=_DT,
            updated=_DT,
        ),
        ("appointment_id", "contact_id", "person_id", "project_id", "sale_id"),
        id_attr="appointment_id",
    ),
    Entity(
        "associate",
        "Associate",
        "an associate (a user)",
        _CRUD,
        _keys(
            "deleted group_idx person_id registered_associate_id type updated "
            "updated_associate_id waiting_for_approval",
            updated=_DT,
        ),
        ("associate_id", "person_id"),
        id_attr="associate_id",
    ),
    Entity(
        "chatsession",
        "ChatSession",
        "a chat session",
        (
            Verb("created", "a chat session started"),
            Verb("message", "a message was added to a chat session"),
            Verb("changed", "the state of a chat session changed"),
        ),
        tuple(
            Key(wire, kind, (wire[0].lower() + wire[1:],))
            for wire, kind in (
                ("AlertLevel", "lenient_int"),
                ("ChatbotIsactive", "bool"),
                ("Consented", "bool"),
                ("ContactId", "lenient_int"),
                ("CustomerAlias", "int_or_str"),
                ("CustomerId", "lenient_int"),
                ("ProjectId", "lenient_int"),
                ("Rating", "lenient_int"),
                ("SaleId", "lenient_int"),
                ("Status", "lenient_int"),
                ("TicketId", "lenient_int"),
                ("TopicId", "lenient_int"),
                ("UserId", "lenient_int"),
            )
        ),
        id_attr="chat_session_id",
    ),
    Entity(
        "contact",
        "Contact",
        "a contact (a company)",
        (*_CRUD, Verb("softdeleted", "a contact was deleted in the user interface")),
        _keys(
            "activeInterests associate_id business_idx category_idx country_id deleted "
            "DeletedDate registered registered_associate_id source updated userdef2_id "
            "userdef_id",
            DeletedDate=_DT,
            registered=_DT,
            updated=_DT,
        ),
        ("associate_id", "contact_id"),
        id_attr="contact_id",
    ),
    Entity(
        "document",
        "Document",
        "a document",
        (*_CRUD, Verb("edited", "the content of a document changed")),
        _keys(
            "application_id appointment_id document_id registered registered_associate_id "
            "updated updated_associate_id userdef2_id userdef_id",
            registered=_DT,
            updated=_DT,
        ),
        ("document_id", "appointment_id"),
        id_attr="document_id",
    ),
    Entity(
        "person",
        "Person",
        "a person (a contact person of a company)",
        (
            Verb("created", "a person row was added"),
            Verb("changed", "a person row was updated"),
            Verb("softdeleted", "a person was deleted in the user interface"),
            Verb("deleted", "a person was permanently deleted; ids are in ``values``"),
            Verb("consented", "consent was added or changed"),
            Verb("unconsented", "consent was removed or marked as withdrawn"),
        ),
        _keys(
            "activeInterests associate_id business_idx category_idx contact_id country_id "
            "DeletedDate group_id person_id position_idx registered registered_associate_id "
            "retired source updated updated_associate_id userdef2_id userdef_id",
            DeletedDate=_DT,
            registered=_DT,
            updated=_DT,
        ),
        ("associate_id", "contact_id", "person_id"),
        id_attr="person_id",
        mixin="PersonAccessors",
    ),
    Entity(
        "project",
        "Project",
        "a project",
        _CRUD,
        _keys(
            "activeLinks associate_id done registered registered_associate_id status_idx "
            "type_idx updated updated_associate_id userdef2_id userdef_id",
            registered=_DT,
            updated=_DT,
        ),
        ("associate_id", "project_id"),
        id_attr="project_id",
    ),
    Entity(
        "projectmember",
        "ProjectMember",
        "a project member",
        _CRUD,
        _keys(
            "contact_id mtype_idx person_id project_id projectmember_id registered "
            "registered_associate_id updated updated_associate_id",
            registered=_DT,
            updated=_DT,
        ),
        ("associate_id", "project_id"),
        id_attr="projectmember_id",
    ),
    Entity(
        "quote",
        "Quote",
        "a quote",
        (
            Verb("approved", "a quote was approved"),
            Verb("rejected", "a quote was rejected"),
            Verb("sent", "a quote version was sent"),
            Verb("ordered", "an order was placed for a quote"),
        ),
    ),
    Entity(
        "relation",
        "Relation",
        "a relation between two contacts or persons",
        _CRUD,
        (
            Key("associate_id", "int", ("associateId",)),
            *_keys(
                "destination_record destination_table registered registered_associate_id "
                "reldef_id source_record source_table updated updated_associate_id",
                registered=_DT,
                updated=_DT,
            ),
        ),
        ("associate_id", "relation_id", "registered_associate_id", "updated_associate_id"),
        id_attr="relation_id",
    ),
    Entity(
        "sale",
        "Sale",
        "a sale",
        (
            *_CRUD,
            Verb("sold", "a sale was marked as sold (no ``FieldValues``)"),
            Verb("lost", "a sale was marked as lost (no ``FieldValues``)"),
            Verb("completed", "a sale was completed (no ``FieldValues``)"),
        ),
        _keys(
            "activeLinks appointment_id associate_id comptr_id contact_id credited_id "
            "currency_id done group_idx person_id probability_idx project_id reason_id "
            "reasonSold_id reasonStalled_id registered registered_associate_id saleTypeCat_id "
            "saleType_id saledate source_id status updated updated_associate_id userdef2_id "
            "userdef_id",
            registered=_DT,
            saledate=_DT,
            updated=_DT,
        ),
        ("associate_id", "sale_id", "contact_id", "person_id", "project_id"),
        id_attr="sale_id",
    ),
    Entity(
        "salestakeholder",
        "SaleStakeholder",
        "a stakeholder of a sale",
        _CRUD,
        _keys(
            "contact_id person_id registered registered_associate_id sale_id "
            "stakeholderrole_id updated updated_associate_id",
            registered=_DT,
            updated=_DT,
        ),
        ("sale_id",),
        id_attr="salestakeholder_id",
    ),
    Entity(
        "ticket",
        "Ticket",
        "a ticket (a request in Service)",
        (_CREATED, _CHANGED),
        _keys(
            "category connect_id contact_id created_at cust_id has_attachment last_changed "
            "owned_by priority project_id sale_id slevel status ticket_status ticket_type",
            created_at=_DT,
            last_changed=_DT,
        ),
        id_attr="ticket_id",
    ),
    Entity(
        "list.<name|id>",
        "ListItem",
        "an item of a list (``list.category.created``, ``list.110.softdeleted``)",
        (
            Verb("created", "a list item was added"),
            Verb("changed", "a list item was updated"),
            Verb("softdeleted", "a list item was deleted (lists have no hard delete)"),
        ),
        id_attr="list_item_id",
        family="list",
        mixin="ListItemAccessors",
    ),
    Entity(
        "y_<table>",
        "ExtraTable",
        "a row of an extra table (``y_table.created``)",
        _CRUD,
        tuple(
            Key(w, "encoded_" + k)
            for w, k in (
                ("id", "int"),
                ("last_changed", "datetime"),
                ("dbi_agent_id", "int"),
                ("dbi_last_syncronized", "datetime"),
                ("dbi_last_modified", "datetime"),
            )
        ),
        id_attr="row_id",
        family="extra_table",
        mixin="ExtraTableAccessors",
    ),
    Entity(
        "webhook",
        "Webhook",
        "the state of a webhook (subscribed as ``webhook<id>.<verb>``)",
        (
            Verb("started", "a webhook became active"),
            Verb("stopped", "a webhook was stopped"),
            Verb("errors", "a webhook was disabled after too many errors or an HTTP 410"),
        ),
        _keys(
            "events registered registered_associate_id state updated updated_associate_id",
            registered=_DT,
            updated=_DT,
        ),
        id_attr="webhook_id",
        family="state",
        mixin="WebhookAccessors",
    ),
)

#: The lists SuperOffice documents by name (``list.<name>.<verb>``); lists can also be
#: subscribed by their ``UDListDefinition_id`` (``list.110.created``).
LIST_NAMES: tuple[str, ...] = tuple(
    """amountclass associate business category comptr contint country credited currency
    deliveryterms deliverytype doctmpl extapp intent mrmrs paymentterms paymenttype persint
    perspos pmembtype priceunit priority prob productcategory productfamily producttype
    projstatus projtype quoteapprreason quotedenyreason reason reasonsold reasonstalled
    rejectreason relationdefinition saletype saletypecat salutation searchcat source
    stakeholderrole subscriptionunit tags task taskmenu udlist consentpurpose consentsource
    legalbase pricelist saletypestagelink ejcategory ticketpriority ticketstatus tickettype
    usergroup udlistdefinition""".split()  # noqa: SIM905  # a word list reads better as text
)
