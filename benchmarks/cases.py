"""What is measured: the floor, our steps, a default-cattrs variant and the peers.

Every case builds a runner for one payload: a function of no arguments that
verifies and/or parses that payload once and returns what it produced, so the
runner can be checked against the library's own result before it is timed.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import attrs
import cattrs

import superoffice_webhooks as sow
from superoffice_webhooks import _parse as _parse_module
from superoffice_webhooks.idempotency import MemoryStore

from .payloads import SECRET, Payload

Runner = Callable[[], object]
Group = Literal["floor", "ours", "variant", "peer"]

#: The case every ratio is taken against, unless a case names another baseline.
FLOOR = "floor"
#: The verification-only floor that ``verify`` is compared with.
FLOOR_HMAC = "floor-hmac"


class UnavailableError(Exception):
    """A case cannot run here (a peer is not installed); the message says why."""


@attrs.frozen
class Case:
    """One pipeline under test."""

    #: Short name, used in the table, the chart and the JSON.
    name: str
    #: What the runner does, in a few words.
    description: str
    group: Group
    #: Builds the runner for a payload; raises UnavailableError when it cannot.
    build: Callable[[Payload], Runner]
    #: Whether a runner's return value is the library's result for the payload.
    agrees: Callable[[object, Payload], bool]
    #: The case this one's ratio is taken against.
    baseline: str = FLOOR


def _key() -> bytes:
    return SECRET.encode("utf-8")


def bare_ok(body: bytes, key: bytes, signature: bytes) -> bool:
    """The floor's verification: HMAC-SHA256, base64, ``hmac.compare_digest``."""
    return hmac.compare_digest(base64.b64encode(hmac.digest(key, body, "sha256")), signature)


# --- the floor -------------------------------------------------------------------------


def _floor_hmac(p: Payload) -> Runner:
    body, key, signature = p.body, _key(), p.signature.encode("ascii")
    return lambda: hmac.compare_digest(
        base64.b64encode(hmac.digest(key, body, "sha256")), signature
    )


def _floor(p: Payload) -> Runner:
    body, key, signature = p.body, _key(), p.signature.encode("ascii")

    def run() -> object:
        if not hmac.compare_digest(base64.b64encode(hmac.digest(key, body, "sha256")), signature):
            raise AssertionError
        return json.loads(body)

    return run


def _floor_orjson(p: Payload) -> Runner:
    try:
        import orjson  # noqa: PLC0415  # optional: only in the bench group
    except ImportError as exc:
        raise UnavailableError("orjson is not installed (pip install orjson)") from exc
    body, key, signature = p.body, _key(), p.signature.encode("ascii")
    loads = orjson.loads

    def run() -> object:
        if not hmac.compare_digest(base64.b64encode(hmac.digest(key, body, "sha256")), signature):
            raise AssertionError
        return loads(body)

    return run


def _is_json(result: object, p: Payload) -> bool:
    return bool(result == json.loads(p.body))


def _is_true(result: object, _: Payload) -> bool:
    return result is True


# --- ours ------------------------------------------------------------------------------


def _noop(_: sow.Event) -> None:
    return None


def noop_dispatcher() -> sow.Dispatcher:
    """A dispatcher with one no-op handler for ``person.created``."""
    dispatcher = sow.Dispatcher()
    dispatcher.on("person.created")(_noop)
    return dispatcher


def _verify(p: Payload) -> Runner:
    body, signature, verify = p.body, p.signature, sow.verify

    def run() -> object:
        verify(body, signature, SECRET)
        return True

    return run


def _parse(p: Payload) -> Runner:
    body, parse = p.body, sow.parse
    return lambda: parse(body)


@attrs.frozen
class StdlibJson:
    """A runner that parses with the standard library's json even where orjson is installed.

    The timing loop enters :meth:`pinned` once around its calls; called directly (to
    check its result) it pins the parser for that one call.
    """

    run: Runner

    @contextmanager
    def pinned(self) -> Iterator[Runner]:
        saved = _parse_module.fast_loads
        _parse_module.fast_loads = None
        try:
            yield self.run
        finally:
            _parse_module.fast_loads = saved

    def __call__(self) -> object:
        with self.pinned() as run:
            return run()


def _with_orjson(build: Callable[[Payload], Runner]) -> Callable[[Payload], Runner]:
    def build_with_orjson(p: Payload) -> Runner:
        if _parse_module.fast_loads is None:
            raise UnavailableError(
                "orjson is not installed (pip install 'superoffice-webhooks[fast]')"
            )
        return build(p)

    return build_with_orjson


def _stdlib(build: Callable[[Payload], Runner]) -> Callable[[Payload], Runner]:
    return lambda p: StdlibJson(build(p))


def _verify_parse_dispatch(p: Payload) -> Runner:
    body, signature = p.body, p.signature
    verify_and_parse, dispatch = sow.verify_and_parse, noop_dispatcher().dispatch
    return lambda: dispatch(verify_and_parse(body, signature, SECRET))


