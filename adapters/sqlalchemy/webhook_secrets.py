import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, or_, select, update

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import webhook_secrets as t
from application.ports.secret_box import SealedSecret
from application.ports.webhook_secret_repository import StoredWebhookSecret


def _secret(row: Any) -> StoredWebhookSecret:
    return StoredWebhookSecret(
        id=row.id,
        tenant_id=row.tenant_id,
        sealed=SealedSecret(row.secret_kid, bytes(row.secret_sealed)),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlWebhookSecretRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, secret: StoredWebhookSecret) -> None:
        values = {
            "id": secret.id,
            "tenant_id": secret.tenant_id,
            "secret_kid": secret.sealed.key_id,
            "secret_sealed": secret.sealed.ciphertext,
            "created_at": secret.created_at,
            "expires_at": secret.expires_at,
        }
        with domain_errors():
            await self._conn.execute(insert(t).values(values))

    async def retire(self, tenant_id: uuid.UUID, current_until: datetime, now: datetime) -> None:
        statement = (
            update(t)
            .where(t.c.tenant_id == tenant_id, or_(t.c.expires_at.is_(None), t.c.expires_at > now))
            .values(expires_at=case((t.c.expires_at.is_(None), current_until), else_=now))
        )
        await self._conn.execute(statement)

    async def active(self, tenant_id: uuid.UUID, now: datetime) -> list[StoredWebhookSecret]:
        statement = (
            select(t)
            .where(t.c.tenant_id == tenant_id, or_(t.c.expires_at.is_(None), t.c.expires_at > now))
            .order_by(t.c.expires_at.desc().nulls_first(), t.c.created_at.desc())
        )
        return [_secret(row) for row in await self._conn.execute(statement)]

    async def list_sealed(self, after: uuid.UUID | None, limit: int) -> list[StoredWebhookSecret]:
        statement = select(t).order_by(t.c.id).limit(limit)
        if after is not None:
            statement = statement.where(t.c.id > after)
        return [_secret(row) for row in await self._conn.execute(statement)]

    async def replace_secret(
        self, secret_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        statement = (
            update(t)
            .where(
                t.c.id == secret_id,
                t.c.secret_kid == old.key_id,
                t.c.secret_sealed == old.ciphertext,
            )
            .values(secret_kid=new.key_id, secret_sealed=new.ciphertext)
        )
        return bool((await self._conn.execute(statement)).rowcount)
