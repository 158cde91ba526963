import uuid
from typing import Protocol

from application.ports.page import Page
from domain.tenant import Tenant


class TenantRepository(Protocol):
    """Tenants visible in the unit of work's scope (operator: all; tenant: itself)."""

    async def add(self, tenant: Tenant) -> None:
        """Raises Conflict if the name is taken."""

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None: ...

    async def list(self, page: Page) -> list[Tenant]:
        """Oldest first."""
        ...

    async def update(self, tenant: Tenant) -> None:
        """Raises Conflict if the new name is taken, NotFound if the agent is not the tenant's."""

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        """Deletes the tenant and everything it owns, except providers: ProvidersRemain
        while it has any (their gateway keys are revoked first, by the caller); False if
        it was not there."""
        ...
