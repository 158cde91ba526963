"""The OpenAI-compatible surface: agents called as models, so any OpenAI client works.

`POST /v1/chat/completions` runs the agent named by `model` (its id, or `agent:<name>`)
on the caller's messages, after the agent's system prompt, with the agent's model,
temperature, max_tokens, BYOK route and MCP tools (streamed with tools: the final answer
is one chunk, after the tool loop); each call is an execution (`GET
/api/executions/{id}`; the id is in the completion's `id` after `chatcmpl-`, and in the
`X-Agentkeel-Execution-Id` header). `GET /v1/models` lists the caller's active agents.
"""

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import JSONBody

from application.ports.llm_stream import ChatDelta
from application.ports.llm_types import ChatMessage, Role
from application.use_cases.agent_models import ListAgentModels, ResolveAgentModel, agent_named_by
from application.use_cases.streamed_runs import (
    Items,
    RunEnded,
    complete_run,
    start_run,
    stream_run,
)
from domain.execution import Execution
from entrypoints.http.dependencies import caller_scope, require_bearer
from entrypoints.http.errors import gateway_status
from entrypoints.http.hang_up import HangUp
from entrypoints.http.openai_errors import OPENAI_EXCEPTION_HANDLERS, error_body
from entrypoints.http.openapi import errors
from entrypoints.http.run_stream import first_item
from entrypoints.http.schemas import openai as oa
from entrypoints.http.sse import event, sse_response, streamed_operation

Req = Request[Any, Any, Any]
EXECUTION_HEADER = "X-Agentkeel-Execution-Id"
# OpenAI's `developer` messages are what older models call `system` messages.
_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}
STREAM_DESCRIPTION = (
    "With `stream: true`: server-sent events, each `data:` an OpenAI "
    "`chat.completion.chunk` (a role chunk, one chunk per delta (one for the whole answer "
    "when the agent has MCP tools), a `finish_reason` chunk, "
    "the usage chunk when `stream_options.include_usage`), then `data: [DONE]`; a gateway "
    'failure mid-stream is `data: {"error": {...}}` and the stream ends.'
)


def _conversation(messages: list[oa.MessageIn]) -> tuple[ChatMessage, ...]:
    def text(content: str | list[oa.ContentPart] | None) -> str:
        return content if isinstance(content, str) else "".join(p.text for p in content or [])

    return tuple(ChatMessage(_ROLES[m.role], text(m.content)) for m in messages)


def _completion_id(execution: Execution) -> str:
    return f"chatcmpl-{execution.id}"


def _usage(execution: Execution) -> oa.CompletionUsage | None:
    u = execution.usage
    return (
        None
        if u is None
        else oa.CompletionUsage(u.prompt_tokens, u.completion_tokens, u.total_tokens)
    )


async def _chunks(
    first: ChatDelta | RunEnded, items: Items, execution: Execution, model: str, usage: bool
) -> AsyncIterator[bytes]:
    created = int(execution.created_at.timestamp())

    def chunk(delta: oa.Delta, finish: str | None = None) -> bytes:
        choice = oa.ChunkChoice(0, delta, finish)
        return event(
            None, oa.ChatCompletionChunk(_completion_id(execution), created, model, [choice])
        )

    yield chunk(oa.Delta(role="assistant", content=""))
    async for item in _chain(first, items):
        if isinstance(item, ChatDelta):
            yield chunk(oa.Delta(content=item.content))
        elif item.failure is not None:
            status, detail = gateway_status(item.failure)
            yield event(None, error_body(status, {"detail": detail}))
        else:
            yield chunk(oa.Delta(), "stop")
            if usage:
                last = oa.ChatCompletionChunk(
                    _completion_id(execution), created, model, [], usage=_usage(item.execution)
                )
                yield event(None, last)
            yield b"data: [DONE]\n\n"


async def _chain(first: ChatDelta | RunEnded, items: Items) -> Items:
    yield first
    async for item in items:
        yield item


@post(
    "/chat/completions",
    status_code=200,
    summary="OpenAI-compatible chat completion: `model` is an agent id or `agent:<name>`",
    operation_class=streamed_operation(STREAM_DESCRIPTION),
    responses=errors(400, 404, 409, 429, 502, 504, openai_shape=True),
)
async def chat_completions(
    request: Req, data: JSONBody[oa.ChatCompletionIn]
) -> Response[oa.ChatCompletion]:
    conversation = _conversation(data.messages)
    named = agent_named_by(data.model)
    async with caller_scope(request, named, to_run=True) as (uow, principal, deps):
        agent = await ResolveAgentModel(uow)(principal, data.model)
        run = await start_run(uow, deps.llm, principal, agent, conversation)
    headers = {EXECUTION_HEADER: str(run.execution.id)}
    if data.stream:
        items = stream_run(deps.llm, run)
        hang_up = HangUp(request.receive)
        first = await first_item(items, hang_up)
        include = bool(data.stream_options and data.stream_options.include_usage)
        body = _chunks(first, items, run.execution, data.model, include)
        return sse_response(body, headers, hang_up)  # type: ignore[return-value]
    execution = await complete_run(deps.llm, run)
    message = oa.AssistantMessage("assistant", execution.output or "")
    completion = oa.ChatCompletion(
        id=_completion_id(execution),
        created=int(execution.created_at.timestamp()),
        model=data.model,
        choices=[oa.Choice(0, message, "stop")],
        usage=_usage(execution),
    )
    return Response(completion, headers=headers)


@get("/models", summary="OpenAI-compatible model list: the caller's active agents")
async def list_models(request: Req) -> oa.ModelList:
    async with caller_scope(request) as (uow, principal, _):
        agents = await ListAgentModels(uow)(principal)
    return oa.ModelList(
        [oa.ModelOut(str(a.id), int(a.created_at.timestamp()), str(a.tenant_id)) for a in agents]
    )


OPENAI = Router(
    path="/v1",
    before_request=require_bearer,
    exception_handlers=OPENAI_EXCEPTION_HANDLERS,
    route_handlers=[chat_completions, list_models],
    tags=["openai"],
)
