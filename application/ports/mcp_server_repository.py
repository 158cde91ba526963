import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from application.ports.page import Page
from application.ports.secret_box import SealedSecret
from domain.mcp_server import McpServer

MCP_SERVERS_TABLE = "mcp_servers"  # part of each sealed secret's associated data

# A server's env_vars: each value sealed on its own, bound to the tenant, row and name.
SealedEnv = Mapping[str, SealedSecret]


class McpServerRepository(Protocol):
    """MCP servers visible in the unit of work's scope, each with its sealed env_vars."""

    async def add(self, server: McpServer, env: SealedEnv) -> None:
        """Conflict on a duplicate name within the tenant; NotFound('Tenant')."""

    async def get(self, server_id: uuid.UUID) -> McpServer | None: ...

    async def sealed_env(self, server_id: uuid.UUID) -> SealedEnv | None: ...

    async def list_by_ids(self, ids: tuple[uuid.UUID, ...]) -> list[tuple[McpServer, SealedEnv]]:
        """The visible ones among `ids` (an agent's servers, for a run), in `ids` order."""
        ...

    async def update(self, server: McpServer, env: SealedEnv | None = None) -> None:
        """Save the entity (and the env when given); NotFound if it is gone. Conflict on
        a duplicate name."""

    async def record_check(self, server: McpServer) -> bool:
        """Save only what a check found (status, tools, last_error, last_checked_at), only
        if the row was not reconfigured since it was read (`updated_at` unchanged): False,
        writing nothing, otherwise (or when it is gone)."""
        ...

    async def claim_due_checks(
        self, before: datetime, now: datetime, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        """Active servers last checked before `before`, least recently checked first; their
        `last_checked_at` is set to `now` at once, so that other workers skip them."""
        ...

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        """Every visible server with its env, by id, for key rotation in batches."""
        ...

    async def replace_env(self, server_id: uuid.UUID, old: SealedEnv, new: SealedEnv) -> bool:
        """Write `new` over the env only if it is still `old` (compare-and-swap)."""
        ...

    async def delete(self, server_id: uuid.UUID) -> bool:
        """Also takes the server off every agent that listed it."""
        ...

    async def list(self, tenant_id: uuid.UUID | None, page: Page) -> list[McpServer]:
        """Oldest first; None: every visible server."""
        ...
