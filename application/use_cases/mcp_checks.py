"""Health and discovery: connect to a server (outside any transaction), list its tools,
record `active` with them or `error` with why."""

import logging
import uuid
from datetime import timedelta

from application.errors import McpUnavailable, SecretUnreadable
from application.ports.mcp_client import McpTarget
from application.ports.mcp_server_repository import SealedEnv
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.use_cases.mcp_secrets import open_env
from application.use_cases.mcp_servers import get_mcp_server
from application.use_cases.mcp_services import McpServices
from application.use_cases.services import LlmServices
from domain.mcp_server import McpServer, McpTool
from domain.principal import CONSOLE_OPERATOR, Principal

log = logging.getLogger("agentkeel.mcp")


def target_of(box: SecretBox, server: McpServer, env: SealedEnv) -> McpTarget:
    """SecretUnreadable if the env cannot be opened (a key was removed from the ring)."""
    return McpTarget(
        transport=server.transport_type,
        command=server.command,
        args=server.args,
        env=open_env(box, server, env),
        url=server.url,
    )


async def probe(
    mcp: McpServices, box: SecretBox, server: McpServer, env: SealedEnv
) -> tuple[tuple[McpTool, ...] | None, str | None]:
    """(tools, None) or (None, why it failed); never raises for the server's faults."""
    try:
        target = target_of(box, server, env)
        async with mcp.connector.session(target, mcp.limits.connect_timeout_s) as session:
            return tuple(await session.list_tools()), None
    except McpUnavailable as exc:
        return None, str(exc) or type(exc).__name__
    except SecretUnreadable:
        return None, "its env_vars cannot be decrypted with the configured secret keys"


def _mcp(services: LlmServices) -> McpServices:
    if services.mcp is None:
        raise RuntimeError("MCP services are not wired in this process")
    return services.mcp


async def _record(uow_factory: UnitOfWorkFactory, scope: Principal, server: McpServer) -> McpServer:
    async with uow_factory() as uow:
        await uow.scope_to(scope)
        if not await uow.mcp_servers.record_check(server):
            # Reconfigured (or deleted) while we connected: what it is now wins.
            current = await uow.mcp_servers.get(server.id)
            await uow.commit()
            return current or server
        await uow.commit()
    return server


class CheckMcpServer:
    """POST /api/mcp-servers/{id}/check: connect now and record what was found."""

    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(self, principal: Principal, server_id: uuid.UUID) -> McpServer:
        server = await get_mcp_server(self._uow, principal, server_id)
        env = await self._uow.mcp_servers.sealed_env(server_id) or {}
        await self._uow.commit()  # no connection is held while the server is contacted
        tools, error = await probe(_mcp(self._s), self._s.box, server, env)
        server.record_check(tools, error, self._s.clock.now())
        return await _record(self._s.uow_factory, principal, server)


class RecheckMcpServers:
    """The worker's periodic pass: every active server not checked for `interval`."""

    def __init__(self, services: LlmServices, interval: timedelta, batch_size: int = 20) -> None:
        self._s, self._interval, self._batch = services, interval, batch_size

    async def __call__(self) -> int:
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            due = await uow.mcp_servers.claim_due_checks(now - self._interval, now, self._batch)
            await uow.commit()
        for server, env in due:
            tools, error = await probe(_mcp(self._s), self._s.box, server, env)
            if error is not None:
                log.info("MCP server %s failed its health check: %s", server.id, error)
            server.record_check(tools, error, self._s.clock.now())
            await _record(self._s.uow_factory, CONSOLE_OPERATOR, server)
        return len(due)
