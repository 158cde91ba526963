import uuid

from adapters.in_memory.repositories import oldest_first
from adapters.in_memory.tables import Tables
from application.ports.orphan_repository import GatewayOrphan
from application.ports.secret_box import SealedSecret
from domain.errors import NotFound


class InMemoryOrphanRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, orphan: GatewayOrphan) -> None:
        if not self._t.in_scope(orphan.tenant_id):
            raise NotFound("Tenant")
        self._t.orphans.put(orphan)

    async def list(self, limit: int) -> list[GatewayOrphan]:
        return oldest_first(self._t.orphans.rows())[:limit]

    async def update(self, orphan: GatewayOrphan) -> None:
        self._t.orphans.put(orphan)

    async def replace_secret(
        self, orphan_id: uuid.UUID, old: SealedSecret, new: SealedSecret
    ) -> bool:
        orphan = self._t.orphans.get(orphan_id)
        if orphan is None or orphan.secret != old:
            return False
        orphan.secret = new
        self._t.orphans.put(orphan)
        return True

    async def delete(self, orphan_id: uuid.UUID) -> None:
        self._t.orphans.remove(orphan_id)