def _receive(p: Payload) -> Runner:
    # The default in-memory idempotency store, with a TTL so short that the one body sent
    # every round is forgotten at once: each call claims and completes like a new event
    # (with the default TTL every call after the first would be answered as a duplicate).
    store = MemoryStore(ttl=timedelta(microseconds=1))
    receiver = sow.Receiver(secret=SECRET, dispatcher=noop_dispatcher(), idempotency=store)
    body, headers = p.body, p.headers
    return lambda: receiver.receive(body, headers)


def _is_event(result: object, p: Payload) -> bool:
    return bool(result == sow.parse(p.body))


def _dispatched(result: object, p: Payload) -> bool:
    return (
        isinstance(result, sow.DispatchResult)
        and result.handlers == (_noop,)
        and _is_event(result.event, p)
    )


def _received(result: object, p: Payload) -> bool:
    return (
        isinstance(result, sow.Outcome)
        and result.status == 200  # noqa: PLR2004  # handled
        and result.dispatch is not None
        and result.dispatch.handlers == (_noop,)
        and _is_event(result.event, p)
    )


# --- a default cattrs Converter into an equivalent frozen attrs class ------------------
# Field names are the wire names, so that no renaming (a non-default feature) is needed.


@attrs.frozen(kw_only=True)
class DefaultFieldValues:
    activeInterests: int | None = None  # noqa: N815  # the wire name
    associate_id: int | None = None
    business_idx: int | None = None
    category_idx: int | None = None
    contact_id: int | None = None
    country_id: int | None = None
    DeletedDate: datetime | None = None
    group_id: int | None = None
    person_id: int | None = None
    position_idx: int | None = None
    registered: datetime | None = None
    registered_associate_id: int | None = None
    retired: int | None = None
    source: int | None = None
    updated: datetime | None = None
    updated_associate_id: int | None = None
    userdef2_id: int | None = None
    userdef_id: int | None = None


@attrs.frozen(kw_only=True)
class DefaultPersonCreated:
    EventId: UUID
    Timestamp: datetime
    Changes: tuple[str, ...]
    Event: str
    PrimaryKey: int
    Entity: str | None = None
    ContextIdentifier: str
    ChangedByAssociateId: int
    WebhookName: str
    Values: dict[str, int] | None = None
    FieldValues: DefaultFieldValues | None = None


def default_converter() -> cattrs.Converter:
    """``cattrs.Converter()`` with only the two hooks it lacks: UUID and datetime."""
    converter = cattrs.Converter()
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    return converter


def _default_cattrs(p: Payload) -> Runner:
    body, key, signature = p.body, _key(), p.signature.encode("ascii")
    structure = default_converter().structure

    def run() -> object:
        if not bare_ok(body, key, signature):
            raise AssertionError
        return structure(json.loads(body), DefaultPersonCreated)

    return run


def _same_fields(result: object, p: Payload) -> bool:
    event = sow.parse(p.body)
    if not isinstance(result, DefaultPersonCreated) or not isinstance(event, sow.PersonCreated):
        return False
    ours = event.field_values
    theirs = result.FieldValues
    return (
        (result.EventId, result.Timestamp, result.Changes, result.PrimaryKey)
        == (event.event_id, event.timestamp, event.changes, event.primary_key)
        and ours is not None
        and theirs is not None
        and (theirs.contact_id, theirs.updated) == (ours.contact_id, ours.updated)
    )


# --- peers -----------------------------------------------------------------------------

_PEER_SECRET = "whsec_" + base64.b64encode(b"a benchmark secret of 32 bytes!!").decode("ascii")


def _missing(package: str, exc: ImportError) -> UnavailableError:
    return UnavailableError(f"{package} is not installed ({exc}); pip install -e . --group bench")


