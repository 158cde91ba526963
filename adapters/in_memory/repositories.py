"""In-memory repositories: the behaviour of the SQL ones (scope, uniqueness, foreign keys)."""

import uuid
from collections.abc import Iterable
from typing import Protocol, TypeVar

from adapters.in_memory.tables import Tables
from application.ports.page import Page
from domain.agent import Agent, AgentStatus
from domain.api_key import ApiKey
from domain.errors import DuplicateName, NotFound, ProvidersRemain
from domain.tenant import Tenant


class _Dated(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def created_at(self) -> object: ...


T = TypeVar("T", bound=_Dated)


def oldest_first(rows: Iterable[T]) -> list[T]:
    return sorted(rows, key=lambda row: (row.created_at, str(row.id)))


def paged(rows: list[T], page: Page) -> list[T]:
    return rows[page.offset : page.offset + page.limit]


class InMemoryTenantRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check(self, tenant: Tenant) -> None:
        if not self._t.in_scope(tenant.id):
            raise NotFound("Tenant")
        for other in self._t.tenants.all_rows_unscoped():
            if other.name == tenant.name and other.id != tenant.id:
                raise DuplicateName("A tenant")
        agent_id = tenant.ticket_agent_id
        if agent_id is not None:
            agent = self._t.agents.get(agent_id)
            if agent is None or agent.tenant_id != tenant.id:
                raise NotFound("Agent")

    async def add(self, tenant: Tenant) -> None:
        self._check(tenant)
        self._t.tenants.put(tenant)

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return self._t.tenants.get(tenant_id)

    async def list(self, page: Page) -> list[Tenant]:
        return paged(oldest_first(self._t.tenants.rows()), page)

    async def update(self, tenant: Tenant) -> None:
        if self._t.tenants.get(tenant.id) is None:
            raise NotFound("Tenant")
        self._check(tenant)
        self._t.tenants.put(tenant)

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        if any(row.tenant_id == tenant_id for row in self._t.providers.all_rows_unscoped()):
            raise ProvidersRemain()  # fk_llm_providers_tenant_id is ON DELETE RESTRICT
        if not self._t.tenants.remove(tenant_id):
            return False
        self._t.cascade_tenant(tenant_id)
        return True


class InMemoryAgentRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def prefetch(self, agent: uuid.UUID | str, *, to_run: bool = False) -> None:
        """Nothing to save without round trips."""

    def _check(self, agent: Agent) -> None:
        self._t.require_tenant(agent.tenant_id)
        for other in self._t.agents.all_rows_unscoped():
            same_name = (other.tenant_id, other.name) == (agent.tenant_id, agent.name)
            if same_name and other.id != agent.id:
                raise DuplicateName("An agent", " in this tenant")
        if agent.provider_id is not None:
            row = self._t.providers.get(agent.provider_id)
            if row is None or row.tenant_id != agent.tenant_id:
                raise NotFound("Provider")

    async def add(self, agent: Agent) -> None:
        self._check(agent)
        self._t.agents.put(agent)

    async def get(self, agent_id: uuid.UUID) -> Agent | None:
        return self._t.agents.get(agent_id)

    async def by_name(self, tenant_id: uuid.UUID, name: str) -> Agent | None:
        rows = self._t.agents.rows()
        return next((a for a in rows if (a.tenant_id, a.name) == (tenant_id, name)), None)

    async def list(
        self, tenant_id: uuid.UUID | None, page: Page, *, status: AgentStatus | None = None
    ) -> list[Agent]:
        rows = (
            a
            for a in self._t.agents.rows()
            if (tenant_id is None or a.tenant_id == tenant_id)
            and (status is None or a.status is status)
        )
        return paged(oldest_first(rows), page)

    async def update(self, agent: Agent) -> None:
        if self._t.agents.get(agent.id) is None:
            raise NotFound("Agent")
        self._check(agent)
        self._t.agents.put(agent)

    async def delete(self, agent_id: uuid.UUID) -> bool:
        if self._t.agents.get(agent_id) is None:
            return False
        for tenant in self._t.tenants.rows():  # ticket_agent_id ON DELETE SET NULL
            if tenant.ticket_agent_id == agent_id:
                tenant.ticket_agent_id = None
                self._t.tenants.put(tenant)
        return self._t.agents.remove(agent_id)


class InMemoryApiKeyRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, key: ApiKey) -> None:
        self._t.require_tenant(key.tenant_id)
        self._t.keys.put(key)

    def _without_hash(self, key: ApiKey) -> ApiKey:
        key.key_hash = b""
        return key

    async def list_for_tenant(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        mine = (k for k in self._t.keys.rows() if k.tenant_id == tenant_id)
        return oldest_first(self._without_hash(k) for k in mine)

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        key = self._t.keys.get(key_id)
        return None if key is None else self._without_hash(key)

    async def delete(self, key_id: uuid.UUID) -> bool:
        return self._t.keys.remove(key_id)

    async def count_operator_keys(self) -> int:
        return sum(1 for k in self._t.keys.rows() if k.tenant_id is None)

    def find_by_hash(self, key_hash: bytes) -> ApiKey | None:
        """Unscoped: the lookup that tells us the scope (the SQL side's definer function)."""
        keys = self._t.keys.all_rows_unscoped()
        return next((k for k in keys if k.key_hash == key_hash), None)
