"""One suite for the in-memory and SQL MCP server repositories (and the agent and
execution columns that come with them)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from application.ports.page import Page
from application.ports.secret_box import SealedSecret
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.errors import Conflict, NotFound
from domain.execution import AgentSnapshot, Execution
from domain.mcp_server import McpServer, McpServerStatus, McpTool, McpTransport
from domain.principal import CONSOLE_OPERATOR, Principal
from domain.tool_call import ToolCallRecord
from tests.support.factories import a_tenant, an_agent, unique

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ENV = {"TOKEN": SealedSecret("k1", b"\x00sealed\xff"), "HOME_DIR": SealedSecret("k1", b"x")}


def _server(tenant_id: uuid.UUID, **overrides: object) -> McpServer:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "name": unique("mcp"),
        "transport_type": McpTransport.STDIO,
        "created_at": NOW,
        "updated_at": NOW,
        "command": "/usr/bin/python3",
        "args": ("-m", "server", "it's"),
        "env_var_names": tuple(ENV),
    }
    values.update(overrides)
    return McpServer(**values)  # type: ignore[arg-type]


def _as(tenant_id: uuid.UUID) -> Principal:
    return Principal(key_id=tenant_id, tenant_id=tenant_id)


async def _tenant(uow_factory: UnitOfWorkFactory) -> uuid.UUID:
    tenant = a_tenant()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.tenants.add(tenant)
        await uow.commit()
    return tenant.id


async def _add(uow_factory: UnitOfWorkFactory, server: McpServer) -> None:
    async with uow_factory() as uow:
        await uow.scope_to(_as(server.tenant_id))
        await uow.mcp_servers.add(server, ENV)
        await uow.commit()


async def test_round_trip_and_scope(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await _tenant(uow_factory), await _tenant(uow_factory)
    server = _server(a)
    await _add(uow_factory, server)
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        loaded = await uow.mcp_servers.get(server.id)
        assert loaded is not None
        assert (loaded.args, loaded.env_var_names, loaded.status) == (
            server.args,
            tuple(ENV),
            McpServerStatus.PENDING,
        )
        assert await uow.mcp_servers.sealed_env(server.id) == ENV
        assert [s.id for s in await uow.mcp_servers.list(a, Page())] == [server.id]
    async with uow_factory() as uow:
        await uow.scope_to(_as(b))
        assert await uow.mcp_servers.get(server.id) is None
        assert await uow.mcp_servers.list(None, Page()) == []
        assert await uow.mcp_servers.list_by_ids((server.id,)) == []
        assert not await uow.mcp_servers.delete(server.id)
        with pytest.raises(NotFound):
            await uow.mcp_servers.add(_server(a), ENV)  # another tenant's id: refused


async def test_names_are_unique_per_tenant(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await _tenant(uow_factory), await _tenant(uow_factory)
    first = _server(a)
    await _add(uow_factory, first)
    await _add(uow_factory, _server(b, name=first.name))
    with pytest.raises(Conflict):
        await _add(uow_factory, _server(a, name=first.name))


async def test_checks_are_recorded_only_on_the_configuration_they_saw(
    uow_factory: UnitOfWorkFactory,
) -> None:
    a = await _tenant(uow_factory)
    server = _server(a)
    await _add(uow_factory, server)
    tool = McpTool("add", "Add", {"type": "object", "properties": {"a": {"type": "integer"}}})
    server.record_check((tool,), None, NOW)
    stale = _server(a, id=server.id, name=server.name)
    stale.record_check(None, "boom", NOW)
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        assert await uow.mcp_servers.record_check(server)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        loaded = await uow.mcp_servers.get(server.id)
        assert loaded is not None and loaded.tools == (tool,) and loaded.is_active
        loaded.reconfigure({"args": ("other",)}, NOW + timedelta(seconds=1))
        await uow.mcp_servers.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        assert not await uow.mcp_servers.record_check(stale)  # reconfigured since
        current = await uow.mcp_servers.get(server.id)
        assert current is not None and current.status is McpServerStatus.PENDING


async def test_due_checks_are_claimed_once(uow_factory: UnitOfWorkFactory) -> None:
    a = await _tenant(uow_factory)
    active, pending = _server(a), _server(a)
    active.record_check((), None, NOW - timedelta(hours=2))
    await _add(uow_factory, active)
    await _add(uow_factory, pending)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        claimed = await uow.mcp_servers.claim_due_checks(NOW - timedelta(hours=1), NOW, 100)
        await uow.commit()
    mine = [s for s, _ in claimed if s.tenant_id == a]
    assert [s.id for s in mine] == [active.id]
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        again = await uow.mcp_servers.claim_due_checks(NOW - timedelta(hours=1), NOW, 100)
    assert active.id not in {s.id for s, _ in again}


async def test_env_is_replaced_only_if_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    a = await _tenant(uow_factory)
    server = _server(a)
    await _add(uow_factory, server)
    fresh = {name: SealedSecret("k2", s.ciphertext + b"!") for name, s in ENV.items()}
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        assert await uow.mcp_servers.replace_env(server.id, ENV, fresh)
        assert not await uow.mcp_servers.replace_env(server.id, ENV, fresh)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        assert await uow.mcp_servers.sealed_env(server.id) == fresh
        assert [s.id for s, _ in await uow.mcp_servers.list_sealed(None, 100_000)].count(
            server.id
        ) == 1


async def test_agents_list_servers_and_lose_deleted_ones(uow_factory: UnitOfWorkFactory) -> None:
    a = await _tenant(uow_factory)
    kept, gone = _server(a), _server(a)
    await _add(uow_factory, kept)
    await _add(uow_factory, gone)
    agent = an_agent(a, mcp_server_ids=(gone.id, kept.id))
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        await uow.agents.add(agent)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        listed = await uow.mcp_servers.list_by_ids((gone.id, kept.id))
        assert [s.id for s, _ in listed] == [gone.id, kept.id]
        assert await uow.mcp_servers.delete(gone.id)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        loaded = await uow.agents.get(agent.id)
        assert loaded is not None and loaded.mcp_server_ids == (kept.id,)


async def test_executions_keep_their_tool_calls(uow_factory: UnitOfWorkFactory) -> None:
    a = await _tenant(uow_factory)
    agent = an_agent(a)
    execution = Execution(
        id=uuid.uuid4(),
        tenant_id=a,
        agent_id=agent.id,
        input="x",
        snapshot=AgentSnapshot.of(agent, None),
        created_at=NOW,
    )
    execution.start(NOW)
    call = ToolCallRecord(1, "add", uuid.uuid4(), {"a": 1, "q": "it's \\ \u00e9"}, 12, 1, None)
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        await uow.executions.add(execution)
        await uow.commit()
    execution.tool_calls = (call, ToolCallRecord(1, "x", None, "raw", 0, 0, "boom"))
    execution.fail("stopped", NOW)
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        await uow.executions.update(execution)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_as(a))
        loaded = await uow.executions.get(execution.id)
        listed = await uow.executions.list(a, Page())
    assert loaded is not None and loaded.tool_calls == execution.tool_calls
    assert listed[0].tool_calls == execution.tool_calls
