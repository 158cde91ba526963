"""Running an agent now: record, call the gateway outside any transaction, record the result."""

import asyncio
import uuid

from application.gateway_errors import GatewayError, GatewayTimeout
from application.ports.llm_types import ChatMessage, ChatRequest
from application.ports.page import Page
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.agents import GetAgent
from application.use_cases.provider_secrets import open_virtual_key
from application.use_cases.services import LlmServices
from application.use_cases.tool_loop import ToolLoop
from application.use_cases.toolset import Toolset, load_toolset
from domain.agent import Agent
from domain.errors import Conflict, NotFound, Refused
from domain.execution import AgentSnapshot, Execution, ExecutionStatus, TokenUsage
from domain.ids import new_id
from domain.principal import Principal
from domain.tool_call import ToolCallRecord


def chat_request(agent: Agent, user_input: str, model: str, key: str | None) -> ChatRequest:
    messages = [ChatMessage("user", user_input)]
    if agent.system_prompt:
        messages.insert(0, ChatMessage("system", agent.system_prompt))
    return ChatRequest(
        model=model,
        messages=tuple(messages),
        temperature=agent.temperature,
        max_tokens=agent.max_tokens,
        api_key=key,
    )


async def route_for(
    uow: UnitOfWork, box: SecretBox, agent: Agent
) -> tuple[str, str | None, uuid.UUID | None]:
    """(model, virtual key or None for the platform key, provider id) for one agent run."""
    if not agent.use_byok:
        return agent.model, None, None
    providers = [p for p in await uow.providers.list(agent.tenant_id) if p.is_active]
    chosen = next((p for p in providers if p.id == agent.provider_id), None)
    if chosen is None and agent.provider_id is None and providers:
        chosen = providers[0]
    if chosen is None:
        raise Refused("The agent uses BYOK but the tenant has no active provider for it")
    secrets = await uow.providers.secrets(chosen.id)
    assert secrets is not None
    return chosen.deployment_name, open_virtual_key(box, chosen, secrets), chosen.id


async def tools_for(uow: UnitOfWork, services: LlmServices, agent: Agent) -> Toolset:
    """The agent's MCP tools for this run (no read at all for an agent without servers)."""
    if services.mcp is None:
        return Toolset()
    return await load_toolset(uow, services.box, agent)


class ExecuteAgent:
    """POST /api/agents/execute. The request's unit of work ends (and gives its connection
    back) before the gateway call; the result is stored by a second one."""

    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(self, principal: Principal, agent_id: uuid.UUID, text: str) -> Execution:
        agent = await GetAgent(self._uow)(principal, agent_id)
        if not agent.is_runnable:
            raise Conflict(f"Agent is {agent.status.value}; only active agents run")
        model, key, provider_id = await route_for(self._uow, self._s.box, agent)
        toolset = await tools_for(self._uow, self._s, agent)
        execution = Execution(
            id=new_id(),
            tenant_id=agent.tenant_id,
            agent_id=agent.id,
            input=text,
            snapshot=AgentSnapshot.of(agent, provider_id),
            created_at=self._s.clock.now(),
        )
        request = chat_request(agent, text, model, key)
        execution.start(self._s.clock.now())
        await self._uow.executions.add(execution)
        await self._uow.commit()
        failure: BaseException | None = None
        calls: list[ToolCallRecord] = []
        try:
            result = await ToolLoop(self._s.gateway, self._s.mcp).run(request, toolset, calls)
        except BaseException as exc:  # whatever stops the call, the run must not stay running
            failure = exc
            message = str(exc) if isinstance(exc, GatewayError) else "The run was interrupted"
            execution.fail(
                message or type(exc).__name__,
                self._s.clock.now(),
                timed_out=isinstance(exc, GatewayTimeout),
            )
        else:
            usage = TokenUsage(
                result.usage.prompt_tokens,
                result.usage.completion_tokens,
                result.usage.total_tokens,
            )
            execution.succeed(result.content, result.model, usage, result.cost, self._s.clock.now())
        execution.tool_calls = tuple(calls)
        # Shielded: a client that hangs up (task cancelled) still gets its run recorded.
        await asyncio.shield(self._record(principal, execution))
        if failure is not None:
            raise failure
        return execution

    async def _record(self, principal: Principal, execution: Execution) -> None:
        async with self._s.uow_factory() as uow:
            await uow.scope_to(principal)
            await uow.executions.update(execution)
            await uow.commit()


class GetExecution:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, execution_id: uuid.UUID) -> Execution:
        execution = await self._uow.executions.get(execution_id)
        if execution is None or not principal.may_access(execution.tenant_id):
            raise NotFound("Execution")
        return execution


class ListExecutions:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self,
        principal: Principal,
        page: Page,
        agent_id: uuid.UUID | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[Execution]:
        return await self._uow.executions.list(principal.tenant_id, page, agent_id, status)
