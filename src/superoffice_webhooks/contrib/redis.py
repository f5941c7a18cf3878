"""The inbox and the idempotency stores in Redis, shared by every machine that reaches the server.

Needs the ``redis`` extra: ``pip install 'superoffice-webhooks[redis]'``. Each method is
one atomic Lua script (or one ``MULTI`` transaction), so claims and attempts hold across
processes and machines::

    import redis
    from superoffice_webhooks.contrib.redis import RedisInbox

    inbox = RedisInbox(redis.Redis.from_url("redis://localhost:6379/0"))
    receiver = sow.Receiver(secret="...", inbox=inbox)

:class:`RedisInbox` keeps every entry until it is purged. Its keys start with its prefix
(``superoffice_webhooks:inbox:`` unless given another): ``entry:<tenant>/<EventId>`` is
a hash per entry; ``due`` (pending entries by when they are due), ``leases`` (running
entries by when their lease runs out), ``settled`` (done and dead entries by when they
settled) and ``received`` and ``received:<state>`` (entries by when they were received)
are sorted sets.

Times come from the clock of the machine that calls (``time.time`` unless given
another), not from the server: keep the clocks of every machine that shares an inbox
in step (NTP). A machine whose clock runs ahead takes over leases early.

**Durability is Redis's.** The inbox tells SuperOffice that an event is recorded once
Redis has acknowledged the write; what survives a crash then depends on how the server
persists:

- with the append-only file (``appendonly yes``) and ``appendfsync everysec`` (Redis's
  default when the file is on), a crash or power loss of the server loses at most about
  the last second of acknowledged writes; with ``appendfsync always``, none, at the cost
  of one disk sync per write;
- with RDB snapshots only (``save ...``), everything written since the last snapshot is
  lost;
- with neither, a restart of the server loses the whole inbox.

For an inbox, turn the append-only file on (``appendonly yes``), and do not let Redis
evict keys (``maxmemory-policy noeviction``, so a full server refuses writes, and the
receiver answers 503, instead of dropping entries). The inbox's scripts name the keys they
touch from their arguments, so it needs one Redis server (with replicas if you like), not
Redis Cluster.

:class:`RedisStore` and :class:`AsyncRedisStore` are the idempotency stores: keys are
``<prefix><tenant>:<EventId>`` (the tenant is the event's ``ContextIdentifier``; the
``EventId`` at the end has a fixed length, so a tenant with ``:`` in it cannot make two
events share a key); Redis expires them itself (the lease while in flight, the TTL once
completed), so nothing needs purging.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from superoffice_webhooks.exceptions import ConfigurationError
from superoffice_webhooks.idempotency import (
    DEFAULT_LEASE,
    DEFAULT_TTL,
    AsyncIdempotencyStore,
    ClaimState,
    IdempotencyStore,
    seconds,
)
from superoffice_webhooks.inbox import (
    FIELDS,
    Entry,
    Inbox,
    InboxStats,
    Settlement,
    State,
    check_limit,
    due_at,
    entry_values,
    row_entry,
    split_id,
)

try:
    import redis
    import redis.asyncio
except ImportError as exc:  # pragma: no cover  # exercised only without the extra
    msg = (
        "superoffice_webhooks.contrib.redis needs redis-py: "
        "pip install 'superoffice-webhooks[redis]'"
    )
    raise ImportError(msg) from exc

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta
    from uuid import UUID

    from redis.commands.core import AsyncScript, Script

    _Client = redis.Redis | redis.asyncio.Redis

__all__ = ["DEFAULT_INBOX_PREFIX", "DEFAULT_PREFIX", "AsyncRedisStore", "RedisInbox", "RedisStore"]

#: The default key prefix of the idempotency stores; the tenant, ``:`` and the EventId follow it.
DEFAULT_PREFIX = "superoffice_webhooks:event:"
#: The default key prefix of :class:`RedisInbox`; every key of the inbox starts with it.
DEFAULT_INBOX_PREFIX = "superoffice_webhooks:inbox:"

# KEYS[1] the event's key, whose value is 'in_flight:<token>' or 'completed'; ARGV[1] the
# claim's token; ARGV[2] the lease in ms.
_CLAIM = """
if redis.call('SET', KEYS[1], 'in_flight:' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
if redis.call('GET', KEYS[1]) == 'completed' then return 'completed' end
return 'in_flight'
"""
# ARGV[1] the claim's token; ARGV[2] the TTL in ms.
_COMPLETE = """
local held = redis.call('GET', KEYS[1]) == 'in_flight:' .. ARGV[1]
redis.call('SET', KEYS[1], 'completed', 'PX', ARGV[2])
if held then return 1 end
return 0
"""
# ARGV[1] the claim's token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == 'in_flight:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _Store:
    """What the sync and async stores share: the checks, the options and the scripts."""

    #: The class of client the store needs.
    _kind: ClassVar[type[redis.Redis | redis.asyncio.Redis]]

    def __init__(self, client: _Client, prefix: str, ttl: timedelta, lease: timedelta) -> None:
        _check_client(client, self._kind, type(self).__name__)
        self.prefix = _check_prefix(prefix)
        self._ttl_ms = str(max(1, round(seconds(ttl, "ttl") * 1000)))
        self._lease_ms = str(max(1, round(seconds(lease, "lease") * 1000)))
        self._claim, self._complete, self._release = (
            client.register_script(script) for script in (_CLAIM, _COMPLETE, _RELEASE)
        )

    @classmethod
    def from_url(cls, url: str, **options: str | timedelta) -> Self:
        """A store with a client for *url*, e.g. ``redis://localhost:6379/0``."""
        return cls(cls._kind.from_url(url), **options)  # type: ignore[arg-type]  # checked in __init__

    def _run(self, script: Script | AsyncScript, tenant: str, event_id: UUID, *args: str) -> Any:
        # The EventId last and of fixed length (36 characters): the key is unambiguous
        # whatever the tenant holds, ':' included.
        return script(keys=[f"{self.prefix}{tenant}:{event_id}"], args=args)


def _check_client(client: object, kind: type, what: str) -> None:
    if not isinstance(client, kind):
        name = "redis.asyncio.Redis" if kind is redis.asyncio.Redis else "redis.Redis"
        msg = f"{what} needs a {name} client, not {type(client).__name__}."
        raise ConfigurationError(msg)


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str):
        msg = "prefix must be a str."
        raise ConfigurationError(msg)
    return prefix


