"""GET /api/executions/{id}/events: a queued execution followed live, as server-sent events.

`event: status` (`{execution_id, status, attempts}`) first with the current state, then
as the worker claims the run; `event: delta` (`{content}`) for each piece of the answer
as the worker's gateway call produces it; `event: done` (`{execution_id, status, output,
error, model, usage, cost, latency_ms}`) at the end, after which the stream closes. Events
the worker published carry an `id:`; reconnecting with `Last-Event-ID` resumes after it.
A `: ping` comment every 5 s keeps idle connections open.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, HeaderParameter
from litestar.response import Stream

from application.ports.execution_events import ExecutionEvent
from application.use_cases.execution_events import FollowExecution
from application.use_cases.executions import GetExecution
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.sse import comment, event, sse_response, streamed_operation

LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        max_length=64,
        description="The id of the last event received: resume after it",
    ),
]


async def _encoded(events: AsyncIterator[ExecutionEvent | None]) -> AsyncIterator[bytes]:
    async for item in events:
        if item is None:
            yield comment("ping")
        else:
            yield event(item.kind, dict(item.data), item.id or None)


@get(
    "/api/executions/{execution_id:str}/events",
    tags=["executions"],
    summary="Follow an execution: status changes and output deltas as server-sent events",
    operation_class=streamed_operation(__doc__ or "", only=True),
)
async def execution_events(
    request: Request[Any, Any, Any],
    execution_id: FromPath[uuid.UUID],
    last_event_id: LastEventId = None,
) -> Stream:
    async with caller_scope(request) as (uow, principal, deps):
        execution = await GetExecution(uow)(principal, execution_id)
    follow = FollowExecution(deps.llm.uow_factory, deps.llm.events, deps.event_heartbeat_s)
    return sse_response(_encoded(follow(principal, execution, last_event_id)))


ROUTES = [execution_events]
