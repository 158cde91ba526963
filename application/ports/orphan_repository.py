import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from application.ports.secret_box import SealedSecret

OrphanKind = Literal["deployment", "virtual_key"]
ORPHANS_TABLE = "gateway_orphans"


@dataclass(slots=True)
class GatewayOrphan:
    """A gateway object no provider owns any more, whose removal failed: retried later."""

    id: uuid.UUID
    tenant_id: uuid.UUID | None
    kind: OrphanKind
    reference: str  # the deployment id, or the virtual key's token id
    created_at: datetime
    secret: SealedSecret | None = None  # the virtual key itself, sealed
    attempts: int = 0
    last_error: str | None = None


class OrphanRepository(Protocol):
    """Tenants may record orphans; only the operator's scope can read them."""

    async def add(self, orphan: GatewayOrphan) -> None: ...

    async def list(self, limit: int) -> list[GatewayOrphan]: ...

    async def update(self, orphan: GatewayOrphan) -> None: ...

    async def replace_secret(
        self, orphan_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        """Write `new` over the sealed secret, and nothing else, only if it is still `old`:
        False, writing nothing, when the orphan was removed or resealed meanwhile."""
        ...

    async def delete(self, orphan_id: uuid.UUID) -> None: ...
