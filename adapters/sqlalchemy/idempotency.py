import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import idempotency_keys as t
from application.ports.idempotency_repository import IdempotencyRecord


class SqlIdempotencyRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def lock(self, tenant_id: uuid.UUID, key: str) -> bool:
        # A transaction-level advisory lock: released at commit or rollback.
        token = func.hashtextextended(f"idempotency:{tenant_id}:{key}", 0)
        result = await self._conn.execute(select(func.pg_try_advisory_xact_lock(token)))
        return bool(result.scalar())

    async def get(self, tenant_id: uuid.UUID, key: str, now: datetime) -> IdempotencyRecord | None:
        statement = select(t).where(
            t.c.tenant_id == tenant_id, t.c.key == key, t.c.expires_at > now
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else IdempotencyRecord(**row._mapping)

    async def put(self, record: IdempotencyRecord) -> None:
        values = {
            "tenant_id": record.tenant_id,
            "key": record.key,
            "request_sha256": record.request_sha256,
            "execution_id": record.execution_id,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        statement = insert(t).values(values)
        statement = statement.on_conflict_do_update(
            constraint="pk_idempotency_keys", set_=values, where=t.c.expires_at <= record.created_at
        )
        await self._conn.execute(statement)
