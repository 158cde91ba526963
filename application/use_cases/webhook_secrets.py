"""Webhook signing secrets: minted, shown once, sealed at rest, overlapping for 24 h."""

import base64
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.secret_box import SecretBox, SecretContext
from application.ports.unit_of_work import UnitOfWork
from application.ports.webhook_secret_repository import (
    WEBHOOK_SECRETS_TABLE,
    StoredWebhookSecret,
)
from application.use_cases.tenants_access import require_tenant
from domain.ids import new_id
from domain.principal import Principal

WEBHOOK_SECRET_PREFIX = "whsec_"
OVERLAP = timedelta(hours=24)  # the previous secret keeps verifying this long


def webhook_secret_context(tenant_id: uuid.UUID, secret_id: uuid.UUID) -> SecretContext:
    return SecretContext(tenant_id, WEBHOOK_SECRETS_TABLE, secret_id, "secret")


def new_webhook_secret() -> str:
    """`whsec_` + standard base64 of 32 random bytes, as Standard Webhooks expects."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True, slots=True)
class MintedSecret:
    id: uuid.UUID
    secret: str = field(repr=False)  # shown once, never stored in clear
    created_at: datetime


class MintWebhookSecret:
    """A tenant key mints its own tenant's secret; the operator any tenant's."""

    def __init__(self, uow: UnitOfWork, clock: Clock, box: SecretBox) -> None:
        self._uow, self._clock, self._box = uow, clock, box

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> MintedSecret:
        await require_tenant(self._uow, principal, tenant_id)
        now, secret_id, secret = self._clock.now(), new_id(), new_webhook_secret()
        sealed = self._box.seal(secret.encode(), webhook_secret_context(tenant_id, secret_id))
        await self._uow.webhook_secrets.retire(tenant_id, now + OVERLAP, now)
        await self._uow.webhook_secrets.add(
            StoredWebhookSecret(secret_id, tenant_id, sealed, created_at=now)
        )
        await self._uow.commit()
        return MintedSecret(secret_id, secret, now)


async def active_secrets(
    uow: UnitOfWork, box: SecretBox, tenant_id: uuid.UUID, now: datetime
) -> list[str]:
    """The tenant's secrets that verify now, in clear, the current one first."""
    stored = await uow.webhook_secrets.active(tenant_id, now)
    return [box.open(s.sealed, webhook_secret_context(s.tenant_id, s.id)).decode() for s in stored]
