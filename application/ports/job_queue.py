import uuid
from typing import Protocol


class JobQueue(Protocol):
    """Hands queued executions to workers. Delivery is at least once: handlers must be
    idempotent, and the database, not the queue, is the source of truth."""

    async def enqueue_execution(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        """Raises QueueUnavailable if the broker cannot take the message."""
