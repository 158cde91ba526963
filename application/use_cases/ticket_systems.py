"""A tenant's ticket system: where enhancements are written back. The credentials are
sealed (bound to tenant, table, row and field) and never returned."""

import json
import uuid
from dataclasses import dataclass, field

from application.ports.clock import Clock
from application.ports.outbound import UrlGuard
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.delivery_targets import credentials_context
from application.use_cases.tenants_access import require_tenant
from domain.errors import NotFound
from domain.ids import new_id
from domain.principal import Principal
from domain.ticket import TicketSystemConfig, TicketSystemKind, check_credentials


@dataclass(frozen=True, slots=True)
class TicketSystemSettings:
    kind: TicketSystemKind
    base_url: str
    credentials: dict[str, str] = field(repr=False)


class ConfigureTicketSystem:
    def __init__(self, uow: UnitOfWork, clock: Clock, box: SecretBox, guard: UrlGuard) -> None:
        self._uow, self._clock, self._box, self._guard = uow, clock, box, guard

    async def __call__(
        self, principal: Principal, tenant_id: uuid.UUID, settings: TicketSystemSettings
    ) -> TicketSystemConfig:
        await require_tenant(self._uow, principal, tenant_id)
        now = self._clock.now()
        existing = await self._uow.ticket_systems.get(tenant_id)
        config = TicketSystemConfig(
            id=existing[0].id if existing else new_id(),
            tenant_id=tenant_id,
            kind=settings.kind,
            base_url=settings.base_url,
            created_at=existing[0].created_at if existing else now,
            updated_at=now,
        )
        credentials = check_credentials(config.kind, settings.credentials)
        await self._guard.check(config.base_url, "base_url")
        sealed = self._box.seal(
            json.dumps(credentials, sort_keys=True).encode(), credentials_context(config)
        )
        await self._uow.ticket_systems.put(config, sealed)
        await self._uow.commit()
        return config


class GetTicketSystem:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> TicketSystemConfig:
        await require_tenant(self._uow, principal, tenant_id)
        found = await self._uow.ticket_systems.get(tenant_id)
        if found is None:
            raise NotFound("Ticket system")
        return found[0]


class RemoveTicketSystem:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> None:
        await require_tenant(self._uow, principal, tenant_id)
        if not await self._uow.ticket_systems.delete(tenant_id):
            raise NotFound("Ticket system")
        await self._uow.commit()
