"""Agents as models, for the OpenAI-compatible surface: `model` is an agent's id or
`agent:<name>`, and the models a tenant key may call are its tenant's active agents."""

import uuid

from application.ports.page import MAX_PAGE_SIZE, Page
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.agents import GetAgent
from domain.agent import RUNNABLE, Agent
from domain.errors import Forbidden, NotFound
from domain.principal import Principal

NAME_PREFIX = "agent:"


def _tenant_only(principal: Principal) -> uuid.UUID:
    if principal.tenant_id is None:
        raise Forbidden("Agents are called as models with a tenant key, not the operator key")
    return principal.tenant_id


def agent_id_in(model: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(model)
    except ValueError:
        return None


class ResolveAgentModel:
    """The agent a `model` names, in the caller's tenant; NotFound('Model') otherwise."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, model: str) -> Agent:
        tenant_id = _tenant_only(principal)
        agent_id = agent_id_in(model)
        if agent_id is not None:
            try:
                return await GetAgent(self._uow)(principal, agent_id)
            except NotFound:
                raise NotFound("Model") from None
        if model.startswith(NAME_PREFIX):
            name = model.removeprefix(NAME_PREFIX)
            agent = await self._uow.agents.by_name(tenant_id, name)
            if agent is not None:
                return agent
        raise NotFound("Model")


class ListAgentModels:
    """The caller's active agents, oldest first."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal) -> list[Agent]:
        tenant_id = _tenant_only(principal)
        found: list[Agent] = []
        while True:
            page = Page(MAX_PAGE_SIZE, len(found))
            batch = await self._uow.agents.list(tenant_id, page, status=RUNNABLE)
            found += batch
            if len(batch) < MAX_PAGE_SIZE:
                return found
