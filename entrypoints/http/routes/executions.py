import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from application.use_cases.executions import ExecuteAgent, GetExecution, ListExecutions
from domain.execution import ExecutionStatus
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.routes.params import DEFAULT_PAGE_SIZE, Limit, Offset, page
from entrypoints.http.schemas.executions import ExecutedOut, ExecuteNow, ExecutionOut, executed

Req = Request[Any, Any, Any]


@post(
    "/api/agents/execute",
    tags=["executions"],
    status_code=200,
    summary="Run an agent now and wait for the answer",
)
async def execute_now(request: Req, data: JSONBody[ExecuteNow]) -> ExecutedOut:
    async with caller_scope(request) as (uow, principal, deps):
        execution = await ExecuteAgent(uow, deps.llm)(principal, data.agent_id, data.input)
    return executed(execution)


@get("/api/executions/{execution_id:str}", tags=["executions"], summary="Get an execution")
async def get_execution(request: Req, execution_id: FromPath[uuid.UUID]) -> ExecutionOut:
    async with caller_scope(request) as (uow, principal, _):
        return ExecutionOut.of(await GetExecution(uow)(principal, execution_id))


@get("/api/executions", tags=["executions"], summary="List executions, newest first")
async def list_executions(
    request: Req,
    agent_id: FromQuery[uuid.UUID | None] = None,
    status: FromQuery[ExecutionStatus | None] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    offset: Offset = 0,
) -> list[ExecutionOut]:
    async with caller_scope(request) as (uow, principal, _):
        found = await ListExecutions(uow)(principal, page(limit, offset), agent_id, status)
    return [ExecutionOut.of(e) for e in found]


ROUTES = [execute_now, get_execution, list_executions]
