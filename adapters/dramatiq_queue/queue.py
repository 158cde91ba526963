import asyncio
import uuid
from typing import Any

import redis
import redis.asyncio
from dramatiq import Broker, Message
from dramatiq.brokers.redis import DEFAULT_LUA_MAX_STACK, RedisBroker
from dramatiq.common import current_millis
from redis.commands.core import AsyncScript

from adapters.dramatiq_queue.broker import (
    DELIVER,
    DELIVERIES_QUEUE,
    EXECUTIONS_QUEUE,
    RUN_EXECUTION,
)
from application.errors import QueueUnavailable

# A dead Redis must fail a request fast (503), not hold it for the OS connect timeout.
REDIS_TIMEOUT_S = 2.0
# Bounds the sockets a burst can open; extra callers wait (up to the timeout) for one.
MAX_REDIS_CONNECTIONS = 32
# Connection settings the async client copies from the sync one. The sync pool's kwargs
# also hold redis-py internals (maintenance handlers bound to sync connections, ...)
# that must not leak into async connections, hence a list of what to keep.
_CONNECTION_SETTINGS = frozenset(
    {"host", "port", "path", "db", "username", "password", "client_name", "protocol"}
)


def _message(execution_id: uuid.UUID, tenant_id: uuid.UUID) -> Message[None]:
    return Message(
        queue_name=EXECUTIONS_QUEUE,
        actor_name=RUN_EXECUTION,
        args=(str(execution_id), str(tenant_id)),
        kwargs={},
        options={},
    )


def _delivery_message(delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int) -> Message[None]:
    return Message(
        queue_name=DELIVERIES_QUEUE,
        actor_name=DELIVER,
        args=(str(delivery_id), str(tenant_id), attempt),
        kwargs={},
        options={},
    )


class DramatiqJobQueue:
    """Sends `run_execution(execution_id, tenant_id)` messages by name: the API process
    needs no actor code, only the broker.

    On a RedisBroker the message goes out on redis-py's asyncio client (see
    `_AsyncRedisEnqueue`): a thread hop per enqueue cost about a third of the enqueue's CPU.
    Any other broker (the StubBroker in unit tests) is called in a thread."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._redis = _AsyncRedisEnqueue(broker) if isinstance(broker, RedisBroker) else None

    def _send(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        self._broker.enqueue(_message(execution_id, tenant_id))

    async def enqueue_execution(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        try:
            if self._redis is not None:
                await self._redis.enqueue(_message(execution_id, tenant_id))
            else:
                # Never block the event loop on a synchronous broker.
                await asyncio.to_thread(self._send, execution_id, tenant_id)
        except (redis.RedisError, OSError) as exc:  # asyncio.TimeoutError is an OSError
            raise QueueUnavailable(type(exc).__name__) from exc

    async def enqueue_delivery(
        self, delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int
    ) -> None:
        message = _delivery_message(delivery_id, tenant_id, attempt)
        try:
            if self._redis is not None:
                await self._redis.enqueue(message)
            else:
                await asyncio.to_thread(self._broker.enqueue, message)
        except (redis.RedisError, OSError) as exc:
            raise QueueUnavailable(type(exc).__name__) from exc

    async def aclose(self) -> None:
        """Closes the asyncio Redis client, if one was opened (call at shutdown)."""
        if self._redis is not None:
            await self._redis.aclose()


class _AsyncRedisEnqueue:
    """`RedisBroker.enqueue(message)` (no delay) on an asyncio Redis client.

    Coupled to the internals of Dramatiq 2.2.1's RedisBroker (the version in uv.lock; re-read
    `dramatiq/brokers/redis.py` when upgrading): Dramatiq has no async broker, so this runs
    the broker's own `dispatch` Lua script with the arguments its `_dispatch("enqueue")`
    builds (namespace key; command, timestamp, queue, broker_id, heartbeat_timeout,
    dead_message_ttl, maintenance flag, max unpack size, redis_message_id, message bytes).
    The integration tests compare the stored result with the synchronous path's and have a
    real dramatiq.Worker consume it."""

    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker
        # Built lazily: asyncio connections belong to the loop that opens them, and this
        # object is made before the server's loop runs.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: redis.asyncio.Redis | None = None
        self._dispatch: AsyncScript | None = None
        self._max_unpack_size: int | None = None

    def _connect(self) -> tuple[redis.asyncio.Redis, AsyncScript]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._dispatch is None or self._loop is not loop:
            # A client left on another (finished) loop cannot be closed from this one.
            self._client = _async_client(self._broker.client)
            self._dispatch = self._client.register_script(self._broker.scripts["dispatch"].script)
            self._loop = loop
        return self._client, self._dispatch

    async def _unpack_size(self, client: redis.asyncio.Redis) -> int:
        # As RedisBroker._max_unpack_size: half the server's Lua stack limit, found once.
        if self._max_unpack_size is None:
            maxstack = client.register_script(self._broker.scripts["maxstack"].script)
            self._max_unpack_size = int(DEFAULT_LUA_MAX_STACK or await maxstack()) // 2
        return self._max_unpack_size

    async def enqueue(self, message: Message[Any]) -> None:
        broker = self._broker
        client, dispatch = self._connect()
        unpack_size = await self._unpack_size(client)
        # Each enqueued copy needs its own id in Redis (a retried message keeps message_id).
        message = message.copy(options={"redis_message_id": str(uuid.uuid4())})
        broker.emit_before("enqueue", message, None)
        await dispatch(
            keys=[broker.namespace],
            args=[
                "enqueue",
                current_millis(),
                message.queue_name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                broker._should_do_maintenance("enqueue"),
                unpack_size,
                message.options["redis_message_id"],
                message.encode(),
            ],
        )
        broker.emit_after("enqueue", message, None)

    async def aclose(self) -> None:
        client, self._client, self._dispatch = self._client, None, None
        if client is not None:
            await client.aclose()


def _async_client(sync_client: redis.Redis) -> redis.asyncio.Redis:
    """An asyncio client to the server the broker's sync client talks to."""
    pool = sync_client.connection_pool
    settings = {
        key: value
        for key, value in pool.connection_kwargs.items()
        if key in _CONNECTION_SETTINGS or key.startswith("ssl_")
    }
    connection_class: type[redis.asyncio.connection.AbstractConnection]
    if issubclass(pool.connection_class, redis.UnixDomainSocketConnection):
        connection_class = redis.asyncio.UnixDomainSocketConnection  # the embedded Redis
    elif issubclass(pool.connection_class, redis.SSLConnection):
        connection_class = redis.asyncio.SSLConnection
    else:
        connection_class = redis.asyncio.Connection
    async_pool = redis.asyncio.BlockingConnectionPool(
        connection_class=connection_class,
        max_connections=MAX_REDIS_CONNECTIONS,
        timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        socket_timeout=REDIS_TIMEOUT_S,
        **settings,
    )
    return redis.asyncio.Redis.from_pool(async_pool)  # the client owns (closes) the pool
