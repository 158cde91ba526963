"""An in-process `McpConnector` for unit tests: no process, no socket. Every server it
connects to offers the same tools: `add`, `ticket_status`, and `slow`, which answers only
once `release` is set (`slow_started` is set when it is called), to look at a run mid-loop.
Servers are still registered and checked through the API, under the test policy."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from adapters.mcp.policy import OperatorMcpPolicy
from application.ports.mcp_client import McpTarget, ToolOutput
from application.use_cases.mcp_services import McpServices, ToolLimits
from domain.mcp_server import McpTool
from tests.support.mcp.world import PYTHON

_OBJECT = {"type": "object"}
TOOLS = (
    McpTool("add", "Add two integers.", _OBJECT | {"required": ["a", "b"]}),
    McpTool("ticket_status", "Look up a ticket's status by id.", _OBJECT),
    McpTool("slow", "Answers when the test says so.", _OBJECT),
)


class FakeMcpSession:
    def __init__(self, connector: "FakeMcpConnector") -> None:
        self._connector = connector

    async def list_tools(self) -> list[McpTool]:
        return list(TOOLS)

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout_s: float) -> ToolOutput:
        self._connector.called.append((name, arguments))
        if name == "add":
            return ToolOutput(str(arguments["a"] + arguments["b"]))
        if name == "ticket_status":
            return ToolOutput(f"ticket {arguments['ticket_id']} is OPEN")
        if name == "slow":
            self._connector.slow_started.set()
            await self._connector.release.wait()
            return ToolOutput("woke up")
        return ToolOutput(f"no tool {name}", is_error=True)


class FakeMcpConnector:
    def __init__(self) -> None:
        self.called: list[tuple[str, dict[str, Any]]] = []
        self.opened = self.closed = 0
        self.slow_started = asyncio.Event()
        self.release = asyncio.Event()

    @asynccontextmanager
    async def session(self, target: McpTarget, timeout_s: float) -> AsyncIterator[FakeMcpSession]:
        self.opened += 1
        try:
            yield FakeMcpSession(self)
        finally:
            self.closed += 1


def fake_mcp_services(**limits: Any) -> tuple[McpServices, FakeMcpConnector]:
    """Stdio servers running this interpreter pass the policy (tests/support/mcp/world.py's
    `stdio_server_body`); the connector never starts them."""
    connector = FakeMcpConnector()
    policy = OperatorMcpPolicy((PYTHON,))
    return McpServices(connector, policy, ToolLimits(**limits)), connector
