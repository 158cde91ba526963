"""In-memory repositories: the behaviour of the SQL ones (scope, uniqueness, foreign keys)."""

import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from adapters.in_memory.staged_table import StagedTable
from application.ports.page import Page
from domain.agent import Agent
from domain.api_key import ApiKey
from domain.errors import DuplicateName, NotFound
from domain.tenant import Tenant

T = TypeVar("T", Tenant, Agent, ApiKey)


def _oldest_first(rows: Iterable[T]) -> list[T]:
    return sorted(rows, key=lambda row: (row.created_at, str(row.id)))


def _page(rows: Iterable[T], page: Page) -> list[T]:
    return _oldest_first(rows)[page.offset : page.offset + page.limit]


class InMemoryTenantRepository:
    def __init__(
        self,
        tenants: StagedTable[Tenant],
        agents: StagedTable[Agent],
        keys: StagedTable[ApiKey],
        in_scope: Callable[[uuid.UUID | None], bool],
    ) -> None:
        self._tenants, self._agents, self._keys, self._in_scope = tenants, agents, keys, in_scope

    def _check(self, tenant: Tenant) -> None:
        if not self._in_scope(tenant.id):
            raise NotFound("Tenant")
        for other in self._tenants.all_rows_unscoped():
            if other.name == tenant.name and other.id != tenant.id:
                raise DuplicateName("A tenant")
        agent_id = tenant.ticket_agent_id
        if agent_id is not None:
            agent = self._agents.get(agent_id)
            if agent is None or agent.tenant_id != tenant.id:
                raise NotFound("Agent")

    async def add(self, tenant: Tenant) -> None:
        self._check(tenant)
        self._tenants.put(tenant)

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return self._tenants.get(tenant_id)

    async def list(self, page: Page) -> list[Tenant]:
        return _page(self._tenants.rows(), page)

    async def update(self, tenant: Tenant) -> None:
        if self._tenants.get(tenant.id) is None:
            raise NotFound("Tenant")
        self._check(tenant)
        self._tenants.put(tenant)

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        if not self._tenants.remove(tenant_id):
            return False
        # ON DELETE CASCADE
        for agent in list(self._agents.all_rows_unscoped()):
            if agent.tenant_id == tenant_id:
                self._agents.remove(agent.id)
        for key in list(self._keys.all_rows_unscoped()):
            if key.tenant_id == tenant_id:
                self._keys.remove(key.id)
        return True


class InMemoryAgentRepository:
    def __init__(
        self,
        agents: StagedTable[Agent],
        tenants: StagedTable[Tenant],
        in_scope: Callable[[uuid.UUID | None], bool],
    ) -> None:
        self._agents, self._tenants, self._in_scope = agents, tenants, in_scope

    def _check(self, agent: Agent) -> None:
        if not self._in_scope(agent.tenant_id) or self._tenants.get(agent.tenant_id) is None:
            raise NotFound("Tenant")
        for other in self._agents.all_rows_unscoped():
            if (other.tenant_id, other.name) == (agent.tenant_id, agent.name) and (
                other.id != agent.id
            ):
                raise DuplicateName("An agent", " in this tenant")

    async def add(self, agent: Agent) -> None:
        self._check(agent)
        self._agents.put(agent)

    async def get(self, agent_id: uuid.UUID) -> Agent | None:
        return self._agents.get(agent_id)

    async def list(self, tenant_id: uuid.UUID | None, page: Page) -> list[Agent]:
        rows = (a for a in self._agents.rows() if tenant_id is None or a.tenant_id == tenant_id)
        return _page(rows, page)

    async def update(self, agent: Agent) -> None:
        if self._agents.get(agent.id) is None:
            raise NotFound("Agent")
        self._check(agent)
        self._agents.put(agent)

    async def delete(self, agent_id: uuid.UUID) -> bool:
        if self._agents.get(agent_id) is None:
            return False
        for tenant in self._tenants.rows():  # ticket_agent_id ON DELETE SET NULL
            if tenant.ticket_agent_id == agent_id:
                tenant.ticket_agent_id = None
                self._tenants.put(tenant)
        return self._agents.remove(agent_id)


class InMemoryApiKeyRepository:
    def __init__(
        self,
        keys: StagedTable[ApiKey],
        tenants: StagedTable[Tenant],
        in_scope: Callable[[uuid.UUID | None], bool],
    ) -> None:
        self._keys, self._tenants, self._in_scope = keys, tenants, in_scope

    async def add(self, key: ApiKey) -> None:
        if not self._in_scope(key.tenant_id):
            raise NotFound("Tenant")
        if key.tenant_id is not None and self._tenants.get(key.tenant_id) is None:
            raise NotFound("Tenant")
        self._keys.put(key)

    def _without_hash(self, key: ApiKey) -> ApiKey:
        key.key_hash = b""
        return key

    async def list_for_tenant(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        return _oldest_first(
            self._without_hash(k) for k in self._keys.rows() if k.tenant_id == tenant_id
        )

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        key = self._keys.get(key_id)
        return None if key is None else self._without_hash(key)

    async def delete(self, key_id: uuid.UUID) -> bool:
        return self._keys.remove(key_id)

    async def count_operator_keys(self) -> int:
        return sum(1 for k in self._keys.rows() if k.tenant_id is None)

    def find_by_hash(self, key_hash: bytes) -> ApiKey | None:
        """Unscoped: the lookup that tells us the scope (the SQL side's definer function)."""
        return next((k for k in self._keys.all_rows_unscoped() if k.key_hash == key_hash), None)
