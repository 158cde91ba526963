"""MCP servers in PostgreSQL; env values sealed per name in the `env_vars` jsonb column."""

import base64
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, delete, func, insert, literal, or_, select, update

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import agents
from adapters.sqlalchemy.tables import mcp_servers as t
from application.ports.mcp_server_repository import SealedEnv
from application.ports.page import Page
from application.ports.secret_box import SealedSecret
from domain.errors import NotFound
from domain.mcp_server import McpServer, McpServerStatus, McpTool, McpTransport


def env_json(env: SealedEnv) -> dict[str, dict[str, str]]:
    return {
        name: {"kid": s.key_id, "sealed": base64.b64encode(s.ciphertext).decode()}
        for name, s in env.items()
    }


def _env(data: dict[str, Any]) -> dict[str, SealedSecret]:
    return {n: SealedSecret(v["kid"], base64.b64decode(v["sealed"])) for n, v in data.items()}


def _tools_json(server: McpServer) -> list[dict[str, Any]]:
    return [
        {"name": x.name, "description": x.description, "input_schema": x.input_schema}
        for x in server.tools
    ]


def _check_values(server: McpServer) -> dict[str, Any]:
    return {
        "status": server.status.value,
        "tools": _tools_json(server),
        "last_error": server.last_error,
        "last_checked_at": server.last_checked_at,
    }


def _config_values(server: McpServer) -> dict[str, Any]:
    return {
        "name": server.name,
        "transport_type": server.transport_type.value,
        "command": server.command,
        "args": list(server.args),
        "url": server.url,
        "updated_at": server.updated_at,
        **_check_values(server),
    }


def _server(row: Any) -> McpServer:
    tools = tuple(
        McpTool(x["name"], x.get("description") or "", x.get("input_schema") or {})
        for x in row.tools
    )
    return McpServer(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        transport_type=McpTransport(row.transport_type),
        created_at=row.created_at,
        updated_at=row.updated_at,
        command=row.command,
        args=tuple(row.args),
        env_var_names=tuple(row.env_vars),
        url=row.url,
        status=McpServerStatus(row.status),
        tools=tools,
        last_error=row.last_error,
        last_checked_at=row.last_checked_at,
    )


class SqlMcpServerRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, server: McpServer, env: SealedEnv) -> None:
        values = {
            "id": server.id,
            "tenant_id": server.tenant_id,
            "created_at": server.created_at,
            "env_vars": env_json(env),
            **_config_values(server),
        }
        with domain_errors():
            await self._conn.execute(insert(t), values)

    async def _row(self, server_id: uuid.UUID) -> Any:
        return (await self._conn.execute(select(t).where(t.c.id == server_id))).first()

    async def get(self, server_id: uuid.UUID) -> McpServer | None:
        row = await self._row(server_id)
        return None if row is None else _server(row)

    async def sealed_env(self, server_id: uuid.UUID) -> SealedEnv | None:
        row = await self._row(server_id)
        return None if row is None else _env(row.env_vars)

    async def list_by_ids(self, ids: tuple[uuid.UUID, ...]) -> list[tuple[McpServer, SealedEnv]]:
        if not ids:
            return []
        rows = {r.id: r for r in await self._conn.execute(select(t).where(t.c.id.in_(ids)))}
        return [(_server(rows[i]), _env(rows[i].env_vars)) for i in ids if i in rows]

    async def update(self, server: McpServer, env: SealedEnv | None = None) -> None:
        values = _config_values(server)
        if env is not None:
            values["env_vars"] = env_json(env)
        with domain_errors():
            result = await self._conn.execute(update(t).where(t.c.id == server.id), values)
        if result.rowcount == 0:
            raise NotFound("MCP server")

    async def record_check(self, server: McpServer) -> bool:
        statement = update(t).where(t.c.id == server.id, t.c.updated_at == server.updated_at)
        result = await self._conn.execute(statement, _check_values(server))
        return bool(result.rowcount)

    async def claim_due_checks(
        self, before: datetime, now: datetime, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        due = (
            select(t.c.id)
            .where(
                t.c.status == McpServerStatus.ACTIVE.value,
                or_(t.c.last_checked_at.is_(None), t.c.last_checked_at < before),
            )
            .order_by(t.c.last_checked_at.nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(t).where(t.c.id.in_(due.scalar_subquery())).values(last_checked_at=now)
        ).returning(*t.c)
        return [(_server(r), _env(r.env_vars)) for r in await self._conn.execute(statement)]

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[McpServer, SealedEnv]]:
        statement = select(t).order_by(t.c.id).limit(limit)
        if after is not None:
            statement = statement.where(t.c.id > after)
        return [(_server(r), _env(r.env_vars)) for r in await self._conn.execute(statement)]

    async def replace_env(self, server_id: uuid.UUID, old: SealedEnv, new: SealedEnv) -> bool:
        statement = update(t).where(t.c.id == server_id, t.c.env_vars == env_json(old))
        result = await self._conn.execute(statement, {"env_vars": env_json(new)})
        return bool(result.rowcount)

    async def delete(self, server_id: uuid.UUID) -> bool:
        listed = agents.c.mcp_server_ids.contains([server_id])
        await self._conn.execute(
            update(agents)
            .where(listed)
            .values(
                mcp_server_ids=func.array_remove(agents.c.mcp_server_ids, literal(server_id, Uuid))
            )
        )
        result = await self._conn.execute(delete(t).where(t.c.id == server_id))
        return result.rowcount > 0

    async def list(self, tenant_id: uuid.UUID | None, page: Page) -> list[McpServer]:
        statement = select(t).order_by(t.c.created_at, t.c.id).limit(page.limit)
        statement = statement.offset(page.offset)
        if tenant_id is not None:
            statement = statement.where(t.c.tenant_id == tenant_id)
        return [_server(row) for row in await self._conn.execute(statement)]
