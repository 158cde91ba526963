import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import ticket_systems as t
from application.ports.secret_box import SealedSecret
from domain.ticket import TicketSystemConfig


def _config(row: Any) -> tuple[TicketSystemConfig, SealedSecret]:
    config = TicketSystemConfig(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        base_url=row.base_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    return config, SealedSecret(row.credentials_kid, bytes(row.credentials_sealed))


class SqlTicketSystemRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def put(self, config: TicketSystemConfig, credentials: SealedSecret) -> None:
        values = {
            "id": config.id,
            "tenant_id": config.tenant_id,
            "kind": config.kind.value,
            "base_url": config.base_url,
            "credentials_kid": credentials.key_id,
            "credentials_sealed": credentials.ciphertext,
            "created_at": config.created_at,
            "updated_at": config.updated_at,
        }
        changes = {k: v for k, v in values.items() if k not in ("tenant_id", "created_at")}
        statement = insert(t).values(values)
        statement = statement.on_conflict_do_update(
            constraint="uq_ticket_systems_tenant_id", set_=changes
        )
        with domain_errors():
            await self._conn.execute(statement)

    async def get(self, tenant_id: uuid.UUID) -> tuple[TicketSystemConfig, SealedSecret] | None:
        row = (await self._conn.execute(select(t).where(t.c.tenant_id == tenant_id))).first()
        return None if row is None else _config(row)

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        result = await self._conn.execute(delete(t).where(t.c.tenant_id == tenant_id))
        return bool(result.rowcount)

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[TicketSystemConfig, SealedSecret]]:
        statement = select(t).order_by(t.c.id).limit(limit)
        if after is not None:
            statement = statement.where(t.c.id > after)
        return [_config(row) for row in await self._conn.execute(statement)]

    async def replace_secret(
        self, config_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        statement = (
            update(t)
            .where(
                t.c.id == config_id,
                t.c.credentials_kid == old.key_id,
                t.c.credentials_sealed == old.ciphertext,
            )
            .values(credentials_kid=new.key_id, credentials_sealed=new.ciphertext)
        )
        return bool((await self._conn.execute(statement)).rowcount)
