"""Running an agent now, answered as the gateway produces it (streamed) or whole, for one
user input or a caller's conversation (the OpenAI-compatible surface).

`start_run` records the execution `running` and commits, in the request's unit of work,
which then ends: nothing holds a database connection while the gateway talks. The end is
recorded by a unit of work of its own, also when the caller goes away mid-stream: the run
is then `cancelled`, with the output produced until then kept in `output`.

An agent with MCP tools runs its tool loop (application/use_cases/tool_loop.py), streamed
or not. The loop's intermediate answers are not the run's output, so, as in a queued run,
it is not streamed: a streamed run sends the final answer as one delta after the loop.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.gateway_errors import GatewayError, GatewayTimeout
from application.ports.llm_stream import ChatDelta
from application.ports.llm_types import ChatMessage, ChatRequest, ChatResult
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.agents import GetAgent
from application.use_cases.executions import route_for, tools_for
from application.use_cases.services import LlmServices
from application.use_cases.tool_loop import ToolLoop
from application.use_cases.toolset import Toolset
from domain.agent import Agent
from domain.errors import Conflict, InvalidValue
from domain.execution import MAX_INPUT_LENGTH, AgentSnapshot, Execution, TokenUsage
from domain.ids import new_id
from domain.principal import Principal
from domain.tool_call import ToolCallRecord

_recording: set["asyncio.Future[None]"] = set()  # strong references while they run


@dataclass(frozen=True, slots=True)
class StartedRun:
    principal: Principal
    execution: Execution
    request: ChatRequest
    toolset: Toolset  # the agent's MCP tools; none: a plain completion


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The last item of a streamed run: the execution as recorded, and the gateway's
    error when it failed (the deltas sent before it stay sent)."""

    execution: Execution
    failure: GatewayError | None = None


def conversation_input(messages: tuple[ChatMessage, ...]) -> str:
    """What an execution records as its `input`: the caller's last user message."""
    if not messages:
        raise InvalidValue("messages", "must not be empty", source="body")
    text = next((m.content for m in reversed(messages) if m.role == "user"), messages[-1].content)
    return text[:MAX_INPUT_LENGTH] or "(empty)"


def _request(
    agent: Agent, conversation: tuple[ChatMessage, ...], model: str, key: str | None
) -> ChatRequest:
    system = (ChatMessage("system", agent.system_prompt),) if agent.system_prompt else ()
    return ChatRequest(model, system + conversation, agent.temperature, agent.max_tokens, key)


async def start_run(
    uow: UnitOfWork,
    services: LlmServices,
    principal: Principal,
    agent: Agent | uuid.UUID,
    conversation: tuple[ChatMessage, ...],
) -> StartedRun:
    """The agent's system prompt, then `conversation`; its model, temperature, max_tokens,
    BYOK route and MCP tools. The execution is committed `running` before this returns.
    `agent`: one the caller may see (already read), or its id."""
    if isinstance(agent, uuid.UUID):
        agent = await GetAgent(uow)(principal, agent)
    if not agent.is_runnable:
        raise Conflict(f"Agent is {agent.status.value}; only active agents run")
    model, key, provider_id = await route_for(uow, services.box, agent)
    toolset = await tools_for(uow, services, agent)
    now = services.clock.now()
    execution = Execution(
        id=new_id(),
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        input=conversation_input(conversation),
        snapshot=AgentSnapshot.of(agent, provider_id),
        created_at=now,
    )
    request = _request(agent, conversation, model, key)
    execution.start(now)
    await uow.executions.add(execution)
    await uow.commit()
    return StartedRun(principal, execution, request, toolset)


def _succeed(services: LlmServices, execution: Execution, result: ChatResult) -> None:
    u = result.usage
    usage = TokenUsage(u.prompt_tokens, u.completion_tokens, u.total_tokens)
    execution.succeed(result.content, result.model, usage, result.cost, services.clock.now())


def _fail(services: LlmServices, execution: Execution, exc: GatewayError) -> None:
    timed_out = isinstance(exc, GatewayTimeout)
    execution.fail(str(exc) or type(exc).__name__, services.clock.now(), timed_out=timed_out)


async def _record(services: LlmServices, run: StartedRun) -> None:
    async with services.uow_factory() as uow:
        await uow.scope_to(run.principal)
        await uow.executions.update(run.execution)
        await uow.commit()


async def _record_come_what_may(services: LlmServices, run: StartedRun) -> None:
    """Shielded, and kept referenced: a caller that hangs up (its task cancelled, even
    again and again by a cancel scope) still gets its run recorded."""
    task: asyncio.Future[None] = asyncio.ensure_future(_record(services, run))
    _recording.add(task)
    task.add_done_callback(_recording.discard)
    await asyncio.shield(task)


Items = AsyncIterator[ChatDelta | RunEnded]


def stream_run(services: LlmServices, run: StartedRun) -> Items:
    """Each delta as the gateway produces it, then `RunEnded` once the end is recorded.
    Closed or cancelled early (the caller hung up): recorded `cancelled`, with the output
    so far; the gateway call is stopped. With tools: the tool loop runs to its end first,
    then the final answer comes as one delta (none if it is empty), then `RunEnded`."""
    return _tool_run(services, run) if run.toolset.tools else _streamed(services, run)


async def _streamed(services: LlmServices, run: StartedRun) -> Items:
    execution, parts = run.execution, list[str]()
    failure: GatewayError | None = None
    try:
        async for item in services.gateway.stream(run.request):
            if isinstance(item, ChatDelta):
                parts.append(item.content)
                yield item
            else:
                _succeed(services, execution, item)
    except GatewayError as exc:
        failure = exc
        _fail(services, execution, exc)
        if parts:
            execution.output = "".join(parts)
    except BaseException:  # GeneratorExit or CancelledError: the caller went away
        if not execution.is_finished:
            execution.cancel(services.clock.now())
            execution.output = "".join(parts)
        await _record_come_what_may(services, run)
        raise
    if not execution.is_finished:  # the stream ended without its result: not an answer
        failure = GatewayError("the LLM gateway's stream ended without a result")
        _fail(services, execution, failure)
    await _record_come_what_may(services, run)
    yield RunEnded(execution, failure)


async def _tool_run(services: LlmServices, run: StartedRun) -> Items:
    failure = await _run_to_end(services, run)
    if failure is None and run.execution.output:
        yield ChatDelta(run.execution.output)
    yield RunEnded(run.execution, failure)


async def _run_to_end(services: LlmServices, run: StartedRun) -> GatewayError | None:
    """The run unstreamed (through its tool loop, if it has tools) and recorded, with the
    tool calls that ended, however it ends; the gateway's error, if it failed. Cancelled
    (the caller went away): recorded `cancelled`, and the cancellation goes on."""
    execution, calls = run.execution, list[ToolCallRecord]()
    loop = ToolLoop(services.gateway, services.mcp)  # without tools: one `chat`
    failure: GatewayError | None = None
    try:
        result = await loop.run(run.request, run.toolset, calls)
    except GatewayError as exc:
        failure = exc
        _fail(services, execution, exc)
    except BaseException:
        execution.cancel(services.clock.now())
        raise
    else:
        _succeed(services, execution, result)
    finally:
        execution.tool_calls = tuple(calls)  # appended as each call ended
        await _record_come_what_may(services, run)
    return failure


async def complete_run(services: LlmServices, run: StartedRun) -> Execution:
    """The whole answer at once (`chat`, or the tool loop); a gateway failure is recorded,
    then raised."""
    failure = await _run_to_end(services, run)
    if failure is not None:
        raise failure
    return run.execution
