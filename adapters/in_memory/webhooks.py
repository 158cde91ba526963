"""Webhook secrets, ticket systems and webhook receipts, in memory (same rules as SQL)."""

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

from adapters.in_memory.tables import Tables
from application.ports.secret_box import SealedSecret
from application.ports.webhook_receipt_repository import WebhookReceipt
from application.ports.webhook_secret_repository import StoredWebhookSecret
from domain.ticket import TicketSystemConfig


class InMemoryWebhookSecretRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, secret: StoredWebhookSecret) -> None:
        self._t.require_tenant(secret.tenant_id)
        self._t.webhook_secrets.put(secret)

    async def retire(self, tenant_id: uuid.UUID, current_until: datetime, now: datetime) -> None:
        for secret in await self.active(tenant_id, now):
            until = current_until if secret.expires_at is None else now
            self._t.webhook_secrets.put(dataclasses.replace(secret, expires_at=until))

    async def active(self, tenant_id: uuid.UUID, now: datetime) -> list[StoredWebhookSecret]:
        rows = [
            s
            for s in self._t.webhook_secrets.rows()
            if s.tenant_id == tenant_id and (s.expires_at is None or s.expires_at > now)
        ]
        return sorted(rows, key=_newest_first)

    async def list_sealed(self, after: uuid.UUID | None, limit: int) -> list[StoredWebhookSecret]:
        rows = sorted(self._t.webhook_secrets.rows(), key=lambda s: s.id)
        return [s for s in rows if after is None or s.id > after][:limit]

    async def replace_secret(
        self, secret_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        secret = self._t.webhook_secrets.get(secret_id)
        if secret is None or secret.sealed != old:
            return False
        self._t.webhook_secrets.put(dataclasses.replace(secret, sealed=new))
        return True


def _newest_first(secret: StoredWebhookSecret) -> tuple[int, float]:
    # The current one (no expiry) first, then by creation, newest first.
    return (0 if secret.expires_at is None else 1, -secret.created_at.timestamp())


@dataclass
class TicketSystemRow:
    id: uuid.UUID  # the tenant's id: one ticket system per tenant
    tenant_id: uuid.UUID
    config: TicketSystemConfig
    credentials: SealedSecret


class InMemoryTicketSystemRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def put(self, config: TicketSystemConfig, credentials: SealedSecret) -> None:
        self._t.require_tenant(config.tenant_id)
        existing = self._t.ticket_systems.get(config.tenant_id)
        if existing is not None:  # an upsert keeps the row's id and creation time
            config = dataclasses.replace(
                config, id=existing.config.id, created_at=existing.config.created_at
            )
        row = TicketSystemRow(config.tenant_id, config.tenant_id, config, credentials)
        self._t.ticket_systems.put(row)

    async def get(self, tenant_id: uuid.UUID) -> tuple[TicketSystemConfig, SealedSecret] | None:
        row = self._t.ticket_systems.get(tenant_id)
        return None if row is None else (row.config, row.credentials)

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        return self._t.ticket_systems.remove(tenant_id)

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[TicketSystemConfig, SealedSecret]]:
        rows = sorted(self._t.ticket_systems.rows(), key=lambda r: r.config.id)
        found = [(r.config, r.credentials) for r in rows if after is None or r.config.id > after]
        return found[:limit]

    async def replace_secret(
        self, config_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        for row in self._t.ticket_systems.rows():
            if row.config.id == config_id and row.credentials == old:
                row.credentials = new
                self._t.ticket_systems.put(row)
                return True
        return False


@dataclass
class ReceiptRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    receipt: WebhookReceipt


def _receipt_id(tenant_id: uuid.UUID, source: str, delivery_id: str) -> uuid.UUID:
    return uuid.uuid5(tenant_id, f"{source}\x00{delivery_id}")


class InMemoryWebhookReceiptRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def find(self, tenant_id: uuid.UUID, source: str, delivery_id: str) -> uuid.UUID | None:
        row = self._t.webhook_receipts.get(_receipt_id(tenant_id, source, delivery_id))
        return None if row is None else row.receipt.execution_id

    async def claim(self, receipt: WebhookReceipt) -> uuid.UUID:
        self._t.require_tenant(receipt.tenant_id)
        found = await self.find(receipt.tenant_id, receipt.source, receipt.delivery_id)
        if found is not None:
            return found
        row_id = _receipt_id(receipt.tenant_id, receipt.source, receipt.delivery_id)
        self._t.webhook_receipts.put(ReceiptRow(row_id, receipt.tenant_id, receipt))
        return receipt.execution_id

    async def prune(self, before: datetime) -> int:
        old = [r.id for r in self._t.webhook_receipts.rows() if r.receipt.created_at < before]
        for row_id in old:
            self._t.webhook_receipts.remove(row_id)
        return len(old)
