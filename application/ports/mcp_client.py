"""Talking to MCP servers: connect, list tools, call tools. The adapter is the official
`mcp` SDK (adapters/mcp); every failure is `application.errors.McpUnavailable`."""

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.mcp_server import McpTool, McpTransport


@dataclass(frozen=True, slots=True)
class McpTarget:
    """Where a server is and how to start it; `env` holds opened secrets (never in repr)."""

    transport: McpTransport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """A tool's answer as text; `is_error` when the tool itself reported a failure."""

    text: str
    is_error: bool = False


class McpSession(Protocol):
    async def list_tools(self) -> list[McpTool]: ...

    async def call_tool(
        self, name: str, arguments: dict[str, Any], timeout_s: float
    ) -> ToolOutput: ...


class McpConnector(Protocol):
    def session(
        self, target: McpTarget, timeout_s: float
    ) -> AbstractAsyncContextManager[McpSession]:
        """Connect and initialize within `timeout_s` (list_tools too). The target is
        checked against the operator's policy again first. A stdio server's process lives
        as long as the context and is reaped when it ends, whatever ends it."""
        ...


class McpTargetPolicy(Protocol):
    """The operator's rules on what a tenant's server may be: stdio commands on the
    allowlist only, and HTTP URLs that do not reach the platform's own network."""

    def check_command(self, command: str) -> None:
        """InvalidValue('command', ...) unless `command` is allowed."""

    async def check_url(self, url: str) -> None:
        """InvalidValue('url', ...) if `url` resolves to a refused address (or not at all)."""
