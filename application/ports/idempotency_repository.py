import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """An `Idempotency-Key` a tenant used, the request it came with, and what it made."""

    tenant_id: uuid.UUID
    key: str
    request_sha256: str
    execution_id: uuid.UUID
    created_at: datetime
    expires_at: datetime


class IdempotencyRepository(Protocol):
    async def lock(self, tenant_id: uuid.UUID, key: str) -> bool:
        """Hold the key for this transaction; False if another request holds it now."""
        ...

    async def get(self, tenant_id: uuid.UUID, key: str, now: datetime) -> IdempotencyRecord | None:
        """The unexpired record, if any."""
        ...

    async def put(self, record: IdempotencyRecord) -> None:
        """Insert, replacing an expired record for the same key."""
