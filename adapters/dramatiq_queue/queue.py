import asyncio
import uuid

import redis
from dramatiq import Broker, Message

from adapters.dramatiq_queue.broker import EXECUTIONS_QUEUE, RUN_EXECUTION
from application.errors import QueueUnavailable


class DramatiqJobQueue:
    """Sends `run_execution(execution_id, tenant_id)` messages by name: the API process
    needs no actor code, only the broker."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    def _send(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        message: Message[None] = Message(
            queue_name=EXECUTIONS_QUEUE,
            actor_name=RUN_EXECUTION,
            args=(str(execution_id), str(tenant_id)),
            kwargs={},
            options={},
        )
        self._broker.enqueue(message)

    async def enqueue_execution(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        try:
            # A Redis round trip is short, but never block the event loop on a broker.
            await asyncio.to_thread(self._send, execution_id, tenant_id)
        except (redis.RedisError, OSError) as exc:
            raise QueueUnavailable(type(exc).__name__) from exc
