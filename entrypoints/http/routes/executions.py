import uuid
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from application.ports.llm_types import ChatMessage
from application.use_cases.execution_deliveries import ticket_write_back
from application.use_cases.executions import ExecuteAgent, GetExecution, ListExecutions
from application.use_cases.queued_executions import CancelExecution, Submission, SubmitExecution
from application.use_cases.streamed_runs import start_run, stream_run
from domain.execution import ExecutionStatus
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.openapi import errors
from entrypoints.http.routes.params import DEFAULT_PAGE_SIZE, Limit, Offset, page
from entrypoints.http.run_stream import DESCRIPTION, run_event_stream
from entrypoints.http.schemas.executions import (
    ExecutedOut,
    ExecuteNow,
    ExecutionOut,
    ExecutionSubmit,
    QueuedOut,
    executed,
)
from entrypoints.http.schemas.webhooks import WriteBackOut
from entrypoints.http.sse import streamed_operation, wants_event_stream

Req = Request[Any, Any, Any]


@post(
    "/api/agents/execute",
    tags=["executions"],
    status_code=200,
    summary="Run an agent now: the whole answer, or streamed as server-sent events",
    operation_class=streamed_operation(DESCRIPTION),
    responses=errors(400, 404, 409, 429, 502, 504),
)
async def execute_now(request: Req, data: JSONBody[ExecuteNow]) -> ExecutedOut:
    if data.stream or wants_event_stream(request.headers.get("accept")):
        conversation = (ChatMessage("user", data.input),)
        async with caller_scope(request, data.agent_id, to_run=True) as (uow, principal, deps):
            run = await start_run(uow, deps.llm, principal, data.agent_id, conversation)
        # The unit of work has ended: no connection is held while the answer streams.
        return await run_event_stream(stream_run(deps.llm, run), request.receive)  # type: ignore[return-value]
    async with caller_scope(request, data.agent_id, to_run=True) as (uow, principal, deps):
        execution = await ExecuteAgent(uow, deps.llm)(principal, data.agent_id, data.input)
    return executed(execution)


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Same key and body within 24 h: the first response again",
    ),
]


@post(
    "/api/agents/{agent_id:str}/executions",
    tags=["executions"],
    status_code=202,
    summary="Queue a run of the agent; poll GET /api/executions/{id}",
    responses=errors(409),
)
async def submit(
    request: Req,
    agent_id: FromPath[uuid.UUID],
    data: JSONBody[ExecutionSubmit],
    idempotency_key: IdempotencyKey = None,
) -> Response[QueuedOut]:
    submission = Submission(agent_id, data.input, data.callback_url, idempotency_key)
    async with caller_scope(request, agent_id) as (uow, principal, deps):
        done = await SubmitExecution(uow, deps.llm, deps.queue, deps.requeue_after, deps.callbacks)(
            principal, submission
        )
    execution = done.execution
    # A replay answers what the first request answered, whatever the run did since.
    return Response(
        QueuedOut(id=execution.id, status=ExecutionStatus.QUEUED),
        status_code=202,
        headers={"Location": f"/api/executions/{execution.id}"},
    )


@post(
    "/api/executions/{execution_id:str}/cancel",
    tags=["executions"],
    status_code=200,
    summary="Cancel: a queued run never starts, a running one stops at its next heartbeat",
)
async def cancel(request: Req, execution_id: FromPath[uuid.UUID]) -> ExecutionOut:
    async with caller_scope(request) as (uow, principal, deps):
        return ExecutionOut.of(await CancelExecution(uow, deps.llm)(principal, execution_id))


@get("/api/executions/{execution_id:str}", tags=["executions"], summary="Get an execution")
async def get_execution(request: Req, execution_id: FromPath[uuid.UUID]) -> ExecutionOut:
    async with caller_scope(request) as (uow, principal, _):
        found = ExecutionOut.of(await GetExecution(uow)(principal, execution_id))
        write_back = await ticket_write_back(uow, execution_id)
    if write_back is not None:
        found.ticket_writeback = WriteBackOut.of(write_back)
    return found


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


ROUTES = [execute_now, submit, cancel, get_execution, list_executions]
