import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import gateway_orphans as t
from application.ports.orphan_repository import GatewayOrphan
from application.ports.secret_box import SealedSecret


def _values(orphan: GatewayOrphan) -> dict[str, Any]:
    secret = orphan.secret
    return {
        "id": orphan.id,
        "tenant_id": orphan.tenant_id,
        "kind": orphan.kind,
        "reference": orphan.reference,
        "secret_kid": secret and secret.key_id,
        "secret_sealed": secret and secret.ciphertext,
        "attempts": orphan.attempts,
        "last_error": orphan.last_error,
        "created_at": orphan.created_at,
    }


def _orphan(row: Any) -> GatewayOrphan:
    secret = None
    if row.secret_sealed is not None:
        secret = SealedSecret(row.secret_kid, bytes(row.secret_sealed))
    return GatewayOrphan(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        reference=row.reference,
        created_at=row.created_at,
        secret=secret,
        attempts=row.attempts,
        last_error=row.last_error,
    )


class SqlOrphanRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, orphan: GatewayOrphan) -> None:
        with domain_errors():  # outside the scope: row-level security says no
            await self._conn.execute(insert(t), _values(orphan))

    async def list(self, limit: int) -> list[GatewayOrphan]:
        statement = select(t).order_by(t.c.created_at, t.c.id).limit(limit)
        return [_orphan(row) for row in await self._conn.execute(statement)]

    async def update(self, orphan: GatewayOrphan) -> None:
        values = _values(orphan)
        del values["id"]
        await self._conn.execute(update(t).where(t.c.id == orphan.id), values)

    async def replace_secret(
        self, orphan_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        statement = update(t).where(
            t.c.id == orphan_id,
            t.c.secret_kid == old.key_id,
            t.c.secret_sealed == old.ciphertext,
        )
        values = {"secret_kid": new.key_id, "secret_sealed": new.ciphertext}
        return bool((await self._conn.execute(statement, values)).rowcount)

    async def delete(self, orphan_id: uuid.UUID) -> None:
        await self._conn.execute(delete(t).where(t.c.id == orphan_id))
