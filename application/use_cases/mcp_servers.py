"""A tenant's MCP server registry: create, read, reconfigure, delete."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from application.ports.clock import Clock
from application.ports.mcp_client import McpTargetPolicy
from application.ports.page import Page
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.mcp_secrets import seal_env
from domain.errors import NotFound
from domain.ids import new_id
from domain.mcp_server import McpServer, McpTransport, check_env_vars
from domain.principal import Principal


@dataclass(frozen=True, slots=True)
class NewMcpServer:
    name: str
    transport_type: McpTransport
    command: str | None = None
    args: tuple[str, ...] = ()
    env_vars: Mapping[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None
    tenant_id: uuid.UUID | None = None


async def check_policy(policy: McpTargetPolicy, server: McpServer) -> None:
    """The operator's rules, on top of the entity's own: 422 when they refuse it."""
    if server.is_stdio:
        assert server.command is not None
        policy.check_command(server.command)
    else:
        assert server.url is not None
        await policy.check_url(server.url)


class CreateMcpServer:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, box: SecretBox, policy: McpTargetPolicy
    ) -> None:
        self._uow, self._clock, self._box, self._policy = uow, clock, box, policy

    async def __call__(self, principal: Principal, new: NewMcpServer) -> McpServer:
        tenant_id = principal.acting_tenant(new.tenant_id)
        env = check_env_vars(dict(new.env_vars))
        now = self._clock.now()
        server = McpServer(
            id=new_id(),
            tenant_id=tenant_id,
            name=new.name,
            transport_type=new.transport_type,
            created_at=now,
            updated_at=now,
            command=new.command,
            args=tuple(new.args),
            env_var_names=tuple(env),
            url=new.url,
        )
        await check_policy(self._policy, server)
        await self._uow.mcp_servers.add(server, seal_env(self._box, server, env))
        await self._uow.commit()
        return server


async def get_mcp_server(uow: UnitOfWork, principal: Principal, server_id: uuid.UUID) -> McpServer:
    server = await uow.mcp_servers.get(server_id)
    if server is None or not principal.may_access(server.tenant_id):
        raise NotFound("MCP server")
    return server


class ListMcpServers:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(
        self, principal: Principal, page: Page, tenant_id: uuid.UUID | None = None
    ) -> list[McpServer]:
        if principal.tenant_id is not None:
            if tenant_id is not None and tenant_id != principal.tenant_id:
                return []
            tenant_id = principal.tenant_id
        return await self._uow.mcp_servers.list(tenant_id, page)


class UpdateMcpServer:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, box: SecretBox, policy: McpTargetPolicy
    ) -> None:
        self._uow, self._clock, self._box, self._policy = uow, clock, box, policy

    async def __call__(
        self, principal: Principal, server_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> McpServer:
        """`changes` holds only the fields sent; `env_vars` replaces the whole set."""
        server = await get_mcp_server(self._uow, principal, server_id)
        fields = dict(changes)
        env = None
        if "env_vars" in fields:
            env = check_env_vars(dict(fields.pop("env_vars") or {}))
            fields["env_var_names"] = tuple(env)
        if "args" in fields:
            fields["args"] = tuple(fields["args"] or ())
        server.reconfigure(fields, self._clock.now())
        if set(fields) & {"transport_type", "command", "url"}:
            await check_policy(self._policy, server)
        sealed = None if env is None else seal_env(self._box, server, env)
        await self._uow.mcp_servers.update(server, sealed)
        await self._uow.commit()
        return server


class DeleteMcpServer:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, server_id: uuid.UUID) -> None:
        await get_mcp_server(self._uow, principal, server_id)
        await self._uow.mcp_servers.delete(server_id)
        await self._uow.commit()
