"""Thin actors: ids in, the use case called. The worker's composition root passes the
handler in; nothing here builds adapters."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq import Broker

from adapters.dramatiq_queue.broker import EXECUTIONS_QUEUE, RUN_EXECUTION

Handler = Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]

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
