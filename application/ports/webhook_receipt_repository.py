import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    """A webhook delivery id a tenant's sender used (`source`: its signing scheme), and
    the job it started."""

    tenant_id: uuid.UUID
    source: str
    delivery_id: str
    execution_id: uuid.UUID
    created_at: datetime


class WebhookReceiptRepository(Protocol):
    async def find(self, tenant_id: uuid.UUID, source: str, delivery_id: str) -> uuid.UUID | None:
        """The job an earlier delivery with this id started, if any."""
        ...

    async def claim(self, receipt: WebhookReceipt) -> uuid.UUID:
        """Record the receipt unless one with the same id exists; either way, the job id
        that owns it. Atomic: of two concurrent claims one wins (the other waits for it,
        then gets its job id); a claim rolled back leaves nothing."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget receipts older than `before` (they are kept far longer than the
        signature tolerance, so a replay within it is always recognised)."""
        ...
