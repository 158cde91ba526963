"""A run that may call tools: ask the model, run the tool calls it asks for on their MCP
servers, feed the results back, and ask again, up to `ToolLimits.max_steps` model calls.

Sessions are opened when the model first calls one of a server's tools and kept for the
rest of the run, in the task that runs it; they are closed (stdio processes reaped) when
the run ends, however it ends. A tool that fails is reported to the model as an error and
recorded; it does not fail the run.
"""

import json
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

from application.errors import McpUnavailable
from application.gateway_errors import ToolStepsExhausted
from application.ports.llm_gateway import LlmGateway
from application.ports.llm_tools import ToolCall
from application.ports.llm_types import ChatMessage, ChatRequest, ChatResult, Usage
from application.ports.mcp_client import McpSession, ToolOutput
from application.use_cases.mcp_services import McpServices, ToolLimits
from application.use_cases.toolset import OfferedTool, Toolset
from domain.tool_call import ToolCallRecord

_MAX_RECORDED_ARGUMENTS = 10_000


class _Sessions:
    """One session per server, opened on first use; a server that failed stays failed."""

    def __init__(self, mcp: McpServices, stack: AsyncExitStack) -> None:
        self._mcp, self._stack = mcp, stack
        self._open: dict[uuid.UUID, McpSession | McpUnavailable] = {}

    async def of(self, offered: OfferedTool) -> McpSession:
        known = self._open.get(offered.server_id)
        if known is None:
            try:
                timeout = self._mcp.limits.connect_timeout_s
                known = await self._stack.enter_async_context(
                    self._mcp.connector.session(offered.target, timeout)
                )
            except McpUnavailable as exc:
                known = exc
            self._open[offered.server_id] = known
        if isinstance(known, McpUnavailable):
            raise known
        return known


def _arguments(call: ToolCall) -> tuple[Any, dict[str, Any] | None]:
    """(what to record, the arguments object or None if they are not a JSON object)."""
    try:
        parsed = json.loads(call.arguments or "{}")
    except ValueError:
        return call.arguments[:_MAX_RECORDED_ARGUMENTS], None
    if not isinstance(parsed, dict):
        return parsed, None
    if len(call.arguments) > _MAX_RECORDED_ARGUMENTS:
        return call.arguments[:_MAX_RECORDED_ARGUMENTS], parsed
    return parsed, parsed


def _add(total: ChatResult | None, result: ChatResult) -> ChatResult:
    if total is None:
        return result
    u, v = total.usage, result.usage
    usage = Usage(
        u.prompt_tokens + v.prompt_tokens,
        u.completion_tokens + v.completion_tokens,
        u.total_tokens + v.total_tokens,
    )
    cost = (
        None
        if total.cost is None and result.cost is None
        else (total.cost or 0.0) + (result.cost or 0.0)
    )
    return replace(result, usage=usage, cost=cost)


class ToolLoop:
    def __init__(self, gateway: LlmGateway, mcp: McpServices | None) -> None:
        self._gateway, self._mcp = gateway, mcp

    @property
    def limits(self) -> ToolLimits:
        return self._mcp.limits if self._mcp is not None else ToolLimits()

    async def run(
        self, request: ChatRequest, toolset: Toolset, calls: list[ToolCallRecord]
    ) -> ChatResult:
        """The model's final answer, usage and cost summed over every step. Each tool call
        is appended to `calls` as it ends, so a run that fails midway keeps them."""
        if not toolset.tools or self._mcp is None:
            return await self._gateway.chat(request)
        messages = list(request.messages)
        total: ChatResult | None = None
        async with AsyncExitStack() as stack:
            sessions = _Sessions(self._mcp, stack)
            for step in range(1, self.limits.max_steps + 1):
                asked = replace(request, messages=tuple(messages), tools=toolset.specs())
                result = await self._gateway.chat(asked)
                total = _add(total, result)
                if not result.tool_calls:
                    return total
                messages.append(ChatMessage("assistant", result.content, result.tool_calls))
                for call in result.tool_calls:
                    text, record = await self._call(sessions, toolset, call, step)
                    calls.append(record)
                    messages.append(ChatMessage("tool", text, tool_call_id=call.id))
        raise ToolStepsExhausted(self.limits.max_steps)

    async def _call(
        self, sessions: _Sessions, toolset: Toolset, call: ToolCall, step: int
    ) -> tuple[str, ToolCallRecord]:
        started = time.monotonic()
        recorded, arguments = _arguments(call)
        offered = toolset.find(call.name)
        output, error = ToolOutput(""), None
        if offered is None:
            error = f"there is no tool named {call.name!r}"
        elif arguments is None:
            error = "the arguments are not a JSON object"
        else:
            try:
                session = await sessions.of(offered)
                output = await session.call_tool(
                    offered.tool.name, arguments, self.limits.call_timeout_s
                )
            except McpUnavailable as exc:
                error = str(exc) or "the MCP server failed"
            else:
                if output.is_error:
                    error = "the tool reported an error: " + output.text[:500]
        record = ToolCallRecord(
            step=step,
            tool=offered.tool.name if offered is not None else call.name[:200],
            server_id=offered.server_id if offered is not None else None,
            arguments=recorded,
            duration_ms=round((time.monotonic() - started) * 1000),
            result_size=len(output.text),
            error=error,
        )
        if error is not None and not output.is_error:
            return f"error: {error}", record
        return output.text[: self.limits.max_result_chars], record
