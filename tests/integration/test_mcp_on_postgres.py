"""MCP servers over PostgreSQL: masked and sealed env_vars, row-level security, a real
stdio server's tools through a run (the prepared statements carry the tool calls),
deleting, cascading, and `secrets rotate`."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.use_cases.mcp_secrets import open_env
from application.use_cases.secrets_rotation import RotateSecrets
from domain.principal import CONSOLE_OPERATOR
from tests.support.llm_helpers import admin_query, box_of, client_with_box, new_tenant
from tests.support.mcp.world import stdio_server_body
from tests.support.postgres import scratch_database
from tests.support.sql_app import bearer, issue_operator_key

pytestmark = pytest.mark.postgres
SECRET = "tenant-secret-" + uuid.uuid4().hex


@pytest.fixture
def gateway() -> FakeLlmGateway:
    return FakeLlmGateway()


@pytest.fixture
async def client(
    sql_engine: AsyncEngine, gateway: FakeLlmGateway
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with_box(sql_engine, gateway, box_of("old")) as client:
        yield client


async def _server(client: httpx.AsyncClient, headers: dict[str, str], **env: str) -> dict[str, Any]:
    body = stdio_server_body(name=f"tools-{uuid.uuid4().hex[:6]}", **env)
    response = await client.post("/api/mcp-servers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_env_is_sealed_masked_and_isolated(
    client: httpx.AsyncClient, operator: dict[str, str], migrated_db: str, tx_engine: AsyncEngine
) -> None:
    a_id, a = await new_tenant(client, operator)
    _, b = await new_tenant(client, operator)
    server = await _server(client, a, TOKEN=SECRET)
    url = f"/api/mcp-servers/{server['id']}"
    shown = [
        (await client.get(url, headers=a)).json(),
        *(await client.get("/api/mcp-servers", headers=a)).json(),
    ]
    assert all(s["env_vars"] == {"PYTHONPATH": "***", "TOKEN": "***"} for s in shown)
    [raw] = admin_query(
        migrated_db, "SELECT env_vars::text FROM mcp_servers WHERE id = :i", i=server["id"]
    )
    assert SECRET not in raw[0] and '"TOKEN"' in raw[0]
    assert (await client.get(url, headers=b)).status_code == 404
    assert server["id"] not in {
        s["id"] for s in (await client.get("/api/mcp-servers", headers=b)).json()
    }
    # Below the application: the runtime role sees the row only in its tenant's context.
    count = text("SELECT count(*) FROM mcp_servers WHERE id = :i")
    async with tx_engine.begin() as conn:
        assert (await conn.execute(count, {"i": server["id"]})).scalar() == 0
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a_id})
        assert (await conn.execute(count, {"i": server["id"]})).scalar() == 1


async def test_a_run_on_postgres_records_its_tool_calls(
    client: httpx.AsyncClient, operator: dict[str, str], gateway: FakeLlmGateway
) -> None:
    _, a = await new_tenant(client, operator)
    server = await _server(client, a)
    checked = (await client.post(f"/api/mcp-servers/{server['id']}/check", headers=a)).json()
    assert checked["status"] == "active" and {"add", "ticket_status"} <= {
        t["name"] for t in checked["tools"]
    }
    body = {"name": "agent", "system_prompt": "Use tools.", "mcp_server_ids": [server["id"]]}
    agent = (await client.post("/api/agents", json=body, headers=a)).json()
    assert (await client.get(f"/api/agents/{agent['id']}", headers=a)).json()["mcp_server_ids"] == [
        server["id"]
    ]
    gateway.call_tools_next(("add", {"a": 40, "b": 2}))
    run = await client.post(
        "/api/agents/execute", json={"agent_id": agent["id"], "input": "40+2"}, headers=a
    )
    assert run.status_code == 200, run.text
    execution = (
        await client.get(f"/api/executions/{run.json()['execution_id']}", headers=a)
    ).json()
    [call] = execution["tool_calls"]
    assert (call["tool"], call["arguments"], call["result_size"], call["error"]) == (
        "add",
        {"a": 40, "b": 2},
        2,
        None,
    )
    assert gateway.calls[-1].messages[-1].content == "42"
    # Deleting the server takes it off the agent.
    assert (await client.delete(f"/api/mcp-servers/{server['id']}", headers=a)).status_code == 204
    assert (await client.get(f"/api/agents/{agent['id']}", headers=a)).json()[
        "mcp_server_ids"
    ] == []


async def test_deleting_the_tenant_deletes_its_servers(
    client: httpx.AsyncClient, operator: dict[str, str], migrated_db: str
) -> None:
    tenant_id, a = await new_tenant(client, operator)
    server = await _server(client, a)
    assert (await client.delete(f"/api/tenants/{tenant_id}", headers=operator)).status_code == 204
    rows = admin_query(migrated_db, "SELECT 1 FROM mcp_servers WHERE id = :i", i=server["id"])
    assert rows == []


async def test_secrets_rotate_reseals_env_vars(pg_admin_url: str) -> None:
    # A database of its own: rotation walks every row, and other tests' rows are sealed
    # under keys this test does not hold.
    with scratch_database(pg_admin_url) as db:
        migrate.upgrade(db, db)
        engine = create_runtime_engine(db, pool_size=2)
        try:
            operator = bearer(await issue_operator_key(engine))
            async with client_with_box(engine, FakeLlmGateway(), box_of("old")) as client:
                _, a = await new_tenant(client, operator)
                server = await _server(client, a, TOKEN=SECRET)
            new_box = box_of("new", "old")
            assert await RotateSecrets(lambda: SqlUnitOfWork(engine), new_box)() == 1
            assert await RotateSecrets(lambda: SqlUnitOfWork(engine), new_box)() == 0
            sql = "SELECT env_vars FROM mcp_servers WHERE id = :i"
            [raw] = admin_query(db, sql, i=server["id"])
            assert {v["kid"] for v in raw[0].values()} == {"new"}
            async with SqlUnitOfWork(engine) as uow:
                await uow.scope_to(CONSOLE_OPERATOR)
                entity = await uow.mcp_servers.get(uuid.UUID(server["id"]))
                sealed = await uow.mcp_servers.sealed_env(uuid.UUID(server["id"]))
        finally:
            await engine.dispose()
    assert entity is not None and sealed is not None
    assert open_env(box_of("new"), entity, sealed)["TOKEN"] == SECRET
