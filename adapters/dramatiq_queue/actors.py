"""Thin actors: ids in, the use case called. The worker's composition root passes the
handler in; nothing here builds adapters."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq import Broker

from adapters.dramatiq_queue.broker import (
    DELIVER,
    DELIVERIES_QUEUE,
    EXECUTIONS_QUEUE,
    RUN_EXECUTION,
)

Handler = Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]
DeliveryHandler = Callable[[uuid.UUID, uuid.UUID, int], Awaitable[None]]

MAX_RETRIES = 5
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 3_600_000  # one hour
# Longer than any gateway call (timeout 60 s, retries included) plus the bookkeeping.
TIME_LIMIT_MS = 15 * 60_000


class PermanentError(Exception):
    """A message that can never succeed (malformed ids): dead-lettered without retries."""


def declare_run_execution(broker: Broker, handler: Handler) -> dramatiq.Actor[..., Any]:
    async def run_execution(*args: object, **kwargs: object) -> None:
        # Any other shape of message can never succeed: refuse it without retries.
        if len(args) != 2 or kwargs or not all(isinstance(a, str) for a in args):
            raise PermanentError("run_execution takes (execution_id, tenant_id) as strings")
        try:
            ids = uuid.UUID(str(args[0])), uuid.UUID(str(args[1]))
        except ValueError as exc:
            raise PermanentError(f"malformed message arguments: {exc}") from None
        await handler(*ids)

    declare = dramatiq.actor(
        actor_name=RUN_EXECUTION,
        queue_name=EXECUTIONS_QUEUE,
        broker=broker,
        max_retries=MAX_RETRIES,
        min_backoff=MIN_BACKOFF_MS,
        max_backoff=MAX_BACKOFF_MS,
        time_limit=TIME_LIMIT_MS,
        throws=(PermanentError,),
    )
    return declare(run_execution)


# An attempt holds its delivery's lease (2 min) at most: the HTTP call's timeout is 15 s.
DELIVERY_TIME_LIMIT_MS = 90_000


def declare_deliver(broker: Broker, handler: DeliveryHandler) -> dramatiq.Actor[..., Any]:
    """One try of one delivery. Not retried by Dramatiq: retries, their backoff and the
    record of every try live in PostgreSQL (application/use_cases/deliveries.py)."""

    async def deliver(*args: object, **kwargs: object) -> None:
        if (
            len(args) != 3
            or kwargs
            or not all(isinstance(a, str) for a in args[:2])
            or not isinstance(args[2], int)
            or isinstance(args[2], bool)
        ):
            raise PermanentError("deliver takes (delivery_id, tenant_id, attempt)")
        try:
            delivery_id, tenant_id = uuid.UUID(str(args[0])), uuid.UUID(str(args[1]))
        except ValueError as exc:
            raise PermanentError(f"malformed message arguments: {exc}") from None
        await handler(delivery_id, tenant_id, int(args[2]))

    declare = dramatiq.actor(
        actor_name=DELIVER,
        queue_name=DELIVERIES_QUEUE,
        broker=broker,
        max_retries=0,
        time_limit=DELIVERY_TIME_LIMIT_MS,
        throws=(PermanentError,),
    )
    return declare(deliver)
