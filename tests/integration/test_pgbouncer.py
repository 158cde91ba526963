"""The service through a real PgBouncer in transaction mode (max_prepared_statements): fewer
server connections than the pool has, so consecutive transactions of one client land on
different PostgreSQL sessions, and psycopg's prepared statements must follow them.

The service logs in as its own role (the production layout of docs/database.md): PgBouncer
passes no `options`, so the derived `-c role=` switch is not for it."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.urls import sqlalchemy_url
from tests.support.llm_helpers import add_agent, admin_query
from tests.support.parallel_tenants import requests_of_other_tenants
from tests.support.pgbouncer import SERVER_CONNECTIONS, admin_url, pgbouncer
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def login_role(migrated_db: str) -> Iterator[str]:
    """A login role of the service's own, a member of the runtime role (`migrate` makes it
    one), as in production."""
    name = f"agentkeel_pgb_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        sqlalchemy_url(migrated_db), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
    try:
        runtime = sqlalchemy_url(migrated_db).set(username=name, password=None)
        migrate.upgrade(migrated_db, runtime.render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


@pytest.fixture(scope="module")
def bouncer_url(migrated_db: str, login_role: str) -> Iterator[str]:
    with pgbouncer(migrated_db, login_role) as url:
        yield url


@pytest.fixture
async def bounced_engine(bouncer_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_runtime_engine(bouncer_url, pool_size=5)
    yield engine
    await engine.dispose()


async def test_many_tenants_at_once_see_nothing_of_each_other(
    bounced_engine: AsyncEngine, bouncer_url: str
) -> None:
    assert await requests_of_other_tenants(bounced_engine) == []
    servers = _show(bouncer_url, "SERVERS")
    assert 0 < len(servers) <= SERVER_CONNECTIONS  # 5 clients shared these
    # The statements were prepared protocol-level, through PgBouncer, on its servers.
    assert sum(int(str(row["prepared_statements"])) for row in servers) > 0


async def test_sync_runs_through_pgbouncer(
    bounced_engine: AsyncEngine, migrated_db: str, bouncer_url: str
) -> None:
    gateway = FakeLlmGateway()
    async with sql_client(bounced_engine, gateway) as client:
        operator = bearer(await issue_operator_key(bounced_engine))
        callers = []
        for _ in range(2):
            made = await client.post(
                "/api/tenants",
                json={"name": f"pgb-{uuid.uuid4().hex[:8]}", "admin_email": "a@b.io"},
                headers=operator,
            )
            headers = bearer(made.json()["api_key"])
            callers.append((made.json()["id"], headers, await add_agent(client, headers)))

        async def run(i: int) -> tuple[str, str]:
            tenant_id, headers, agent = callers[i % 2]
            body = {"agent_id": agent["id"], "input": f"hello {i}"}
            ran = await client.post("/api/agents/execute", json=body, headers=headers)
            assert ran.status_code == 200, ran.text
            return tenant_id, ran.json()["execution_id"]

        runs = await asyncio.gather(*(run(i) for i in range(20)))
        for tenant_id, headers, _ in callers:
            for owner, execution_id in runs:
                shown = await client.get(f"/api/executions/{execution_id}", headers=headers)
                assert shown.status_code == (200 if owner == tenant_id else 404), shown.text
    rows = admin_query(
        migrated_db,
        "SELECT tenant_id::text AS tenant, status FROM executions WHERE id = ANY(:ids)",
        ids=[uuid.UUID(execution_id) for _, execution_id in runs],
    )
    assert sorted((r.tenant, r.status) for r in rows) == sorted((t, "success") for t, _ in runs)


def _show(bouncer_url: str, what: str) -> list[dict[str, object]]:
    with psycopg.connect(admin_url(bouncer_url), autocommit=True) as conn:
        cursor = conn.execute(f"SHOW {what}".encode())
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
