"""The webhook views: ``WebhookView`` (sync handlers) and ``AsyncWebhookView`` (async too)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic

from asgiref.sync import sync_to_async
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from superoffice_webhooks._receiver import AsyncReceiver, Outcome, Receiver, refuse
from superoffice_webhooks.contrib._http import (
    CONTENT_TYPE,
    R,
    check_options,
    consumed,
    declared_length,
    make_receiver,
    read_body,
    text,
)
from superoffice_webhooks.exceptions import HandlerError, PayloadError

from . import conf
from .signals import event_received

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

__all__ = ["AsyncWebhookView", "WebhookView"]

#: The reason of the 411 answer to a body without a length under WSGI.
LENGTH_REQUIRED = (
    "The request has no Content-Length (a chunked body?), and Django under WSGI reads such "
    "a body as empty, so its signature cannot be checked. Send the body with a "
    "Content-Length header, as SuperOffice does; a proxy in front of Django must not "
    "re-chunk it."
)


@method_decorator(csrf_exempt, name="dispatch")
class _BaseWebhookView(View, Generic[R]):
    http_method_names = ["post"]  # noqa: RUF012  # Django reads it as a plain class attribute
    #: The class of receiver the view runs.
    kind: type[R]
    #: A ready receiver; if ``None`` one is built from ``SUPEROFFICE_WEBHOOKS``.
    receiver: R | None = None
    #: Receiver options that override the setting (from ``as_view(secret=..., ...)``).
    receiver_options: Mapping[str, Any] = MappingProxyType({})

    @classmethod
    def as_view(
        cls, receiver: R | None = None, **receiver_options: Any
    ) -> Callable[..., HttpResponseBase]:
        """The view function; *receiver* or Receiver options override the setting.

        ``WebhookView.as_view(secret=..., dispatcher=...)`` builds its receiver from the
        ``SUPEROFFICE_WEBHOOKS`` setting with these options on top, at the first request.
        The view is never wrapped in an ``ATOMIC_REQUESTS`` transaction: an inbox records
        and settles each event in transactions of its own, which a handler's failing
        database write must not roll back (wrap your handler's writes in
        ``transaction.atomic()`` where you need them together).
        """
        if receiver is not None:
            make_receiver(cls.kind, receiver, receiver_options)  # checks it is a lone *kind*
            view = super().as_view(receiver=receiver)
        else:
            check_options(cls.kind, receiver_options)
            view = super().as_view(receiver_options=MappingProxyType(receiver_options))
        for alias in connections:
            view = transaction.non_atomic_requests(using=alias)(view)
        return view

    def read(self, request: HttpRequest, receiver: Receiver | AsyncReceiver) -> bytes | Outcome:
        """The raw body, or the outcome to answer with before the receiver sees it."""
        if isinstance(request, WSGIRequest) and declared_length(request.headers) is None:
            return refuse(411, PayloadError(LENGTH_REQUIRED))
        try:
            return read_body(request.headers, receiver, lambda _size: request.body)
        except RawPostDataException:
            return consumed()

    def get_receiver(self) -> R:
        """The receiver for this view (built once, and again when the setting changes)."""
        if isinstance(self.receiver, self.kind):
            return self.receiver
        return conf.cached_receiver(self.kind, self.receiver_options)


class WebhookView(_BaseWebhookView[Receiver]):
    """A CSRF-exempt, POST-only view running the sync handlers of its receiver.

    ``path("superoffice/webhook/", WebhookView.as_view())`` reads the
    ``SUPEROFFICE_WEBHOOKS`` setting; ``as_view(secret=..., dispatcher=...)`` overrides
    it, and ``as_view(receiver=Receiver(...))`` ignores it.
    """

    kind = Receiver

    def post(self, request: HttpRequest) -> HttpResponse:
        """Receive one webhook request."""
        receiver = self.get_receiver()
        body = self.read(request, receiver)
        outcome = receiver.receive(body, request.headers) if isinstance(body, bytes) else body
        if _handlers_ran(outcome):
            event_received.send(type(self), event=outcome.event, outcome=outcome, request=request)
        return _response(outcome)


class AsyncWebhookView(_BaseWebhookView[AsyncReceiver]):
    """Like :class:`WebhookView`, for ASGI deployments, with an
    :class:`~superoffice_webhooks.AsyncReceiver`: handlers may be ``async``, and the
    receiver's hooks and idempotency store are async.

    Async handlers are awaited; sync ones run through Django's
    ``sync_to_async(thread_sensitive=True)``, so they may use the ORM as in any sync view.
    A ready receiver given to ``as_view(receiver=...)`` runs them as it was built to
    (pass it ``run_sync=`` yourself).
    """

    kind = AsyncReceiver

    @classmethod
    def as_view(
        cls, receiver: AsyncReceiver | None = None, **receiver_options: Any
    ) -> Callable[..., HttpResponseBase]:
        """See :meth:`WebhookView.as_view`; sync handlers run thread-sensitively."""
        if receiver is None:
            receiver_options.setdefault("run_sync", run_sync)
        return super().as_view(receiver, **receiver_options)

    async def post(self, request: HttpRequest) -> HttpResponse:
        """Receive one webhook request."""
        receiver = self.get_receiver()
        body = self.read(request, receiver)
        outcome = (
            await receiver.areceive(body, request.headers) if isinstance(body, bytes) else body
        )
        if _handlers_ran(outcome):
            await event_received.asend(
                type(self), event=outcome.event, outcome=outcome, request=request
            )
        return _response(outcome)


def run_sync(function: Callable[[], object]) -> Awaitable[object]:
    """Run a sync handler as Django runs sync code from async code: thread-sensitively."""
    return sync_to_async(function, thread_sensitive=True)()


def _handlers_ran(outcome: Outcome) -> bool:
    """Whether the handlers ran for this request (successfully or not)."""
    return outcome.dispatch is not None or isinstance(outcome.error, HandlerError)


def _response(outcome: Outcome) -> HttpResponse:
    return HttpResponse(text(outcome), status=outcome.status, content_type=CONTENT_TYPE)
