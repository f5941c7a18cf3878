"""Event classes for every documented SuperOffice event.

Generated from codegen/catalogue.py by `python -m codegen.generate`; do not edit.
"""

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from ._events import (
    DeletedValues,
    Event,
    ExtraTableAccessors,
    FieldValues,
    IdKey,
    ListItemAccessors,
    PersonAccessors,
    TestEvent,
    WebhookAccessors,
)
from ._wire import (
    encoded_datetime,
    encoded_int,
    id_values,
    int_or_str,
    lenient_bool,
    lenient_int,
    wire,
    wire_metadata,
)

__all__ = [
    "EVENT_CLASSES",
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
]


# --- Activity -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActivityFieldValues(FieldValues):
    """The documented ``FieldValues`` of Activity events: an activity (a row of the appointment table: meeting, call, task)."""

    active_date: datetime | None = wire("activeDate", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    contact_id: int | None = wire("contact_id", default=None)
    do_by: datetime | None = wire("do_by", default=None)
    document_id: int | None = wire("document_id", default=None)
    end_date: datetime | None = wire("endDate", default=None)
    modified_appointment_fields: int | None = wire("modified_appointment_fields", default=None)
    mother_id: int | None = wire("mother_id", default=None)
    person_id: int | None = wire("person_id", default=None)
    private: int | None = wire("private", default=None)
    project_id: int | None = wire("project_id", default=None)
    sale_id: int | None = wire("sale_id", default=None)
    status: int | None = wire("status", default=None)
    task_idx: int | None = wire("task_idx", default=None)
    type: int | None = wire("type", default=None)
    updated: datetime | None = wire("updated", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class ActivityDeletedValues(DeletedValues):
    """The ``Values`` of an Activity delete event: the ids of the deleted row."""

    __slots__ = ()

    appointment_id = IdKey()
    contact_id = IdKey()
    person_id = IdKey()
    project_id = IdKey()
    sale_id = IdKey()


@attrs.frozen(kw_only=True)
class ActivityEvent(Event):
    """Base of the Activity events: an activity (a row of the appointment table: meeting, call, task)."""

    field_values: ActivityFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: ActivityDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(ActivityDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def appointment_id(self) -> int:
        """The id of the Activity row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ActivityCreated(ActivityEvent):
    """``activity.created``: a row was added."""


@attrs.frozen(kw_only=True)
class ActivityChanged(ActivityEvent):
    """``activity.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class ActivityDeleted(ActivityEvent):
    """``activity.deleted``: a row was deleted; its ids are in ``values``."""


# --- Associate ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AssociateFieldValues(FieldValues):
    """The documented ``FieldValues`` of Associate events: an associate (a user)."""

    deleted: int | None = wire("deleted", default=None)
    group_idx: int | None = wire("group_idx", default=None)
    person_id: int | None = wire("person_id", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    type: int | None = wire("type", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    waiting_for_approval: int | None = wire("waiting_for_approval", default=None)


class AssociateDeletedValues(DeletedValues):
    """The ``Values`` of an Associate delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    person_id = IdKey()


@attrs.frozen(kw_only=True)
class AssociateEvent(Event):
    """Base of the Associate events: an associate (a user)."""

    field_values: AssociateFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: AssociateDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(AssociateDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def associate_id(self) -> int:
        """The id of the Associate row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class AssociateCreated(AssociateEvent):
    """``associate.created``: a row was added."""


@attrs.frozen(kw_only=True)
class AssociateChanged(AssociateEvent):
    """``associate.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class AssociateDeleted(AssociateEvent):
    """``associate.deleted``: a row was deleted; its ids are in ``values``."""


# --- ChatSession --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ChatSessionFieldValues(FieldValues):
    """The documented ``FieldValues`` of ChatSession events: a chat session."""

    alert_level: int | None = wire("AlertLevel", aliases=("alertLevel",), hook=lenient_int, default=None)
    chatbot_isactive: bool | None = wire("ChatbotIsactive", aliases=("chatbotIsactive",), hook=lenient_bool, default=None)
    consented: bool | None = wire("Consented", aliases=("consented",), hook=lenient_bool, default=None)
    contact_id: int | None = wire("ContactId", aliases=("contactId",), hook=lenient_int, default=None)
    customer_alias: int | str | None = wire("CustomerAlias", aliases=("customerAlias",), hook=int_or_str, default=None)
    customer_id: int | None = wire("CustomerId", aliases=("customerId",), hook=lenient_int, default=None)
    project_id: int | None = wire("ProjectId", aliases=("projectId",), hook=lenient_int, default=None)
    rating: int | None = wire("Rating", aliases=("rating",), hook=lenient_int, default=None)
    sale_id: int | None = wire("SaleId", aliases=("saleId",), hook=lenient_int, default=None)
    status: int | None = wire("Status", aliases=("status",), hook=lenient_int, default=None)
    ticket_id: int | None = wire("TicketId", aliases=("ticketId",), hook=lenient_int, default=None)
    topic_id: int | None = wire("TopicId", aliases=("topicId",), hook=lenient_int, default=None)
    user_id: int | None = wire("UserId", aliases=("userId",), hook=lenient_int, default=None)


@attrs.frozen(kw_only=True)
class ChatSessionEvent(Event):
    """Base of the ChatSession events: a chat session."""

    field_values: ChatSessionFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def chat_session_id(self) -> int:
        """The id of the ChatSession row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ChatSessionCreated(ChatSessionEvent):
    """``chatsession.created``: a chat session started."""


@attrs.frozen(kw_only=True)
class ChatSessionMessage(ChatSessionEvent):
    """``chatsession.message``: a message was added to a chat session."""


@attrs.frozen(kw_only=True)
class ChatSessionChanged(ChatSessionEvent):
    """``chatsession.changed``: the state of a chat session changed."""


# --- Contact ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ContactFieldValues(FieldValues):
    """The documented ``FieldValues`` of Contact events: a contact (a company)."""

    active_interests: int | None = wire("activeInterests", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    business_idx: int | None = wire("business_idx", default=None)
    category_idx: int | None = wire("category_idx", default=None)
    country_id: int | None = wire("country_id", default=None)
    deleted: int | None = wire("deleted", default=None)
    deleted_date: datetime | None = wire("DeletedDate", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    source: int | None = wire("source", default=None)
    updated: datetime | None = wire("updated", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class ContactDeletedValues(DeletedValues):
    """The ``Values`` of a Contact delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    contact_id = IdKey()


@attrs.frozen(kw_only=True)
class ContactEvent(Event):
    """Base of the Contact events: a contact (a company)."""

    field_values: ContactFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: ContactDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(ContactDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def contact_id(self) -> int:
        """The id of the Contact row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ContactCreated(ContactEvent):
    """``contact.created``: a row was added."""


@attrs.frozen(kw_only=True)
class ContactChanged(ContactEvent):
    """``contact.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class ContactDeleted(ContactEvent):
    """``contact.deleted``: a row was deleted; its ids are in ``values``."""


@attrs.frozen(kw_only=True)
class ContactSoftDeleted(ContactEvent):
    """``contact.softdeleted``: a contact was deleted in the user interface."""


# --- Document -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DocumentFieldValues(FieldValues):
    """The documented ``FieldValues`` of Document events: a document."""

    application_id: int | None = wire("application_id", default=None)
    appointment_id: int | None = wire("appointment_id", default=None)
    document_id: int | None = wire("document_id", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class DocumentDeletedValues(DeletedValues):
    """The ``Values`` of a Document delete event: the ids of the deleted row."""

    __slots__ = ()

    document_id = IdKey()
    appointment_id = IdKey()


@attrs.frozen(kw_only=True)
class DocumentEvent(Event):
    """Base of the Document events: a document."""

    field_values: DocumentFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: DocumentDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(DocumentDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def document_id(self) -> int:
        """The id of the Document row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class DocumentCreated(DocumentEvent):
    """``document.created``: a row was added."""


@attrs.frozen(kw_only=True)
class DocumentChanged(DocumentEvent):
    """``document.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class DocumentDeleted(DocumentEvent):
    """``document.deleted``: a row was deleted; its ids are in ``values``."""


@attrs.frozen(kw_only=True)
class DocumentEdited(DocumentEvent):
    """``document.edited``: the content of a document changed."""


# --- Person -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PersonFieldValues(FieldValues):
    """The documented ``FieldValues`` of Person events: a person (a contact person of a company)."""

    active_interests: int | None = wire("activeInterests", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    business_idx: int | None = wire("business_idx", default=None)
    category_idx: int | None = wire("category_idx", default=None)
    contact_id: int | None = wire("contact_id", default=None)
    country_id: int | None = wire("country_id", default=None)
    deleted_date: datetime | None = wire("DeletedDate", default=None)
    group_id: int | None = wire("group_id", default=None)
    person_id: int | None = wire("person_id", default=None)
    position_idx: int | None = wire("position_idx", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    retired: int | None = wire("retired", default=None)
    source: int | None = wire("source", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class PersonDeletedValues(DeletedValues):
    """The ``Values`` of a Person delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    contact_id = IdKey()
    person_id = IdKey()


@attrs.frozen(kw_only=True)
class PersonEvent(PersonAccessors, Event):
    """Base of the Person events: a person (a contact person of a company)."""

    field_values: PersonFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: PersonDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(PersonDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def person_id(self) -> int:
        """The id of the Person row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class PersonCreated(PersonEvent):
    """``person.created``: a person row was added."""


@attrs.frozen(kw_only=True)
class PersonChanged(PersonEvent):
    """``person.changed``: a person row was updated."""


@attrs.frozen(kw_only=True)
class PersonSoftDeleted(PersonEvent):
    """``person.softdeleted``: a person was deleted in the user interface."""


@attrs.frozen(kw_only=True)
class PersonDeleted(PersonEvent):
    """``person.deleted``: a person was permanently deleted; ids are in ``values``."""


@attrs.frozen(kw_only=True)
class PersonConsented(PersonEvent):
    """``person.consented``: consent was added or changed."""


@attrs.frozen(kw_only=True)
class PersonUnconsented(PersonEvent):
    """``person.unconsented``: consent was removed or marked as withdrawn."""


# --- Project ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProjectFieldValues(FieldValues):
    """The documented ``FieldValues`` of Project events: a project."""

    active_links: int | None = wire("activeLinks", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    done: int | None = wire("done", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    status_idx: int | None = wire("status_idx", default=None)
    type_idx: int | None = wire("type_idx", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class ProjectDeletedValues(DeletedValues):
    """The ``Values`` of a Project delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    project_id = IdKey()


@attrs.frozen(kw_only=True)
class ProjectEvent(Event):
    """Base of the Project events: a project."""

    field_values: ProjectFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: ProjectDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(ProjectDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def project_id(self) -> int:
        """The id of the Project row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ProjectCreated(ProjectEvent):
    """``project.created``: a row was added."""


@attrs.frozen(kw_only=True)
class ProjectChanged(ProjectEvent):
    """``project.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class ProjectDeleted(ProjectEvent):
    """``project.deleted``: a row was deleted; its ids are in ``values``."""


# --- ProjectMember ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProjectMemberFieldValues(FieldValues):
    """The documented ``FieldValues`` of ProjectMember events: a project member."""

    contact_id: int | None = wire("contact_id", default=None)
    mtype_idx: int | None = wire("mtype_idx", default=None)
    person_id: int | None = wire("person_id", default=None)
    project_id: int | None = wire("project_id", default=None)
    projectmember_id: int | None = wire("projectmember_id", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)


class ProjectMemberDeletedValues(DeletedValues):
    """The ``Values`` of a ProjectMember delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    project_id = IdKey()


@attrs.frozen(kw_only=True)
class ProjectMemberEvent(Event):
    """Base of the ProjectMember events: a project member."""

    field_values: ProjectMemberFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: ProjectMemberDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(ProjectMemberDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def projectmember_id(self) -> int:
        """The id of the ProjectMember row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ProjectMemberCreated(ProjectMemberEvent):
    """``projectmember.created``: a row was added."""


@attrs.frozen(kw_only=True)
class ProjectMemberChanged(ProjectMemberEvent):
    """``projectmember.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class ProjectMemberDeleted(ProjectMemberEvent):
    """``projectmember.deleted``: a row was deleted; its ids are in ``values``."""


# --- Quote --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class QuoteFieldValues(FieldValues):
    """The documented ``FieldValues`` of Quote events: a quote."""


@attrs.frozen(kw_only=True)
class QuoteEvent(Event):
    """Base of the Quote events: a quote."""

    field_values: QuoteFieldValues | None = wire("FieldValues", default=None, hash=False)


@attrs.frozen(kw_only=True)
class QuoteApproved(QuoteEvent):
    """``quote.approved``: a quote was approved."""


@attrs.frozen(kw_only=True)
class QuoteRejected(QuoteEvent):
    """``quote.rejected``: a quote was rejected."""


@attrs.frozen(kw_only=True)
class QuoteSent(QuoteEvent):
    """``quote.sent``: a quote version was sent."""


@attrs.frozen(kw_only=True)
class QuoteOrdered(QuoteEvent):
    """``quote.ordered``: an order was placed for a quote."""


# --- Relation -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RelationFieldValues(FieldValues):
    """The documented ``FieldValues`` of Relation events: a relation between two contacts or persons."""

    associate_id: int | None = wire("associate_id", aliases=("associateId",), default=None)
    destination_record: int | None = wire("destination_record", default=None)
    destination_table: int | None = wire("destination_table", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    reldef_id: int | None = wire("reldef_id", default=None)
    source_record: int | None = wire("source_record", default=None)
    source_table: int | None = wire("source_table", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)


class RelationDeletedValues(DeletedValues):
    """The ``Values`` of a Relation delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    relation_id = IdKey()
    registered_associate_id = IdKey()
    updated_associate_id = IdKey()


@attrs.frozen(kw_only=True)
class RelationEvent(Event):
    """Base of the Relation events: a relation between two contacts or persons."""

    field_values: RelationFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: RelationDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(RelationDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def relation_id(self) -> int:
        """The id of the Relation row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class RelationCreated(RelationEvent):
    """``relation.created``: a row was added."""


@attrs.frozen(kw_only=True)
class RelationChanged(RelationEvent):
    """``relation.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class RelationDeleted(RelationEvent):
    """``relation.deleted``: a row was deleted; its ids are in ``values``."""


# --- Sale ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SaleFieldValues(FieldValues):
    """The documented ``FieldValues`` of Sale events: a sale."""

    active_links: int | None = wire("activeLinks", default=None)
    appointment_id: int | None = wire("appointment_id", default=None)
    associate_id: int | None = wire("associate_id", default=None)
    comptr_id: int | None = wire("comptr_id", default=None)
    contact_id: int | None = wire("contact_id", default=None)
    credited_id: int | None = wire("credited_id", default=None)
    currency_id: int | None = wire("currency_id", default=None)
    done: int | None = wire("done", default=None)
    group_idx: int | None = wire("group_idx", default=None)
    person_id: int | None = wire("person_id", default=None)
    probability_idx: int | None = wire("probability_idx", default=None)
    project_id: int | None = wire("project_id", default=None)
    reason_id: int | None = wire("reason_id", default=None)
    reason_sold_id: int | None = wire("reasonSold_id", default=None)
    reason_stalled_id: int | None = wire("reasonStalled_id", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    sale_type_cat_id: int | None = wire("saleTypeCat_id", default=None)
    sale_type_id: int | None = wire("saleType_id", default=None)
    saledate: datetime | None = wire("saledate", default=None)
    source_id: int | None = wire("source_id", default=None)
    status: int | None = wire("status", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)
    userdef2_id: int | None = wire("userdef2_id", default=None)
    userdef_id: int | None = wire("userdef_id", default=None)


class SaleDeletedValues(DeletedValues):
    """The ``Values`` of a Sale delete event: the ids of the deleted row."""

    __slots__ = ()

    associate_id = IdKey()
    sale_id = IdKey()
    contact_id = IdKey()
    person_id = IdKey()
    project_id = IdKey()


@attrs.frozen(kw_only=True)
class SaleEvent(Event):
    """Base of the Sale events: a sale."""

    field_values: SaleFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: SaleDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(SaleDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def sale_id(self) -> int:
        """The id of the Sale row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class SaleCreated(SaleEvent):
    """``sale.created``: a row was added."""


@attrs.frozen(kw_only=True)
class SaleChanged(SaleEvent):
    """``sale.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class SaleDeleted(SaleEvent):
    """``sale.deleted``: a row was deleted; its ids are in ``values``."""


@attrs.frozen(kw_only=True)
class SaleSold(SaleEvent):
    """``sale.sold``: a sale was marked as sold (no ``FieldValues``)."""


@attrs.frozen(kw_only=True)
class SaleLost(SaleEvent):
    """``sale.lost``: a sale was marked as lost (no ``FieldValues``)."""


@attrs.frozen(kw_only=True)
class SaleCompleted(SaleEvent):
    """``sale.completed``: a sale was completed (no ``FieldValues``)."""


# --- SaleStakeholder ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class SaleStakeholderFieldValues(FieldValues):
    """The documented ``FieldValues`` of SaleStakeholder events: a stakeholder of a sale."""

    contact_id: int | None = wire("contact_id", default=None)
    person_id: int | None = wire("person_id", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    sale_id: int | None = wire("sale_id", default=None)
    stakeholderrole_id: int | None = wire("stakeholderrole_id", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)


class SaleStakeholderDeletedValues(DeletedValues):
    """The ``Values`` of a SaleStakeholder delete event: the ids of the deleted row."""

    __slots__ = ()

    sale_id = IdKey()


@attrs.frozen(kw_only=True)
class SaleStakeholderEvent(Event):
    """Base of the SaleStakeholder events: a stakeholder of a sale."""

    field_values: SaleStakeholderFieldValues | None = wire("FieldValues", default=None, hash=False)
    values: SaleStakeholderDeletedValues | None = attrs.field(
        default=None,
        hash=False,
        converter=attrs.converters.optional(SaleStakeholderDeletedValues),
        metadata=wire_metadata("Values", hook=id_values(dict)),
    )

    @property
    def salestakeholder_id(self) -> int:
        """The id of the SaleStakeholder row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class SaleStakeholderCreated(SaleStakeholderEvent):
    """``salestakeholder.created``: a row was added."""


@attrs.frozen(kw_only=True)
class SaleStakeholderChanged(SaleStakeholderEvent):
    """``salestakeholder.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class SaleStakeholderDeleted(SaleStakeholderEvent):
    """``salestakeholder.deleted``: a row was deleted; its ids are in ``values``."""


# --- Ticket -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TicketFieldValues(FieldValues):
    """The documented ``FieldValues`` of Ticket events: a ticket (a request in Service)."""

    category: int | None = wire("category", default=None)
    connect_id: int | None = wire("connect_id", default=None)
    contact_id: int | None = wire("contact_id", default=None)
    created_at: datetime | None = wire("created_at", default=None)
    cust_id: int | None = wire("cust_id", default=None)
    has_attachment: int | None = wire("has_attachment", default=None)
    last_changed: datetime | None = wire("last_changed", default=None)
    owned_by: int | None = wire("owned_by", default=None)
    priority: int | None = wire("priority", default=None)
    project_id: int | None = wire("project_id", default=None)
    sale_id: int | None = wire("sale_id", default=None)
    slevel: int | None = wire("slevel", default=None)
    status: int | None = wire("status", default=None)
    ticket_status: int | None = wire("ticket_status", default=None)
    ticket_type: int | None = wire("ticket_type", default=None)


@attrs.frozen(kw_only=True)
class TicketEvent(Event):
    """Base of the Ticket events: a ticket (a request in Service)."""

    field_values: TicketFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def ticket_id(self) -> int:
        """The id of the Ticket row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class TicketCreated(TicketEvent):
    """``ticket.created``: a row was added."""


@attrs.frozen(kw_only=True)
class TicketChanged(TicketEvent):
    """``ticket.changed``: a row was updated."""


# --- ListItem -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ListItemFieldValues(FieldValues):
    """The documented ``FieldValues`` of ListItem events: an item of a list (``list.category.created``, ``list.110.softdeleted``)."""


@attrs.frozen(kw_only=True)
class ListItemEvent(ListItemAccessors, Event):
    """Base of the ListItem events: an item of a list (``list.category.created``, ``list.110.softdeleted``)."""

    field_values: ListItemFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def list_item_id(self) -> int:
        """The id of the ListItem row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ListItemCreated(ListItemEvent):
    """``list.<name|id>.created``: a list item was added."""


@attrs.frozen(kw_only=True)
class ListItemChanged(ListItemEvent):
    """``list.<name|id>.changed``: a list item was updated."""


@attrs.frozen(kw_only=True)
class ListItemSoftDeleted(ListItemEvent):
    """``list.<name|id>.softdeleted``: a list item was deleted (lists have no hard delete)."""


# --- ExtraTable ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExtraTableFieldValues(FieldValues):
    """The documented ``FieldValues`` of ExtraTable events: a row of an extra table (``y_table.created``)."""

    id: int | None = wire("id", hook=encoded_int, default=None)
    last_changed: datetime | None = wire("last_changed", hook=encoded_datetime, default=None)
    dbi_agent_id: int | None = wire("dbi_agent_id", hook=encoded_int, default=None)
    dbi_last_syncronized: datetime | None = wire("dbi_last_syncronized", hook=encoded_datetime, default=None)
    dbi_last_modified: datetime | None = wire("dbi_last_modified", hook=encoded_datetime, default=None)


@attrs.frozen(kw_only=True)
class ExtraTableEvent(ExtraTableAccessors, Event):
    """Base of the ExtraTable events: a row of an extra table (``y_table.created``)."""

    field_values: ExtraTableFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def row_id(self) -> int:
        """The id of the ExtraTable row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class ExtraTableCreated(ExtraTableEvent):
    """``y_<table>.created``: a row was added."""


@attrs.frozen(kw_only=True)
class ExtraTableChanged(ExtraTableEvent):
    """``y_<table>.changed``: a row was updated."""


@attrs.frozen(kw_only=True)
class ExtraTableDeleted(ExtraTableEvent):
    """``y_<table>.deleted``: a row was deleted; its ids are in ``values``."""


# --- Webhook ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WebhookFieldValues(FieldValues):
    """The documented ``FieldValues`` of Webhook events: the state of a webhook (subscribed as ``webhook<id>.<verb>``)."""

    events: int | None = wire("events", default=None)
    registered: datetime | None = wire("registered", default=None)
    registered_associate_id: int | None = wire("registered_associate_id", default=None)
    state: int | None = wire("state", default=None)
    updated: datetime | None = wire("updated", default=None)
    updated_associate_id: int | None = wire("updated_associate_id", default=None)


@attrs.frozen(kw_only=True)
class WebhookEvent(WebhookAccessors, Event):
    """Base of the Webhook events: the state of a webhook (subscribed as ``webhook<id>.<verb>``)."""

    field_values: WebhookFieldValues | None = wire("FieldValues", default=None, hash=False)

    @property
    def webhook_id(self) -> int:
        """The id of the Webhook row: the event's ``PrimaryKey``."""
        return self.primary_key


@attrs.frozen(kw_only=True)
class WebhookStarted(WebhookEvent):
    """``webhook.started``: a webhook became active."""


@attrs.frozen(kw_only=True)
class WebhookStopped(WebhookEvent):
    """``webhook.stopped``: a webhook was stopped."""


@attrs.frozen(kw_only=True)
class WebhookErrors(WebhookEvent):
    """``webhook.errors``: a webhook was disabled after too many errors or an HTTP 410."""


def _named(classes: dict[str, type[Event]]) -> Mapping[str, type[Event]]:
    for name, cls in classes.items():
        cls.event_name = name
    return MappingProxyType(classes)


#: Event name -> class, read-only. :func:`parse` uses it, then the list and
#: extra-table rules; names it does not know parse to :class:`UnknownEvent`.
EVENT_CLASSES = _named(
    {
        "test": TestEvent,
        "activity.created": ActivityCreated,
        "activity.changed": ActivityChanged,
        "activity.deleted": ActivityDeleted,
        "associate.created": AssociateCreated,
        "associate.changed": AssociateChanged,
        "associate.deleted": AssociateDeleted,
        "chatsession.created": ChatSessionCreated,
        "chatsession.message": ChatSessionMessage,
        "chatsession.changed": ChatSessionChanged,
        "contact.created": ContactCreated,
        "contact.changed": ContactChanged,
        "contact.deleted": ContactDeleted,
        "contact.softdeleted": ContactSoftDeleted,
        "document.created": DocumentCreated,
        "document.changed": DocumentChanged,
        "document.deleted": DocumentDeleted,
        "document.edited": DocumentEdited,
        "person.created": PersonCreated,
        "person.changed": PersonChanged,
        "person.softdeleted": PersonSoftDeleted,
        "person.deleted": PersonDeleted,
        "person.consented": PersonConsented,
        "person.unconsented": PersonUnconsented,
        "project.created": ProjectCreated,
        "project.changed": ProjectChanged,
        "project.deleted": ProjectDeleted,
        "projectmember.created": ProjectMemberCreated,
        "projectmember.changed": ProjectMemberChanged,
        "projectmember.deleted": ProjectMemberDeleted,
        "quote.approved": QuoteApproved,
        "quote.rejected": QuoteRejected,
        "quote.sent": QuoteSent,
        "quote.ordered": QuoteOrdered,
        "relation.created": RelationCreated,
        "relation.changed": RelationChanged,
        "relation.deleted": RelationDeleted,
        "sale.created": SaleCreated,
        "sale.changed": SaleChanged,
        "sale.deleted": SaleDeleted,
        "sale.sold": SaleSold,
        "sale.lost": SaleLost,
        "sale.completed": SaleCompleted,
        "salestakeholder.created": SaleStakeholderCreated,
        "salestakeholder.changed": SaleStakeholderChanged,
        "salestakeholder.deleted": SaleStakeholderDeleted,
        "ticket.created": TicketCreated,
        "ticket.changed": TicketChanged,
        "webhook.started": WebhookStarted,
        "webhook.stopped": WebhookStopped,
        "webhook.errors": WebhookErrors,
    }
)
#: Verb -> class for list.<name|id>.<verb> event names.
LIST_ITEM_CLASSES: Mapping[str, type[ListItemEvent]] = MappingProxyType(
    {
        "created": ListItemCreated,
        "changed": ListItemChanged,
        "softdeleted": ListItemSoftDeleted,
    }
)
#: Verb -> class for y_<table>.<verb> event names.
EXTRA_TABLE_CLASSES: Mapping[str, type[ExtraTableEvent]] = MappingProxyType(
    {
        "created": ExtraTableCreated,
        "changed": ExtraTableChanged,
        "deleted": ExtraTableDeleted,
    }
)
