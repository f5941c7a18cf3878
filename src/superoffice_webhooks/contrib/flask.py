"""Flask: an extension that routes SuperOffice webhooks to your handlers, and a plain view.

::

    from superoffice_webhooks.contrib.flask import SuperOfficeWebhooks

    app.config["SUPEROFFICE_WEBHOOKS_SECRET"] = os.environ["SUPEROFFICE_WEBHOOK_SECRET"]
    webhooks = SuperOfficeWebhooks(app)  # POST /superoffice/webhook

    @webhooks.on("person.consented")
    def consent_given(event: sow.PersonConsented) -> None: ...
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import attrs
from flask import Flask, Response, current_app, request

from superoffice_webhooks._dispatch import Dispatcher, default_dispatcher
from superoffice_webhooks._log import logger
from superoffice_webhooks._receiver import Outcome, Receiver
from superoffice_webhooks.exceptions import ConfigurationError

from ._http import ALLOW, CONTENT_TYPE, NOT_ALLOWED, make_receiver, read_body, text, wsgi_headers

__all__ = [
    "DEFAULT_URL",
    "EXTENSION_KEY",
    "SuperOfficeWebhooks",
    "WebhookViewFunction",
    "webhook_view",
]

#: Where :class:`SuperOfficeWebhooks` routes webhooks unless told otherwise.
DEFAULT_URL = "/superoffice/webhook"
#: The key of the extension in ``app.extensions``.
EXTENSION_KEY = "superoffice_webhooks"
#: Config keys (after the ``SUPEROFFICE_WEBHOOKS_`` prefix) and the Receiver option each sets.
CONFIG_OPTIONS = {
    "SECRET": "secret",
    "SECRETS": "secret",
    "MAX_BODY_SIZE": "max_body_size",
    "ON_HANDLER_ERROR": "on_handler_error",
    "ALLOW_UNSIGNED": "allow_unsigned",
    "ACK_UNVERIFIED_TEST": "ack_unverified_test",
}
PREFIX = "SUPEROFFICE_WEBHOOKS_"


class WebhookViewFunction(Protocol):
    """A Flask view function that answers a SuperOffice webhook request."""

    #: ``["POST"]``: what Flask routes to the view unless ``methods=`` says otherwise.
    methods: list[str]
    #: ``False``: OPTIONS is not answered for the view.
    provide_automatic_options: bool

    def __call__(self) -> Response:
        """Answer the current request."""
        ...


def webhook_view(receiver: Receiver | None = None, **receiver_options: Any) -> WebhookViewFunction:
    """A view function for routing webhooks yourself, e.g. in a ``Blueprint``.

    ::

        blueprint.add_url_rule("/superoffice", view_func=webhook_view(secret=SECRET))

    Pass a ready :class:`~superoffice_webhooks.Receiver` or its keyword options. The view
    answers POST only (``methods`` defaults to ``["POST"]``).
    """
    built = make_receiver(Receiver, receiver, receiver_options)

    def superoffice_webhook() -> Response:
        return _handle(built)

    return _as_view(superoffice_webhook)


class SuperOfficeWebhooks:
    """The Flask extension: a POST route at *url* whose events go to :attr:`dispatcher`.

    Register handlers with :meth:`on`, which is the dispatcher's own ``on``. Configure
    per app with ``SUPEROFFICE_WEBHOOKS_SECRET`` (or ``_SECRETS``, a list while rotating),
    ``_URL``, ``_MAX_BODY_SIZE``, ``_ON_HANDLER_ERROR``, ``_ALLOW_UNSIGNED``,
    ``_ACK_UNVERIFIED_TEST`` and ``_OPTIONS`` (a dict of further Receiver options); keyword
    *receiver_options* give the defaults that config keys override.

    :param app: the app to set up now; or call :meth:`init_app` later (app factories).
    :param url: the route; ``None`` registers none, for routing :meth:`view` yourself
        (e.g. in a blueprint).
    :param dispatcher: whose handlers run. If omitted, a new
        :class:`~superoffice_webhooks.Dispatcher` that includes
        ``sow.default_dispatcher``: the handlers of ``@webhooks.on`` and of ``@sow.on``
        both run. A given dispatcher runs alone.

    If Flask-WTF's ``CSRFProtect`` is set up on the app (before or after this extension),
    the webhook view is exempt from it: SuperOffice signs its requests and sends no CSRF
    token.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        url: str | None = DEFAULT_URL,
        dispatcher: Dispatcher | None = None,
        **receiver_options: Any,
    ) -> None:
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            msg = f"dispatcher must be a Dispatcher, not {type(dispatcher).__name__}."
            raise ConfigurationError(msg)
        if dispatcher is None:
            dispatcher = Dispatcher()
            dispatcher.include(default_dispatcher)
        #: The dispatcher whose handlers the webhooks run.
        self.dispatcher = dispatcher
        #: Register a handler: ``@webhooks.on("person.consented")``.
        self.on = self.dispatcher.on
        self.url = url
        self.receiver_options = receiver_options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read *app*'s config, build its :class:`~superoffice_webhooks.Receiver` and route.

        :raises ConfigurationError: the config cannot make a receiver (no secret, ...).
        """
        options = {**self.receiver_options, **_config_options(app)}
        options["dispatcher"] = self.dispatcher
        receiver = make_receiver(Receiver, None, options)
        app.extensions[EXTENSION_KEY] = _State(extension=self, receiver=receiver)
        url = app.config.get(PREFIX + "URL", self.url)
        if url is not None:
            app.add_url_rule(url, endpoint=EXTENSION_KEY, view_func=self.view)
        _exempt_from_csrf(app, self.view)
        # CSRFProtect, if set up later, checks in a before_request hook registered after
        # this one: exempting the view at the first request (cached: only then) is in time.
        app.before_request(functools.cache(functools.partial(_exempt_from_csrf, app, self.view)))

    def receiver(self, app: Flask | None = None) -> Receiver:
        """The receiver of *app* (the current app if omitted)."""
        return self._state(app).receiver

    def _state(self, app: Flask | None = None) -> _State:
        state = (app or current_app).extensions.get(EXTENSION_KEY)
        if not isinstance(state, _State) or state.extension is not self:
            msg = "SuperOfficeWebhooks is not set up for this app: call webhooks.init_app(app)."
            raise ConfigurationError(msg)
        return state

    @property
    def view(self) -> WebhookViewFunction:
        """The view function, to route yourself: it answers with the current app's receiver."""

        def superoffice_webhook() -> Response:
            state = self._state()
            if not state.checked:
                state.checked = True
                _warn_without_handlers(state.receiver.dispatcher)
            return _handle(state.receiver)

        return _as_view(superoffice_webhook)


