import uuid

from application.errors import QueueUnavailable


class InMemoryJobQueue:
    """Records what was enqueued; `down = True` makes it refuse like a broker that is gone."""

    def __init__(self) -> None:
        self.sent: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.deliveries: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        self.down = False

    async def enqueue_execution(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        if self.down:
            raise QueueUnavailable("the in-memory queue is down")
        self.sent.append((execution_id, tenant_id))

    async def enqueue_delivery(
        self, delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int
    ) -> None:
        if self.down:
            raise QueueUnavailable("the in-memory queue is down")
        self.deliveries.append((delivery_id, tenant_id, attempt))