def _state(result: bytes | str) -> ClaimState:
    return ClaimState(result.decode() if isinstance(result, bytes) else result)


class RedisStore(_Store, IdempotencyStore):
    """An idempotency store in Redis, for :meth:`Receiver.receive <superoffice_webhooks.Receiver.receive>`.

    :param client: a ``redis.Redis`` client (``decode_responses`` either way).
    :param prefix: put before each event's tenant and EventId to make its key.
    :param ttl: how long a completed event is remembered.
    :param lease: how long a claim stays in flight at most.
    """

    _kind = redis.Redis

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        super().__init__(client, prefix, ttl, lease)
        self.client = client

    def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        return _state(self._run(self._claim, tenant, event_id, token, self._lease_ms))

    def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        return bool(self._run(self._complete, tenant, event_id, token, self._ttl_ms))

    def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        return bool(self._run(self._release, tenant, event_id, token))


class AsyncRedisStore(_Store, AsyncIdempotencyStore):
    """:class:`RedisStore` for an :class:`~superoffice_webhooks.AsyncReceiver`, on ``redis.asyncio``.

    :param client: a ``redis.asyncio.Redis`` client; the other options as for :class:`RedisStore`.
    """

    _kind = redis.asyncio.Redis

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        super().__init__(client, prefix, ttl, lease)
        self.client = client

    async def claim(self, tenant: str, event_id: UUID, token: str) -> ClaimState:
        return _state(await self._run(self._claim, tenant, event_id, token, self._lease_ms))

    async def complete(self, tenant: str, event_id: UUID, token: str) -> bool:
        return bool(await self._run(self._complete, tenant, event_id, token, self._ttl_ms))

    async def release(self, tenant: str, event_id: UUID, token: str) -> bool:
        return bool(await self._run(self._release, tenant, event_id, token))