@attrs.define
class _State:
    extension: SuperOfficeWebhooks
    receiver: Receiver
    #: Whether the handlers were looked for, at the first request.
    checked: bool = False


def _warn_without_handlers(dispatcher: Dispatcher) -> None:
    if dispatcher.patterns():
        return
    default = (
        "has handlers, but the dispatcher given to the extension does not include it: "
        "call dispatcher.include(superoffice_webhooks.default_dispatcher)"
        if default_dispatcher.patterns()
        else "has none"
    )
    logger.warning(
        "SuperOfficeWebhooks has no handler to run: the extension's dispatcher "
        "(@webhooks.on) has none, and the default dispatcher (@superoffice_webhooks.on) %s. "
        "Every event is answered 200 'no handler' and not handled: register the handlers "
        "before the app serves requests (import the module that defines them).",
        default,
    )


def _exempt_from_csrf(app: Flask, view: WebhookViewFunction) -> None:
    """Exempt *view* from Flask-WTF's ``CSRFProtect`` if it is set up on *app*."""
    exempt = getattr(app.extensions.get("csrf"), "exempt", None)
    if exempt is not None:
        # Flask-WTF exempts a view by its module and name, which every webhook view shares.
        exempt(view)


def _config_options(app: Flask) -> dict[str, Any]:
    config = app.config
    if PREFIX + "SECRET" in config and PREFIX + "SECRETS" in config:
        msg = f"Set {PREFIX}SECRET or {PREFIX}SECRETS (a list while rotating), not both."
        raise ConfigurationError(msg)
    extra = config.get(PREFIX + "OPTIONS", {})
    if not isinstance(extra, dict):
        msg = f"{PREFIX}OPTIONS must be a dict of Receiver options."
        raise ConfigurationError(msg)
    options = dict(extra)
    for key, option in CONFIG_OPTIONS.items():
        if PREFIX + key in config:
            options[option] = config[PREFIX + key]
    return options


def _as_view(function: Any) -> WebhookViewFunction:
    function.methods = ["POST"]
    function.provide_automatic_options = False
    view: WebhookViewFunction = function
    return view


def _handle(receiver: Receiver) -> Response:
    environ = request.environ
    if environ["REQUEST_METHOD"].upper() != "POST":
        response = _response(NOT_ALLOWED)
        response.headers.set(*ALLOW)
        return response
    headers = wsgi_headers(environ)
    body = read_body(headers, receiver, _read)
    return _response(body if isinstance(body, Outcome) else receiver.receive(body, headers))


#: The most a single read asks for: each read allocates a buffer of the size asked.
_CHUNK = 64 * 1024


def _read(size: int) -> bytes:
    """The body, read no further than *size* bytes (a body already read with
    ``request.get_data()`` comes from its cache)."""
    stream = request.stream
    body = bytearray()
    while len(body) < size:
        chunk = stream.read(min(size - len(body), _CHUNK))
        if not chunk:
            break
        body += chunk
    return bytes(body) or request.get_data(cache=True)


def _response(outcome: Outcome) -> Response:
    return Response(text(outcome), status=outcome.status, content_type=CONTENT_TYPE)
