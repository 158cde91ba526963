"""The tools one run offers the model: its agent's active MCP servers' discovered tools,
under names the model's API accepts and that are unique within the run."""

import logging
import re
import uuid
from dataclasses import dataclass

from application.errors import SecretUnreadable
from application.ports.llm_tools import ToolSpec
from application.ports.mcp_client import McpTarget
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.mcp_checks import target_of
from domain.agent import Agent
from domain.mcp_server import McpTool

log = logging.getLogger("agentkeel.mcp")
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")  # OpenAI's function names: [A-Za-z0-9_-]{1,64}
_MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class OfferedTool:
    spec: ToolSpec  # as the model sees it
    server_id: uuid.UUID
    tool: McpTool  # as the server named it
    target: McpTarget


@dataclass(frozen=True, slots=True)
class Toolset:
    tools: tuple[OfferedTool, ...] = ()

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(t.spec for t in self.tools)

    def find(self, name: str) -> OfferedTool | None:
        return next((t for t in self.tools if t.spec.name == name), None)


def _exposed_name(tool_name: str, taken: set[str]) -> str:
    base = _NOT_ALLOWED.sub("_", tool_name)[:_MAX_NAME] or "tool"
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"_{n}"
        name = base[: _MAX_NAME - len(suffix)] + suffix
    taken.add(name)
    return name


async def load_toolset(uow: UnitOfWork, box: SecretBox, agent: Agent) -> Toolset:
    """Only servers that are the agent's tenant's, and `active` (checked, with tools)."""
    if not agent.mcp_server_ids:
        return Toolset()
    offered: list[OfferedTool] = []
    taken: set[str] = set()
    for server, env in await uow.mcp_servers.list_by_ids(agent.mcp_server_ids):
        if server.tenant_id != agent.tenant_id or not server.is_active:
            continue
        try:
            target = target_of(box, server, env)
        except SecretUnreadable:
            log.warning("MCP server %s: env_vars unreadable; its tools are not offered", server.id)
            continue
        for tool in server.tools:
            spec = ToolSpec(_exposed_name(tool.name, taken), tool.description, tool.input_schema)
            offered.append(OfferedTool(spec, server.id, tool, target))
    return Toolset(tuple(offered))
