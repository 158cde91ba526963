import uuid
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from application.use_cases.agents import (
    CreateAgent,
    DeleteAgent,
    GetAgent,
    ListAgents,
    NewAgent,
    UpdateAgent,
)
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.openapi import errors
from entrypoints.http.routes.params import DEFAULT_PAGE_SIZE, Limit, Offset, page
from entrypoints.http.schemas.agents import AgentCreate, AgentOut, AgentPatch

Req = Request[Any, Any, Any]


@post("/api/agents", tags=["agents"], summary="Create an agent", responses=errors(403, 404, 409))
async def create_agent(request: Req, data: JSONBody[AgentCreate]) -> AgentOut:
    new = NewAgent(
        name=data.name,
        system_prompt=data.system_prompt,
        tenant_id=data.tenant_id,
        model=data.model,
        temperature=data.temperature,
        max_tokens=data.max_tokens,
        use_byok=data.use_byok,
        provider_id=data.provider_id,
        status=data.status,
        mcp_server_ids=tuple(data.mcp_server_ids),
    )
    async with caller_scope(request) as (uow, principal, deps):
        return AgentOut.of(await CreateAgent(uow, deps.clock)(principal, new))


@get("/api/agents", tags=["agents"], summary="List agents (operator: ?tenant_id= filter)")
async def list_agents(
    request: Req,
    tenant_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> list[AgentOut]:
    async with caller_scope(request) as (uow, principal, _):
        agents = await ListAgents(uow)(principal, page(limit, offset), tenant_id)
    return [AgentOut.of(a) for a in agents]


@get("/api/agents/{agent_id:str}", tags=["agents"], summary="Get an agent")
async def get_agent(request: Req, agent_id: FromPath[uuid.UUID]) -> AgentOut:
    async with caller_scope(request, agent_id) as (uow, principal, _):
        return AgentOut.of(await GetAgent(uow)(principal, agent_id))


@patch(
    "/api/agents/{agent_id:str}",
    tags=["agents"],
    summary="Update an agent",
    responses=errors(409),
)
async def update_agent(
    request: Req, agent_id: FromPath[uuid.UUID], data: JSONBody[AgentPatch]
) -> AgentOut:
    async with caller_scope(request) as (uow, principal, deps):
        agent = await UpdateAgent(uow, deps.clock)(principal, agent_id, data.changes())
    return AgentOut.of(agent)


@delete("/api/agents/{agent_id:str}", tags=["agents"], summary="Delete an agent")
async def delete_agent(request: Req, agent_id: FromPath[uuid.UUID]) -> None:
    async with caller_scope(request) as (uow, principal, _):
        await DeleteAgent(uow)(principal, agent_id)


ROUTES = [create_agent, list_agents, get_agent, update_agent, delete_agent]
