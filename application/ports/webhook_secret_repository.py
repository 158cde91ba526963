import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.ports.secret_box import SealedSecret

WEBHOOK_SECRETS_TABLE = "webhook_secrets"  # part of each sealed secret's associated data


@dataclass(frozen=True, slots=True)
class StoredWebhookSecret:
    """A tenant's webhook signing secret, sealed. `expires_at` None: the current one."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    sealed: SealedSecret
    created_at: datetime
    expires_at: datetime | None = None


class WebhookSecretRepository(Protocol):
    async def add(self, secret: StoredWebhookSecret) -> None:
        """NotFound('Tenant') if the tenant does not exist (or is outside the scope)."""

    async def retire(self, tenant_id: uuid.UUID, current_until: datetime, now: datetime) -> None:
        """The current secret keeps verifying until `current_until`; any older one that
        still did stops now (only one previous secret overlaps a new one)."""

    async def active(self, tenant_id: uuid.UUID, now: datetime) -> list[StoredWebhookSecret]:
        """Secrets that verify at `now`, newest first (the current one first)."""
        ...

    async def list_sealed(self, after: uuid.UUID | None, limit: int) -> list[StoredWebhookSecret]:
        """Every visible secret by id, for key rotation in batches."""
        ...

    async def replace_secret(
        self, secret_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        """Compare-and-swap of the sealed bytes; False when the row changed or is gone."""
        ...
