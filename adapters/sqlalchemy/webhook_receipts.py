import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import webhook_receipts as t
from application.ports.webhook_receipt_repository import WebhookReceipt


class SqlWebhookReceiptRepository:
    """The primary key (tenant, source, delivery id) makes a claim atomic: a concurrent
    INSERT of the same id waits for the first transaction, then does nothing."""

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def find(self, tenant_id: uuid.UUID, source: str, delivery_id: str) -> uuid.UUID | None:
        statement = select(t.c.execution_id).where(
            t.c.tenant_id == tenant_id, t.c.source == source, t.c.delivery_id == delivery_id
        )
        return (await self._conn.execute(statement)).scalar()

    async def claim(self, receipt: WebhookReceipt) -> uuid.UUID:
        values = {
            "tenant_id": receipt.tenant_id,
            "source": receipt.source,
            "delivery_id": receipt.delivery_id,
            "execution_id": receipt.execution_id,
            "created_at": receipt.created_at,
        }
        statement = (
            insert(t)
            .values(values)
            .on_conflict_do_nothing(constraint="pk_webhook_receipts")
            .returning(t.c.execution_id)
        )
        with domain_errors():
            mine = (await self._conn.execute(statement)).scalar()
        if mine is not None:
            return uuid.UUID(str(mine))
        # The winner has committed by now (the INSERT waited for it); read its job.
        theirs = await self.find(receipt.tenant_id, receipt.source, receipt.delivery_id)
        assert theirs is not None, "a conflicting receipt is committed before we see it"
        return theirs

    async def prune(self, before: datetime) -> int:
        result = await self._conn.execute(delete(t).where(t.c.created_at < before))
        return int(result.rowcount or 0)
