import uuid
from dataclasses import dataclass
from datetime import datetime

from adapters.in_memory.tables import Tables
from application.ports.idempotency_repository import IdempotencyRecord
from domain.errors import NotFound


@dataclass
class IdempotencyRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    record: IdempotencyRecord


def row_id(tenant_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(tenant_id, key)


class InMemoryIdempotencyRepository:
    def __init__(self, tables: Tables, held: set[uuid.UUID], mine: set[uuid.UUID]) -> None:
        # `held`: keys locked by any unit of work in flight (the store's); `mine`: this one's.
        self._t, self._held, self._mine = tables, held, mine

    async def lock(self, tenant_id: uuid.UUID, key: str) -> bool:
        lock = row_id(tenant_id, key)
        if lock in self._held and lock not in self._mine:
            return False
        self._held.add(lock)
        self._mine.add(lock)
        return True

    async def get(self, tenant_id: uuid.UUID, key: str, now: datetime) -> IdempotencyRecord | None:
        row = self._t.idempotency.get(row_id(tenant_id, key))
        return row.record if row is not None and row.record.expires_at > now else None

    async def put(self, record: IdempotencyRecord) -> None:
        if not self._t.in_scope(record.tenant_id):
            raise NotFound("Tenant")
        self._t.idempotency.put(
            IdempotencyRow(row_id(record.tenant_id, record.key), record.tenant_id, record)
        )