def _standard_headers(webhook: Any, prefix: str, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (``webhook-*`` or svix's ``svix-*``), signed now."""
    now = datetime.now(tz=UTC)
    return {
        f"{prefix}-id": "msg_bench",
        f"{prefix}-timestamp": str(int(now.timestamp())),
        f"{prefix}-signature": webhook.sign("msg_bench", now, body.decode("utf-8")),
    }


def _standardwebhooks(p: Payload) -> Runner:
    try:
        from standardwebhooks.webhooks import Webhook  # noqa: PLC0415  # optional peer
    except ImportError as exc:
        raise _missing("standardwebhooks", exc) from exc
    webhook = Webhook(_PEER_SECRET)
    body, verify, headers = p.body, webhook.verify, _standard_headers(webhook, "webhook", p.body)
    return lambda: verify(body, headers)


def _svix(p: Payload) -> Runner:
    try:
        from svix.webhooks import Webhook  # noqa: PLC0415  # optional peer
    except ImportError as exc:
        raise _missing("svix", exc) from exc
    webhook = Webhook(_PEER_SECRET)
    body, verify, headers = p.body, webhook.verify, _standard_headers(webhook, "svix", p.body)
    loads = json.loads

    def run() -> object:
        verify(body, headers)  # svix 2 verifies only; the JSON is read separately
        return loads(body)

    return run


def _stripe(p: Payload) -> Runner:
    try:
        import stripe  # noqa: PLC0415  # optional peer
    except ImportError as exc:
        raise _missing("stripe", exc) from exc
    secret = "whsec_bench"  # noqa: S105  # a benchmark secret
    timestamp = int(time.time())
    signed = f"{timestamp}.".encode() + p.body
    digest = hmac.new(secret.encode("utf-8"), signed, "sha256").hexdigest()
    header = f"t={timestamp},v1={digest}"
    body, construct = p.body, stripe.Webhook.construct_event
    # A day's tolerance so that a long run never trips the replay window.
    return lambda: construct(body, header, secret, tolerance=86400)


def _is_stripe_event(result: object, p: Payload) -> bool:
    to_dict = getattr(result, "to_dict", None)  # a stripe.Event (a StripeObject)
    return callable(to_dict) and bool(to_dict() == json.loads(p.body))


def github_ping(size: int) -> bytes:
    """A GitHub ``ping`` delivery of about *size* bytes (a long ``hook.events`` list)."""
    stamp = "2024-05-14T14:43:04Z"
    api = "https://api.github.com/repos/octo-org/octo-repo/hooks/12345678"
    data: dict[str, Any] = {
        "zen": "Design for failure.",
        "hook_id": 12345678,
        "hook": {
            "type": "Repository",
            "id": 12345678,
            "name": "web",
            "active": True,
            "events": ["issues", "push"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://example.com/"},
            "updated_at": stamp,
            "created_at": stamp,
            "url": api,
            "test_url": f"{api}/test",
            "ping_url": f"{api}/pings",
            "deliveries_url": f"{api}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        },
    }
    events: list[str] = data["hook"]["events"]
    while len(json.dumps(data, separators=(",", ":"))) < size:
        events.append(f"custom_event_{len(events):05d}")
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def _githubkit(p: Payload) -> Runner:
    try:
        from githubkit.webhooks import parse, sign, verify  # noqa: PLC0415  # optional peer
    except ImportError as exc:
        raise _missing("githubkit", exc) from exc
    body = github_ping(p.size)
    secret = "a benchmark secret"  # noqa: S105  # a benchmark secret
    signature = sign(secret, body)

    def run() -> object:
        if not verify(secret, body, signature):
            raise AssertionError
        return parse("ping", body)

    return run


def _is_github_ping(result: object, p: Payload) -> bool:
    hook = getattr(result, "hook", None)
    return bool(getattr(hook, "events", None) == json.loads(github_ping(p.size))["hook"]["events"])


# --- the list ----------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    Case(FLOOR, "HMAC-SHA256 + base64 + compare_digest + json.loads", "floor", _floor, _is_json),
    Case(FLOOR_HMAC, "HMAC-SHA256 + base64 + compare_digest", "floor", _floor_hmac, _is_true),
    Case("floor-orjson", "the floor with orjson.loads", "floor", _floor_orjson, _is_json),
    Case("verify", "sow.verify()", "ours", _verify, _is_true, baseline=FLOOR_HMAC),
    Case("parse", "sow.parse() of the raw body (stdlib json)", "ours", _stdlib(_parse), _is_event),
    Case(
        "verify_and_parse+dispatch",
        "sow.verify_and_parse() + Dispatcher.dispatch() to one no-op handler (stdlib json)",
        "ours",
        _stdlib(_verify_parse_dispatch),
        _dispatched,
    ),
    Case(
        "receive",
        "Receiver.receive(body, headers), end to end (stdlib json)",
        "ours",
        _stdlib(_receive),
        _received,
    ),
    Case(
        "parse[fast]",
        "sow.parse() with the fast extra (orjson)",
        "ours",
        _with_orjson(_parse),
        _is_event,
    ),
    Case(
        "verify_and_parse+dispatch[fast]",
        "verify_and_parse + dispatch with the fast extra (orjson)",
        "ours",
        _with_orjson(_verify_parse_dispatch),
        _dispatched,
    ),
    Case(
        "receive[fast]",
        "Receiver.receive with the fast extra (orjson)",
        "ours",
        _with_orjson(_receive),
        _received,
    ),
    Case(
        "cattrs-default",
        "verify + json.loads + a default cattrs.Converter into a frozen attrs class",
        "variant",
        _default_cattrs,
        _same_fields,
    ),
    Case(
        "standardwebhooks",
        "standardwebhooks Webhook.verify (verifies and parses)",
        "peer",
        _standardwebhooks,
        _is_json,
    ),
    Case("svix", "svix Webhook.verify + json.loads", "peer", _svix, _is_json),
    Case("stripe", "stripe.Webhook.construct_event", "peer", _stripe, _is_stripe_event),
    Case(
        "githubkit",
        "githubkit verify + parse of a GitHub ping of the same size",
        "peer",
        _githubkit,
        _is_github_ping,
    ),
)

#: The cases that need nothing beyond the package's own dependencies.
OWN = tuple(
    c for c in CASES if c.group != "peer" and c.name != "floor-orjson" and "[fast]" not in c.name
)

__all__ = ["CASES", "FLOOR", "FLOOR_HMAC", "OWN", "Case", "Runner", "UnavailableError"]
