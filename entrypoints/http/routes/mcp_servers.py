import uuid
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from application.use_cases.mcp_checks import CheckMcpServer
from application.use_cases.mcp_servers import (
    CreateMcpServer,
    DeleteMcpServer,
    ListMcpServers,
    NewMcpServer,
    UpdateMcpServer,
    get_mcp_server,
)
from application.use_cases.mcp_services import McpServices
from entrypoints.http.dependencies import HttpDependencies, caller_scope
from entrypoints.http.routes.params import DEFAULT_PAGE_SIZE, Limit, Offset, page
from entrypoints.http.schemas.mcp_servers import McpServerCreate, McpServerOut, McpServerPatch

Req = Request[Any, Any, Any]
BASE = "/api/mcp-servers"
ONE = BASE + "/{server_id:str}"
ServerId = FromPath[uuid.UUID]
TAGS = ["mcp-servers"]


def _mcp(deps: HttpDependencies) -> McpServices:
    mcp = deps.llm.mcp
    if mcp is None:
        raise RuntimeError("MCP services are not wired in this process")
    return mcp


@post(BASE, tags=TAGS, summary="Register an MCP server (env_vars values are stored encrypted)")
async def create_server(request: Req, data: JSONBody[McpServerCreate]) -> McpServerOut:
    new = NewMcpServer(
        name=data.name,
        transport_type=data.transport_type,
        command=data.command,
        args=tuple(data.args),
        env_vars=data.env_vars,
        url=data.url,
        tenant_id=data.tenant_id,
    )
    async with caller_scope(request) as (uow, principal, deps):
        use_case = CreateMcpServer(uow, deps.clock, deps.llm.box, _mcp(deps).policy)
        return McpServerOut.of(await use_case(principal, new))


@get(BASE, tags=TAGS, summary="List MCP servers (operator: ?tenant_id= filter)")
async def list_servers(
    request: Req,
    tenant_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> list[McpServerOut]:
    async with caller_scope(request) as (uow, principal, _):
        servers = await ListMcpServers(uow)(principal, page(limit, offset), tenant_id)
    return [McpServerOut.of(s) for s in servers]


@get(ONE, tags=TAGS, summary="Get an MCP server")
async def get_server(request: Req, server_id: ServerId) -> McpServerOut:
    async with caller_scope(request) as (uow, principal, _):
        return McpServerOut.of(await get_mcp_server(uow, principal, server_id))


@patch(ONE, tags=TAGS, summary="Reconfigure an MCP server (it is pending until checked again)")
async def update_server(
    request: Req, server_id: ServerId, data: JSONBody[McpServerPatch]
) -> McpServerOut:
    async with caller_scope(request) as (uow, principal, deps):
        use_case = UpdateMcpServer(uow, deps.clock, deps.llm.box, _mcp(deps).policy)
        return McpServerOut.of(await use_case(principal, server_id, data.changes()))


@delete(ONE, tags=TAGS, summary="Delete an MCP server (agents stop using it)")
async def delete_server(request: Req, server_id: ServerId) -> None:
    async with caller_scope(request) as (uow, principal, _):
        await DeleteMcpServer(uow)(principal, server_id)


@post(ONE + "/check", tags=TAGS, status_code=200, summary="Connect now: status, tools, error")
async def check_server(request: Req, server_id: ServerId) -> McpServerOut:
    async with caller_scope(request) as (uow, principal, deps):
        _mcp(deps)
        return McpServerOut.of(await CheckMcpServer(uow, deps.llm)(principal, server_id))


ROUTES = [create_server, list_servers, get_server, update_server, delete_server, check_server]