# --- the inbox ------------------------------------------------------------------

#: How many entries one purge script deletes, so that a large purge never blocks the
#: server for long; purge() runs it until less is left.
_PURGE_BATCH = 1000
#: Where an entry's state is among its FIELDS: a hash without one holds no entry.
_STATE = FIELDS.index("state")

# Shared by every inbox script. ARGV[1] is the key prefix. Each entry is in `received`,
# in `received:<state>` (both scored by received_at), and in the index of its state:
# `due` (pending, by next_attempt_at), `leases` (running, by lease_until) or `settled`
# (done and dead, by next_attempt_at, which settle() sets to the time it settled).
_INBOX_LIB = f"""
local prefix = ARGV[1]
local FIELDS = {{{", ".join(f"'{name}'" for name in FIELDS)}}}
local INDEX = {{
  pending = prefix .. 'due', running = prefix .. 'leases',
  done = prefix .. 'settled', dead = prefix .. 'settled'
}}
local function entry_key(id) return prefix .. 'entry:' .. id end
local function by_state(state) return prefix .. 'received:' .. state end
local function fields(key) return redis.call('HMGET', key, unpack(FIELDS)) end
-- Move entry `id` from its state to `state`, indexed by `score`.
local function move(id, key, state, score)
  local old = redis.call('HGET', key, 'state')
  redis.call('ZREM', INDEX[old], id)
  redis.call('ZREM', by_state(old), id)
  redis.call('ZADD', by_state(state), redis.call('HGET', key, 'received_at'), id)
  redis.call('ZADD', INDEX[state], score, id)
  redis.call('HSET', key, 'state', state)
end
-- Start an attempt of `owner` on entry `id`, its lease running until `lease_until`.
local function start(id, owner, lease_until)
  local key = entry_key(id)
  move(id, key, 'running', lease_until)
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('HSET', key, 'owner', owner, 'lease_until', lease_until)
  return fields(key)
end
-- Whether `owner` runs entry `key` now.
local function held(key, owner)
  local now = redis.call('HMGET', key, 'state', 'owner')
  return now[1] == 'running' and now[2] == owner
end
"""
# ARGV[2] the id; [3] received_at; [4] its state; [5] the score in that state's index;
# then the hash's fields and values.
_ADD = """
local key = entry_key(ARGV[2])
if redis.call('EXISTS', key) == 1 then return 0 end
redis.call('HSET', key, unpack(ARGV, 6))
redis.call('ZADD', prefix .. 'received', ARGV[3], ARGV[2])
redis.call('ZADD', by_state(ARGV[4]), ARGV[3], ARGV[2])
redis.call('ZADD', INDEX[ARGV[4]], ARGV[5], ARGV[2])
return 1
"""
# ARGV[2] the id; [3] the owner; [4] lease_until.
_CLAIM_ENTRY = """
if redis.call('HGET', entry_key(ARGV[2]), 'state') ~= 'pending' then return false end
return start(ARGV[2], ARGV[3], ARGV[4])
"""
# ARGV[2] now; [3] the owner; [4] lease_until. A lease that ran out first, then the
# pending entry due first.
_TAKE = """
local id = redis.call('ZRANGEBYSCORE', INDEX.running, '-inf', ARGV[2], 'LIMIT', 0, 1)[1]
  or redis.call('ZRANGEBYSCORE', INDEX.pending, '-inf', ARGV[2], 'LIMIT', 0, 1)[1]
if not id then return false end
return start(id, ARGV[3], ARGV[4])
"""
# ARGV[2] the id; [3] the owner; [4] lease_until.
_RENEW = """
local key = entry_key(ARGV[2])
if not held(key, ARGV[3]) then return 0 end
redis.call('HSET', key, 'lease_until', ARGV[4])
redis.call('ZADD', INDEX.running, ARGV[4], ARGV[2])
return 1
"""
# ARGV[2] the id; [3] the owner; [4] the new state; [5] next_attempt_at; [6] the error
# (absent: keep the last one).
_SETTLE = """
local key = entry_key(ARGV[2])
if not held(key, ARGV[3]) then return 0 end
move(ARGV[2], key, ARGV[4], ARGV[5])
redis.call('HSET', key, 'next_attempt_at', ARGV[5])
redis.call('HDEL', key, 'owner', 'lease_until')
if ARGV[6] then redis.call('HSET', key, 'last_error', ARGV[6]) end
return 1
"""
# ARGV[2] the sorted set to list, after the prefix; [3] the limit.
_ENTRIES = """
local found = {}
for i, id in ipairs(redis.call('ZREVRANGE', prefix .. ARGV[2], 0, ARGV[3] - 1)) do
  found[i] = fields(entry_key(id))
end
return found
"""
# ARGV[2] now; [3] the id, or absent for every dead entry. Makes each done or dead entry
# pending and due now, with a fresh count of attempts; returns how many.
_REPLAY = """
local ids = ARGV[3] and {ARGV[3]} or redis.call('ZRANGE', by_state('dead'), 0, -1)
local replayed = 0
for _, id in ipairs(ids) do
  local key = entry_key(id)
  local state = redis.call('HGET', key, 'state')
  if state == 'done' or state == 'dead' then
    move(id, key, 'pending', ARGV[2])
    redis.call('HSET', key, 'next_attempt_at', ARGV[2], 'attempts', 0)
    replayed = replayed + 1
  end
end
return replayed
"""
# ARGV[2] the cut-off; [3] the most entries to delete.
_PURGE = """
local old = redis.call('ZRANGEBYSCORE', INDEX.done, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(old) do
  local key = entry_key(id)
  redis.call('ZREM', by_state(redis.call('HGET', key, 'state')), id)
  redis.call('ZREM', prefix .. 'received', id)
  redis.call('ZREM', INDEX.done, id)
  redis.call('DEL', key)
end
return #old
"""


