import uuid
from typing import Protocol

from application.ports.secret_box import SealedSecret
from domain.ticket import TicketSystemConfig

TICKET_SYSTEMS_TABLE = "ticket_systems"  # part of the sealed credentials' associated data


class TicketSystemRepository(Protocol):
    """One ticket system per tenant; its credentials (a sealed JSON object) never leave
    the application layer in clear."""

    async def put(self, config: TicketSystemConfig, credentials: SealedSecret) -> None:
        """Insert, or replace the tenant's one; NotFound('Tenant') if it does not exist."""

    async def get(self, tenant_id: uuid.UUID) -> tuple[TicketSystemConfig, SealedSecret] | None:
        """The tenant's ticket system and its sealed credentials, if configured."""
        ...

    async def delete(self, tenant_id: uuid.UUID) -> bool: ...

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[TicketSystemConfig, SealedSecret]]:
        """Every visible configuration by id, for key rotation in batches."""
        ...

    async def replace_secret(
        self, config_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        """Compare-and-swap of the sealed credentials; False when changed or gone."""
        ...
