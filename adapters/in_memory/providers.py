import uuid
from datetime import datetime

from adapters.in_memory.repositories import oldest_first
from adapters.in_memory.store import ProviderRow
from adapters.in_memory.tables import Tables
from application.ports.provider_repository import ProviderSecrets
from domain.errors import DuplicateName, NotFound
from domain.provider import LlmProvider, ProviderStatus


class InMemoryProviderRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _row(self, provider_id: uuid.UUID) -> ProviderRow | None:
        return self._t.providers.get(provider_id)

    async def add(self, provider: LlmProvider, secrets: ProviderSecrets) -> None:
        self._t.require_tenant(provider.tenant_id)
        for other in self._t.providers.all_rows_unscoped():
            same = (other.tenant_id, other.provider.provider_name)
            if same == (provider.tenant_id, provider.provider_name):
                raise DuplicateName("A provider", " in this tenant")
        self._t.providers.put(ProviderRow(provider.id, provider.tenant_id, provider, secrets))

    async def get(self, provider_id: uuid.UUID) -> LlmProvider | None:
        row = self._row(provider_id)
        return None if row is None else row.provider

    async def secrets(self, provider_id: uuid.UUID) -> ProviderSecrets | None:
        row = self._row(provider_id)
        return None if row is None else row.secrets

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[LlmProvider, ProviderSecrets]]:
        rows = sorted(self._t.providers.rows(), key=lambda r: r.id)
        rows = [r for r in rows if after is None or r.id > after][:limit]
        return [(r.provider, r.secrets) for r in rows]

    async def list(self, tenant_id: uuid.UUID | None) -> list[LlmProvider]:
        rows = (r.provider for r in self._t.providers.rows())
        return oldest_first(p for p in rows if tenant_id is None or p.tenant_id == tenant_id)

    async def update(self, provider: LlmProvider, secrets: ProviderSecrets | None = None) -> None:
        row = self._row(provider.id)
        if row is None:
            raise NotFound("Provider")
        row.provider = provider
        row.secrets = secrets or row.secrets
        self._t.providers.put(row)

    async def rebind(
        self, provider: LlmProvider, secrets: ProviderSecrets, held_key_id: str
    ) -> bool:
        row = self._row(provider.id)
        held = row is not None and row.provider.virtual_key_id == held_key_id
        if row is None or not held or row.provider.status is not ProviderStatus.ACTIVE:
            return False
        row.provider, row.secrets = provider, secrets
        self._t.providers.put(row)
        return True

    async def mark_revoking(self, provider_id: uuid.UUID, held_key_id: str, at: datetime) -> bool:
        row = self._row(provider_id)
        if row is None or row.provider.virtual_key_id != held_key_id:
            return False
        row.provider.status, row.provider.updated_at = ProviderStatus.REVOKING, at
        self._t.providers.put(row)
        return True

    async def replace_secrets(
        self, provider_id: uuid.UUID, old: ProviderSecrets, new: ProviderSecrets
    ) -> bool:
        row = self._row(provider_id)
        if row is None or row.secrets != old:
            return False
        row.secrets = new
        self._t.providers.put(row)
        return True

    async def delete(self, provider_id: uuid.UUID) -> bool:
        if not self._t.providers.remove(provider_id):
            return False
        for agent in self._t.agents.rows():  # agents.provider_id ON DELETE SET NULL
            if agent.provider_id == provider_id:
                agent.provider_id = None
                self._t.agents.put(agent)
        return True
