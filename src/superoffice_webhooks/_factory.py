"""Making plausible events, payloads and signed requests: for ``testing``, the command line
and the development server alike."""

from __future__ import annotations

import json
import random
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from enum import Enum
from typing import Any, Literal, overload

import attrs

from ._events import Event, FieldValues, TestEvent
from ._generated_events import EVENT_CLASSES
from ._parse import parse
from ._verify import sign
from .exceptions import ConfigurationError, PayloadError

__all__ = ["EventLike", "make_event", "make_field_values", "make_payload", "signed_request"]

E = typing.TypeVar("E", bound=Event)
F = typing.TypeVar("F", bound=FieldValues)
T = typing.TypeVar("T")

#: The ``User-Agent`` SuperOffice sends, with a made-up version.
USER_AGENT = "NetServer-Webhook/10.5.0 (superoffice-webhooks testing)"
#: Where deterministic timestamps start (``seed=`` given).
_EPOCH = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
_TENANT = "Cust12345"
_NOTHING = object()


def _event_class(name_or_class: str | type[Event]) -> tuple[type[Event], str]:
    if isinstance(name_or_class, str):
        cls = EVENT_CLASSES.get(name_or_class)
        if cls is None:
            close = get_close_matches(name_or_class, list(EVENT_CLASSES), n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            msg = (
                f"No event class is known for {name_or_class!r}.{hint} For an event this "
                f"version does not know, use make_event(UnknownEvent, event={name_or_class!r})."
            )
            raise ConfigurationError(msg)
        return cls, name_or_class
    if not (isinstance(name_or_class, type) and issubclass(name_or_class, Event)):
        msg = f"Pass an event name or an Event class, not {type(name_or_class).__name__}."
        raise ConfigurationError(msg)
    return name_or_class, name_or_class.event_name or ""


def _field_values_class(tp: object) -> type[FieldValues] | None:
    for arg in _union_args(tp):
        if isinstance(arg, type) and issubclass(arg, FieldValues):
            return arg
    return None


def _resolved_fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    attrs.resolve_types(cls)  # annotations may be strings (from __future__ import annotations)
    return tuple(attrs.fields(cls))


def _union_args(tp: object) -> tuple[object, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return (tp,)


class _Values:
    """Plausible values of each type; deterministic when given a seed."""

    def __init__(self, seed: int | None) -> None:
        self.rng = random.Random(seed)  # noqa: S311  # test data, not cryptography
        self.seeded = seed is not None

    def uuid(self) -> uuid.UUID:
        if self.seeded:
            return uuid.UUID(int=self.rng.getrandbits(128), version=4)
        return uuid.uuid4()

    def timestamp(self) -> datetime:
        if self.seeded:
            return _EPOCH + timedelta(seconds=self.rng.randrange(86_400 * 365))
        return datetime.now(UTC)

    def field_datetime(self) -> datetime:
        # SuperOffice sends FieldValues dates without an offset and to the second.
        base = _EPOCH if self.seeded else datetime.now(UTC)
        moment = base - timedelta(seconds=self.rng.randrange(86_400 * 365))
        return moment.replace(tzinfo=None, microsecond=0)

    def integer(self) -> int:
        return self.rng.randrange(1, 100_000)

    def value(self, tp: object, name: str) -> object:
        args = _union_args(tp)
        for arg in args:
            made = self._scalar(arg, name)
            if made is not _NOTHING:
                return made
        if type(None) in args:
            return None
        msg = f"Cannot make up a value of type {tp!r} for {name!r}; pass {name}=... yourself."
        raise ConfigurationError(msg)

    def _scalar(self, tp: object, name: str) -> object:
        if isinstance(tp, type) and issubclass(tp, Enum):
            return self.rng.choice(list(tp))
        if isinstance(tp, type) and issubclass(tp, FieldValues):
            return self.field_values(tp, {})
        if typing.get_origin(tp) is Literal:
            return self.rng.choice(typing.get_args(tp))
        makers: dict[object, Callable[[], object]] = {
            bool: lambda: self.rng.random() < 0.5,  # noqa: PLR2004  # a coin toss
            int: self.integer,
            float: lambda: round(self.rng.uniform(0, 1000), 2),
            str: lambda: f"{name} {self.integer()}",
            datetime: self.field_datetime,
            uuid.UUID: self.uuid,
        }
        return makers.get(tp, lambda: _NOTHING)()

    def field_values(self, cls: type[F], overrides: Mapping[str, object]) -> F:
        kwargs: dict[str, object] = {}
        for field in _resolved_fields(cls):
            if field.name == "extra" or field.name.startswith("_"):
                continue  # unknown keys, and private bookkeeping such as _wire_aliases
            # Every field draws its value, overridden or not, so that an override does
            # not change the values of the other fields for the same seed.
            try:
                kwargs[field.name] = self.value(field.type, field.name)
            except ConfigurationError:
                if field.name not in overrides:
                    raise
        return _construct(cls, {**kwargs, **overrides})


def _construct(cls: type[T], kwargs: Mapping[str, Any]) -> T:
    try:
        return cls(**kwargs)
    except TypeError as exc:
        names = sorted(f.name for f in attrs.fields(cls))  # type: ignore[arg-type]  # only called with attrs classes
        msg = f"{cls.__name__} has no such field ({exc}). Its fields are: {', '.join(names)}."
        raise ConfigurationError(msg) from exc


def make_field_values(cls: type[F], /, *, seed: int | None = None, **overrides: object) -> F:
    """A typed ``FieldValues`` object with a plausible value in every declared field.

    Ids become ints, dates naive datetimes (as SuperOffice sends them), strings short
    texts. *overrides* set fields by attribute name.

    :raises ConfigurationError: *cls* is not a :class:`~superoffice_webhooks.events.FieldValues`
        class, or an override names no field.
    """
    if not (isinstance(cls, type) and issubclass(cls, FieldValues)):
        msg = f"Pass a FieldValues class, not {cls!r}."
        raise ConfigurationError(msg)
    return _Values(seed).field_values(cls, overrides)


@overload
def make_event(name_or_class: type[E], /, *, seed: int | None = ..., **overrides: Any) -> E: ...
@overload
def make_event(name_or_class: str, /, *, seed: int | None = ..., **overrides: Any) -> Event: ...
def make_event(
    name_or_class: str | type[Event], /, *, seed: int | None = None, **overrides: Any
) -> Event:
    """Build a valid event of any known kind, with plausible values you can override.

    *name_or_class* is an event name from :data:`~superoffice_webhooks.events.EVENT_CLASSES`
    (``"person.created"``) or an event class. For a name this version does not know,
    pass :class:`~superoffice_webhooks.events.UnknownEvent` and ``event="the.name"``.

    *overrides* set fields by attribute name (``primary_key=18``). ``field_values`` may
    be a :class:`~superoffice_webhooks.events.FieldValues` object, ``None``, or a dict of
    attribute names, which overrides just those fields of the made-up values.

    With *seed*, ids, numbers and the timestamp are the same on every run; without it
    the ``event_id`` is random and the ``timestamp`` is now.

    The event is valid by construction: ``parse(event.to_json()) == event``.

    :raises ConfigurationError: an unknown name or field, or an override that would not
        survive the trip through JSON (the message says which field).
    """
    cls, name = _event_class(name_or_class)
    name = str(overrides.get("event", name))
    if not name:
        msg = f"{cls.__name__} stands for no single event; pass event='the.name' too."
        raise ConfigurationError(msg)
    values = _Values(seed)
    given = overrides.pop("field_values", _NOTHING)
    is_test = issubclass(cls, TestEvent)
    primary_key = 0 if is_test else values.integer()  # drawn first: a seed keeps its events
    entity = name.rsplit(".", 1)[0]
    kwargs = {
        "event_id": values.uuid(),
        "timestamp": values.timestamp(),
        "changes": (),
        "event": name,
        "primary_key": primary_key,
        "entity": entity,
        "context_identifier": "Default" if is_test else _TENANT,
        "changed_by_associate_id": values.integer() % 500 + 1,
        "webhook_name": "superoffice-webhooks tests",
        **overrides,
    }
    primary_key = kwargs["primary_key"]  # given or made up
    own_id = f"{entity.rsplit('.', 1)[-1]}_id"  # the row's id column: person_id for person.*
    if name.endswith(".deleted") and primary_key and "values" not in overrides:
        kwargs["values"] = {own_id: primary_key}  # the deleted row's ids
    fields = _resolved_fields(cls)
    fv_class = _field_values_class(attrs.fields_dict(cls)["field_values"].type)
    if given is _NOTHING:
        given = None if fv_class is None else {}
    if fv_class is not None and isinstance(given, Mapping):
        if primary_key and own_id in attrs.fields_dict(fv_class):  # the row's own id is its key
            given = {own_id: primary_key, **given}
        given = values.field_values(fv_class, given)
    kwargs["field_values"] = given
    for field in fields:
        if field.name not in kwargs and field.name != "extra" and field.default is attrs.NOTHING:
            kwargs[field.name] = values.value(field.type, field.name)
    return _round_trip(_construct(cls, kwargs))


def _round_trip(event: E) -> E:
    """Check that *event* survives to_json/parse, and return the parsed twin."""
    try:
        parsed = parse(event.to_json())
    except PayloadError as exc:
        msg = f"The overrides do not make a valid {type(event).__name__}: {exc}"
        raise ConfigurationError(msg) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        msg = f"The overrides do not make a valid {type(event).__name__}: a value has the wrong type ({exc})."
        raise ConfigurationError(msg) from exc
    if type(parsed) is not type(event):
        msg = (
            f"event={event.event!r} parses to {type(parsed).__name__}, not {type(event).__name__}."
        )
        raise ConfigurationError(msg)
    return parsed


def make_payload(
    name_or_class: str | type[Event], /, *, seed: int | None = None, **overrides: Any
) -> dict[str, object]:
    """The wire form (PascalCase keys, JSON values) of :func:`make_event`'s event."""
    return make_event(name_or_class, seed=seed, **overrides).to_dict()


EventLike = str | type[Event] | Event | Mapping[str, object] | bytes


def _body_of(event: EventLike, seed: int | None, overrides: dict[str, Any]) -> bytes:
    if isinstance(event, Event):
        made = _round_trip(attrs.evolve(event, **overrides)) if overrides else event
        return made.to_json().encode()
    if not isinstance(event, bytes | Mapping):
        return make_event(event, seed=seed, **overrides).to_json().encode()
    if overrides:
        msg = "Field overrides apply to event names and classes, not to ready bodies or payloads."
        raise ConfigurationError(msg)
    if isinstance(event, bytes):
        return event
    return json.dumps(dict(event), ensure_ascii=False, separators=(",", ":")).encode()


def signed_request(
    event: EventLike,
    secret: str | bytes,
    /,
    *,
    seed: int | None = None,
    headers: Mapping[str, str] | None = None,
    **overrides: Any,
) -> tuple[bytes, dict[str, str]]:
    """A request body and headers as SuperOffice would send them, signed with *secret*.

    *event* is an event name or class (built with :func:`make_event`, *seed* and
    *overrides*), an :class:`~superoffice_webhooks.events.Event` (*overrides* are applied with
    ``attrs.evolve``), a wire-form dict, or a ready body as bytes (signed as is).

    The headers are ``Content-Type``, ``User-Agent``, ``X-SuperOffice-Event``,
    ``X-SuperOffice-EventId``, ``X-SuperOffice-Signature`` and, for the ``test`` event,
    ``X-Hook-Test: true``; *headers* adds to or replaces them.
    """
    body = _body_of(event, seed, overrides)
    out = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("Event", "EventId"):
            if isinstance(data.get(key), str):
                out[f"X-SuperOffice-{key}"] = data[key]
        if data.get("Event") == "test":
            out["X-Hook-Test"] = "true"
    out["X-SuperOffice-Signature"] = sign(body, secret)
    out.update(headers or {})
    return body, out
