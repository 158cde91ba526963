import uuid
from dataclasses import dataclass
from datetime import datetime

from adapters.in_memory.tables import Tables
from domain.delivery import Delivery, DeliveryAttempt, DeliveryStatus
from domain.errors import NotFound
from domain.execution import ExecutionStatus


@dataclass
class AttemptRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    attempt: DeliveryAttempt


def _attempt_id(delivery_id: uuid.UUID, number: int) -> uuid.UUID:
    return uuid.uuid5(delivery_id, str(number))


class InMemoryDeliveryRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, delivery: Delivery) -> None:
        self._t.require_tenant(delivery.tenant_id)
        if self._t.executions.get(delivery.execution_id) is None:
            raise NotFound("Execution")
        self._t.deliveries.put(delivery)

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None:
        found: Delivery | None = self._t.deliveries.get(delivery_id)
        return found

    async def for_execution(self, execution_id: uuid.UUID) -> list[Delivery]:
        rows = [d for d in self._t.deliveries.rows() if d.execution_id == execution_id]
        return sorted(rows, key=lambda d: (d.created_at, d.id))

    async def attempts(self, delivery_ids: list[uuid.UUID]) -> list[DeliveryAttempt]:
        wanted = set(delivery_ids)
        rows = [r.attempt for r in self._t.delivery_attempts.rows()]
        found = [a for a in rows if a.delivery_id in wanted]
        return sorted(found, key=lambda a: (a.delivery_id, a.number))

    async def waiting_on_ended(self, limit: int) -> list[tuple[Delivery, bool]]:
        found = []
        for delivery in self._t.deliveries.rows():
            execution = self._t.executions.get(delivery.execution_id)
            if delivery.status is DeliveryStatus.WAITING and execution and execution.is_finished:
                found.append((delivery, execution.status is ExecutionStatus.SUCCESS))
        return found[:limit]

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        rows = [
            d
            for d in self._t.deliveries.rows()
            if d.status is DeliveryStatus.PENDING
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
        ]
        return sorted(rows, key=lambda d: d.next_attempt_at or now)[:limit]

    async def update(self, delivery: Delivery, expected_attempts: int) -> bool:
        stored = self._t.deliveries.get(delivery.id)
        if stored is None or stored.attempts != expected_attempts:
            return False
        self._t.deliveries.put(delivery)
        return True

    async def add_attempt(self, attempt: DeliveryAttempt) -> None:
        self._t.require_tenant(attempt.tenant_id)
        row_id = _attempt_id(attempt.delivery_id, attempt.number)
        self._t.delivery_attempts.put(AttemptRow(row_id, attempt.tenant_id, attempt))
