"""Idempotency stores in Redis, shared by every process and machine that reaches the server.

Needs the ``redis`` extra: ``pip install 'superoffice-webhooks[redis]'``. Each method is
one atomic Lua script, so claims hold across processes and machines::

    import redis
    from superoffice_webhooks.contrib.redis import RedisStore

    store = RedisStore(redis.Redis.from_url("redis://localhost:6379/0"))
    receiver = sow.Receiver(secret="...", idempotency=store)

Keys are ``<prefix><EventId>``; Redis expires them itself (the lease while in flight,
the TTL once completed), so nothing needs purging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from superoffice_webhooks.exceptions import ConfigurationError
from superoffice_webhooks.idempotency import DEFAULT_LEASE, DEFAULT_TTL, ClaimState, seconds

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
    from datetime import timedelta
    from uuid import UUID

__all__ = ["DEFAULT_PREFIX", "AsyncRedisStore", "RedisStore"]

#: The default key prefix; the EventId follows it.
DEFAULT_PREFIX = "superoffice_webhooks:event:"

# KEYS[1] the event's key; ARGV[1] the in-flight value; ARGV[2] the lease in ms.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
if redis.call('GET', KEYS[1]) == 'completed' then return 'completed' end
return 'in_flight'
"""
# ARGV[1] the in-flight value of this claim; ARGV[2] the TTL in ms.
_COMPLETE = """
local held = redis.call('GET', KEYS[1]) == ARGV[1]
redis.call('SET', KEYS[1], 'completed', 'PX', ARGV[2])
if held then return 1 end
return 0
"""
# ARGV[1] the in-flight value of this claim.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _Keys:
    """What the sync and async stores share: options, key names and script results."""

    def __init__(self, prefix: str, ttl: timedelta, lease: timedelta) -> None:
        if not isinstance(prefix, str):
            msg = "prefix must be a str."
            raise ConfigurationError(msg)
        self.prefix = prefix
        self._ttl_ms = str(max(1, round(seconds(ttl, "ttl") * 1000)))
        self._lease_ms = str(max(1, round(seconds(lease, "lease") * 1000)))

    def key(self, event_id: UUID) -> str:
        return f"{self.prefix}{event_id}"

    def claim_args(self, token: str) -> list[str]:
        return [_in_flight(token), self._lease_ms]

    def complete_args(self, token: str) -> list[str]:
        return [_in_flight(token), self._ttl_ms]


def _in_flight(token: str) -> str:
    return f"in_flight:{token}"


def _state(result: bytes | str) -> ClaimState:
    return ClaimState(result.decode() if isinstance(result, bytes) else result)


class RedisStore:
    """An idempotency store in Redis, for :meth:`Receiver.receive <superoffice_webhooks.Receiver.receive>`.

    :param client: a ``redis.Redis`` client (``decode_responses`` either way).
    :param prefix: put before each EventId to make the key.
    :param ttl: how long a completed event is remembered.
    :param lease: how long a claim stays in flight at most.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if not isinstance(client, redis.Redis):
            msg = f"RedisStore needs a redis.Redis client, not {type(client).__name__}."
            raise ConfigurationError(msg)
        self.client = client
        self._keys = _Keys(prefix, ttl, lease)
        self._claim = client.register_script(_CLAIM)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, **options: str | timedelta) -> RedisStore:
        """A store with a client for *url*, e.g. ``redis://localhost:6379/0``."""
        return cls(redis.Redis.from_url(url), **options)  # type: ignore[arg-type]  # checked in __init__

    def claim(self, event_id: UUID, token: str) -> ClaimState:
        """See :meth:`IdempotencyStore.claim <superoffice_webhooks.idempotency.IdempotencyStore.claim>`."""
        k = self._keys
        return _state(self._claim(keys=[k.key(event_id)], args=k.claim_args(token)))

    def complete(self, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.complete <superoffice_webhooks.idempotency.IdempotencyStore.complete>`."""
        k = self._keys
        return bool(self._complete(keys=[k.key(event_id)], args=k.complete_args(token)))

    def release(self, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.release <superoffice_webhooks.idempotency.IdempotencyStore.release>`."""
        return bool(self._release(keys=[self._keys.key(event_id)], args=[_in_flight(token)]))


class AsyncRedisStore:
    """:class:`RedisStore` for :meth:`Receiver.areceive <superoffice_webhooks.Receiver.areceive>`, on ``redis.asyncio``.

    :param client: a ``redis.asyncio.Redis`` client; the other options as for :class:`RedisStore`.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if not isinstance(client, redis.asyncio.Redis):
            msg = (
                f"AsyncRedisStore needs a redis.asyncio.Redis client, not {type(client).__name__}."
            )
            raise ConfigurationError(msg)
        self.client = client
        self._keys = _Keys(prefix, ttl, lease)
        self._claim = client.register_script(_CLAIM)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, **options: str | timedelta) -> AsyncRedisStore:
        """A store with a client for *url*, e.g. ``redis://localhost:6379/0``."""
        return cls(redis.asyncio.Redis.from_url(url), **options)  # type: ignore[arg-type]  # checked in __init__

    async def claim(self, event_id: UUID, token: str) -> ClaimState:
        """See :meth:`IdempotencyStore.claim <superoffice_webhooks.idempotency.IdempotencyStore.claim>`."""
        k = self._keys
        return _state(await self._claim(keys=[k.key(event_id)], args=k.claim_args(token)))

    async def complete(self, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.complete <superoffice_webhooks.idempotency.IdempotencyStore.complete>`."""
        k = self._keys
        return bool(await self._complete(keys=[k.key(event_id)], args=k.complete_args(token)))

    async def release(self, event_id: UUID, token: str) -> bool:
        """See :meth:`IdempotencyStore.release <superoffice_webhooks.idempotency.IdempotencyStore.release>`."""
        return bool(await self._release(keys=[self._keys.key(event_id)], args=[_in_flight(token)]))
