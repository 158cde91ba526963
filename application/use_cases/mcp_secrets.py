"""Sealing and opening an MCP server's env_vars, each value bound to tenant, row and name."""

from collections.abc import Mapping

from application.ports.mcp_server_repository import MCP_SERVERS_TABLE, SealedEnv
from application.ports.secret_box import SecretBox, SecretContext
from domain.mcp_server import McpServer


def _context(server: McpServer, name: str) -> SecretContext:
    return SecretContext(server.tenant_id, MCP_SERVERS_TABLE, server.id, f"env_vars.{name}")


def seal_env(box: SecretBox, server: McpServer, env: Mapping[str, str]) -> SealedEnv:
    return {name: box.seal(value.encode(), _context(server, name)) for name, value in env.items()}


def open_env(box: SecretBox, server: McpServer, sealed: SealedEnv) -> dict[str, str]:
    return {name: box.open(s, _context(server, name)).decode() for name, s in sealed.items()}


def reseal_env(box: SecretBox, server: McpServer, sealed: SealedEnv) -> SealedEnv:
    """The same values under the box's current key (for `agentkeel secrets rotate`)."""
    return seal_env(box, server, open_env(box, server, sealed))


def env_needs_reseal(box: SecretBox, sealed: SealedEnv) -> bool:
    return any(box.needs_rotation(s) for s in sealed.values())
