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


def agent_named_by(model: str) -> uuid.UUID | str | None:
    """The agent `model` names: its id, or its name (`agent:<name>`); None for neither."""
    agent_id = agent_id_in(model)
    if agent_id is None and model.startswith(NAME_PREFIX):
        return model.removeprefix(NAME_PREFIX)
    return agent_id


class ResolveAgentModel:
    """The agent a `model` names, in the caller's tenant; NotFound('Model') otherwise."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, model: str) -> Agent:
        tenant_id = _tenant_only(principal)
        named = agent_named_by(model)
        if isinstance(named, uuid.UUID):
            try:
                return await GetAgent(self._uow)(principal, named)
            except NotFound:
                raise NotFound("Model") from None
        if named is not None:
            agent = await self._uow.agents.by_name(tenant_id, named)
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
