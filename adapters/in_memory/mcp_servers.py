import dataclasses
import uuid
from datetime import datetime

from adapters.in_memory.repositories import oldest_first, paged
from adapters.in_memory.store import McpServerRow
from adapters.in_memory.tables import Tables
from application.ports.mcp_server_repository import SealedEnv
from application.ports.page import Page
from domain.errors import DuplicateName, NotFound
from domain.mcp_server import McpServer


class InMemoryMcpServerRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check_name(self, server: McpServer) -> None:
        for other in self._t.mcp_servers.all_rows_unscoped():
            same = (other.tenant_id, other.server.name) == (server.tenant_id, server.name)
            if same and other.id != server.id:
                raise DuplicateName("An MCP server", " in this tenant")

    async def add(self, server: McpServer, env: SealedEnv) -> None:
        self._t.require_tenant(server.tenant_id)
        self._check_name(server)
        self._t.mcp_servers.put(McpServerRow(server.id, server.tenant_id, server, dict(env)))

    async def get(self, server_id: uuid.UUID) -> McpServer | None:
        row = self._t.mcp_servers.get(server_id)
        return None if row is None else row.server

    async def sealed_env(self, server_id: uuid.UUID) -> SealedEnv | None:
        row = self._t.mcp_servers.get(server_id)
        return None if row is None else row.env

    async def list_by_ids(self, ids: tuple[uuid.UUID, ...]) -> list[tuple[McpServer, SealedEnv]]:
        rows = [self._t.mcp_servers.get(i) for i in ids]
        return [(r.server, r.env) for r in rows if r is not None]

    async def update(self, server: McpServer, env: SealedEnv | None = None) -> None:
        row = self._t.mcp_servers.get(server.id)
        if row is None:
            raise NotFound("MCP server")
        self._check_name(server)
        row.server = server
        if env is not None:
            row.env = dict(env)
        self._t.mcp_servers.put(row)

    async def record_check(self, server: McpServer) -> bool:
        row = self._t.mcp_servers.get(server.id)
        if row is None or row.server.updated_at != server.updated_at:
            return False
        row.server = dataclasses.replace(
            row.server,
            status=server.status,
            tools=server.tools,
            last_error=server.last_error,
            last_checked_at=server.last_checked_at,
        )
        self._t.mcp_servers.put(row)
        return True

    async def claim_due_checks(
        self, before: datetime, now: datetime, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        due = [
            r
            for r in self._t.mcp_servers.rows()
            if r.server.is_active
            and (r.server.last_checked_at is None or r.server.last_checked_at < before)
        ]
        due.sort(key=lambda r: (r.server.last_checked_at is not None, r.server.last_checked_at))
        claimed: list[tuple[McpServer, SealedEnv]] = []
        for row in due[:limit]:
            row.server.last_checked_at = now
            self._t.mcp_servers.put(row)
            claimed.append((row.server, row.env))
        return claimed

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        rows = sorted(self._t.mcp_servers.rows(), key=lambda r: r.id)
        found: list[tuple[McpServer, SealedEnv]] = [
            (r.server, r.env) for r in rows if after is None or r.id > after
        ]
        return found[:limit]

    async def replace_env(self, server_id: uuid.UUID, old: SealedEnv, new: SealedEnv) -> bool:
        row = self._t.mcp_servers.get(server_id)
        if row is None or row.env != dict(old):
            return False
        row.env = dict(new)
        self._t.mcp_servers.put(row)
        return True

    async def delete(self, server_id: uuid.UUID) -> bool:
        if self._t.mcp_servers.get(server_id) is None:
            return False
        for agent in self._t.agents.rows():
            if server_id in agent.mcp_server_ids:
                agent.mcp_server_ids = tuple(i for i in agent.mcp_server_ids if i != server_id)
                self._t.agents.put(agent)
        return self._t.mcp_servers.remove(server_id)

    async def list(self, tenant_id: uuid.UUID | None, page: Page) -> list[McpServer]:
        rows = (r.server for r in self._t.mcp_servers.rows())
        mine = (s for s in rows if tenant_id is None or s.tenant_id == tenant_id)
        return paged(oldest_first(mine), page)
