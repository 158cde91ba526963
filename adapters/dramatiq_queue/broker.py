"""The broker: Redis, Dramatiq's default middleware, plus AsyncIO (not a default) so that
actors can be coroutines that call the async use cases."""

from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

NAMESPACE = "agentkeel"
EXECUTIONS_QUEUE = "executions"
RUN_EXECUTION = "run_execution"
DELIVERIES_QUEUE = "deliveries"  # its own queue: slow receivers never hold up runs
DELIVER = "deliver"


def make_broker(
    redis_url: str, *, heartbeat_timeout_ms: int = 60_000, **options: Any
) -> RedisBroker:
    """`heartbeat_timeout_ms`: after this long without a heartbeat a worker counts as dead
    and Redis hands its unacknowledged messages to the others."""
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url, namespace=NAMESPACE, heartbeat_timeout=heartbeat_timeout_ms, **options
    )
    broker.add_middleware(AsyncIO())
    return broker


def dead_letter_count(broker: RedisBroker) -> int:
    client: redis.Redis = broker.client
    return int(client.zcard(f"{NAMESPACE}:{EXECUTIONS_QUEUE}.XQ"))


def queue_depth(broker: RedisBroker) -> int:
    client: redis.Redis = broker.client
    return int(client.hlen(f"{NAMESPACE}:{EXECUTIONS_QUEUE}.msgs"))
