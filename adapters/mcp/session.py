"""One connected MCP session: list tools (every page), call a tool with a timeout."""

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adapters.mcp.describe import describe
from application.errors import McpUnavailable
from application.ports.mcp_client import ToolOutput
from domain.mcp_server import McpTool

if TYPE_CHECKING:
    from mcp import Client

MAX_TOOL_PAGES = 20
MAX_TOOLS = 500


def _text_of(result: Any) -> str:
    parts = [getattr(c, "text", None) for c in result.content or ()]
    texts = [p for p in parts if isinstance(p, str)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content, default=str)
    kinds = sorted({getattr(c, "type", "?") for c in result.content or ()})
    return f"(non-text content: {', '.join(kinds)})" if kinds else ""


class SdkMcpSession:
    def __init__(self, client: "Client", stderr_tail: Callable[[], str]) -> None:
        self._client, self._stderr_tail = client, stderr_tail

    async def list_tools(self) -> list[McpTool]:
        tools: list[McpTool] = []
        cursor: str | None = None
        try:
            for _ in range(MAX_TOOL_PAGES):
                page = await self._client.list_tools(cursor=cursor)
                for tool in page.tools:
                    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
                    tools.append(McpTool(tool.name, tool.description or "", dict(schema)))
                cursor = page.next_cursor
                if not cursor or len(tools) >= MAX_TOOLS:
                    break
        except Exception as exc:
            raise McpUnavailable(
                f"listing tools failed: {describe(exc)}{self._stderr_tail()}"
            ) from None
        return tools[:MAX_TOOLS]

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout_s: float) -> ToolOutput:
        try:
            async with asyncio.timeout(timeout_s):
                result = await self._client.call_tool(
                    name, arguments, read_timeout_seconds=timeout_s
                )
        except TimeoutError:
            raise McpUnavailable(
                f"the tool {name!r} did not answer within {timeout_s:g} s"
            ) from None
        except Exception as exc:
            raise McpUnavailable(f"calling {name!r} failed: {describe(exc)}") from None
        return ToolOutput(_text_of(result), bool(result.is_error))
