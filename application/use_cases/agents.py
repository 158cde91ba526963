"""Agent configuration, always within one tenant."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.page import Page
from application.ports.unit_of_work import UnitOfWork
from domain.agent import DEFAULT_MODEL, DEFAULT_TEMPERATURE, Agent, AgentStatus
from domain.errors import InvalidValue, NotFound
from domain.ids import new_id
from domain.principal import Principal


@dataclass(frozen=True, slots=True)
class NewAgent:
    name: str
    system_prompt: str
    tenant_id: uuid.UUID | None = None
    model: str = DEFAULT_MODEL
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int | None = None
    use_byok: bool = False
    provider_id: uuid.UUID | None = None
    status: AgentStatus = AgentStatus.ACTIVE
    mcp_server_ids: tuple[uuid.UUID, ...] = ()


async def _check_mcp_servers(uow: UnitOfWork, tenant_id: uuid.UUID, ids: object) -> None:
    """Every id must name one of the tenant's own MCP servers (another tenant's is as
    unknown as one that never existed)."""
    if not isinstance(ids, tuple) or not ids:
        return
    known = {s.id for s, _ in await uow.mcp_servers.list_by_ids(ids) if s.tenant_id == tenant_id}
    missing = [i for i in ids if i not in known]
    if missing:
        raise InvalidValue("mcp_server_ids", f"{missing[0]} is not an MCP server of this tenant")


async def _check_provider(uow: UnitOfWork, tenant_id: uuid.UUID, provider_id: object) -> None:
    """A provider id must name one of the tenant's own providers (the foreign key agrees)."""
    if provider_id is None:
        return
    provider = await uow.providers.get(provider_id) if isinstance(provider_id, uuid.UUID) else None
    if provider is None or provider.tenant_id != tenant_id:
        raise InvalidValue("provider_id", "is not a provider of this tenant")


class CreateAgent:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(self, principal: Principal, new: NewAgent) -> Agent:
        tenant_id = principal.acting_tenant(new.tenant_id)
        await _check_provider(self._uow, tenant_id, new.provider_id)
        await _check_mcp_servers(self._uow, tenant_id, new.mcp_server_ids)
        now = self._clock.now()
        agent = Agent(
            id=new_id(),
            tenant_id=tenant_id,
            name=new.name,
            system_prompt=new.system_prompt,
            created_at=now,
            updated_at=now,
            model=new.model,
            temperature=new.temperature,
            max_tokens=new.max_tokens,
            use_byok=new.use_byok,
            provider_id=new.provider_id,
            status=new.status,
            mcp_server_ids=new.mcp_server_ids,
        )
        # An unknown tenant is refused by the store (foreign key), not by a racy pre-check.
        await self._uow.agents.add(agent)
        await self._uow.commit()
        return agent


class GetAgent:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, agent_id: uuid.UUID) -> Agent:
        agent = await self._uow.agents.get(agent_id)
        if agent is None or not principal.may_access(agent.tenant_id):
            raise NotFound("Agent")
        return agent


class ListAgents:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, page: Page, tenant_id: uuid.UUID | None = None
    ) -> list[Agent]:
        if principal.tenant_id is not None:
            if tenant_id is not None and tenant_id != principal.tenant_id:
                return []
            tenant_id = principal.tenant_id
        return await self._uow.agents.list(tenant_id, page)


class UpdateAgent:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, agent_id: uuid.UUID, changes: Mapping[str, object]
    ) -> Agent:
        """`changes` holds only the fields the caller sent; None means "set to null"."""
        agent = await GetAgent(self._uow)(principal, agent_id)
        if "provider_id" in changes:
            await _check_provider(self._uow, agent.tenant_id, changes["provider_id"])
        if "mcp_server_ids" in changes:
            await _check_mcp_servers(self._uow, agent.tenant_id, changes["mcp_server_ids"])
        agent.update(dict(changes), self._clock.now())
        await self._uow.agents.update(agent)
        await self._uow.commit()
        return agent


class DeleteAgent:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, agent_id: uuid.UUID) -> None:
        await GetAgent(self._uow)(principal, agent_id)
        await self._uow.agents.delete(agent_id)
        await self._uow.commit()
