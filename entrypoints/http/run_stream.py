"""A streamed run as server-sent events: `delta` per piece of the answer (with tools, one:
the final answer after the tool loop), then `done` (the execution, as `POST
/api/agents/execute` answers it) or `error`.

The first event is waited for before the response starts, so a gateway that refuses the
call outright (bad key, budget, rate limit, down) gets the same status code and body as an
unstreamed run; a failure after that is an `error` event, and the stream ends. A client
that hangs up while the first event is awaited, or later, stops the run (recorded
`cancelled`): entrypoints/http/hang_up.py.
"""

import uuid
from collections.abc import AsyncIterator

from litestar.response import Stream
from litestar.types import Receive
from msgspec import Struct

from application.ports.llm_stream import ChatDelta
from application.use_cases.streamed_runs import Items, RunEnded
from domain.execution import ExecutionStatus
from entrypoints.http.errors import gateway_status
from entrypoints.http.hang_up import HangUp
from entrypoints.http.schemas.executions import executed
from entrypoints.http.sse import event, sse_response

DESCRIPTION = (
    'With `"stream": true` or `Accept: text/event-stream`: server-sent events, '
    '`event: delta` `data: {"content": "..."}` for each piece of the answer as the gateway '
    "produces it, then `event: done` with the same object as the JSON answer "
    "(execution_id, status, output, model, usage, cost, latency_ms), or `event: error` "
    '`data: {"execution_id", "status": "failed"|"timed_out", "detail", "status_code"}` '
    "if the gateway fails mid-stream. An agent with MCP tools runs its tool loop first: "
    "its final answer is then one `delta`."
)


class DeltaEvent(Struct):
    content: str


class ErrorEvent(Struct):
    execution_id: uuid.UUID
    status: ExecutionStatus
    detail: str
    status_code: int  # what an unstreamed run would have answered


def _encode(item: ChatDelta | RunEnded) -> bytes:
    if isinstance(item, ChatDelta):
        return event("delta", DeltaEvent(item.content))
    execution = item.execution
    if item.failure is None:
        return event("done", executed(execution))
    status_code, detail = gateway_status(item.failure)
    return event("error", ErrorEvent(execution.id, execution.status, detail, status_code))


async def _events(first: ChatDelta | RunEnded, items: Items) -> AsyncIterator[bytes]:
    yield _encode(first)
    async for item in items:
        yield _encode(item)


async def first_item(items: Items, hang_up: HangUp) -> ChatDelta | RunEnded:
    """Raises the gateway's error when it failed before the first delta (recorded).

    Until the response starts, the streaming response does not watch the connection and
    uvicorn cancels nothing, so a client that gives up on a slow first delta or a long
    tool loop would leave the run going: under `hang_up`'s guard, its hang-up stops the
    run, which is then recorded `cancelled` (application/use_cases/streamed_runs.py),
    and `ClientGone` is raised. The watch goes on into the response, or stops here."""
    try:
        with hang_up.guard():
            item = await anext(items)
        if isinstance(item, RunEnded) and item.failure is not None:
            raise item.failure
    except BaseException:
        hang_up.stop()
        raise
    return item


async def run_event_stream(items: Items, receive: Receive) -> Stream:
    hang_up = HangUp(receive)
    return sse_response(_events(await first_item(items, hang_up), items), hang_up=hang_up)
