# How type checkers see on(): the class of each documented event name.
# Generated from codegen/catalogue.py by `python -m codegen.generate`; do not edit.

from typing import Literal, Protocol, TypeVar, overload

from . import _generated_events as _ge
from ._dispatch import Registrar
from ._events import Event, TestEvent, UnknownEvent

_E = TypeVar("_E", bound=Event)

class On(Protocol):
    @overload
    def __call__(self, name: Literal["test"], /) -> Registrar[TestEvent]: ...
    @overload
    def __call__(self, name: Literal["activity.created"], /) -> Registrar[_ge.ActivityCreated]: ...
    @overload
    def __call__(self, name: Literal["activity.changed"], /) -> Registrar[_ge.ActivityChanged]: ...
    @overload
    def __call__(self, name: Literal["activity.deleted"], /) -> Registrar[_ge.ActivityDeleted]: ...
    @overload
    def __call__(
        self, name: Literal["associate.created"], /
    ) -> Registrar[_ge.AssociateCreated]: ...
    @overload
    def __call__(
        self, name: Literal["associate.changed"], /
    ) -> Registrar[_ge.AssociateChanged]: ...
    @overload
    def __call__(
        self, name: Literal["associate.deleted"], /
    ) -> Registrar[_ge.AssociateDeleted]: ...
    @overload
    def __call__(
        self, name: Literal["chatsession.created"], /
    ) -> Registrar[_ge.ChatSessionCreated]: ...
    @overload
    def __call__(
        self, name: Literal["chatsession.message"], /
    ) -> Registrar[_ge.ChatSessionMessage]: ...
    @overload
    def __call__(
        self, name: Literal["chatsession.changed"], /
    ) -> Registrar[_ge.ChatSessionChanged]: ...
    @overload
    def __call__(self, name: Literal["contact.created"], /) -> Registrar[_ge.ContactCreated]: ...
    @overload
    def __call__(self, name: Literal["contact.changed"], /) -> Registrar[_ge.ContactChanged]: ...
    @overload
    def __call__(self, name: Literal["contact.deleted"], /) -> Registrar[_ge.ContactDeleted]: ...
    @overload
    def __call__(
        self, name: Literal["contact.softdeleted"], /
    ) -> Registrar[_ge.ContactSoftDeleted]: ...
    @overload
    def __call__(self, name: Literal["document.created"], /) -> Registrar[_ge.DocumentCreated]: ...
    @overload
    def __call__(self, name: Literal["document.changed"], /) -> Registrar[_ge.DocumentChanged]: ...
    @overload
    def __call__(self, name: Literal["document.deleted"], /) -> Registrar[_ge.DocumentDeleted]: ...
    @overload
    def __call__(self, name: Literal["document.edited"], /) -> Registrar[_ge.DocumentEdited]: ...
    @overload
    def __call__(self, name: Literal["person.created"], /) -> Registrar[_ge.PersonCreated]: ...
    @overload
    def __call__(self, name: Literal["person.changed"], /) -> Registrar[_ge.PersonChanged]: ...
    @overload
    def __call__(
        self, name: Literal["person.softdeleted"], /
    ) -> Registrar[_ge.PersonSoftDeleted]: ...
    @overload
    def __call__(self, name: Literal["person.deleted"], /) -> Registrar[_ge.PersonDeleted]: ...
    @overload
    def __call__(self, name: Literal["person.consented"], /) -> Registrar[_ge.PersonConsented]: ...
    @overload
    def __call__(
        self, name: Literal["person.unconsented"], /
    ) -> Registrar[_ge.PersonUnconsented]: ...
    @overload
    def __call__(self, name: Literal["project.created"], /) -> Registrar[_ge.ProjectCreated]: ...
    @overload
    def __call__(self, name: Literal["project.changed"], /) -> Registrar[_ge.ProjectChanged]: ...
    @overload
    def __call__(self, name: Literal["project.deleted"], /) -> Registrar[_ge.ProjectDeleted]: ...
    @overload
    def __call__(
        self, name: Literal["projectmember.created"], /
    ) -> Registrar[_ge.ProjectMemberCreated]: ...
    @overload
    def __call__(
        self, name: Literal["projectmember.changed"], /
    ) -> Registrar[_ge.ProjectMemberChanged]: ...
    @overload
    def __call__(
        self, name: Literal["projectmember.deleted"], /
    ) -> Registrar[_ge.ProjectMemberDeleted]: ...
    @overload
    def __call__(self, name: Literal["quote.approved"], /) -> Registrar[_ge.QuoteApproved]: ...
    @overload
    def __call__(self, name: Literal["quote.rejected"], /) -> Registrar[_ge.QuoteRejected]: ...
    @overload
    def __call__(self, name: Literal["quote.sent"], /) -> Registrar[_ge.QuoteSent]: ...
    @overload
    def __call__(self, name: Literal["quote.ordered"], /) -> Registrar[_ge.QuoteOrdered]: ...
    @overload
    def __call__(self, name: Literal["relation.created"], /) -> Registrar[_ge.RelationCreated]: ...
    @overload
    def __call__(self, name: Literal["relation.changed"], /) -> Registrar[_ge.RelationChanged]: ...
    @overload
    def __call__(self, name: Literal["relation.deleted"], /) -> Registrar[_ge.RelationDeleted]: ...
    @overload
    def __call__(self, name: Literal["sale.created"], /) -> Registrar[_ge.SaleCreated]: ...
    @overload
    def __call__(self, name: Literal["sale.changed"], /) -> Registrar[_ge.SaleChanged]: ...
    @overload
    def __call__(self, name: Literal["sale.deleted"], /) -> Registrar[_ge.SaleDeleted]: ...
    @overload
    def __call__(self, name: Literal["sale.sold"], /) -> Registrar[_ge.SaleSold]: ...
    @overload
    def __call__(self, name: Literal["sale.lost"], /) -> Registrar[_ge.SaleLost]: ...
    @overload
    def __call__(self, name: Literal["sale.completed"], /) -> Registrar[_ge.SaleCompleted]: ...
    @overload
    def __call__(
        self, name: Literal["salestakeholder.created"], /
    ) -> Registrar[_ge.SaleStakeholderCreated]: ...
    @overload
    def __call__(
        self, name: Literal["salestakeholder.changed"], /
    ) -> Registrar[_ge.SaleStakeholderChanged]: ...
    @overload
    def __call__(
        self, name: Literal["salestakeholder.deleted"], /
    ) -> Registrar[_ge.SaleStakeholderDeleted]: ...
    @overload
    def __call__(self, name: Literal["ticket.created"], /) -> Registrar[_ge.TicketCreated]: ...
    @overload
    def __call__(self, name: Literal["ticket.changed"], /) -> Registrar[_ge.TicketChanged]: ...
    @overload
    def __call__(
        self,
        name: Literal[
            "list.amountclass.created",
            "list.associate.created",
            "list.business.created",
            "list.category.created",
            "list.comptr.created",
            "list.contint.created",
            "list.country.created",
            "list.credited.created",
            "list.currency.created",
            "list.deliveryterms.created",
            "list.deliverytype.created",
            "list.doctmpl.created",
            "list.extapp.created",
            "list.intent.created",
            "list.mrmrs.created",
            "list.paymentterms.created",
            "list.paymenttype.created",
            "list.persint.created",
            "list.perspos.created",
            "list.pmembtype.created",
            "list.priceunit.created",
            "list.priority.created",
            "list.prob.created",
            "list.productcategory.created",
            "list.productfamily.created",
            "list.producttype.created",
            "list.projstatus.created",
            "list.projtype.created",
            "list.quoteapprreason.created",
            "list.quotedenyreason.created",
            "list.reason.created",
            "list.reasonsold.created",
            "list.reasonstalled.created",
            "list.rejectreason.created",
            "list.relationdefinition.created",
            "list.saletype.created",
            "list.saletypecat.created",
            "list.salutation.created",
            "list.searchcat.created",
            "list.source.created",
            "list.stakeholderrole.created",
            "list.subscriptionunit.created",
            "list.tags.created",
            "list.task.created",
            "list.taskmenu.created",
            "list.udlist.created",
            "list.consentpurpose.created",
            "list.consentsource.created",
            "list.legalbase.created",
            "list.pricelist.created",
            "list.saletypestagelink.created",
            "list.ejcategory.created",
            "list.ticketpriority.created",
            "list.ticketstatus.created",
            "list.tickettype.created",
            "list.usergroup.created",
            "list.udlistdefinition.created",
        ],
        /,
    ) -> Registrar[_ge.ListItemCreated]: ...
    @overload
    def __call__(
        self,
        name: Literal[
            "list.amountclass.changed",
            "list.associate.changed",
            "list.business.changed",
            "list.category.changed",
            "list.comptr.changed",
            "list.contint.changed",
            "list.country.changed",
            "list.credited.changed",
            "list.currency.changed",
            "list.deliveryterms.changed",
            "list.deliverytype.changed",
            "list.doctmpl.changed",
            "list.extapp.changed",
            "list.intent.changed",
            "list.mrmrs.changed",
            "list.paymentterms.changed",
            "list.paymenttype.changed",
            "list.persint.changed",
            "list.perspos.changed",
            "list.pmembtype.changed",
            "list.priceunit.changed",
            "list.priority.changed",
            "list.prob.changed",
            "list.productcategory.changed",
            "list.productfamily.changed",
            "list.producttype.changed",
            "list.projstatus.changed",
            "list.projtype.changed",
            "list.quoteapprreason.changed",
            "list.quotedenyreason.changed",
            "list.reason.changed",
            "list.reasonsold.changed",
            "list.reasonstalled.changed",
            "list.rejectreason.changed",
            "list.relationdefinition.changed",
            "list.saletype.changed",
            "list.saletypecat.changed",
            "list.salutation.changed",
            "list.searchcat.changed",
            "list.source.changed",
            "list.stakeholderrole.changed",
            "list.subscriptionunit.changed",
            "list.tags.changed",
            "list.task.changed",
            "list.taskmenu.changed",
            "list.udlist.changed",
            "list.consentpurpose.changed",
            "list.consentsource.changed",
            "list.legalbase.changed",
            "list.pricelist.changed",
            "list.saletypestagelink.changed",
            "list.ejcategory.changed",
            "list.ticketpriority.changed",
            "list.ticketstatus.changed",
            "list.tickettype.changed",
            "list.usergroup.changed",
            "list.udlistdefinition.changed",
        ],
        /,
    ) -> Registrar[_ge.ListItemChanged]: ...
    @overload
    def __call__(
        self,
        name: Literal[
            "list.amountclass.softdeleted",
            "list.associate.softdeleted",
            "list.business.softdeleted",
            "list.category.softdeleted",
            "list.comptr.softdeleted",
            "list.contint.softdeleted",
            "list.country.softdeleted",
            "list.credited.softdeleted",
            "list.currency.softdeleted",
            "list.deliveryterms.softdeleted",
            "list.deliverytype.softdeleted",
            "list.doctmpl.softdeleted",
            "list.extapp.softdeleted",
            "list.intent.softdeleted",
            "list.mrmrs.softdeleted",
            "list.paymentterms.softdeleted",
            "list.paymenttype.softdeleted",
            "list.persint.softdeleted",
            "list.perspos.softdeleted",
            "list.pmembtype.softdeleted",
            "list.priceunit.softdeleted",
            "list.priority.softdeleted",
            "list.prob.softdeleted",
            "list.productcategory.softdeleted",
            "list.productfamily.softdeleted",
            "list.producttype.softdeleted",
            "list.projstatus.softdeleted",
            "list.projtype.softdeleted",
            "list.quoteapprreason.softdeleted",
            "list.quotedenyreason.softdeleted",
            "list.reason.softdeleted",
            "list.reasonsold.softdeleted",
            "list.reasonstalled.softdeleted",
            "list.rejectreason.softdeleted",
            "list.relationdefinition.softdeleted",
            "list.saletype.softdeleted",
            "list.saletypecat.softdeleted",
            "list.salutation.softdeleted",
            "list.searchcat.softdeleted",
            "list.source.softdeleted",
            "list.stakeholderrole.softdeleted",
            "list.subscriptionunit.softdeleted",
            "list.tags.softdeleted",
            "list.task.softdeleted",
            "list.taskmenu.softdeleted",
            "list.udlist.softdeleted",
            "list.consentpurpose.softdeleted",
            "list.consentsource.softdeleted",
            "list.legalbase.softdeleted",
            "list.pricelist.softdeleted",
            "list.saletypestagelink.softdeleted",
            "list.ejcategory.softdeleted",
            "list.ticketpriority.softdeleted",
            "list.ticketstatus.softdeleted",
            "list.tickettype.softdeleted",
            "list.usergroup.softdeleted",
            "list.udlistdefinition.softdeleted",
        ],
        /,
    ) -> Registrar[_ge.ListItemSoftDeleted]: ...
    @overload
    def __call__(self, name: Literal["webhook.started"], /) -> Registrar[_ge.WebhookStarted]: ...
    @overload
    def __call__(self, name: Literal["webhook.stopped"], /) -> Registrar[_ge.WebhookStopped]: ...
    @overload
    def __call__(self, name: Literal["webhook.errors"], /) -> Registrar[_ge.WebhookErrors]: ...
    @overload
    def __call__(
        self, name: Literal["activity.*"], /
    ) -> Registrar[_ge.ActivityEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["associate.*"], /
    ) -> Registrar[_ge.AssociateEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["chatsession.*"], /
    ) -> Registrar[_ge.ChatSessionEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["contact.*"], /
    ) -> Registrar[_ge.ContactEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["document.*"], /
    ) -> Registrar[_ge.DocumentEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["person.*"], /
    ) -> Registrar[_ge.PersonEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["project.*"], /
    ) -> Registrar[_ge.ProjectEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["projectmember.*"], /
    ) -> Registrar[_ge.ProjectMemberEvent | UnknownEvent]: ...
    @overload
    def __call__(self, name: Literal["quote.*"], /) -> Registrar[_ge.QuoteEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["relation.*"], /
    ) -> Registrar[_ge.RelationEvent | UnknownEvent]: ...
    @overload
    def __call__(self, name: Literal["sale.*"], /) -> Registrar[_ge.SaleEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["salestakeholder.*"], /
    ) -> Registrar[_ge.SaleStakeholderEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["ticket.*"], /
    ) -> Registrar[_ge.TicketEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["list.*"], /
    ) -> Registrar[_ge.ListItemEvent | UnknownEvent]: ...
    @overload
    def __call__(
        self, name: Literal["webhook.*"], /
    ) -> Registrar[_ge.WebhookEvent | UnknownEvent]: ...
    @overload
    def __call__(self, event_class: type[_E], /) -> Registrar[_E]: ...
    @overload
    def __call__(self, *targets: str | type[Event]) -> Registrar[Event]: ...