def _number(value: float) -> str:
    """*value* as Redis and Lua read it back exactly (``repr`` round-trips a float)."""
    return repr(float(value))


class RedisInbox(Inbox):
    """An :class:`~superoffice_webhooks.inbox.Inbox` in Redis, shared by every machine that reaches the server.

    Each method is one atomic Lua script or ``MULTI`` transaction. Turn on the server's
    append-only file, and keep the clocks of the machines in step (see the module's
    documentation above).

    :param client: a ``redis.Redis`` client made **without** ``decode_responses=True``:
        bodies are kept as the raw bytes that were verified.
    :param prefix: the start of every key the inbox uses.
    :param clock: seconds since the epoch, on the calling machine; for tests.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_INBOX_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_client(client, redis.Redis, "RedisInbox")
        if client.get_connection_kwargs().get("decode_responses"):
            msg = (
                "RedisInbox keeps bodies as raw bytes, so it needs a redis.Redis client made "
                "without decode_responses=True: give it another client, e.g. "
                "redis.Redis.from_url(url), or use RedisInbox.from_url(url)."
            )
            raise ConfigurationError(msg)
        #: The Redis client.
        self.client = client
        #: The start of every key of this inbox.
        self.prefix = _check_prefix(prefix)
        self._clock = clock
        self._add, self._claim, self._take, self._renew = (
            client.register_script(_INBOX_LIB + script)
            for script in (_ADD, _CLAIM_ENTRY, _TAKE, _RENEW)
        )
        self._settle, self._entries, self._replay, self._purge = (
            client.register_script(_INBOX_LIB + script)
            for script in (_SETTLE, _ENTRIES, _REPLAY, _PURGE)
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_INBOX_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> RedisInbox:
        """An inbox with a client of its own for *url*, e.g. ``redis://localhost:6379/0``."""
        return cls(redis.Redis.from_url(url), prefix=prefix, clock=clock)

    def _call(self, script: Script, *args: str | bytes | int) -> Any:
        return script(args=[self.prefix, *args])

    def add(self, entry: Entry) -> bool:
        # redis-py writes a number as its repr, which reads back exactly.
        values = entry_values(entry).items()
        pairs = [part for name, value in values if value is not None for part in (name, value)]
        received = _number(entry.received_at)
        index = _number(due_at(entry))
        return bool(self._call(self._add, entry.id, received, entry.state.value, index, *pairs))

    def claim(self, entry_id: str, owner: str, lease: float) -> Entry | None:
        split_id(entry_id)  # a malformed id is the caller's mistake: say so
        return self._started(self._call(self._claim, entry_id, owner, self._until(lease)))

    def take(self, owner: str, lease: float) -> Entry | None:
        now = self._clock()
        return self._started(self._call(self._take, _number(now), owner, _number(now + lease)))

    def _until(self, lease: float) -> str:
        return _number(self._clock() + lease)

    @staticmethod
    def _started(values: list[bytes | None] | None) -> Entry | None:
        return None if values is None else row_entry(values, bytes.decode)

    def renew(self, entry_id: str, owner: str, lease: float) -> bool:
        split_id(entry_id)  # a malformed id is the caller's mistake: say so
        return bool(self._call(self._renew, entry_id, owner, self._until(lease)))

    def settle(self, entry_id: str, owner: str, settlement: Settlement) -> bool:
        split_id(entry_id)  # a malformed id is the caller's mistake: say so
        error = () if settlement.error is None else (settlement.error,)
        due = _number(self._clock() + settlement.delay)
        return bool(self._call(self._settle, entry_id, owner, settlement.state.value, due, *error))

    def get(self, entry_id: str) -> Entry | None:
        split_id(entry_id)  # a malformed id is the caller's mistake: say so
        values = cast(
            "list[bytes | None]", self.client.hmget(f"{self.prefix}entry:{entry_id}", FIELDS)
        )
        return None if values[_STATE] is None else row_entry(values, bytes.decode)

    def entries(self, state: State | None = None, *, limit: int = 100) -> list[Entry]:
        limit = check_limit(limit)
        listed = "received" if state is None else f"received:{state.value}"
        found = self._call(self._entries, listed, limit)
        return [row_entry(values, bytes.decode) for values in found]

    def stats(self) -> InboxStats:
        with self.client.pipeline(transaction=True) as pipe:
            for state in State:
                pipe.zcard(f"{self.prefix}received:{state.value}")
            pipe.zrange(f"{self.prefix}received:{State.PENDING.value}", 0, 0, withscores=True)
            *counts, oldest = pipe.execute()
        return InboxStats(
            counts=dict(zip(State, counts, strict=True)),
            oldest_pending_at=oldest[0][1] if oldest else None,
        )

    def replay(self, entry_id: str) -> bool:
        split_id(entry_id)  # a malformed id is the caller's mistake: say so
        return bool(self._call(self._replay, _number(self._clock()), entry_id))

    def replay_dead(self) -> int:
        return int(self._call(self._replay, _number(self._clock())))

    def purge(self, older_than: timedelta) -> int:
        """Delete ``DONE`` and ``DEAD`` entries that settled more than *older_than* ago; return how many.

        Deletes in batches of a thousand entries, each batch atomic, so that a large
        purge does not hold up the server.
        """
        before = _number(self._clock() - seconds(older_than, "older_than"))
        total = 0
        while True:
            deleted = int(self._call(self._purge, before, _PURGE_BATCH))
            total += deleted
            if deleted < _PURGE_BATCH:
                return total

    def close(self) -> None:
        """Close the client's connections; the next call opens new ones."""
        self.client.close()
